//! Questions: a yes/no confirmation, a typed-phrase confirmation (enabled only when the phrase
//! matches exactly, and saying why nothing happened when it does not), and a notice.

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::Span;
use ratatui::Frame;

use super::{Ctx, Outcome};
use crate::tui::keymap::{Action, Keymap, Layer};
use crate::tui::msg::Command;
use crate::tui::widgets::field::TextField;
use crate::tui::widgets::form::Subject;
use crate::tui::widgets::popup::{self, text, Para, Scroll};
use crate::tui::widgets::text::shown;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    /// The seed's name for the button that goes ahead: Delete, OK…
    pub yes_label: &'static str,
    pub command: Command,
    pub subject: Option<Subject>,
}

impl Confirm {
    pub fn key(&mut self, key: &KeyEvent, keymap: &Keymap) -> Outcome {
        match keymap.action(Layer::Confirm, key) {
            Some(Action::Yes) => Outcome::Run(self.command.clone()),
            Some(Action::No) => Outcome::Close,
            _ => Outcome::Stay,
        }
    }

    pub fn draw(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        let body: Vec<Para> = self
            .lines
            .iter()
            .map(|l| text(shown(l), ctx.theme.base))
            .collect();
        let mut footer = vec![Para::Blank];
        if let Some(busy) = &ctx.busy {
            footer.push(text(busy.clone(), ctx.theme.accent));
        }
        footer.push(Para::Hints(vec![
            (ctx.keymap.keys(Action::Yes), self.yes_label.into()),
            (ctx.keymap.keys(Action::No), "Cancel".into()),
        ]));
        popup::show(
            frame,
            ctx.theme,
            area,
            popup::Shape {
                title: &self.title,
                max_width: 72,
                scroll: Scroll::Row(0),
            },
            &body,
            &footer,
        );
    }
}

/// A destructive action held by its dialog: it runs only when the typed phrase matches exactly.
#[derive(Debug, Clone)]
pub struct TypedConfirm {
    pub title: String,
    pub lines: Vec<String>,
    pub phrase: &'static str,
    pub field: TextField,
    /// The command to run, with the typed phrase filled in.
    pub command: Command,
    pub subject: Option<Subject>,
    /// Why the last Enter did nothing.
    pub why: Option<String>,
}

impl TypedConfirm {
    pub fn new(
        title: impl Into<String>,
        lines: Vec<String>,
        phrase: &'static str,
        command: Command,
    ) -> TypedConfirm {
        TypedConfirm {
            title: title.into(),
            lines,
            phrase,
            field: TextField::default(),
            command,
            subject: None,
            why: None,
        }
    }

    pub fn about(mut self, subject: Subject) -> TypedConfirm {
        self.subject = Some(subject);
        self
    }

    pub fn typed(&self) -> &str {
        self.field.value()
    }

    pub fn matches(&self) -> bool {
        self.typed() == self.phrase
    }

    /// Why `typed` is not the phrase, in words a user can act on.
    pub fn mismatch(&self) -> String {
        let typed = self.typed();
        let phrase = self.phrase;
        let detail = if typed.is_empty() {
            "nothing was typed".to_string()
        } else if typed.trim() == phrase {
            "remove the spaces before or after it".to_string()
        } else if typed.to_lowercase() == phrase.to_lowercase() {
            "capital letters count: type it as shown".to_string()
        } else if let Some(missing) = phrase.strip_prefix(typed) {
            format!("it is not finished: \"{missing}\" is missing")
        } else if let Some(extra) = typed.strip_prefix(phrase) {
            format!("remove \"{}\" at the end", shown(extra))
        } else {
            format!("you typed \"{}\"", shown(typed))
        };
        format!("Nothing was deleted: the phrase must be exactly \"{phrase}\"; {detail}.")
    }

    pub fn key(&mut self, key: &KeyEvent, keymap: &Keymap) -> Outcome {
        match keymap.action(Layer::Form, key) {
            Some(Action::Cancel) => Outcome::Close,
            Some(Action::Submit) if self.matches() => {
                Outcome::Run(self.command.clone().confirmed(self.typed()))
            }
            Some(Action::Submit) => {
                self.why = Some(self.mismatch());
                Outcome::Stay
            }
            _ => {
                if self.field.edit(key) {
                    self.why = None;
                }
                Outcome::Stay
            }
        }
    }

    pub fn paste(&mut self, text: &str) {
        self.field.paste(text);
        self.why = None;
    }

    pub fn draw(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        let theme = ctx.theme;
        let inner = (74u16.min(area.width).saturating_sub(2) as usize).max(1);
        let mut body: Vec<Para> = self.lines.iter().map(|l| text(shown(l), theme.base)).collect();
        body.push(Para::Blank);
        body.push(text(format!("Type \"{}\" to confirm:", self.phrase), theme.base));
        let (spans, _) = self.field.spans(
            inner.saturating_sub(2),
            theme.base.add_modifier(Modifier::UNDERLINED),
            true,
        );
        let mut row = vec![Span::raw("  ")];
        row.extend(spans);
        body.push(Para::Row(row));
        let mut footer = vec![Para::Blank];
        if let Some(busy) = &ctx.busy {
            footer.push(text(busy.clone(), theme.accent));
        } else if let Some(why) = &self.why {
            footer.push(text(format!("✗ {why}"), theme.error));
        }
        let submit = ctx.keymap.key(Action::Submit);
        let delete = if self.matches() {
            Para::Row(vec![Span::styled(format!("[{submit}] Delete"), theme.error)])
        } else {
            Para::Row(vec![Span::styled(
                format!("[{submit}] Delete (type the phrase exactly)"),
                theme.dim.add_modifier(Modifier::CROSSED_OUT),
            )])
        };
        footer.push(delete);
        footer.push(Para::Hints(vec![(
            ctx.keymap.key(Action::Cancel),
            "Cancel".into(),
        )]));
        popup::show(
            frame,
            theme,
            area,
            popup::Shape {
                title: &self.title,
                max_width: 74,
                scroll: Scroll::Row(0),
            },
            &body,
            &footer,
        );
    }
}

/// Something the user must read: closed with Enter or Esc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub lines: Vec<String>,
}

impl Notice {
    pub fn key(&mut self, key: &KeyEvent, keymap: &Keymap) -> Outcome {
        match keymap.action(Layer::Confirm, key) {
            Some(Action::Yes | Action::No) => Outcome::Close,
            _ => Outcome::Stay,
        }
    }

    pub fn draw(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        let body: Vec<Para> = self
            .lines
            .iter()
            .map(|l| text(shown(l), ctx.theme.base))
            .collect();
        let footer = vec![
            Para::Blank,
            Para::Hints(vec![(ctx.keymap.keys(Action::Yes), "OK".into())]),
        ];
        popup::show(
            frame,
            ctx.theme,
            area,
            popup::Shape {
                title: &self.title,
                max_width: 72,
                scroll: Scroll::Row(0),
            },
            &body,
            &footer,
        );
    }
}
