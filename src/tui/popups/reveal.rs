//! The one-time secret popup: the ID and the secret with [Copy] actions and the warning that the
//! secret cannot be shown again. It closes ([OK]) only once the user says the secret is saved;
//! closing drops the secret, which zeroizes it. Ctrl-C here asks before quitting.

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::Frame;

use super::{Ctx, Outcome};
use crate::tui::keymap::{Action, Keymap, Layer};
use crate::tui::msg::OneTime;
use crate::tui::widgets::popup::{self, text, Para, Scroll};
use crate::tui::widgets::text::shown;

#[derive(Debug)]
pub struct Reveal {
    pub one_time: OneTime,
    pub saved: bool,
    pub note: Option<String>,
    /// Ctrl-C was pressed: asking whether to quit and lose the secret.
    pub quit_asked: bool,
}

impl Reveal {
    pub fn new(secret: OneTime) -> Reveal {
        Reveal {
            one_time: secret,
            saved: false,
            note: None,
            quit_asked: false,
        }
    }

    pub fn key(&mut self, key: &KeyEvent, keymap: &Keymap) -> Outcome {
        if self.quit_asked {
            return match keymap.action(Layer::Confirm, key) {
                Some(Action::Yes) => Outcome::Quit,
                Some(Action::No) => {
                    self.quit_asked = false;
                    Outcome::Stay
                }
                _ => Outcome::Stay,
            };
        }
        let s = &self.one_time;
        match keymap.action(Layer::Reveal, key) {
            Some(Action::CopySecret) => Outcome::Copy {
                text: s.secret.expose().to_string(),
                what: format!("the {}", s.secret_label.to_lowercase()),
            },
            Some(Action::CopyId) => Outcome::Copy {
                text: s.id.1.clone(),
                what: format!("the {}", s.id.0.to_lowercase()),
            },
            Some(Action::Saved) => {
                self.saved = !self.saved;
                Outcome::Stay
            }
            Some(Action::Close) if self.saved => Outcome::Close,
            Some(Action::Close) => {
                self.note = Some(format!(
                    "Press {} to confirm you have saved it first.",
                    keymap.key(Action::Saved)
                ));
                Outcome::Stay
            }
            _ => Outcome::Stay,
        }
    }

    pub fn draw(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        let theme = ctx.theme;
        let s = &self.one_time;
        let mut body: Vec<Para> = s
            .lines
            .iter()
            .map(|(label, value)| text(format!("{label}: {}", shown(value)), theme.base))
            .collect();
        // The ID and the secret are hex: one word each, so they wrap only where they must.
        body.push(text(format!("{}: {}", s.id.0, shown(&s.id.1)), theme.base));
        body.push(text(
            format!("{}: {}", s.secret_label, s.secret.expose()),
            theme.accent,
        ));
        body.push(Para::Blank);
        body.push(text(format!("⚠ {}", s.warning), theme.warning));
        let mut footer = vec![Para::Blank];
        if self.quit_asked {
            footer.push(text(
                "Quit now? The secret is not shown again: unless you have saved it, it is lost.",
                theme.error,
            ));
            footer.push(Para::Hints(vec![
                (ctx.keymap.keys(Action::Yes), "Quit".into()),
                (ctx.keymap.keys(Action::No), "Stay".into()),
            ]));
        } else {
            let k = |a| ctx.keymap.key(a);
            let checkbox = if self.saved { "[x]" } else { "[ ]" };
            footer.push(Para::Hints(vec![
                (k(Action::CopyId), format!("Copy {}", s.id.0)),
                (k(Action::CopySecret), format!("Copy {}", s.secret_label)),
            ]));
            footer.push(Para::Hints(vec![
                (k(Action::Saved), format!("{checkbox} I have saved it")),
                (k(Action::Close), "OK".into()),
            ]));
            if let Some(note) = &self.note {
                footer.push(text(note.clone(), theme.dim));
            }
        }
        popup::show(
            frame,
            theme,
            area,
            popup::Shape {
                title: &s.title,
                max_width: 92,
                scroll: Scroll::Row(0),
            },
            &body,
            &footer,
        );
    }
}
