//! Audit log *(replica, like Cloud Trail)*: newest first, every change and every refusal, each
//! event's every field in its detail. Its rows come from `effects::load_audit`.

use super::{accept, date, detail, expect, offer, subject, Component, Ctx, Offer, Reply, Screen};
use crate::console::AuditEvent;
use crate::tui::keymap::Action;
use crate::tui::msg::{Data, Query};
use crate::tui::popups::Popup;
use crate::tui::widgets::table::{col, number, time, Column, Table, TableNav};

const COLUMNS: &[Column<AuditEvent>] = &[
    time("TIME", 10, 0, |e| e.at),
    col("ACTOR", 8, 0, |e| e.actor.clone()),
    col("VIA", 5, 3, |e| e.via.clone()),
    col("ACTION", 8, 0, |e| e.action.clone()),
    col("TARGET", 8, 1, |e| e.target.clone()),
    col("OUTCOME", 7, 0, |e| e.outcome.clone()),
    number("SEQ", 4, 4, |e| e.seq),
];

pub struct Audit {
    table: Table<AuditEvent>,
    asked: Option<Query>,
}

impl Default for Audit {
    fn default() -> Audit {
        Audit {
            table: Table::new(COLUMNS, |e| e.seq.to_string()),
            asked: None,
        }
    }
}

impl Component for Audit {
    fn screen(&self) -> Screen {
        Screen::Audit
    }

    fn request(&mut self, _ctx: &Ctx) -> Option<Query> {
        self.table.set_loading();
        self.asked = Some(Query::Audit);
        self.asked.clone()
    }

    fn loaded(&mut self, query: &Query, result: Result<Data, String>, ctx: &Ctx) -> bool {
        let rows = expect(result, |d| match d {
            Data::Audit(rows) => Some(rows),
            _ => None,
        });
        accept(&self.asked, query, rows, &mut self.table, ctx.dates)
    }

    fn offer(&self, action: Action, _ctx: &Ctx) -> Option<Offer> {
        Some(match action {
            Action::Open | Action::Detail => offer("details").on_row(),
            _ => return None,
        })
    }

    fn act(&mut self, _action: Action, _ctx: &Ctx) -> Reply {
        Reply::Nothing
    }

    fn table(&self) -> Option<&dyn TableNav> {
        Some(&self.table)
    }

    fn table_mut(&mut self) -> Option<&mut dyn TableNav> {
        Some(&mut self.table)
    }

    fn detail(&self, ctx: &Ctx) -> Option<Popup> {
        let e = self.table.selected_row()?;
        Some(detail(
            ctx,
            &format!("Audit event {}", e.seq),
            Some(subject(&e.seq.to_string(), &e.action)),
            vec![
                ("Time", date(ctx.dates, &e.at)),
                ("Time (UTC)", e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
                ("Actor", e.actor.clone()),
                ("Signed in with", e.via.clone()),
                ("Action", e.action.clone()),
                ("Target", e.target.clone()),
                ("Outcome", e.outcome.clone()),
                ("Sequence number", e.seq.to_string()),
            ],
        ))
    }
}
