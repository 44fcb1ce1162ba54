//! Forms: fields with inline validation (length counters, the rule that failed), Tab between
//! fields, nothing written until submit. The rules are the model's own validators.

use crate::console::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// Shown as bullets.
    Masked,
    /// One of fixed options, changed with ←/→ or space.
    Choice(Vec<String>),
}

pub type Rule = fn(&str) -> Result<()>;

#[derive(Debug, Clone)]
pub struct Field {
    pub label: &'static str,
    pub value: String,
    pub kind: FieldKind,
    /// Characters allowed; 0 means no counter.
    pub max: usize,
    pub rule: Option<Rule>,
}

impl Field {
    pub fn text(label: &'static str, max: usize, rule: Rule) -> Field {
        Field {
            label,
            value: String::new(),
            kind: FieldKind::Text,
            max,
            rule: Some(rule),
        }
    }

    pub fn masked(label: &'static str) -> Field {
        Field {
            label,
            value: String::new(),
            kind: FieldKind::Masked,
            max: 0,
            rule: None,
        }
    }

    pub fn choice<S: Into<String>>(label: &'static str, options: impl IntoIterator<Item = S>) -> Field {
        let options: Vec<String> = options.into_iter().map(Into::into).collect();
        Field {
            label,
            value: options.first().cloned().unwrap_or_default(),
            kind: FieldKind::Choice(options),
            max: 0,
            rule: None,
        }
    }

    pub fn with_value(mut self, value: &str) -> Field {
        self.value = value.into();
        self
    }

    /// The rule this value breaks, if any.
    pub fn problem(&self) -> Option<String> {
        self.rule
            .and_then(|rule| rule(&self.value).err())
            .map(|e| e.message().to_string())
    }

    /// "12/30" for fields with a limit.
    pub fn counter(&self) -> Option<String> {
        (self.max > 0).then(|| format!("{}/{}", self.value.chars().count(), self.max))
    }

    /// What the field shows: bullets for a masked value.
    pub fn display(&self) -> String {
        match self.kind {
            FieldKind::Masked => "•".repeat(self.value.chars().count()),
            FieldKind::Choice(_) => format!("◂ {} ▸", self.value),
            FieldKind::Text => self.value.clone(),
        }
    }

    fn cycle(&mut self, step: isize) {
        if let FieldKind::Choice(options) = &self.kind {
            if options.is_empty() {
                return;
            }
            let at = options.iter().position(|o| *o == self.value).unwrap_or(0) as isize;
            let next = (at + step).rem_euclid(options.len() as isize) as usize;
            self.value = options[next].clone();
        }
    }
}

/// What a form submits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submit {
    SignIn,
    CreateProject,
    EditProject { project_id: String },
    Inquiry,
    AddUser,
    AddPayment,
    AddMember,
    SetMemberRole { email: String },
    ServiceAccountStatus { sa_id: String },
    CreateServiceAccount,
    VerifyPassword,
    CreateCredential { kind: crate::console::KeyKind },
    CreateSaKey { sa_id: String },
}

#[derive(Debug, Clone)]
pub struct Form {
    pub title: String,
    /// Read-only lines shown above the fields (auto-filled values, notes).
    pub intro: Vec<String>,
    pub fields: Vec<Field>,
    pub focus: usize,
    pub submit: Submit,
    /// The model's refusal of the last submit, shown until the next edit.
    pub error: Option<String>,
    /// Field problems show once the user has tried to submit or typed in the field.
    pub touched: Vec<bool>,
}

impl Form {
    pub fn new(title: impl Into<String>, submit: Submit, fields: Vec<Field>) -> Form {
        let touched = vec![false; fields.len()];
        Form {
            title: title.into(),
            intro: Vec::new(),
            fields,
            focus: 0,
            submit,
            error: None,
            touched,
        }
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

    pub fn value(&self, label: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.label == label)
            .map(|f| f.value.as_str())
            .unwrap_or_default()
    }

    pub fn next(&mut self) {
        self.focus = (self.focus + 1) % self.fields.len();
    }

    pub fn prev(&mut self) {
        self.focus = (self.focus + self.fields.len() - 1) % self.fields.len();
    }

    pub fn type_char(&mut self, c: char) {
        let field = &mut self.fields[self.focus];
        match field.kind {
            FieldKind::Choice(_) => {
                if c == ' ' {
                    field.cycle(1);
                }
            }
            _ => field.value.push(c),
        }
        self.touched[self.focus] = true;
        self.error = None;
    }

    pub fn paste(&mut self, text: &str) {
        for c in text.chars().filter(|c| *c != '\n' && *c != '\r') {
            self.type_char(c);
        }
    }

    pub fn backspace(&mut self) {
        self.fields[self.focus].value.pop();
        self.touched[self.focus] = true;
        self.error = None;
    }

    pub fn cycle(&mut self, step: isize) {
        self.fields[self.focus].cycle(step);
        self.error = None;
    }

    /// Marks every field touched and says whether all pass their rules.
    pub fn check(&mut self) -> bool {
        self.touched.iter_mut().for_each(|t| *t = true);
        self.fields.iter().all(|f| f.problem().is_none())
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
