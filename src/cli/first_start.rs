//! The console's first start on a data directory without an organization: it offers the choice
//! (the demo organization, a new one, or nothing) instead of deciding. Asked on the terminal,
//! line by line, before the console takes the screen — as `gh auth login` or `ssh-keygen` ask;
//! the password is read without echo.

use std::io::{BufRead, Write};
use std::path::Path;

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::terminal;

use super::lines::{read_bounded_line, Line};
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
            let Some(first) = ask_hidden("Password: ")? else {
                return Ok(None);
            };
            let Some(again) = ask_hidden("The same password again: ")? else {
                return Ok(None);
            };
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

/// One line typed on the terminal; `None` at end of input. An answer too long or not UTF-8 is
/// refused with a line saying so, and the question is asked again.
fn ask(prompt: &str) -> Result<Option<String>> {
    ask_from(&mut std::io::stdin().lock(), &mut std::io::stdout(), prompt)
}

fn ask_from(input: &mut impl BufRead, out: &mut impl Write, prompt: &str) -> Result<Option<String>> {
    loop {
        write!(out, "{prompt}").map_err(term)?;
        out.flush().map_err(term)?;
        let Some(line) = read_bounded_line(input, ANSWER_MAX * 4).map_err(term)? else {
            return Ok(None);
        };
        let refusal = match line {
            Line::TooLong => format!("An answer is at most {ANSWER_MAX} characters; again."),
            Line::Read(bytes) => match String::from_utf8(bytes) {
                Ok(answer) if answer.chars().count() <= ANSWER_MAX => return Ok(Some(answer)),
                Ok(_) => format!("An answer is at most {ANSWER_MAX} characters; again."),
                Err(_) => "That answer is not UTF-8 text; again.".to_string(),
            },
        };
        writeln!(out, "{refusal}").map_err(term)?;
    }
}

/// A password typed without echo (the terminal in raw mode while it is typed); `None` when the
/// person pressed Ctrl-C, or Ctrl-D on an empty entry, which leave the first start as end of
/// input does at the other questions.
fn ask_hidden(prompt: &str) -> Result<Option<Secret>> {
    let mut out = std::io::stdout();
    // Raw before the prompt shows: whatever is typed once it is visible (Ctrl-C too) is read
    // unechoed, never handled by the terminal in its usual mode.
    terminal::enable_raw_mode().map_err(term)?;
    let shown = write!(out, "{prompt}").and_then(|()| out.flush());
    let typed = shown.map_err(term).and_then(|()| read_hidden());
    terminal::disable_raw_mode().map_err(term)?;
    writeln!(out).map_err(term)?;
    typed
}

fn read_hidden() -> Result<Option<Secret>> {
    let mut typed = String::new();
    loop {
        let Event::Key(key) = event::read().map_err(term)? else {
            continue;
        };
        if key.kind == KeyEventKind::Release {
            continue;
        }
        match key.code {
            KeyCode::Enter => return Ok(Some(Secret::new(typed))),
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => return Ok(None),
            KeyCode::Char('d') if key.modifiers.contains(KeyModifiers::CONTROL) && typed.is_empty() => {
                return Ok(None)
            }
            KeyCode::Backspace => {
                typed.pop();
            }
            // Other Ctrl and Alt chords are commands, not password characters.
            KeyCode::Char(_)
                if key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {}
            KeyCode::Char(c) if typed.chars().count() < ANSWER_MAX => typed.push(c),
            _ => {}
        }
    }
}

fn term(e: std::io::Error) -> Error {
    Error::Internal(format!("cannot use the terminal: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answers to questions asked until end of input, and what was shown. The input is
    /// read `chunk` bytes at a time, so lines, CRLFs and characters are split between reads.
    fn answers_in_chunks(typed: &[u8], chunk: usize) -> (Vec<Option<String>>, String) {
        let mut input = std::io::BufReader::with_capacity(chunk, std::io::Cursor::new(typed.to_vec()));
        let mut out = Vec::new();
        let mut got = Vec::new();
        loop {
            let answer = ask_from(&mut input, &mut out, "? ").expect("in-memory reads");
            let end = answer.is_none();
            got.push(answer);
            if end {
                break;
            }
        }
        (got, String::from_utf8(out).expect("prompts are UTF-8"))
    }

    fn answers(typed: &[u8]) -> (Vec<Option<String>>, String) {
        let whole = answers_in_chunks(typed, 64 * 1024);
        for chunk in [1, 3, 7] {
            assert_eq!(
                answers_in_chunks(typed, chunk),
                whole,
                "read {chunk} bytes at a time"
            );
        }
        whole
    }

    #[test]
    fn an_answer_too_long_or_not_utf8_is_asked_again_and_the_next_line_is_read_whole() {
        let long = "가".repeat(ANSWER_MAX + 1);
        let within = "가".repeat(ANSWER_MAX);
        let typed = format!("{long}\nAcme\r\n{within}\n");
        let mut bytes = b"\xff\xfe\n".to_vec();
        bytes.extend_from_slice(typed.as_bytes());
        bytes.extend_from_slice(&[b'x'; 5000]);
        bytes.extend_from_slice(b"\nlast");
        let (got, shown) = answers(&bytes);
        assert_eq!(
            got,
            [Some("Acme".into()), Some(within), Some("last".into()), None],
            "refused lines are dropped whole; a CRLF is one line break; the last line needs no break"
        );
        assert_eq!(shown.matches("not UTF-8").count(), 1, "{shown}");
        assert_eq!(
            shown.matches("at most 256 characters; again.").count(),
            2,
            "{shown}"
        );
        assert_eq!(
            shown.matches("? ").count(),
            7,
            "each question is asked again: {shown}"
        );
    }

    #[test]
    fn the_bound_is_the_same_for_both_line_breaks() {
        // 256 four-byte characters are 1,024 bytes, the most a line may hold.
        let most = "𝄞".repeat(ANSWER_MAX);
        let typed = format!("{most}\n{most}\r\n{most}x\n{most}x\r\n");
        let (got, shown) = answers(typed.as_bytes());
        assert_eq!(got, [Some(most.clone()), Some(most), None]);
        assert_eq!(
            shown.matches("at most 256 characters; again.").count(),
            2,
            "{shown}"
        );
    }

    #[test]
    fn end_of_input_at_once_is_no_answer() {
        assert_eq!(answers(b"").0, [None]);
        assert_eq!(
            answers(b"\n").0,
            [Some(String::new()), None],
            "an empty line is an answer"
        );
    }
}
