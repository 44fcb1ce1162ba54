//! Driving the console without a terminal: keys in, effects carried out inline, frames
//! rendered to ratatui's `TestBackend`. Tests (and walkthroughs) use this; the clipboard is
//! replaced by a record of what would have been copied.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use unicode_width::UnicodeWidthStr;

use super::app::{App, Effect, Msg};
use super::effects::perform;
use crate::console::Console;

pub struct Headless<'a> {
    pub console: &'a Console,
    pub app: App,
    /// Everything a copy action sent to the (test) clipboard.
    pub copied: Vec<String>,
}

/// Parses a key name as `tuictl`/tmux spell it: `Enter`, `Esc`, `Tab`, `BTab`, `Up`, `Down`,
/// `Left`, `Right`, `PgUp`, `PgDn`, `BSpace`, `Space`, `C-c`, or a single character.
pub fn parse_key(name: &str) -> Option<KeyEvent> {
    let code = match name {
        "Enter" => KeyCode::Enter,
        "Esc" | "Escape" => KeyCode::Esc,
        "Tab" => KeyCode::Tab,
        "BTab" | "S-Tab" => KeyCode::BackTab,
        "Up" => KeyCode::Up,
        "Down" => KeyCode::Down,
        "Left" => KeyCode::Left,
        "Right" => KeyCode::Right,
        "PgUp" | "PPage" => KeyCode::PageUp,
        "PgDn" | "NPage" => KeyCode::PageDown,
        "BSpace" | "Backspace" => KeyCode::Backspace,
        "Space" => KeyCode::Char(' '),
        "C-c" => return Some(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        other => {
            let mut chars = other.chars();
            let c = chars.next()?;
            if chars.next().is_some() {
                return None;
            }
            KeyCode::Char(c)
        }
    };
    Some(KeyEvent::new(code, KeyModifiers::NONE))
}

impl<'a> Headless<'a> {
    pub fn new(console: &'a Console, app: App) -> Headless<'a> {
        Headless {
            console,
            app,
            copied: Vec::new(),
        }
    }

    /// Feeds a message and carries out every effect it leads to, until nothing is pending.
    pub fn send(&mut self, msg: Msg) {
        let mut effects = self.app.update(msg);
        while !effects.is_empty() {
            let mut next = Vec::new();
            for effect in effects {
                let reply = match effect {
                    Effect::Copy { text, what } => {
                        self.copied.push(text);
                        Msg::Copied(format!("Copied {what} to the test clipboard."))
                    }
                    other => perform(self.console, other),
                };
                next.extend(self.app.update(reply));
            }
            effects = next;
        }
    }

    pub fn run(&mut self, effects: Vec<super::app::Effect>) {
        for effect in effects {
            let reply = perform(self.console, effect);
            self.send(reply);
        }
    }

    pub fn press(&mut self, key: KeyEvent) {
        self.send(Msg::Key(key));
    }

    /// Presses each key named in `names` (see [`parse_key`]).
    pub fn keys(&mut self, names: &[&str]) {
        for name in names {
            let key = parse_key(name).unwrap_or_else(|| panic!("unknown key name {name:?}"));
            self.press(key);
        }
    }

    /// Types `text` one character at a time.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    /// Renders one frame at `width`×`height` and returns it as text, one line per row.
    pub fn render(&mut self, width: u16, height: u16) -> String {
        self.send(Msg::Resize(width, height));
        let mut terminal =
            Terminal::new(TestBackend::new(width, height)).expect("a test terminal always opens");
        terminal
            .draw(|frame| super::view::draw(&self.app, frame))
            .expect("drawing to a test terminal never fails");
        buffer_text(terminal.backend().buffer())
    }
}

/// The text of a buffer, wide characters once each, trailing spaces trimmed.
pub fn buffer_text(buffer: &ratatui::buffer::Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        let mut skip = 0;
        for x in area.left()..area.right() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buffer[(x, y)].symbol();
            skip = symbol.width().saturating_sub(1);
            line.push_str(symbol);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
