//! Project Management › Service Agent: read-only, made by services (seed columns Service / ID /
//! Status / Created at, all kept at 80 columns).

use super::{
    accept, ask_about_project, date, detail, expect, offer, subject, view_refusal, Component, Ctx, Offer,
    Reply, Screen,
};
use crate::console::access::Permission;
use crate::console::Agent;
use crate::tui::keymap::Action;
use crate::tui::msg::{Data, Query};
use crate::tui::popups::Popup;
use crate::tui::widgets::table::{col, time, Column, Table, TableNav};

const COLUMNS: &[Column<Agent>] = &[
    col("SERVICE", 7, 0, |a| a.service.clone()),
    col("ID", 8, 0, |a| a.id()),
    col("STATUS", 8, 0, |a| a.status.dotted().into()),
    time("CREATED AT", 10, 0, |a| a.created_at),
];

pub struct Agents {
    table: Table<Agent>,
    asked: Option<Query>,
}

impl Default for Agents {
    fn default() -> Agents {
        Agents {
            table: Table::new(COLUMNS, Agent::id),
            asked: None,
        }
    }
}

impl Component for Agents {
    fn screen(&self) -> Screen {
        Screen::ServiceAgents
    }

    fn unavailable(&self, ctx: &Ctx) -> Option<String> {
        view_refusal(ctx, Permission::ViewServiceAccounts, "Viewing service agents")
    }

    fn request(&mut self, ctx: &Ctx) -> Option<Query> {
        ask_about_project(ctx, &mut self.table, &mut self.asked, |project| Query::Agents {
            project,
        })
    }

    fn loaded(&mut self, query: &Query, result: Result<Data, String>, ctx: &Ctx) -> bool {
        let rows = expect(result, |d| match d {
            Data::Agents(rows) => Some(rows),
            _ => None,
        });
        accept(&self.asked, query, rows, &mut self.table, ctx.dates)
    }

    fn offer(&self, action: Action, _ctx: &Ctx) -> Option<Offer> {
        Some(match action {
            Action::Open | Action::Detail => offer("details").on_row(),
            Action::Copy => offer("copy ID").on_row(),
            _ => return None,
        })
    }

    fn act(&mut self, action: Action, _ctx: &Ctx) -> Reply {
        match (action, self.table.selected_row()) {
            (Action::Copy, Some(a)) => Reply::Copy {
                text: a.id(),
                what: "the service agent ID".into(),
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
        *self = Agents::default();
    }

    fn empty(&self) -> &'static str {
        "(none yet: an agent appears when a service is first used — see Services)"
    }

    fn detail(&self, ctx: &Ctx) -> Option<Popup> {
        let a = self.table.selected_row()?;
        Some(detail(
            ctx,
            &format!("Service agent {}", a.service),
            Some(subject(&a.id(), &a.service)),
            vec![
                ("Service", a.service.clone()),
                ("ID", a.id()),
                ("Status", a.status.dotted().into()),
                ("Created at", date(ctx.dates, &a.created_at)),
                ("Project ID", a.project_id.clone()),
            ],
        ))
    }
}
