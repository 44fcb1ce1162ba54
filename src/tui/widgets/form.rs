//! Forms: fields with inline validation (length counters, the rule that failed), Tab between
//! fields, nothing written until submit. The rules are the model's own validators; the model
//! checks again. The screen that opens a form gives it the function that turns its values into
//! a request, so a screen's forms live in the screen's file.

use std::fmt;

use crossterm::event::KeyEvent;

use super::field::TextField;
use crate::console::{Result, Secret};
use crate::tui::keymap::{Action, Keymap, Layer};
use crate::tui::msg::Command;

pub type Rule = fn(&str) -> Result<()>;

#[derive(Debug, Clone)]
pub enum Input {
    Text(TextField),
    /// One of fixed options, changed with ←/→ or Space.
    Choice {
        options: Vec<String>,
        at: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Field {
    pub label: &'static str,
    pub input: Input,
    /// Characters allowed; 0 means no counter.
    pub max: usize,
    pub rule: Option<Rule>,
}

impl Field {
    pub fn text(label: &'static str, max: usize, rule: Rule) -> Field {
        Field {
            label,
            input: Input::Text(TextField::default()),
            max,
            rule: Some(rule),
        }
    }

    pub fn masked(label: &'static str) -> Field {
        Field {
            label,
            input: Input::Text(TextField::masked()),
            max: 0,
            rule: None,
        }
    }

    pub fn choice<S: Into<String>>(label: &'static str, options: impl IntoIterator<Item = S>) -> Field {
        Field {
            label,
            input: Input::Choice {
                options: options.into_iter().map(Into::into).collect(),
                at: 0,
            },
            max: 0,
            rule: None,
        }
    }

    /// Sets a text value, or picks the option of that name.
    pub fn with_value(mut self, value: &str) -> Field {
        match &mut self.input {
            Input::Text(field) => field.set(value),
            Input::Choice { options, at } => {
                if let Some(i) = options.iter().position(|o| o == value) {
                    *at = i;
                }
            }
        }
        self
    }

    pub fn value(&self) -> &str {
        match &self.input {
            Input::Text(field) => field.value(),
            Input::Choice { options, at } => options.get(*at).map(String::as_str).unwrap_or_default(),
        }
    }

    pub fn text_field(&self) -> Option<&TextField> {
        match &self.input {
            Input::Text(field) => Some(field),
            Input::Choice { .. } => None,
        }
    }

    pub fn is_choice(&self) -> bool {
        matches!(self.input, Input::Choice { .. })
    }

    /// The rule this value breaks, if any.
    pub fn problem(&self) -> Option<String> {
        self.rule
            .and_then(|rule| rule(self.value()).err())
            .map(|e| e.message().to_string())
    }

    /// "12/30" for fields with a limit.
    pub fn counter(&self) -> Option<String> {
        (self.max > 0).then(|| format!("{}/{}", self.value().chars().count(), self.max))
    }

    /// New options for a choice field, keeping the chosen one where it is still offered.
    pub fn set_options(&mut self, new: Vec<String>) {
        if let Input::Choice { options, at } = &mut self.input {
            let keep = options.get(*at).and_then(|o| new.iter().position(|n| n == o));
            *options = new;
            *at = keep.unwrap_or(0);
        }
    }

    fn cycle(&mut self, step: isize) {
        if let Input::Choice { options, at } = &mut self.input {
            if !options.is_empty() {
                *at = (*at as isize + step).rem_euclid(options.len() as isize) as usize;
            }
        }
    }
}

/// What submitting a form asks for.
#[derive(Debug)]
pub enum Request {
    Run(Command),
    VerifyPassword(Secret),
    SignIn { email: String, password: Secret },
}

/// Turns a form's values into its request; `Err` keeps the form open with that message.
pub type SubmitFn = fn(&mut Form) -> std::result::Result<Request, String>;

/// Lines a form computes from its values as they are typed: (label, value).
pub type Preview = fn(&Form) -> Vec<(String, String)>;

/// The row a dialog is about, so a change that removes the row can be explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The row's identity on its screen (a service account ID, an email, a key ID).
    pub key: String,
    /// How to name it to the user.
    pub label: String,
}

#[derive(Clone)]
pub struct Form {
    pub title: String,
    /// Read-only lines shown above the fields (auto-filled values, limits, warnings).
    pub intro: Vec<String>,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// The seed's name for the button this form's Enter presses: Create, Save, Submit…
    pub submit_label: &'static str,
    pub submit: SubmitFn,
    /// What the form is for beyond its fields (the current project's ID, a service account's
    /// ID), read by `submit` and `preview`.
    pub context: String,
    /// Lines computed live from the values (the service-account ID as the name is typed),
    /// drawn after the field with this index, where the guide's form has them.
    pub preview: Option<(usize, Preview)>,
    pub subject: Option<Subject>,
    /// The model's refusal of the last submit, shown until the next edit.
    pub error: Option<String>,
    /// A note about the last paste.
    pub notice: Option<String>,
    /// Field problems show once the user has tried to submit or typed in the field.
    pub touched: Vec<bool>,
    /// Runs after every edit: fields whose options follow another field's value.
    pub on_edit: Option<fn(&mut Form)>,
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Form")
            .field("title", &self.title)
            .field("fields", &self.fields)
            .field("focus", &self.focus)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// What a key did to a form.
#[derive(Debug)]
pub enum FormEvent {
    Nothing,
    Cancel,
    Submit(Request),
}

impl Form {
    pub fn new(
        title: impl Into<String>,
        submit_label: &'static str,
        submit: SubmitFn,
        fields: Vec<Field>,
    ) -> Form {
        let touched = vec![false; fields.len()];
        Form {
            title: title.into(),
            intro: Vec::new(),
            fields,
            focus: 0,
            submit_label,
            submit,
            context: String::new(),
            preview: None,
            subject: None,
            error: None,
            notice: None,
            touched,
            on_edit: None,
        }
    }

