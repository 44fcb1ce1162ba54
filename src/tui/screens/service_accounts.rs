//! Project Management › Service Account: the current project's service accounts (seed columns
//! ID / Name / Status / Created at, all kept at 80 columns); create with the ID previewed live,
//! [More] › Settings (Active / Inactive), delete with the typed phrase, Enter for the account's
//! page.

use super::agents::status_dot;
use super::{
    accept, date, detail, expect, nothing_selected, offer, subject, view_refusal, Component, Ctx, Offer,
    Reply, Screen,
};
use crate::console::access::Permission;
use crate::console::service_accounts::DELETE_SA_PHRASE;
use crate::console::{validate, SaStatus, ServiceAccount};
use crate::tui::keymap::Action;
use crate::tui::msg::{Command, Data, Query};
use crate::tui::popups::{Popup, TypedConfirm};
use crate::tui::widgets::form::{Field, Form, Request};
use crate::tui::widgets::table::{col, time, Column, Table, TableNav};

const COLUMNS: &[Column<ServiceAccount>] = &[
    col("ID", 10, 0, |sa| sa.id()),
    col("NAME", 6, 0, |sa| sa.name.clone()),
    col("STATUS", 8, 0, |sa| status_dot(sa.status).into()),
    time("CREATED AT", 10, 0, |sa| sa.created_at),
];

pub struct ServiceAccounts {
    table: Table<ServiceAccount>,
    asked: Option<Query>,
}

impl Default for ServiceAccounts {
    fn default() -> ServiceAccounts {
        ServiceAccounts {
            table: Table::new(COLUMNS, ServiceAccount::id),
            asked: None,
        }
    }
}

fn create_form(ctx: &Ctx) -> Form {
    let project = match &ctx.session.current {
        Some(c) => format!(
            "Project: {} ({}) (auto-filled)",
            c.project.name, c.project.nickname
        ),
        None => "Project: none".into(),
    };
    Form::new(
        "Create service account",
        "Create",
        |f| {
            Ok(Request::Run(Command::CreateServiceAccount {
                project_id: f.context.clone(),
                name: f.value("Service account name").into(),
                description: f.value("Description (optional)").into(),
            }))
        },
        vec![
            Field::text(
                "Service account name",
                validate::SA_NAME_MAX,
                validate::service_account_name,
            ),
            Field::text("Description (optional)", validate::SA_DESCRIPTION_MAX, |v| {
                validate::text("description", v, validate::SA_DESCRIPTION_MAX, false)
            }),
        ],
    )
    .with_context(ctx.project_id().unwrap_or_default())
    .with_preview(|f| {
        let name = f.value("Service account name");
        let name = if name.is_empty() { "{name}" } else { name };
        vec![(
            "Service account ID".into(),
            ServiceAccount::id_for(name, &f.context),
        )]
    })
    .with_intro(vec![
        project,
        "Project role: Project Member".into(),
        "Each project can have up to 100 service accounts, including inactive ones.".into(),
    ])
}

fn settings_form(sa: &ServiceAccount) -> Form {
    Form::new(
        "Service account settings",
        "Save",
        |f| {
            Ok(Request::Run(Command::SetServiceAccountStatus {
                sa_id: f.context.clone(),
                status: SaStatus::parse(f.value("Status")).ok_or("choose Active or Inactive")?,
            }))
        },
        vec![Field::choice("Status", ["Active", "Inactive"]).with_value(sa.status.label())],
    )
    .with_context(sa.id())
    .about(sa.id(), sa.name.clone())
    .with_intro(vec![
        format!("Service account: {}", sa.id()),
        "Inactive expires all of its access keys and API tokens at once; setting it Active again does not bring them back. This may cut off access to resources: proceed with caution.".into(),
    ])
}

impl Component for ServiceAccounts {
    fn screen(&self) -> Screen {
        Screen::ServiceAccounts
    }

    fn unavailable(&self, ctx: &Ctx) -> Option<String> {
        view_refusal(ctx, Permission::ViewServiceAccounts, "Viewing service accounts")
    }

    fn request(&mut self, ctx: &Ctx) -> Option<Query> {
        let Some(project) = ctx.project_id() else {
            self.table
                .fail("No current project: press p to choose one.".into());
            self.asked = None;
            return None;
        };
        self.table.set_loading();
        self.asked = Some(Query::ServiceAccounts { project });
        self.asked.clone()
    }

    fn loaded(&mut self, query: &Query, result: Result<Data, String>, ctx: &Ctx) -> bool {
        let rows = expect(result, |d| match d {
            Data::ServiceAccounts(rows) => Some(rows),
            _ => None,
        });
        accept(&self.asked, query, rows, &mut self.table, ctx.dates)
    }

    fn offer(&self, action: Action, _ctx: &Ctx) -> Option<Offer> {
        Some(match action {
            Action::Open => offer("open").needs(Permission::ViewServiceAccounts).on_row(),
            Action::Create => offer("Create service account").needs(Permission::ManageServiceAccounts),
            Action::Settings => offer("More › Settings")
                .needs(Permission::ManageServiceAccounts)
                .on_row(),
            Action::Delete => offer("Delete").needs(Permission::ManageServiceAccounts).on_row(),
            Action::Copy => offer("copy ID").on_row(),
            Action::Detail => offer("details").on_row(),
            _ => return None,
        })
    }

    fn act(&mut self, action: Action, ctx: &Ctx) -> Reply {
        if action == Action::Create {
            return Reply::Popup(Popup::Form(create_form(ctx)));
        }
        let Some(sa) = self.table.selected_row() else {
            return nothing_selected();
        };
        match action {
            Action::Open => Reply::Open(Screen::ServiceAccountDetail, sa.id()),
            Action::Settings => Reply::Popup(Popup::Form(settings_form(sa))),
            Action::Delete => Reply::Popup(Popup::TypedConfirm(
                TypedConfirm::new(
                    "Delete service account",
                    vec![
                        format!("Delete {}?", sa.id()),
                        "Its access keys and API tokens expire at once. This cannot be undone.".into(),
                    ],
                    DELETE_SA_PHRASE,
                    Command::DeleteServiceAccount {
                        sa_id: sa.id(),
                        confirmation: String::new(),
                    },
                )
                .about(subject(&sa.id(), &sa.name)),
            )),
            Action::Copy => Reply::Copy {
                text: sa.id(),
                what: "the service account ID".into(),
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
        *self = ServiceAccounts::default();
    }

    fn detail(&self, ctx: &Ctx) -> Option<Popup> {
        let sa = self.table.selected_row()?;
        Some(detail(
            ctx,
            &format!("Service account {}", sa.name),
            Some(subject(&sa.id(), &sa.name)),
            vec![
                ("ID", sa.id()),
                ("Name", sa.name.clone()),
                ("Status", status_dot(sa.status).into()),
                ("Description", sa.description.clone()),
                ("Project role", sa.role().label().into()),
                ("Project ID", sa.project_id.clone()),
                ("Created at", date(ctx.dates, &sa.created_at)),
            ],
        ))
    }
}
