//! Services *(replica)*: start using a service in the current project, which creates its
//! service agent, or stop using it, which sets its agent ⚪ Inactive (the guide's agents can be
//! Inactive; a service is in use only while its agent is Active).

use super::{
    accept, ask_about_project, date, detail, expect, nothing_selected, offer, subject, Component, Ctx, Offer,
    Reply, Screen,
};
use crate::console::access::Permission;
use crate::console::SaStatus;
use crate::tui::keymap::Action;
use crate::tui::msg::{Command, Data, Query, ServiceUse};
use crate::tui::popups::{Confirm, Popup};
use crate::tui::widgets::table::{col, Column, Table, TableNav};

const COLUMNS: &[Column<ServiceUse>] = &[
    col("SERVICE", 10, 0, |s| s.service.clone()),
    col("IN THIS PROJECT", 10, 0, |s| use_label(s).into()),
];

fn in_use(s: &ServiceUse) -> bool {
    s.agent.as_ref().is_some_and(|a| a.status == SaStatus::Active)
}

fn use_label(s: &ServiceUse) -> &'static str {
    match &s.agent {
        Some(a) if a.status == SaStatus::Active => "🟢 in use",
        Some(_) => "⚪ stopped (agent Inactive)",
        None => "not used",
    }
}

pub struct Services {
    table: Table<ServiceUse>,
    asked: Option<Query>,
}

impl Default for Services {
    fn default() -> Services {
        Services {
            table: Table::new(COLUMNS, |s| s.service.clone()),
            asked: None,
        }
    }
}

impl Component for Services {
    fn screen(&self) -> Screen {
        Screen::Services
    }

    fn request(&mut self, ctx: &Ctx) -> Option<Query> {
        ask_about_project(ctx, &mut self.table, &mut self.asked, |project| Query::Services {
            project,
        })
    }

    fn loaded(&mut self, query: &Query, result: Result<Data, String>, ctx: &Ctx) -> bool {
        let rows = expect(result, |d| match d {
            Data::Services(rows) => Some(rows),
            _ => None,
        });
        accept(&self.asked, query, rows, &mut self.table, ctx.dates)
    }

    fn offer(&self, action: Action, _ctx: &Ctx) -> Option<Offer> {
        Some(match action {
            Action::Open => offer("start using")
                .needs(Permission::UseService)
                .on_row()
                .needs_server(),
            Action::Delete => offer("stop using").needs(Permission::UseService).on_row(),
            Action::Detail => offer("details").on_row(),
            Action::Copy => offer("copy name").on_row(),
            _ => return None,
        })
    }

    fn act(&mut self, action: Action, ctx: &Ctx) -> Reply {
        let Some(row) = self.table.selected_row() else {
            return nothing_selected();
        };
        match action {
            Action::Open => {
                let project = ctx
                    .session
                    .current
                    .as_ref()
                    .map(|c| c.project.name.clone())
                    .unwrap_or_default();
                if in_use(row) {
                    return Reply::Info(format!("{} is already in use in {project}.", row.service));
                }
                Reply::Popup(Popup::Confirm(Confirm {
                    title: "Start using a service".into(),
                    lines: vec![
                        format!("Start using {} in project {project}?", row.service),
                        "Its service agent is created in this project.".into(),
                    ],
                    yes_label: "OK",
                    command: Command::EnableService {
                        project_id: ctx.project_id().unwrap_or_default(),
                        service: row.service.clone(),
                    },
                    subject: None,
                }))
            }
            Action::Delete => {
                let project = ctx
                    .session
                    .current
                    .as_ref()
                    .map(|c| c.project.name.clone())
                    .unwrap_or_default();
                let Some(agent) = row.agent.as_ref().filter(|_| in_use(row)) else {
                    return Reply::Info(format!("{} is not in use in {project}.", row.service));
                };
                Reply::Popup(Popup::Confirm(Confirm {
                    title: "Stop using a service".into(),
                    lines: vec![
                        format!("Stop using {} in project {project}?", row.service),
                        format!(
                            "Its service agent {} becomes ⚪ Inactive: the service can no longer reach this project's resources through it. This may result in loss of access to certain resources, so please proceed with caution.",
                            agent.id()
                        ),
                        "Starting to use it again brings the same agent back 🟢 Active.".into(),
                    ],
                    yes_label: "OK",
                    command: Command::DisableService {
                        project_id: ctx.project_id().unwrap_or_default(),
                        service: row.service.clone(),
                    },
                    subject: Some(subject(&row.service, &row.service)),
                }))
            }
            Action::Copy => Reply::Copy {
                text: row.service.clone(),
                what: "the service name".into(),
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
        *self = Services::default();
    }

    fn detail(&self, ctx: &Ctx) -> Option<Popup> {
        let s = self.table.selected_row()?;
        let mut fields = vec![("Service", s.service.clone())];
        match &s.agent {
            Some(a) => {
                fields.push(("In this project", use_label(s).into()));
                fields.push(("Service agent ID", a.id()));
                fields.push(("Service agent status", a.status.dotted().into()));
                fields.push(("Started at", date(ctx.dates, &a.created_at)));
            }
            None => fields.push(("In this project", "not used".into())),
        }
        Some(detail(
            ctx,
            &format!("Service {}", s.service),
            Some(subject(&s.service, &s.service)),
            fields,
        ))
    }
}