    pub fn with_on_edit(mut self, on_edit: fn(&mut Form)) -> Form {
        on_edit(&mut self);
        self.on_edit = Some(on_edit);
        self
    }

    pub fn field_mut(&mut self, label: &str) -> Option<&mut Field> {
        self.fields.iter_mut().find(|f| f.label == label)
    }

    /// Starts with the cursor on field `index`.
    pub fn with_focus(mut self, index: usize) -> Form {
        self.focus = index.min(self.fields.len().saturating_sub(1));
        self
    }

    pub fn with_intro(mut self, lines: Vec<String>) -> Form {
        self.intro = lines;
        self
    }

    pub fn with_context(mut self, context: impl Into<String>) -> Form {
        self.context = context.into();
        self
    }

    pub fn with_preview(mut self, after: usize, preview: Preview) -> Form {
        self.preview = Some((after, preview));
        self
    }

    pub fn about(mut self, key: impl Into<String>, label: impl Into<String>) -> Form {
        self.subject = Some(Subject {
            key: key.into(),
            label: label.into(),
        });
        self
    }

    pub fn value(&self, label: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.label == label)
            .map(Field::value)
            .unwrap_or_default()
    }

    /// Takes a (masked) field's value out of the form.
    pub fn take(&mut self, label: &str) -> String {
        match self
            .fields
            .iter_mut()
            .find(|f| f.label == label)
            .map(|f| &mut f.input)
        {
            Some(Input::Text(field)) => field.take(),
            _ => String::new(),
        }
    }

    pub fn clear(&mut self, label: &str) {
        if let Some(Input::Text(field)) = self
            .fields
            .iter_mut()
            .find(|f| f.label == label)
            .map(|f| &mut f.input)
        {
            field.clear();
        }
    }

    pub fn next(&mut self) {
        self.focus = (self.focus + 1) % self.fields.len().max(1);
    }

    pub fn prev(&mut self) {
        let n = self.fields.len().max(1);
        self.focus = (self.focus + n - 1) % n;
    }

    fn edited(&mut self) {
        self.touched[self.focus] = true;
        self.error = None;
        self.notice = None;
        if let Some(on_edit) = self.on_edit {
            on_edit(self);
        }
    }

    /// Handles a key: the form layer's actions, else editing the focused field.
    pub fn key(&mut self, key: &KeyEvent, keymap: &Keymap) -> FormEvent {
        let on_choice = self.fields.get(self.focus).is_some_and(Field::is_choice);
        match keymap.action(Layer::Form, key) {
            Some(Action::Cancel) => return FormEvent::Cancel,
            Some(Action::NextField) => self.next(),
            Some(Action::PrevField) => self.prev(),
            Some(Action::Submit) => return self.submit(),
            Some(Action::ChoiceNext) if on_choice => {
                self.fields[self.focus].cycle(1);
                self.edited();
            }
            Some(Action::ChoicePrev) if on_choice => {
                self.fields[self.focus].cycle(-1);
                self.edited();
            }
            _ => {
                if let Some(Field {
                    input: Input::Text(field),
                    ..
                }) = self.fields.get_mut(self.focus)
                {
                    if field.edit(key) {
                        self.edited();
                    }
                }
            }
        }
        FormEvent::Nothing
    }

    pub fn paste(&mut self, text: &str) {
        if let Some(Field {
            input: Input::Text(field),
            ..
        }) = self.fields.get_mut(self.focus)
        {
            let notice = field.paste(text);
            self.edited();
            self.notice = notice;
        }
    }

    /// Marks every field touched; submits when all pass their rules.
    pub fn submit(&mut self) -> FormEvent {
        self.touched.iter_mut().for_each(|t| *t = true);
        if self.fields.iter().any(|f| f.problem().is_some()) {
            return FormEvent::Nothing;
        }
        match (self.submit)(self) {
            Ok(request) => FormEvent::Submit(request),
            Err(message) => {
                self.error = Some(message);
                FormEvent::Nothing
            }
        }
    }

    /// The problem to show under a field, once it has been touched.
    pub fn shown_problem(&self, index: usize) -> Option<String> {
        if self.touched[index] {
            self.fields[index].problem()
        } else {
            None
        }
    }
}
