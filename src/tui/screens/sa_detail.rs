//! A service account's page: Credentials › IAM access key — its keys (IDs listed: the seed
//! says only the secret cannot be retrieved again), create with a one-time secret (up to 2),
//! delete with the typed phrase.

use ratatui::text::{Line, Span};

use super::{
    accept, date, detail, expect, nothing_selected, offer, subject, view_refusal, Component, Ctx, Offer,
    Reply, Screen,
};
use crate::console::access::Permission;
use crate::console::keys::DELETE_KEY_PHRASE;
use crate::console::service_accounts::parse_sa_id;
use crate::console::{validate, KeyStatus};
use crate::org::request::KeyView;
use crate::tui::keymap::Action;
use crate::tui::msg::{Command, Data, Query};
use crate::tui::popups::{Popup, TypedConfirm};
use crate::tui::widgets::form::{Field, Form, Request};
use crate::tui::widgets::table::{col, time, Column, Table, TableNav};
use crate::tui::widgets::text::shown;

pub fn key_status(s: KeyStatus) -> &'static str {
    match s {
        KeyStatus::Active => "Active",
        KeyStatus::Expired => "Expired",
    }
}

/// The service-account guide's caution before an IAM access key is deleted; it holds for a
/// user's own keys too.
pub const KEY_DELETE_CAUTION: &str = "When an IAM access key is deleted, any API authentication tokens issued with that key will immediately expire. Proceed with caution.";

/// A service account's key keeps its full ID in lists (its guide: only the secret cannot be
/// retrieved again).
fn key_id(k: &KeyView) -> String {
    k.id.clone().unwrap_or_else(|| k.id_hint.clone())
}

const COLUMNS: &[Column<KeyView>] = &[
    col("NAME", 6, 0, |k| k.name.clone()),
    col("ACCESS KEY ID", 10, 0, key_id),
    col("DESCRIPTION", 8, 2, |k| k.description.clone()),
    time("CREATED AT", 10, 1, |k| k.created_at),
    col("STATUS", 7, 0, |k| key_status(k.status).into()),
];

pub struct SaDetail {
    sa_id: Option<String>,
    table: Table<KeyView>,
    asked: Option<Query>,
}

impl Default for SaDetail {
    fn default() -> SaDetail {
        SaDetail {
            sa_id: None,
            table: Table::new(COLUMNS, key_id),
            asked: None,
        }
    }
}

impl SaDetail {
    pub fn sa_id(&self) -> Option<&str> {
        self.sa_id.as_deref()
    }
}

fn create_form(ctx: &Ctx, sa_id: &str) -> Form {
    let project = match &ctx.session.current {
        Some(c) => format!(
            "Project: {} ({}) (auto-filled)",
            c.project.name, c.project.nickname
        ),
        None => "Project: none".into(),
    };
    Form::new(
        "Create IAM access key",
        "Create",
        |f| {
            Ok(Request::Run(Command::CreateSaKey {
                sa_id: f.context.clone(),
                name: f.value("IAM access key name").into(),
                description: f.value("IAM access key description (optional)").into(),
            }))
        },
        vec![
            Field::text("IAM access key name", validate::KEY_NAME_MAX, |v| {
                validate::text("access key name", v, validate::KEY_NAME_MAX, true)
            }),
            Field::text("IAM access key description (optional)", validate::KEY_DESCRIPTION_MAX, |v| {
                validate::text("description", v, validate::KEY_DESCRIPTION_MAX, false)
            }),
        ],
    )
    .with_context(sa_id.to_string())
    .with_intro(vec![
        project,
        format!("Service account ID: {sa_id} (auto-filled)"),
        "You can create up to 2 IAM access keys per service account.".into(),
        "Once created, the Secret Access Key cannot be retrieved again. You cannot temporarily disable an IAM access key or set an expiration date.".into(),
    ])
}

impl Component for SaDetail {
    fn screen(&self) -> Screen {
        Screen::ServiceAccountDetail
    }

    fn unavailable(&self, ctx: &Ctx) -> Option<String> {
        view_refusal(ctx, Permission::ViewServiceAccounts, "Viewing service accounts")
    }

