//! Project Management › Service Account: the current project's service accounts (seed columns
//! ID / Name / Status / Created at, all kept at 80 columns); create with the ID previewed live,
//! [More] › Settings (Active / Inactive), delete the checked accounts (Space checks a box) or
//! the selected one with one typed phrase, Enter for the account's page.

use super::{
    accept, ask_about_project, date, detail, expect, nothing_selected, offer, subject, view_refusal,
    Component, Ctx, Offer, Reply, Screen,
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
    col("STATUS", 8, 0, |sa| sa.status.dotted().into()),
    time("CREATED AT", 10, 0, |sa| sa.created_at),
];

pub struct ServiceAccounts {
    table: Table<ServiceAccount>,
    asked: Option<Query>,
}

impl Default for ServiceAccounts {
    fn default() -> ServiceAccounts {
        ServiceAccounts {
            table: Table::new(COLUMNS, ServiceAccount::id).checkable(),
            asked: None,
        }
    }
}

fn create_form(ctx: &Ctx) -> Form {
    // The guide's field order: Project, Service account name, Service account ID, Project role
    // (the description is the replica's addition, last).
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
    .with_preview(0, |f| {
        let name = f.value("Service account name");
        let name = if name.is_empty() { "{name}" } else { name };
        vec![
            (
                "Service account ID".into(),
                ServiceAccount::id_for(name, &f.context),
            ),
            (
                "Project role".into(),
                "Project Member (automatically assigned)".into(),
            ),
        ]
    })
    .with_intro(vec![
        "Each project can have up to 100 service accounts, including inactive ones.".into(),
        project,
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
        "When a service account is set to inactive, all issued access keys and API authentication tokens are immediately expired. This may result in loss of access to certain resources, so please proceed with caution when changing the account state.".into(),
        "Setting it Active again does not bring them back.".into(),
    ])
}

/// How many of a batch's IDs the dialog lists before "…and N more".
const LISTED: usize = 8;

/// One typed phrase for the checked accounts, or for the selected one when none is checked.
fn delete_dialog(marked: Vec<&ServiceAccount>, selected: &ServiceAccount) -> TypedConfirm {
    let caution = "When a service account is deleted, all associated access keys and API tokens are immediately expired. Please proceed with caution.";
    if marked.is_empty() {
        return TypedConfirm::new(
            "Delete service account",
            vec![format!("Delete {}?", selected.id()), caution.into()],
            DELETE_SA_PHRASE,
            Command::DeleteServiceAccounts {
                sa_ids: vec![selected.id()],
                confirmation: String::new(),
            },
        )
        .about(subject(&selected.id(), &selected.name));
    }
    let mut lines = vec![format!("Delete the {} checked service accounts?", marked.len())];
    lines.extend(marked.iter().take(LISTED).map(|sa| format!("  [x] {}", sa.id())));
    if marked.len() > LISTED {
        lines.push(format!("  …and {} more", marked.len() - LISTED));
    }
    lines.push(caution.into());
    lines.push("If any of them cannot be deleted, none is: the console says which one and why.".into());
    TypedConfirm::new(
        "Delete service account",
        lines,
        DELETE_SA_PHRASE,
        Command::DeleteServiceAccounts {
            sa_ids: marked.iter().map(|sa| sa.id()).collect(),
            confirmation: String::new(),
        },
    )
}

impl Component for ServiceAccounts {
    fn screen(&self) -> Screen {
        Screen::ServiceAccounts
    }

    fn unavailable(&self, ctx: &Ctx) -> Option<String> {
        view_refusal(ctx, Permission::ViewServiceAccounts, "Viewing service accounts")
    }

    fn request(&mut self, ctx: &Ctx) -> Option<Query> {
        ask_about_project(ctx, &mut self.table, &mut self.asked, |project| {
            Query::ServiceAccounts { project }
        })
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
            Action::Mark => offer("check").needs(Permission::ManageServiceAccounts).on_row(),
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
        if action == Action::Mark {
            self.table.toggle_mark();
            return Reply::Nothing;
        }
        let Some(sa) = self.table.selected_row() else {
            return nothing_selected();
        };
        match action {
            Action::Open => Reply::Open(Screen::ServiceAccountDetail, sa.id()),
            Action::Settings => Reply::Popup(Popup::Form(settings_form(sa))),
            Action::Delete => Reply::Popup(Popup::TypedConfirm(delete_dialog(self.table.marked_rows(), sa))),
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
                ("Status", sa.status.dotted().into()),
                ("Description", sa.description.clone()),
                ("Project role", sa.role().label().into()),
                ("Project ID", sa.project_id.clone()),
                ("Created at", date(ctx.dates, &sa.created_at)),
            ],
        ))
    }
}
