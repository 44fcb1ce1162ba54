//! Audit log *(replica, like Cloud Trail)*: newest first, every change and every refusal, each
//! event's every field in its detail. The screen reads the page it shows (and how many events
//! there are, counted without loading them), so it opens as fast on a million events as on
//! ten, and holds one page of memory; Tab and Shift-Tab move to older and newer pages.

use ratatui::text::{Line, Span};

use super::{accept, date, detail, offer, subject, Component, Ctx, Offer, Reply, Screen};
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
    /// The cursor of the page shown (`None`: the newest events).
    before: Option<u64>,
    /// The cursors of the newer pages, to go back to.
    newer: Vec<Option<u64>>,
    /// The cursor of the next older page, when there is one.
    older: Option<u64>,
    total: u64,
}

impl Default for Audit {
    fn default() -> Audit {
        Audit {
            table: Table::new(COLUMNS, |e| e.seq.to_string()),
            asked: None,
            before: None,
            newer: Vec::new(),
            older: None,
            total: 0,
        }
    }
}

impl Component for Audit {
    fn screen(&self) -> Screen {
        Screen::Audit
    }

    fn request(&mut self, _ctx: &Ctx) -> Option<Query> {
        self.table.set_loading();
        self.asked = Some(Query::Audit { before: self.before });
        self.asked.clone()
    }

    fn loaded(&mut self, query: &Query, result: Result<Data, String>, ctx: &Ctx) -> bool {
        let rows = result.and_then(|data| match data {
            Data::Audit { events, older, total } => {
                if self.asked.as_ref() == Some(query) {
                    self.older = older;
                    self.total = total;
                }
                Ok(events)
            }
            _ => Err("the console received the wrong kind of data".to_string()),
        });
        accept(&self.asked, query, rows, &mut self.table, ctx.dates)
    }

    fn offer(&self, action: Action, _ctx: &Ctx) -> Option<Offer> {
        Some(match action {
            Action::Open | Action::Detail => offer("details").on_row(),
            Action::NextTab if self.older.is_some() => offer("older events").needs_server(),
            Action::PrevTab if !self.newer.is_empty() => offer("newer events").needs_server(),
            _ => return None,
        })
    }

    fn act(&mut self, action: Action, _ctx: &Ctx) -> Reply {
        match action {
            Action::NextTab => match self.older {
                Some(older) => {
                    self.newer.push(self.before);
                    self.before = Some(older);
                    Reply::Load
                }
                None => Reply::Info("These are the oldest events kept.".into()),
            },
            Action::PrevTab => match self.newer.pop() {
                Some(newer) => {
                    self.before = newer;
                    Reply::Load
                }
                None => Reply::Info("These are the newest events.".into()),
            },
            _ => Reply::Nothing,
        }
    }

    fn context(&self, ctx: &Ctx) -> Vec<Line<'static>> {
        let shown = self.table.len();
        let page = self.newer.len() + 1;
        let mut parts = vec![Span::styled(
            format!(" {} of {} events, newest first · page {page}", shown, self.total),
            ctx.theme.dim,
        )];
        if self.older.is_some() {
            parts.push(Span::styled(
                format!(" · {} older", ctx.keymap.key(Action::NextTab)),
                ctx.theme.dim,
            ));
        }
        if !self.newer.is_empty() {
            parts.push(Span::styled(
                format!(" · {} newer", ctx.keymap.key(Action::PrevTab)),
                ctx.theme.dim,
            ));
        }
        vec![Line::from(parts)]
    }

    fn table(&self) -> Option<&dyn TableNav> {
        Some(&self.table)
    }

    fn table_mut(&mut self) -> Option<&mut dyn TableNav> {
        Some(&mut self.table)
    }

    fn detail(&self, ctx: &Ctx) -> Option<Popup> {
        let e = self.table.selected_row()?;
        let mut fields = vec![
            ("Time", date(ctx.dates, &e.at)),
            ("Time (UTC)", e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
            ("Actor", e.actor.clone()),
            ("Signed in with", e.via.clone()),
            ("Action", e.action.clone()),
            ("Target", e.target.clone()),
            ("Outcome", e.outcome.clone()),
        ];
        // Token events are counted into one record; others happened once.
        if e.count > 1 {
            fields.push(("Times (counted from the time above)", e.count.to_string()));
        }
        fields.push(("Sequence number", e.seq.to_string()));
        Some(detail(
            ctx,
            &format!("Audit event {}", e.seq),
            Some(subject(&e.seq.to_string(), &e.action)),
            fields,
        ))
    }
}
