//! Read-only pages in a popup: the help, the message log and a row's details. Each scrolls, and
//! `/` searches it: only the entries that contain the search text stay.

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::Frame;

use super::{Ctx, Outcome};
use crate::tui::keymap::{Action, Keymap, Layer};
use crate::tui::widgets::field::TextField;
use crate::tui::widgets::form::Subject;
use crate::tui::widgets::popup::{self, text, Para, Scroll};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewerKind {
    Help,
    Log,
    Detail,
}

/// One searchable entry: a help line, a message, a field and its value.
#[derive(Debug, Clone)]
pub struct Entry {
    pub lines: Vec<(String, Style)>,
}

#[derive(Debug, Clone)]
pub struct Viewer {
    pub kind: ViewerKind,
    pub title: String,
    pub entries: Vec<Entry>,
    pub scroll: usize,
    pub search: TextField,
    pub searching: bool,
    pub subject: Option<Subject>,
}

const PAGE: usize = 10;

impl Viewer {
    pub fn new(kind: ViewerKind, title: impl Into<String>, entries: Vec<Entry>) -> Viewer {
        Viewer {
            kind,
            title: title.into(),
            entries,
            scroll: 0,
            search: TextField::default(),
            searching: false,
            subject: None,
        }
    }

    /// The entries that match the search, all of them without one.
    pub fn matching(&self) -> Vec<&Entry> {
        let needle = self.search.value().to_lowercase();
        self.entries
            .iter()
            .filter(|e| needle.is_empty() || e.lines.iter().any(|(l, _)| l.to_lowercase().contains(&needle)))
            .collect()
    }

    fn rows(&self) -> usize {
        self.matching().iter().map(|e| e.lines.len()).sum()
    }

    pub fn key(&mut self, key: &KeyEvent, keymap: &Keymap) -> Outcome {
        if self.searching {
            match keymap.action(Layer::Form, key) {
                Some(Action::Submit) => self.searching = false,
                Some(Action::Cancel) => {
                    self.search.clear();
                    self.searching = false;
                }
                _ => {
                    if self.search.edit(key) {
                        self.scroll = 0;
                    }
                }
            }
            return Outcome::Stay;
        }
        let last = self.rows().saturating_sub(1);
        match keymap.action(Layer::Viewer, key) {
            Some(Action::CloseViewer) if !self.search.value().is_empty() => {
                self.search.clear();
                self.scroll = 0;
            }
            Some(Action::CloseViewer) => return Outcome::Close,
            Some(Action::ScrollDown) => self.scroll = (self.scroll + 1).min(last),
            Some(Action::ScrollUp) => self.scroll = self.scroll.saturating_sub(1),
            Some(Action::ScrollPageDown) => self.scroll = (self.scroll + PAGE).min(last),
            Some(Action::ScrollPageUp) => self.scroll = self.scroll.saturating_sub(PAGE),
            Some(Action::Search) => self.searching = true,
            _ => {
                // The help's own key closes it too, as it opened it.
                if self.kind == ViewerKind::Help && keymap.action(Layer::Global, key) == Some(Action::Help) {
                    return Outcome::Close;
                }
            }
        }
        Outcome::Stay
    }

    pub fn paste(&mut self, text: &str) {
        if self.searching {
            self.search.paste(text);
        }
    }

    pub fn draw(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        let theme = ctx.theme;
        let body: Vec<Para> = self
            .matching()
            .into_iter()
            .flat_map(|e| e.lines.iter().map(|(l, s)| text(l.clone(), *s)))
            .collect();
        let mut footer = Vec::new();
        let k = |a| ctx.keymap.key(a);
        if self.searching || !self.search.value().is_empty() {
            let (spans, _) = self.search.spans(40, theme.base, self.searching);
            let mut row = vec![Span::styled("Search: ", theme.accent)];
            row.extend(spans);
            footer.push(Para::Row(row));
        }
        if body.is_empty() {
            footer.insert(0, text("nothing matches the search", theme.dim));
        }
        footer.push(Para::Hints(if self.searching {
            vec![
                (k(Action::Submit), "keep".into()),
                (k(Action::Cancel), "clear".into()),
            ]
        } else {
            vec![
                (
                    format!("{}{}", k(Action::ScrollDown), k(Action::ScrollUp)),
                    "scroll".into(),
                ),
                (k(Action::Search), "search".into()),
                (k(Action::CloseViewer), "close".into()),
            ]
        }));
        let width = match self.kind {
            ViewerKind::Help => 104,
            ViewerKind::Log | ViewerKind::Detail => 96,
        };
        // Help and the log fill the height; details are as tall as they are.
        let mut body = body;
        if self.kind != ViewerKind::Detail {
            let room = area.height.saturating_sub(2 + footer.len() as u16 + 2) as usize;
            while body.len() < room {
                body.push(Para::Blank);
            }
        }
        popup::show(
            frame,
            theme,
            area,
            popup::Shape {
                title: &self.title,
                max_width: width,
                scroll: Scroll::Row(self.scroll),
            },
            &body,
            &footer,
        );
    }
}
