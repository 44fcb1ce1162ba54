//! Profile › Credentials: a password re-check first ([Verify password]), then the IAM access
//! key and S3 access key tabs with the user's own keys; create (up to 2 of each per project,
//! with a one-time secret) and delete.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::sa_detail::{key_status, KEY_DELETE_CAUTION};
use super::{accept, date, detail, nothing_selected, offer, subject, Component, Ctx, Offer, Reply, Screen};
use crate::console::access::Permission;
use crate::console::{validate, KeyKind, Secret};
use crate::org::request::KeyView;
use crate::tui::keymap::Action;
use crate::tui::msg::{Command, Data, Query};
use crate::tui::popups::{Confirm, Popup};
use crate::tui::widgets::form::{Field, Form, Request};
use crate::tui::widgets::table::{col, time, Column, Table, TableNav};
use crate::tui::widgets::text::wrap;

/// One of the user's keys: its ID only as a hint (the Credentials guide: neither the access key
/// ID nor the secret can be retrieved after the creation popup closes), so a key is known by
/// its name, which is unique per kind.
pub struct Row {
    key: KeyView,
    project: String,
}

/// The role the key's tokens carry (a replica column, the first to go when narrow).
fn role(r: &Row) -> String {
    r.key.role.map_or("-", |role| role.label()).into()
}

const IAM: &[Column<Row>] = &[
    col("NAME", 6, 0, |r| r.key.name.clone()),
    col("ACCESS KEY ID", 10, 0, |r| r.key.id_hint.clone()),
    col("PROJECT", 7, 0, |r| r.project.clone()),
    col("ROLE", 6, 3, role),
    col("DESCRIPTION", 8, 2, |r| r.key.description.clone()),
    time("CREATED AT", 10, 1, |r| r.key.created_at),
    col("STATUS", 7, 0, |r| key_status(r.key.status).into()),
];

const S3: &[Column<Row>] = &[
    col("NAME", 6, 0, |r| r.key.name.clone()),
    col("AUTHENTICATION KEY", 10, 0, |r| r.key.id_hint.clone()),
    col("PROJECT", 7, 0, |r| r.project.clone()),
    col("ROLE", 6, 3, role),
    col("DESCRIPTION", 8, 2, |r| r.key.description.clone()),
    time("CREATED AT", 10, 1, |r| r.key.created_at),
    col("STATUS", 7, 0, |r| key_status(r.key.status).into()),
];

pub struct Credentials {
    pub tab: KeyKind,
    iam: Table<Row>,
    s3: Table<Row>,
    asked: Option<Query>,
}

impl Default for Credentials {
    fn default() -> Credentials {
        Credentials {
            tab: KeyKind::Iam,
            iam: Table::new(IAM, |r| r.key.name.clone()),
            s3: Table::new(S3, |r| r.key.name.clone()),
            asked: None,
        }
    }
}

/// The password re-check Profile › Credentials asks for first.
pub fn password_gate() -> Form {
    Form::new(
        "Verify password",
        "Verify password",
        |f| Ok(Request::VerifyPassword(Secret::new(f.take("Password")))),
        vec![Field::masked("Password")],
    )
    .with_intro(vec![
        "Re-enter your password to manage your access keys.".into(),
        "After 5 wrong answers in a row, verification locks for 15 minutes.".into(),
    ])
}

fn create_form(ctx: &Ctx, kind: KeyKind) -> Form {
    let projects: Vec<String> = ctx
        .session
        .projects
        .iter()
        .filter(|v| v.my_role.is_some())
        .map(|v| v.project.name.clone())
        .collect();
    let current = ctx
        .session
        .current
        .as_ref()
        .map(|c| c.project.name.clone())
        .unwrap_or_default();
    let project = Field::choice("Project", projects).with_value(&current);
    let submit = match kind {
        KeyKind::Iam => |f: &mut Form| Ok(Request::Run(command(f, KeyKind::Iam))),
        KeyKind::S3 => |f: &mut Form| Ok(Request::Run(command(f, KeyKind::S3))),
    };
    let purpose = match kind {
        KeyKind::Iam => "An IAM access key serves as the IAM user credential and is required for issuing API authentication tokens. The access key inherits the permissions of the IAM role granted in the selected project.",
        KeyKind::S3 => "An S3 access key is required to obtain authentication tokens for the Object Storage API.",
    };
    Form::new(
        format!("Create {}", kind.label()),
        "Create",
        submit,
        vec![
            project,
            Field::text("Name", validate::KEY_NAME_MAX, |v| {
                validate::text("access key name", v, validate::KEY_NAME_MAX, true)
            }),
            Field::text("Description (optional)", validate::KEY_DESCRIPTION_MAX, |v| {
                validate::text("description", v, validate::KEY_DESCRIPTION_MAX, false)
            }),
        ],
    )
    .with_focus(1)
    .with_intro(vec![
        purpose.into(),
        // The Credentials guide's own sentences.
        format!("You can create up to 2 {}s per project.", kind.label()),
        format!(
            "Be careful not to expose your {}, as it may be misused if leaked.",
            kind.label()
        ),
    ])
}