    fn open(&mut self, subject: &str) {
        if self.sa_id.as_deref() != Some(subject) {
            *self = SaDetail {
                sa_id: Some(subject.to_string()),
                ..SaDetail::default()
            };
        }
    }

    fn request(&mut self, _ctx: &Ctx) -> Option<Query> {
        let sa_id = self.sa_id.clone()?;
        self.table.set_loading();
        self.asked = Some(Query::SaKeys { sa_id });
        self.asked.clone()
    }

    fn loaded(&mut self, query: &Query, result: Result<Data, String>, ctx: &Ctx) -> bool {
        let rows = expect(result, |d| match d {
            Data::SaKeys(rows) => Some(rows),
            _ => None,
        });
        accept(&self.asked, query, rows, &mut self.table, ctx.dates)
    }

    fn offer(&self, action: Action, _ctx: &Ctx) -> Option<Offer> {
        Some(match action {
            Action::Create => offer("Create IAM access key").needs(Permission::ManageServiceAccountKeys),
            Action::Delete => offer("Delete")
                .needs(Permission::ManageServiceAccountKeys)
                .on_row(),
            Action::Copy => offer("copy ID").on_row(),
            Action::Open | Action::Detail => offer("details").on_row(),
            _ => return None,
        })
    }

    fn act(&mut self, action: Action, ctx: &Ctx) -> Reply {
        let Some(sa_id) = self.sa_id.clone() else {
            return nothing_selected();
        };
        if action == Action::Create {
            return Reply::Popup(Popup::Form(create_form(ctx, &sa_id)));
        }
        let Some(key) = self.table.selected_row() else {
            return nothing_selected();
        };
        match action {
            Action::Delete => Reply::Popup(Popup::TypedConfirm(
                TypedConfirm::new(
                    "Delete IAM access key",
                    vec![
                        format!("Delete IAM access key {:?} ({})?", key.name, key_id(key)),
                        KEY_DELETE_CAUTION.into(),
                    ],
                    DELETE_KEY_PHRASE,
                    Command::DeleteSaKey {
                        sa_id,
                        key_id: key_id(key),
                        confirmation: String::new(),
                    },
                )
                .about(subject(&key_id(key), &key.name)),
            )),
            Action::Copy => Reply::Copy {
                text: key_id(key),
                what: "the access key ID".into(),
            },
            _ => Reply::Nothing,
        }
    }

    fn table(&self) -> Option<&dyn TableNav> {
        Some(&self.table)
    }

    fn table_mut(&mut self) -> Option<&mut dyn TableNav> {
        Some(&mut self.table)
    }

    fn forget(&mut self) {
        *self = SaDetail::default();
    }

    fn subject_crumb(&self) -> Option<String> {
        let (name, _) = parse_sa_id(self.sa_id.as_deref()?).ok()?;
        Some(name)
    }

    /// The ID, then the page's one row of tabs: the guide's "Credentials > IAM Access Key tab".
    fn context(&self, ctx: &Ctx) -> Vec<Line<'static>> {
        let id = self.sa_id.as_deref().map(shown).unwrap_or_default().into_owned();
        vec![
            Line::from(vec![Span::styled(" ID: ", ctx.theme.dim), Span::raw(id)]),
            Line::from(vec![
                Span::styled(" Credentials", ctx.theme.dim),
                Span::styled(" › ", ctx.theme.dim),
                Span::styled("[ IAM access key ]", ctx.theme.selected),
            ]),
        ]
    }

    fn detail(&self, ctx: &Ctx) -> Option<Popup> {
        let k = self.table.selected_row()?;
        Some(detail(
            ctx,
            &format!("IAM access key {}", k.name),
            Some(subject(&key_id(k), &k.name)),
            vec![
                ("Name", k.name.clone()),
                ("Access key ID", key_id(k)),
                ("Description", k.description.clone()),
                ("Status", key_status(k.status).into()),
                ("Created at", date(ctx.dates, &k.created_at)),
                ("Service account ID", self.sa_id.clone().unwrap_or_default()),
                (
                    "Secret access key",
                    "not retrievable: shown once, at creation".into(),
                ),
            ],
        ))
    }
}
