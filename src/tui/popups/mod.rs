//! The shared popups: forms, questions, typed-phrase confirmations, the one-time secret, the
//! viewers (help, message log, a row's details), the project switcher, the profile menu and
//! notices. Popups take input first and are drawn last. A destructive action is data held by its dialog.

mod confirm;
mod form;
mod profile;
mod reveal;
mod switcher;
mod viewer;

pub use confirm::{Confirm, Notice, TypedConfirm};
pub use form::draw_fields;
pub use profile::ProfileMenu;
pub use reveal::Reveal;
pub use switcher::Switcher;
pub use viewer::{Entry, Viewer, ViewerKind};

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::Frame;

use super::keymap::Keymap;
use super::msg::{Command, Session};
use super::screens::Screen;
use super::theme::Theme;
use super::widgets::form::{Form, FormEvent, Request, Subject};

#[derive(Debug)]
pub enum Popup {
    Form(Form),
    Confirm(Confirm),
    TypedConfirm(TypedConfirm),
    Reveal(Reveal),
    Viewer(Viewer),
    Switcher(Switcher),
    Notice(Notice),
    Profile(ProfileMenu),
}

/// What a key in a popup asks the app to do.
#[derive(Debug)]
pub enum Outcome {
    Stay,
    Close,
    Submit(Request),
    Run(Command),
    Copy { text: String, what: String },
    SwitchProject(String),
    Goto(Screen),
    SignOut,
    Quit,
}

/// What popups read from the rest of the app while drawing.
pub struct Ctx<'a> {
    pub theme: &'a Theme,
    pub keymap: &'a Keymap,
    pub session: Option<&'a Session>,
    /// The spinner line while a model call is on its way.
    pub busy: Option<String>,
}

impl Popup {
    pub fn key(&mut self, key: &KeyEvent, keymap: &Keymap, session: Option<&Session>) -> Outcome {
        match self {
            Popup::Form(form) => match form.key(key, keymap) {
                FormEvent::Nothing => Outcome::Stay,
                FormEvent::Cancel => Outcome::Close,
                FormEvent::Submit(request) => Outcome::Submit(request),
            },
            Popup::Confirm(confirm) => confirm.key(key, keymap),
            Popup::TypedConfirm(dialog) => dialog.key(key, keymap),
            Popup::Reveal(reveal) => reveal.key(key, keymap),
            Popup::Viewer(viewer) => viewer.key(key, keymap),
            Popup::Switcher(switcher) => switcher.key(key, keymap, session),
            Popup::Notice(notice) => notice.key(key, keymap),
            Popup::Profile(menu) => menu.key(key, keymap),
        }
    }

    pub fn paste(&mut self, text: &str) {
        match self {
            Popup::Form(form) => form.paste(text),
            Popup::TypedConfirm(dialog) => dialog.paste(text),
            Popup::Switcher(switcher) => switcher.paste(text),
            Popup::Viewer(viewer) => viewer.paste(text),
            Popup::Confirm(_) | Popup::Reveal(_) | Popup::Notice(_) | Popup::Profile(_) => {}
        }
    }

    /// The row this popup is about, if any.
    pub fn subject(&self) -> Option<&Subject> {
        match self {
            Popup::Form(form) => form.subject.as_ref(),
            Popup::Confirm(confirm) => confirm.subject.as_ref(),
            Popup::TypedConfirm(dialog) => dialog.subject.as_ref(),
            Popup::Viewer(viewer) => viewer.subject.as_ref(),
            Popup::Reveal(_) | Popup::Switcher(_) | Popup::Notice(_) | Popup::Profile(_) => None,
        }
    }

    pub fn draw(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        match self {
            Popup::Form(form) => form::draw(ctx, form, frame, area),
            Popup::Confirm(confirm) => confirm.draw(ctx, frame, area),
            Popup::TypedConfirm(dialog) => dialog.draw(ctx, frame, area),
            Popup::Reveal(reveal) => reveal.draw(ctx, frame, area),
            Popup::Viewer(viewer) => viewer.draw(ctx, frame, area),
            Popup::Switcher(switcher) => switcher.draw(ctx, frame, area),
            Popup::Notice(notice) => notice.draw(ctx, frame, area),
            Popup::Profile(menu) => menu.draw(ctx, frame, area),
        }
    }
}
