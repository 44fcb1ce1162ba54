//! The console's first start on a data directory without an organization: it offers the choice
//! (the demo organization, a new one, or nothing) instead of deciding. Asked on the terminal,
//! line by line, before the console takes the screen — as `gh auth login` or `ssh-keygen` ask;
//! the password is read without echo.

use std::io::{BufRead, Read, Write};
use std::path::Path;

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::terminal;

use crate::console::operator::OPERATOR_EMAIL;
use crate::console::{Config, Console, Error, Result, Secret};
use crate::text::visible;

/// The longest answer read from the terminal, in characters.
const ANSWER_MAX: usize = 256;

/// What the person chose, once it is made.
pub enum Created {
    /// The demo organization: sign in with one of its users.
    Demo,
    /// A new organization: its owner signs in.
    Organization { owner: String },
}

/// Asks what to create in `dir`, creates it, and says what was made; `None` when the person
/// chose to create nothing.
pub fn offer(dir: &Path) -> Result<Option<Created>> {
    let mut out = std::io::stdout();
    let path = dir.display().to_string();
    let shown = visible(&path);
    writeln!(
        out,
        "{shown} holds no organization yet. What should the console open?\n\
         \n  1  the demo organization, Pangyo Demo Co. (its passwords are in the README)\
         \n  2  a new, empty organization, with you as its owner\
         \n  q  nothing: quit without creating anything\n"
    )
    .map_err(term)?;
    let choice = loop {
        match ask("Choose 1, 2 or q: ")?.as_deref().map(str::trim) {
            Some("1") => break 1,
            Some("2") => break 2,
            Some("q" | "Q" | "") | None => return Ok(None),
            Some(_) => writeln!(out, "Type 1, 2 or q.").map_err(term)?,
        }
    };
    if choice == 1 {
        Console::open(dir, Config::from_env()?)?.load_demo()?;
        let (email, password) = crate::console::demo::demo_owner()?;
        writeln!(
            out,
            "Created the demo organization. Sign in as its owner, {email} / {password}; its other users are in the README.\n\
             \nPress Enter to open the console."
        )
        .map_err(term)?;
        // Shown until Enter: the console's screen would cover it at once.
        ask("")?;
        return Ok(Some(Created::Demo));
    }
    // Every answer is asked before the directory is touched, so leaving half-way creates
    // nothing; an answer the model refuses is said, and the questions are asked again.
    let mut console = None;
    let (org, made) = loop {
        let Some(org) = ask("Organization name: ")? else {
            return Ok(None);
        };
        let Some(owner) = ask("Your e-mail (you will be its owner and Org Admin): ")? else {
            return Ok(None);
        };
        let password = loop {
            let first = ask_hidden("Password: ")?;
            let again = ask_hidden("The same password again: ")?;
            if first.expose() == again.expose() {
                break first;
            }
            writeln!(out, "The two passwords differ; again.").map_err(term)?;
        };
        let opened = match console.take() {
            Some(opened) => opened,
            None => Console::open(dir, Config::from_env()?)?,
        };
        // The model checks every field (length, control characters, the password's rules)
        // and changes nothing when one is refused.
        match opened.found_organization(org.trim(), owner.trim(), None, password.expose()) {
            Ok(made) => break (org, made),
            Err(e @ (Error::Invalid(_) | Error::Conflict(_))) => {
                writeln!(out, "{}; nothing was created. Again:", visible(e.message())).map_err(term)?;
                console = Some(opened);
            }
            Err(e) => return Err(e),
        }
    };
    let (made, operator) = made;
    writeln!(
        out,
        "Created \"{}\"; {} is its owner.\n\
         The Help Desk operator ({OPERATOR_EMAIL}) approves deletion requests. Its password is shown only now:\n\
         \n    {}\n\
         \nPress Enter to open the console.",
        visible(org.trim()),
        visible(&made.email),
        operator.expose()
    )
    .map_err(term)?;
    ask("")?;
    Ok(Some(Created::Organization { owner: made.email }))
}

/// One line typed on the terminal, bounded; `None` at end of input.
fn ask(prompt: &str) -> Result<Option<String>> {
    let mut out = std::io::stdout();
    write!(out, "{prompt}").map_err(term)?;
    out.flush().map_err(term)?;
    let mut line = String::new();
    let read = std::io::stdin()
        .lock()
        .take(ANSWER_MAX as u64 * 4 + 1)
        .read_line(&mut line)
        .map_err(term)?;
    if read == 0 {
        return Ok(None);
    }
    let answer = line.trim_end_matches(['\r', '\n']);
    if answer.chars().count() > ANSWER_MAX {
        return Err(Error::Invalid(format!(
            "an answer is at most {ANSWER_MAX} characters"
        )));
    }
    Ok(Some(answer.to_string()))
}

/// A password typed without echo (the terminal in raw mode while it is typed).
fn ask_hidden(prompt: &str) -> Result<Secret> {
    let mut out = std::io::stdout();
    write!(out, "{prompt}").map_err(term)?;
    out.flush().map_err(term)?;
    terminal::enable_raw_mode().map_err(term)?;
    let typed = read_hidden();
    terminal::disable_raw_mode().map_err(term)?;
    writeln!(out).map_err(term)?;
    typed
}

fn read_hidden() -> Result<Secret> {
    let mut typed = String::new();
    loop {
        let Event::Key(key) = event::read().map_err(term)? else {
            continue;
        };
        if key.kind == KeyEventKind::Release {
            continue;
        }
        match key.code {
            KeyCode::Enter => return Ok(Secret::new(typed)),
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                return Err(Error::Invalid("cancelled; nothing was created".into()))
            }
            KeyCode::Backspace => {
                typed.pop();
            }
            KeyCode::Char(c) if typed.chars().count() < ANSWER_MAX => typed.push(c),
            _ => {}
        }
    }
}

fn term(e: std::io::Error) -> Error {
    Error::Internal(format!("cannot use the terminal: {e}"))
}
