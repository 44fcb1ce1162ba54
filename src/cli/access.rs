//! `audit`: the audit log.

use clap::Subcommand;
use serde_json::{json, Value};

use super::output::{local_time, table};
use super::{Context, Output};
use crate::console::{AuditEvent, Result};
use crate::org::Request;

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Newest first (Org Admin and Org Reader see every event, others their own)
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

pub fn audit(ctx: &mut Context, out: Output, cmd: AuditCmd) -> Result<String> {
    let AuditCmd::List { limit } = cmd;
    let events: Vec<AuditEvent> = ctx.call(Request::AuditList { limit })?;
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
                .map(|e| vec![local_time(&e.at), e.actor.clone(), e.via.clone(), e.action.clone(), e.target.clone(), e.outcome.clone()])
                .collect();
            table(&["TIME", "ACTOR", "VIA", "ACTION", "TARGET", "OUTCOME"], &rows)
        },
    )
}
