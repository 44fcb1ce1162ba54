//! The audit log: every change and every refused attempt, newest first. Never a secret: events
//! are built only from actor labels, action names, targets (IDs and names) and outcomes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{access::OrgRole, Actor, Console, Error, Result, TxResult};
use crate::store::{sequence_key, Store, Table, Tx};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// How the actor signed in: password, token, operator or setup.
    pub via: String,
    pub action: String,
    pub target: String,
    /// "ok", or "refused: <why>".
    pub outcome: String,
    /// How many times this happened from `at` on (token issues and validations are counted,
    /// not written one by one); 1 for everything else and for records written before counts.
    #[serde(default = "one")]
    pub count: u64,
}

fn one() -> u64 {
    1
}

impl AuditEvent {
    pub fn refused(&self) -> bool {
        self.outcome != "ok"
    }
}

fn event(
    seq: u64,
    at: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    target: &str,
    outcome: &str,
) -> AuditEvent {
    AuditEvent {
        seq,
        at,
        actor: actor.label.clone(),
        via: actor.via_label().into(),
        action: action.into(),
        target: target.into(),
        outcome: outcome.into(),
        count: 1,
    }
}

/// Appends an event inside a change's transaction; returns its sequence number.
pub(super) fn append(
    tx: &Tx,
    at: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    target: &str,
    outcome: &str,
) -> TxResult<u64> {
    let seq = tx.next_sequence()?;
    tx.put(
        Table::Audit,
        &sequence_key(seq),
        &event(seq, at, actor, action, target, outcome),
    )?;
    Ok(seq)
}

/// Appends an event on its own, outside any transaction: for the token API's hot path, where
/// one record is atomic by itself and sled 0.34's transactions keep memory for every one run.
pub(super) fn append_alone(
    store: &Store,
    at: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    target: &str,
    outcome: &str,
) -> Result<u64> {
    let seq = store.next_sequence()?;
    store.put(
        Table::Audit,
        &sequence_key(seq),
        &event(seq, at, actor, action, target, outcome),
    )?;
    Ok(seq)
}

/// Appends, outside any transaction, one record standing for `count` occurrences of an event
/// first seen at `at` (the token API's tallies).
#[allow(clippy::too_many_arguments)]
pub(super) fn append_counted(
    store: &Store,
    at: DateTime<Utc>,
    actor: &str,
    via: &str,
    action: &str,
    target: &str,
    outcome: &str,
    count: u64,
) -> Result<()> {
    let seq = store.next_sequence()?;
    let event = AuditEvent {
        seq,
        at,
        actor: actor.into(),
        via: via.into(),
        action: action.into(),
        target: target.into(),
        outcome: outcome.into(),
        count,
    };
    store.put(Table::Audit, &sequence_key(seq), &event)?;
    Ok(())
}

impl Console {
    /// Newest first. Org Admin and Org Reader see every event *(replica)*; everyone else sees
    /// the events they caused.
    pub fn list_audit(&self, actor: &Actor, limit: usize) -> Result<Vec<AuditEvent>> {
        let sees_all = match actor.user_id() {
            Some(uid) => self
                .user_by_id(uid)?
                .org_role
                .is_some_and(|r| matches!(r, OrgRole::Admin | OrgRole::Reader)),
            None => {
                return Err(Error::Denied(
                    "only signed-in users can read the audit log".into(),
                ))
            }
        };
        if sees_all {
            return Ok(self.store.scan_newest(Table::Audit, limit)?);
        }
        let mine: Vec<AuditEvent> = self
            .store
            .scan_newest::<AuditEvent>(Table::Audit, usize::MAX)?
            .into_iter()
            .filter(|e| e.actor == actor.label)
            .take(limit)
            .collect();
        Ok(mine)
    }
}
