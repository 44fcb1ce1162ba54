//! Project Management › Members *(replica)*: the current project's members; Org Admin and
//! Project Admin add members, change their role and remove them (removal invalidates their
//! keys, rule 6).

use super::{
    accept, ask_about_project, date, detail, expect, nothing_selected, offer, subject, Component, Ctx, Offer,
    Reply, Screen,
};
use crate::console::access::Permission;
use crate::console::projects::MemberView;
use crate::console::{validate, ProjectRole};
use crate::tui::keymap::Action;
use crate::tui::msg::{Command, Data, Query};
use crate::tui::popups::{Confirm, Popup};
use crate::tui::widgets::form::{Field, Form, Request};
use crate::tui::widgets::table::{col, time, Column, Table, TableNav};

const COLUMNS: &[Column<MemberView>] = &[
    col("EMAIL", 12, 0, |m| m.email.clone()),
    col("NAME", 6, 0, |m| m.name.clone()),
    col("ROLE", 8, 0, |m| m.role.label().into()),
    time("ADDED AT", 10, 1, |m| m.added_at),
];

pub struct Members {
    table: Table<MemberView>,
    asked: Option<Query>,
}

impl Default for Members {
    fn default() -> Members {
        Members {
            table: Table::new(COLUMNS, |m| m.email.clone()),
            asked: None,
        }
    }
}

const ROLES: [&str; 3] = ["Project Member", "Project Reader", "Project Admin"];

fn role_of(f: &Form) -> Result<ProjectRole, String> {
    ProjectRole::parse(f.value("Role")).ok_or_else(|| "choose a role".to_string())
}

impl Component for Members {
    fn screen(&self) -> Screen {
        Screen::Members
    }

    fn request(&mut self, ctx: &Ctx) -> Option<Query> {
        ask_about_project(ctx, &mut self.table, &mut self.asked, |project| Query::Members {
            project,
        })
    }

    fn loaded(&mut self, query: &Query, result: Result<Data, String>, ctx: &Ctx) -> bool {
        let rows = expect(result, |d| match d {
            Data::Members(rows) => Some(rows),
            _ => None,
        });
        accept(&self.asked, query, rows, &mut self.table, ctx.dates)
    }

    fn offer(&self, action: Action, _ctx: &Ctx) -> Option<Offer> {
        Some(match action {
            Action::Create => offer("Add member").needs(Permission::ManageMembers),
            Action::Edit => offer("Change role").needs(Permission::ManageMembers).on_row(),
            Action::Delete => offer("Remove member").needs(Permission::ManageMembers).on_row(),
            Action::Open | Action::Detail => offer("details").on_row(),
            Action::Copy => offer("copy email").on_row(),
            _ => return None,
        })
    }

    fn act(&mut self, action: Action, ctx: &Ctx) -> Reply {
        let project_id = ctx.project_id().unwrap_or_default();
        if action == Action::Create {
            return Reply::Popup(Popup::Form(
                Form::new(
                    "Add member",
                    "Add",
                    |f| {
                        Ok(Request::Run(Command::AddMember {
                            project_id: f.context.clone(),
                            email: f.value("Email").into(),
                            role: role_of(f)?,
                        }))
                    },
                    vec![
                        Field::text("Email", validate::EMAIL_MAX, validate::email),
                        Field::choice("Role", ROLES),
                    ],
                )
                .with_context(project_id)
                .with_intro(vec![ctx.project_line()]),
            ));
        }
        let Some(member) = self.table.selected_row() else {
            return nothing_selected();
        };
        match action {
            Action::Edit => Reply::Popup(Popup::Form(
                Form::new(
                    "Change role",
                    "Save",
                    |f| {
                        let (project_id, email) = f.context.split_once(' ').unwrap_or_default();
                        Ok(Request::Run(Command::SetMemberRole {
                            project_id: project_id.into(),
                            email: email.into(),
                            role: role_of(f)?,
                        }))
                    },
                    vec![Field::choice("Role", ["Project Admin", "Project Member", "Project Reader"])
                        .with_value(member.role.label())],
                )
                .with_context(format!("{project_id} {}", member.email))
                .about(member.email.clone(), member.email.clone())
                .with_intro(vec![ctx.project_line(), format!("Member: {}", member.email)]),
            )),
            Action::Delete => Reply::Popup(Popup::Confirm(Confirm {
                title: "Remove member".into(),
                lines: vec![
                    format!("Remove {} from this project?", member.email),
                    "Their IAM and S3 access keys for this project stop working at once, and so do the API tokens issued from them.".into(),
                ],
                yes_label: "Remove",
                command: Command::RemoveMember {
                    project_id,
                    email: member.email.clone(),
                },
                subject: Some(subject(&member.email, &member.email)),
            })),
            Action::Copy => Reply::Copy {
                text: member.email.clone(),
                what: "the email".into(),
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
        *self = Members::default();
    }

    fn detail(&self, ctx: &Ctx) -> Option<Popup> {
        let m = self.table.selected_row()?;
        Some(detail(
            ctx,
            &format!("Member {}", m.email),
            Some(subject(&m.email, &m.email)),
            vec![
                ("Email", m.email.clone()),
                ("Name", m.name.clone()),
                ("User ID", m.user_id.clone()),
                ("Role", m.role.label().into()),
                (
                    "Project",
                    ctx.project_line()
                        .trim_end_matches(" (auto-filled)")
                        .trim_start_matches("Project: ")
                        .into(),
                ),
                ("Added at", date(ctx.dates, &m.added_at)),
            ],
        ))
    }
}
