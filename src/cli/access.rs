//! `audit`: the audit log.

use clap::Subcommand;
use serde_json::{json, Value};

use super::output::{local_time, table};
use super::{Context, Output};
use crate::console::audit::AuditPage;
use crate::console::Result;
use crate::org::Request;

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Newest first (Org Admin and Org Reader see every event, others their own), a page at a
    /// time
    List {
        /// Events on this page (at most 10000)
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Continue with the events older than this sequence number (the last SEQ shown)
        #[arg(long, value_name = "SEQ")]
        before: Option<u64>,
    },
}

pub fn audit(ctx: &mut Context, out: Output, cmd: AuditCmd) -> Result<String> {
    let AuditCmd::List { limit, before } = cmd;
    let page: AuditPage = ctx.call(Request::AuditList { limit, before })?;
    let events = &page.events;
    out.show(
        Value::Array(
            events
                .iter()
                .map(|e| json!({"seq": e.seq, "at": e.at, "actor": e.actor, "via": e.via, "action": e.action, "target": e.target, "outcome": e.outcome}))
                .collect(),
        ),
        || {
            let rows: Vec<Vec<String>> = events
                .iter()
                .map(|e| vec![e.seq.to_string(), local_time(&e.at), e.actor.clone(), e.via.clone(), e.action.clone(), e.target.clone(), e.outcome.clone()])
                .collect();
            let shown = table(&["SEQ", "TIME", "ACTOR", "VIA", "ACTION", "TARGET", "OUTCOME"], &rows);
            match page.older {
                Some(seq) => format!("{shown}\n(older events: kc-console audit list --before {seq})"),
                None => shown,
            }
        },
    )
}