fn command(f: &Form, kind: KeyKind) -> Command {
    Command::CreateCredential {
        kind,
        project: f.value("Project").into(),
        name: f.value("Name").into(),
        description: f.value("Description (optional)").into(),
    }
}

impl Credentials {
    fn current(&self) -> &Table<Row> {
        match self.tab {
            KeyKind::Iam => &self.iam,
            KeyKind::S3 => &self.s3,
        }
    }

    fn current_mut(&mut self) -> &mut Table<Row> {
        match self.tab {
            KeyKind::Iam => &mut self.iam,
            KeyKind::S3 => &mut self.s3,
        }
    }

    fn switch(&mut self, kind: KeyKind) -> Reply {
        self.tab = kind;
        Reply::Load
    }
}

impl Component for Credentials {
    fn screen(&self) -> Screen {
        Screen::Credentials
    }

    fn unavailable(&self, ctx: &Ctx) -> Option<String> {
        (!ctx.session.permits(Permission::OwnCredentials)).then(|| {
            "Access keys belong to a project: you need a role in at least one project (Project Admin, Project Member or Project Reader) to create them.".into()
        })
    }

    fn entered(&mut self, ctx: &Ctx) -> Reply {
        if ctx.credentials_unlocked {
            Reply::Load
        } else if ctx.offline {
            // A password that cannot be checked is not asked for; the page says so.
            Reply::Nothing
        } else {
            Reply::Popup(Popup::Form(password_gate()))
        }
    }

    fn request(&mut self, ctx: &Ctx) -> Option<Query> {
        if !ctx.credentials_unlocked {
            return None;
        }
        self.current_mut().set_loading();
        self.asked = Some(Query::Credentials { kind: self.tab });
        self.asked.clone()
    }

    fn loaded(&mut self, query: &Query, result: Result<Data, String>, ctx: &Ctx) -> bool {
        let rows = result.and_then(|data| match data {
            Data::Credentials(keys) => Ok(keys
                .into_iter()
                .map(|key| Row {
                    project: key.project_name.clone().unwrap_or_else(|| "(deleted)".into()),
                    key,
                })
                .collect()),
            _ => Err("the console received the wrong kind of data".to_string()),
        });
        let tab = self.tab;
        let table = match tab {
            KeyKind::Iam => &mut self.iam,
            KeyKind::S3 => &mut self.s3,
        };
        accept(&self.asked, query, rows, table, ctx.dates)
    }

    fn offer(&self, action: Action, ctx: &Ctx) -> Option<Offer> {
        let other = match self.tab {
            KeyKind::Iam => "S3 access key tab",
            KeyKind::S3 => "IAM access key tab",
        };
        if !ctx.credentials_unlocked {
            return match action {
                Action::Open => Some(offer("Verify password").needs_server()),
                _ => None,
            };
        }
        Some(match action {
            Action::NextTab | Action::PrevTab => offer(other),
            Action::Create => match self.tab {
                KeyKind::Iam => offer("Create IAM access key"),
                KeyKind::S3 => offer("Create S3 access key"),
            }
            .needs(Permission::OwnCredentials),
            Action::Delete => offer("Delete").needs(Permission::OwnCredentials).on_row(),
            // A user key's ID is not retrievable after its popup: there is nothing to copy.
            Action::Open | Action::Detail => offer("details").on_row(),
            _ => return None,
        })
    }

