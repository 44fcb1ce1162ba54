//! The dashboard: the current project at a glance, and the way into Project Management. Its
//! rows are a table like any other, so `/` filters them and `i` shows them all.

use super::{detail, offer, Component, Ctx, Offer, Reply, Screen};
use crate::console::{ProjectRole, SaStatus};
use crate::tui::keymap::{Action, Keymap};
use crate::tui::msg::{DashboardData, Data, Query};
use crate::tui::popups::Popup;
use crate::tui::widgets::table::{col, Column, Table, TableNav};

pub struct Item {
    key: &'static str,
    label: &'static str,
    value: String,
}

const COLUMNS: &[Column<Item>] = &[
    col("ITEM", 10, 0, |i| i.label.into()),
    col("VALUE", 10, 0, |i| i.value.clone()),
];

const GO: &str = "▸ Go to Project Management (Enter)";

pub struct Dashboard {
    table: Table<Item>,
    asked: Option<Query>,
    project_id: Option<String>,
}

impl Default for Dashboard {
    fn default() -> Dashboard {
        Dashboard {
            table: Table::new(COLUMNS, |i| i.key.to_string()),
            asked: None,
            project_id: None,
        }
    }
}

fn items(d: DashboardData, keymap: &Keymap) -> Vec<Item> {
    let item = |key, label, value: String| Item { key, label, value };
    let mut rows = vec![item("org", "Organization", d.org_name)];
    let Some(project) = d.project else {
        rows.push(item(
            "none",
            "Current project",
            format!("none — {} to choose one", keymap.press(Action::SwitchProject)),
        ));
        return rows;
    };
    rows.push(item("nickname", "Current project", project.nickname.clone()));
    rows.push(item("name", "Project name", project.name.clone()));
    rows.push(item("id", "Project ID", project.id.clone()));
    rows.push(item(
        "role",
        "Your role",
        d.role.map(ProjectRole::label).unwrap_or("no project role").into(),
    ));
    if !project.description.is_empty() {
        rows.push(item("description", "Description", project.description.clone()));
    }
    rows.push(item("services", "Services in use", {
        // In use while its agent is Active; a stopped service keeps an Inactive agent.
        let used: Vec<&str> = project
            .agents
            .iter()
            .filter(|(_, a)| a.status == SaStatus::Active)
            .map(|(s, _)| s.as_str())
            .collect();
        if used.is_empty() {
            "none".into()
        } else {
            used.join(", ")
        }
    }));
    rows.push(item("members", "Members", d.members.to_string()));
    if let Some(count) = d.service_accounts {
        rows.push(item("sas", "Service accounts", count.to_string()));
    }
    rows.push(item("go", "", GO.into()));
    rows
}

impl Component for Dashboard {
    fn screen(&self) -> Screen {
        Screen::Dashboard
    }

    fn request(&mut self, ctx: &Ctx) -> Option<Query> {
        self.table.set_loading();
        self.asked = Some(Query::Dashboard {
            project: ctx.project_id(),
        });
        self.asked.clone()
    }

    fn loaded(&mut self, query: &Query, result: Result<Data, String>, ctx: &Ctx) -> bool {
        if self.asked.as_ref() != Some(query) {
            return false;
        }
        match result {
            Ok(Data::Dashboard(d)) => {
                self.project_id = d.project.as_ref().map(|p| p.id.clone());
                self.table.set_rows(items(d, ctx.keymap), ctx.dates);
            }
            Ok(_) => self
                .table
                .fail("the console received the wrong kind of data".into()),
            Err(message) => self.table.fail(message),
        }
        true
    }

    fn offer(&self, action: Action, _ctx: &Ctx) -> Option<Offer> {
        Some(match action {
            Action::Open => offer("Go to Project Management"),
            Action::Copy => offer("copy project ID"),
            Action::Detail => offer("details"),
            _ => return None,
        })
    }

    fn act(&mut self, action: Action, ctx: &Ctx) -> Reply {
        match action {
            Action::Open if ctx.session.current.is_none() => choose_a_project_first(ctx),
            Action::Open => Reply::Goto(Screen::Members),
            Action::Copy => match &self.project_id {
                Some(id) => Reply::Copy {
                    text: id.clone(),
                    what: "the project ID".into(),
                },
                None => choose_a_project_first(ctx),
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
        *self = Dashboard::default();
    }

    fn detail(&self, ctx: &Ctx) -> Option<Popup> {
        let fields = self
            .table
            .rows()
            .iter()
            .filter(|i| i.key != "go")
            .map(|i| (i.label, i.value.clone()))
            .collect();
        Some(detail(ctx, "Dashboard", None, fields))
    }
}

fn choose_a_project_first(ctx: &Ctx) -> Reply {
    Reply::Info(format!(
        "Choose a project first: {}.",
        ctx.keymap.press(Action::SwitchProject)
    ))
}
