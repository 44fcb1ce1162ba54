//! The project switcher (`p`): the projects this user may see, narrowed as they type.

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::Frame;

use super::{Ctx, Outcome};
use crate::tui::keymap::{Action, Keymap, Layer};
use crate::tui::msg::Session;
use crate::tui::widgets::field::TextField;
use crate::tui::widgets::popup::{self, text, Para, Scroll};
use crate::tui::widgets::text::{cell, shown};

#[derive(Debug, Clone, Default)]
pub struct Switcher {
    pub field: TextField,
    pub selected: usize,
}

impl Switcher {
    /// IDs of the projects that match the typed text (name, nickname or the start of the ID).
    pub fn matches(&self, session: &Session) -> Vec<String> {
        let needle = self.field.value().to_lowercase();
        session
            .projects
            .iter()
            .filter(|v| {
                needle.is_empty()
                    || v.project.name.to_lowercase().contains(&needle)
                    || v.project.nickname.to_lowercase().contains(&needle)
                    || v.project.id.starts_with(&needle)
            })
            .map(|v| v.project.id.clone())
            .collect()
    }

    pub fn key(&mut self, key: &KeyEvent, keymap: &Keymap, session: Option<&Session>) -> Outcome {
        let matches = session.map(|s| self.matches(s)).unwrap_or_default();
        match keymap.action(Layer::Form, key) {
            Some(Action::Cancel) => return Outcome::Close,
            Some(Action::Submit) => {
                return match matches.get(self.selected) {
                    Some(id) => Outcome::SwitchProject(id.clone()),
                    None => Outcome::Stay,
                }
            }
            Some(Action::NextField) => {
                self.selected = (self.selected + 1).min(matches.len().saturating_sub(1))
            }
            Some(Action::PrevField) => self.selected = self.selected.saturating_sub(1),
            _ => {
                if self.field.edit(key) {
                    self.selected = 0;
                }
            }
        }
        Outcome::Stay
    }

    pub fn paste(&mut self, text: &str) {
        self.field.paste(text);
        self.selected = 0;
    }

    pub fn draw(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        let Some(session) = ctx.session else {
            return;
        };
        let theme = ctx.theme;
        let width = 62u16;
        let inner = (width.min(area.width).saturating_sub(2) as usize).max(1);
        let (spans, _) = self.field.spans(inner.saturating_sub(8), theme.base, true);
        let mut row = vec![Span::styled("Filter: ", theme.dim)];
        row.extend(spans);
        let mut body = vec![Para::Row(row), Para::Blank];
        let matches = self.matches(session);
        for (i, id) in matches.iter().enumerate() {
            let Some(view) = session.projects.iter().find(|v| &v.project.id == id) else {
                continue;
            };
            let current = session.current.as_ref().is_some_and(|c| &c.project.id == id);
            let line = format!(
                "{}{} · {}{}",
                if i == self.selected { "▶ " } else { "  " },
                shown(&view.project.nickname),
                shown(&view.project.name),
                if current { "  (current)" } else { "" }
            );
            let style = if i == self.selected {
                theme.selected
            } else {
                theme.base
            };
            body.push(Para::Row(vec![Span::styled(cell(&line, inner), style)]));
        }
        if matches.is_empty() {
            body.push(text("  no project matches", theme.dim));
        }
        let k = |a| ctx.keymap.key(a);
        let footer = vec![
            Para::Blank,
            Para::Hints(vec![
                (k(Action::Submit), "switch".into()),
                (k(Action::Cancel), "Cancel".into()),
            ]),
        ];
        let scroll = if self.selected + 3 > 8 {
            Scroll::Para(self.selected + 2)
        } else {
            Scroll::Row(0)
        };
        popup::show(
            frame,
            theme,
            area,
            popup::Shape {
                title: "Switch project",
                max_width: width,
                scroll,
            },
            &body,
            &footer,
        );
    }
}