    fn act(&mut self, action: Action, ctx: &Ctx) -> Reply {
        if !ctx.credentials_unlocked {
            return Reply::Popup(Popup::Form(password_gate()));
        }
        match action {
            Action::NextTab | Action::PrevTab => {
                let other = match self.tab {
                    KeyKind::Iam => KeyKind::S3,
                    KeyKind::S3 => KeyKind::Iam,
                };
                return self.switch(other);
            }
            Action::Create => return Reply::Popup(Popup::Form(create_form(ctx, self.tab))),
            _ => {}
        }
        let kind = self.tab;
        let Some(row) = self.current().selected_row() else {
            return nothing_selected();
        };
        match action {
            Action::Delete => Reply::Popup(Popup::Confirm(Confirm {
                title: format!("Delete {}", kind.label()),
                lines: vec![
                    format!(
                        "Delete {} {:?} ({})?",
                        kind.label(),
                        row.key.name,
                        row.key.id_hint
                    ),
                    match kind {
                        KeyKind::Iam => KEY_DELETE_CAUTION.into(),
                        KeyKind::S3 => {
                            "API tokens obtained with it stop working at once. This cannot be undone.".into()
                        }
                    },
                ],
                yes_label: "Delete",
                command: Command::DeleteCredential {
                    kind,
                    key_id: row.key.name.clone(),
                },
                subject: Some(subject(&row.key.name, &row.key.name)),
            })),
            _ => Reply::Nothing,
        }
    }

    fn table(&self) -> Option<&dyn TableNav> {
        Some(self.current())
    }

    fn table_mut(&mut self) -> Option<&mut dyn TableNav> {
        Some(self.current_mut())
    }

    fn context(&self, ctx: &Ctx) -> Vec<Line<'static>> {
        let tab = |label: &str, on: bool| {
            if on {
                Span::styled(format!("[ {label} ]"), ctx.theme.selected)
            } else {
                Span::styled(format!("  {label}  "), ctx.theme.dim)
            }
        };
        vec![Line::from(vec![
            Span::raw(" "),
            tab("IAM access key", self.tab == KeyKind::Iam),
            Span::raw(" "),
            tab("S3 access key", self.tab == KeyKind::S3),
            Span::styled(
                format!("   {} switches", ctx.keymap.key(Action::NextTab)),
                ctx.theme.dim,
            ),
        ])]
    }

    /// The tabs: " [ IAM access key ] " spans columns 1–18, "  S3 access key  " 20–36.
    fn context_click(&mut self, line: usize, x: u16, ctx: &Ctx) -> Reply {
        if line != 0 || !ctx.credentials_unlocked {
            return Reply::Nothing;
        }
        match x {
            1..=18 if self.tab != KeyKind::Iam => self.switch(KeyKind::Iam),
            20..=36 if self.tab != KeyKind::S3 => self.switch(KeyKind::S3),
            _ => Reply::Nothing,
        }
    }

    fn draw(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        if !ctx.credentials_unlocked {
            let room = (area.width as usize).saturating_sub(1);
            let says = |text: &str, style| {
                wrap(text, room)
                    .into_iter()
                    .map(move |row| Line::from(Span::styled(format!(" {row}"), style)))
            };
            let mut text = vec![Line::from("")];
            text.extend(says(
                "Profile › Credentials is protected by a password re-check.",
                ctx.theme.base,
            ));
            let next = if ctx.offline {
                "The password can be checked again once the server is back.".to_string()
            } else {
                format!("Press {} to [Verify password].", ctx.keymap.key(Action::Open))
            };
            text.extend(says(&next, ctx.theme.accent));
            frame.render_widget(Paragraph::new(text), area);
            return;
        }
        super::draw_table(ctx, self.current(), "(none yet)", frame, area);
    }

    fn detail(&self, ctx: &Ctx) -> Option<Popup> {
        let r = self.current().selected_row()?;
        let k = &r.key;
        let id_label = match k.kind {
            KeyKind::Iam => "Access key ID",
            KeyKind::S3 => "Authentication key",
        };
        Some(detail(
            ctx,
            &format!("{} {}", k.kind.label(), k.name),
            Some(subject(&k.name, &k.name)),
            vec![
                ("Name", k.name.clone()),
                (
                    id_label,
                    format!("{} (a hint: the full ID was shown once, at creation)", k.id_hint),
                ),
                ("Project", r.project.clone()),
                ("Project ID", k.project_id.clone()),
                ("Description", k.description.clone()),
                (
                    "Role",
                    k.role
                        .map_or("none (its owner holds no role there)", |r| r.label())
                        .into(),
                ),
                ("Status", key_status(k.status).into()),
                ("Created at", date(ctx.dates, &k.created_at)),
                (
                    "Secret access key",
                    "not retrievable: shown once, at creation".into(),
                ),
            ],
        ))
    }
}
