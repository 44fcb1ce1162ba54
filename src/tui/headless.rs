//! Driving the console without a terminal: keys in, effects carried out inline, frames
//! rendered to ratatui's `TestBackend`. Tests (and walkthroughs) use this; the clipboard is
//! replaced by a record of what would have been copied.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use unicode_width::UnicodeWidthStr;

use super::app::App;
use super::effects::perform;
use super::keymap::Key;
use super::msg::{Effect, Msg};
use crate::console::Console;
use crate::org::Borrowed;

pub struct Headless<'a> {
    pub console: &'a Console,
    pub app: App,
    /// Everything a copy action sent to the (test) clipboard.
    pub copied: Vec<String>,
}

/// Parses a key name as `tuictl`/tmux spell it (`Enter`, `Esc`, `Tab`, `BTab`, `Up`, `Down`,
/// `Left`, `Right`, `PgUp`, `PgDn`, `NPage`, `PPage`, `BSpace`, `DC`, `Home`, `End`, `Space`,
/// `C-c`, `M-b`, or a single character) or as the keymap does (`Del`, `S-Tab`, `F1`, `C-Left`).
pub fn parse_key(name: &str) -> Option<KeyEvent> {
    let tmux = match name {
        "Escape" => Some("Esc"),
        "BTab" => Some("S-Tab"),
        "PPage" => Some("PgUp"),
        "NPage" => Some("PgDn"),
        "Backspace" => Some("BSpace"),
        "DC" => Some("Del"),
        "C-Left" | "C-Right" => None,
        other => Some(other),
    };
    if let Some(arrow) = name.strip_prefix("C-").filter(|r| *r == "Left" || *r == "Right") {
        let code = if arrow == "Left" {
            KeyCode::Left
        } else {
            KeyCode::Right
        };
        return Some(KeyEvent::new(code, KeyModifiers::CONTROL));
    }
    let key = Key::parse(tmux?)?;
    let mut modifiers = KeyModifiers::NONE;
    if key.ctrl {
        modifiers |= KeyModifiers::CONTROL;
    }
    if key.alt {
        modifiers |= KeyModifiers::ALT;
    }
    if key.code == KeyCode::BackTab {
        modifiers |= KeyModifiers::SHIFT;
    }
    Some(KeyEvent::new(key.code, modifiers))
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
        let effects = self.app.update(msg);
        self.run(effects);
    }

    pub fn run(&mut self, mut effects: Vec<Effect>) {
        while !effects.is_empty() {
            let mut next = Vec::new();
            for effect in effects {
                let reply = match effect {
                    Effect::Copy { text, what } => {
                        self.copied.push(text);
                        Msg::Copied(format!("Copied {what} to the test clipboard."))
                    }
                    // No change feed headless: tests deliver changes as messages themselves.
                    Effect::Watch { .. } => continue,
                    other => perform(&Borrowed::new(self.console), other),
                };
                next.extend(self.app.update(reply));
            }
            effects = next;
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

    /// A left click at column `x`, row `y` (zero-based).
    pub fn click(&mut self, x: u16, y: u16) {
        self.send(Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        }));
    }

    /// The wheel turned once at column `x`, row `y`: down when `down`.
    pub fn wheel(&mut self, x: u16, y: u16, down: bool) {
        self.send(Msg::Mouse(MouseEvent {
            kind: if down {
                MouseEventKind::ScrollDown
            } else {
                MouseEventKind::ScrollUp
            },
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        }));
    }

    /// Renders one frame at `width`×`height` and returns it as text, one line per row.
    pub fn render(&mut self, width: u16, height: u16) -> String {
        self.send(Msg::Resize(width, height));
        let mut terminal =
            Terminal::new(TestBackend::new(width, height)).expect("a test terminal always opens");
        terminal
            .draw(|frame| super::frame::draw(&self.app, frame))
            .expect("drawing to a test terminal never fails");
        buffer_text(terminal.backend().buffer())
    }

    /// The footer's hints at `columns` (for the terminal size last rendered), as "key label"
    /// each: the footer alone, not the rows around it.
    pub fn footer_hints(&self, columns: u16) -> Vec<String> {
        self.app
            .footer_rows(columns)
            .concat()
            .into_iter()
            .map(|(key, label)| format!("{key} {label}"))
            .collect()
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
