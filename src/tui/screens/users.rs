//! IAM › Users *(replica)*: the organization's users for Org Admin and Org Reader; Org Admin
//! adds (with a one-time initial password) and removes them.

use super::{
    accept, date, detail, expect, nothing_selected, offer, subject, Component, Ctx, Offer, Reply, Screen,
};
use crate::console::access::Permission;
use crate::console::{validate, OrgRole};
use crate::org::request::UserView as User;
use crate::tui::keymap::Action;
use crate::tui::msg::{Command, Data, Query};
use crate::tui::popups::{Confirm, Popup};
use crate::tui::widgets::form::{Field, Form, Request};
use crate::tui::widgets::table::{col, time, Column, Table, TableNav};

const COLUMNS: &[Column<User>] = &[
    col("EMAIL", 12, 0, |u| u.email.clone()),
    col("NAME", 8, 0, |u| u.name.clone()),
    col("ORG ROLE", 8, 1, |u| {
        u.org_role.map(OrgRole::label).unwrap_or("-").into()
    }),
    time("CREATED AT", 10, 2, |u| u.created_at),
];

pub struct Users {
    table: Table<User>,
    asked: Option<Query>,
}

impl Default for Users {
    fn default() -> Users {
        Users {
            table: Table::new(COLUMNS, |u| u.email.clone()),
            asked: None,
        }
    }
}

fn add_form() -> Form {
    Form::new(
        "Add user",
        "Add",
        |f| {
            Ok(Request::Run(Command::AddUser {
                email: f.value("Email").into(),
                name: f.value("Name").into(),
                org_role: OrgRole::parse(f.value("Org role")),
            }))
        },
        vec![
            Field::text("Email", validate::EMAIL_MAX, validate::email),
            Field::text("Name", validate::USER_NAME_MAX, |v| {
                validate::text("name", v, validate::USER_NAME_MAX, true)
            }),
            Field::choice("Org role", ["none", "Org Reader", "Org Admin"]),
        ],
    )
    .with_intro(vec!["An initial password is generated and shown once.".into()])
}

impl Component for Users {
    fn screen(&self) -> Screen {
        Screen::Users
    }

    fn unavailable(&self, ctx: &Ctx) -> Option<String> {
        ctx.session.org_role.is_none().then(|| {
            "Management › IAM › Users lists the organization's users for Org Admin and Org Reader; you have no organization role.".into()
        })
    }

    fn request(&mut self, _ctx: &Ctx) -> Option<Query> {
        self.table.set_loading();
        self.asked = Some(Query::Users);
        self.asked.clone()
    }

    fn loaded(&mut self, query: &Query, result: Result<Data, String>, ctx: &Ctx) -> bool {
        let rows = expect(result, |d| match d {
            Data::Users(rows) => Some(rows),
            _ => None,
        });
        accept(&self.asked, query, rows, &mut self.table, ctx.dates)
    }

    fn offer(&self, action: Action, _ctx: &Ctx) -> Option<Offer> {
        Some(match action {
            Action::Create => offer("Add user").needs(Permission::ManageOrgUsers),
            Action::Delete => offer("Remove user").needs(Permission::ManageOrgUsers).on_row(),
            Action::Open | Action::Detail => offer("details").on_row(),
            Action::Copy => offer("copy email").on_row(),
            _ => return None,
        })
    }

    fn act(&mut self, action: Action, _ctx: &Ctx) -> Reply {
        if action == Action::Create {
            return Reply::Popup(Popup::Form(add_form()));
        }
        let Some(user) = self.table.selected_row() else {
            return nothing_selected();
        };
        match action {
            Action::Delete => Reply::Popup(Popup::Confirm(Confirm {
                title: "Remove user".into(),
                lines: vec![
                    format!("Remove {} from the organization?", user.email),
                    "Their project memberships and access keys are deleted with them.".into(),
                ],
                yes_label: "Remove",
                command: Command::RemoveUser {
                    email: user.email.clone(),
                },
                subject: Some(subject(&user.email, &user.email)),
            })),
            Action::Copy => Reply::Copy {
                text: user.email.clone(),
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

    fn detail(&self, ctx: &Ctx) -> Option<Popup> {
        let u = self.table.selected_row()?;
        Some(detail(
            ctx,
            &format!("User {}", u.email),
            Some(subject(&u.email, &u.email)),
            vec![
                ("Email", u.email.clone()),
                ("Name", u.name.clone()),
                ("User ID", u.id.clone()),
                (
                    "Org role",
                    u.org_role.map(OrgRole::label).unwrap_or("none").into(),
                ),
                ("Created at", date(ctx.dates, &u.created_at)),
            ],
        ))
    }
}
