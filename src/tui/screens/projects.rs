//! IAM › Projects: every project this user may see; create (Org Admin, with a payment method),
//! edit the nickname and description, set as default, request deletion through the Help Desk,
//! and Enter to make a project current.

use super::{
    accept, date, detail, expect, nothing_selected, offer, subject, Component, Ctx, Offer, Reply, Screen,
};
use crate::console::access::Permission;
use crate::console::{validate, ProjectRole, ProjectView};
use crate::tui::keymap::Action;
use crate::tui::msg::{Command, Data, Query};
use crate::tui::popups::Popup;
use crate::tui::widgets::form::{Field, Form, Request};
use crate::tui::widgets::table::{col, time, Column, Table, TableNav};

const COLUMNS: &[Column<ProjectView>] = &[
    col("NICKNAME", 8, 0, |v| v.project.nickname.clone()),
    col("NAME", 8, 0, |v| v.project.name.clone()),
    col("ID", 8, 0, |v| v.project.id.clone()),
    col("DEFAULT", 7, 2, |v| {
        if v.is_default {
            "★ default".into()
        } else {
            String::new()
        }
    }),
    col("MY ROLE", 8, 1, |v| {
        v.my_role.map(ProjectRole::label).unwrap_or("-").into()
    }),
    time("CREATED AT", 10, 3, |v| v.project.created_at),
];

pub struct Projects {
    table: Table<ProjectView>,
    asked: Option<Query>,
}

impl Default for Projects {
    fn default() -> Projects {
        Projects {
            table: Table::new(COLUMNS, |v| v.project.id.clone()),
            asked: None,
        }
    }
}

fn nickname_field() -> Field {
    Field::text("Project nickname", validate::NICKNAME_MAX, |v| {
        validate::text("project nickname", v, validate::NICKNAME_MAX, true)
    })
}

fn description_field() -> Field {
    Field::text("Description (optional)", validate::PROJECT_DESCRIPTION_MAX, |v| {
        validate::text("description", v, validate::PROJECT_DESCRIPTION_MAX, false)
    })
}

fn create_form(ctx: &Ctx) -> Form {
    Form::new(
        "Create project",
        "Create",
        |f| {
            Ok(Request::Run(Command::CreateProject {
                name: f.value("Project name").into(),
                nickname: f.value("Project nickname").into(),
                description: f.value("Description (optional)").into(),
            }))
        },
        vec![
            Field::text("Project name", validate::PROJECT_NAME_MAX, validate::project_name),
            nickname_field(),
            description_field(),
        ],
    )
    .with_intro(vec![
        format!("Organization name: {} (auto-filled)", ctx.session.org_name),
        "The project name is used by APIs and cannot be changed later.".into(),
        "A payment method must be registered first (Billing › Payment methods).".into(),
    ])
}

fn edit_form(view: &ProjectView) -> Form {
    Form::new(
        "Edit project",
        "Save",
        |f| {
            Ok(Request::Run(Command::EditProject {
                project_id: f.context.clone(),
                nickname: f.value("Project nickname").into(),
                description: f.value("Description (optional)").into(),
            }))
        },
        vec![
            nickname_field().with_value(&view.project.nickname),
            description_field().with_value(&view.project.description),
        ],
    )
    .with_context(view.project.id.clone())
    .about(view.project.id.clone(), view.project.name.clone())
    .with_intro(vec![format!(
        "Project name: {} (cannot be changed)",
        view.project.name
    )])
}

impl Component for Projects {
    fn screen(&self) -> Screen {
        Screen::Projects
    }

    fn request(&mut self, _ctx: &Ctx) -> Option<Query> {
        self.table.set_loading();
        self.asked = Some(Query::Projects);
        self.asked.clone()
    }

    fn loaded(&mut self, query: &Query, result: Result<Data, String>, ctx: &Ctx) -> bool {
        let rows = expect(result, |d| match d {
            Data::Projects(rows) => Some(rows),
            _ => None,
        });
        accept(&self.asked, query, rows, &mut self.table, ctx.dates)
    }

    fn offer(&self, action: Action, _ctx: &Ctx) -> Option<Offer> {
        Some(match action {
            // The screens about a project are loaded anew: not while the server is away.
            Action::Open => offer("make current").on_row().needs_server(),
            Action::Create => offer("Create project").needs(Permission::CreateProject),
            Action::Edit => offer("Edit").needs(Permission::EditProject).on_row(),
            Action::Settings => offer("Set as default")
                .needs(Permission::SetDefaultProject)
                .on_row(),
            Action::Delete => offer("Request deletion")
                .needs(Permission::RequestProjectDeletion)
                .on_row(),
            Action::Copy => offer("copy ID").on_row(),
            Action::Detail => offer("details").on_row(),
            _ => return None,
        })
    }

    fn act(&mut self, action: Action, ctx: &Ctx) -> Reply {
        if action == Action::Create {
            return Reply::Popup(Popup::Form(create_form(ctx)));
        }
        let Some(view) = self.table.selected_row() else {
            return nothing_selected();
        };
        match action {
            Action::Open => Reply::SwitchProject(view.project.id.clone()),
            Action::Edit => Reply::Popup(Popup::Form(edit_form(view))),
            Action::Settings => Reply::Run(Command::SetDefaultProject {
                project_id: view.project.id.clone(),
            }),
            Action::Delete => Reply::Popup(Popup::Form(super::helpdesk::inquiry_form(Some(
                &view.project.name,
            )))),
            Action::Copy => Reply::Copy {
                text: view.project.id.clone(),
                what: "the project ID".into(),
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

    fn detail(&self, ctx: &Ctx) -> Option<Popup> {
        let v = self.table.selected_row()?;
        let p = &v.project;
        Some(detail(
            ctx,
            &format!("Project {}", p.name),
            Some(subject(&p.id, &p.name)),
            vec![
                ("Project nickname", p.nickname.clone()),
                ("Project name", p.name.clone()),
                ("Project ID", p.id.clone()),
                ("Description", p.description.clone()),
                (
                    "Default project",
                    if v.is_default { "yes".into() } else { "no".into() },
                ),
                (
                    "My role",
                    v.my_role
                        .map(ProjectRole::label)
                        .unwrap_or("no project role")
                        .into(),
                ),
                ("Created at", date(ctx.dates, &p.created_at)),
                ("Service accounts", p.service_accounts.len().to_string()),
                (
                    "Services in use",
                    if p.agents.is_empty() {
                        "none".into()
                    } else {
                        p.agents.keys().cloned().collect::<Vec<_>>().join(", ")
                    },
                ),
            ],
        ))
    }
}
