//! The audit log: every change and every refused attempt, newest first. Never a secret: events
//! are built only from actor labels, action names, targets (IDs and names) and outcomes.
//!
//! Bounded three ways, so that no caller can make it hold more:
//! - **One event**: where an event is built, every field has its hidden characters made visible
//!   and is cut to a fixed length with a marker; a record is at most [`EVENT_MAX_BYTES`].
//! - **The log**: events older than `Limits::audit_retention_days`, and the oldest beyond
//!   `Limits::audit_max_events`, are pruned oldest first, one batch at a time — at open and
//!   after every [`PRUNE_EVERY`] appends — so no call stalls on a large backlog.
//! - **Reading**: a page is a range scan of at most [`PAGE_MAX`] records; counts are records
//!   of their own. Neither reads the whole log, whatever its size.
//!
//! The layout of `Table::Audit` (see [`layout`]): the events under their 20-digit sequence
//! keys; an index of each user's events; the number of events, in all and per user. A change's
//! event, its index entry and the counts are written in the change's transaction; a prune
//! removes them as one atomic batch. Both run under the store's writer lock
//! (`Store::exclusive`), as does the append of the token API's hot path, so the counts are
//! always exact while kc-console runs. That append writes its records one by one, event first:
//! an atomic batch would take sled's global lock and halve the token API's throughput. A crash
//! can therefore cut short the one append in flight — its event kept without its index entry or
//! its counts, so a count reads one low; the event, like every token issue's, was not yet
//! flushed. Only users read
//! the log, so only their events are indexed: a flood of refused token requests or of service
//! accounts' tokens costs one record per event, not two (sled keeps some 70 bytes of memory per
//! record, from the start).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{access::OrgRole, Actor, Console, Error, Result, TxResult};
use crate::store::{Batch, Order, Store, StoreError, Table, Tx};
use crate::text::visible;

/// Field lengths, in bytes of the stored (visible) text. An actor's label is an e-mail of at
/// most 254 characters in any script, a service account's ID, or a fixed label: all fit whole.
pub const ACTOR_MAX: usize = 1024;
pub const VIA_MAX: usize = 16;
pub const ACTION_MAX: usize = 64;
pub const TARGET_MAX: usize = 512;
pub const OUTCOME_MAX: usize = 1024;
/// The most one event's record takes: every field at its maximum with every byte escaped by
/// JSON (visible text has no control characters, so only `"` and `\` grow, to two bytes), plus
/// the field names, the sequence number, the time and a count.
pub const EVENT_MAX_BYTES: usize = 2 * (ACTOR_MAX + VIA_MAX + ACTION_MAX + TARGET_MAX + OUTCOME_MAX) + 192;
/// The most events one page holds.
pub const PAGE_MAX: usize = 10_000;
/// Every this many appends, one batch is pruned: with a batch eight times as large, pruning
/// keeps up with any rate of appends and clears a backlog as the log is used.
pub const PRUNE_EVERY: u64 = 32;
const PRUNE_BATCH: usize = 256;
/// Batches pruned when the console opens (4,096 events, a few tens of milliseconds); a larger
/// backlog goes with later appends.
const OPEN_PRUNE_BATCHES: usize = 16;

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
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: u64,
}

fn one() -> u64 {
    1
}

fn is_one(count: &u64) -> bool {
    *count == 1
}

impl AuditEvent {
    pub fn refused(&self) -> bool {
        self.outcome != "ok"
    }
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// The cursor for the next (older) page: pass it as `before`. None on the last page.
    pub older: Option<u64>,
}

/// Where the audit log's records live in `Table::Audit`, for tools that write or check them
/// directly (the benchmarks' large fixtures).
pub mod layout {
    use crate::store::{sequence_key, KeyRange};

    /// The number of events.
    pub const COUNT: &str = "~count";
    /// Every event key is 20 digits, so every one is below ':' (the byte after '9') and every
    /// index and count key ('~…') above.
    const EVENTS_END: &str = ":";

    pub fn event_key(seq: u64) -> String {
        sequence_key(seq)
    }

    /// Every event, and no other record.
    pub fn events() -> KeyRange {
        KeyRange::between(&sequence_key(0), EVENTS_END)
    }

    /// A fixed-length name for an actor's label (as stored in its events), whatever the label.
    pub fn actor_digest(stored_label: &str) -> String {
        crate::console::secret::digest(stored_label)[..32].to_string()
    }

    /// The index entry of one event (its value: the sequence number).
    pub fn actor_key(digest: &str, seq: u64) -> String {
        format!("~actor/{digest}/{}", sequence_key(seq))
    }

    /// Every index entry of one actor.
    pub fn actor_events(digest: &str) -> KeyRange {
        KeyRange::prefix(&format!("~actor/{digest}/"))
    }

    /// The number of events one actor caused.
    pub fn count_key(digest: &str) -> String {
        format!("~count/{digest}")
    }

    /// Every index entry and count: what version 1 of the schema did not have.
    pub fn derived() -> KeyRange {
        KeyRange::prefix("~")
    }
}

/// `text` as an audit field: hidden characters shown as escapes, and at most `max` bytes — a
/// longer text keeps its start and a marker saying how long it was.
pub fn excerpt(text: &str, max: usize) -> String {
    let shown = visible(text);
    if shown.len() <= max {
        return shown.into_owned();
    }
    let marker = format!("…[cut from {} characters]", text.chars().count());
    let mut cut = max.saturating_sub(marker.len());
    while !shown.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{marker}", &shown[..cut])
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
        actor: excerpt(&actor.label, ACTOR_MAX),
        via: excerpt(actor.via_label(), VIA_MAX),
        action: excerpt(action, ACTION_MAX),
        target: excerpt(target, TARGET_MAX),
        outcome: excerpt(outcome, OUTCOME_MAX),
        count: 1,
    }
}

/// The keys an event adds to besides its own: the counts to raise, and the index entry when
/// its actor is a user (who may later read their own events).
fn derived_keys(by_user: bool, event: &AuditEvent) -> (Vec<String>, Option<String>) {
    let mut counts = vec![layout::COUNT.to_string()];
    if !by_user {
        return (counts, None);
    }
    let digest = layout::actor_digest(&event.actor);
    counts.push(layout::count_key(&digest));
    (counts, Some(layout::actor_key(&digest, event.seq)))
}

/// Appends an event inside a change's transaction; returns its sequence number. The caller
/// reports the append to `Console::audit_appended` once the transaction has committed.
pub(super) fn append(
    tx: &Tx,
    at: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    target: &str,
    outcome: &str,
) -> TxResult<u64> {
    let seq = tx.next_sequence()?;
    let event = event(seq, at, actor, action, target, outcome);
    let (counts, index) = derived_keys(actor.user_id().is_some(), &event);
    tx.put(Table::Audit, &layout::event_key(seq), &event)?;
    if let Some(index) = index {
        tx.put(Table::Audit, &index, &seq)?;
    }
    for key in counts {
        let count: u64 = tx.get(Table::Audit, &key)?.unwrap_or(0);
        tx.put(Table::Audit, &key, &(count + 1))?;
    }
    Ok(seq)
}

/// Appends an event on its own, outside any transaction: for the token API's hot path, where
/// sled 0.34's transactions keep memory for every one run. The event, its index entry and the
/// counts are written in that order (see the module's notes).
pub(super) fn append_alone(
    console: &Console,
    actor: &Actor,
    action: &str,
    target: &str,
    outcome: &str,
) -> Result<u64> {
    let event = event(0, console.now(), actor, action, target, outcome);
    append_event(console, actor.user_id().is_some(), event)
}

/// Appends, outside any transaction, one record standing for `count` occurrences of an event
/// first seen at `at` (the token API's tallies), bounded like every event.
#[allow(clippy::too_many_arguments)]
pub(super) fn append_counted(
    console: &Console,
    at: DateTime<Utc>,
    actor: &str,
    by_user: bool,
    via: &str,
    action: &str,
    target: &str,
    outcome: &str,
    count: u64,
) -> Result<u64> {
    let event = AuditEvent {
        seq: 0,
        at,
        actor: excerpt(actor, ACTOR_MAX),
        via: excerpt(via, VIA_MAX),
        action: excerpt(action, ACTION_MAX),
        target: excerpt(target, TARGET_MAX),
        outcome: excerpt(outcome, OUTCOME_MAX),
        count,
    };
    append_event(console, by_user, event)
}

/// Writes `event` under the next sequence number with its index entry and counts, in that
/// order (see the module's notes); returns the sequence number.
fn append_event(console: &Console, by_user: bool, mut event: AuditEvent) -> Result<u64> {
    let store = &console.store;
    let seq = store.exclusive(|| {
        event.seq = store.next_sequence()?;
        let (counts, index) = derived_keys(by_user, &event);
        let mut batch = Batch::default();
        batch.put(&layout::event_key(event.seq), &event);
        if let Some(index) = index {
            batch.put(&index, &event.seq);
        }
        for key in counts {
            let count: u64 = store.get(Table::Audit, &key)?.unwrap_or(0);
            batch.put(&key, &(count + 1));
        }
        store.apply_in_order(Table::Audit, batch)?;
        Ok(event.seq)
    })?;
    console.audit_appended();
    Ok(seq)
}

/// Builds the index entries and counts a version-1 log lacks, a batch at a time. Starting from
/// nothing each time, so an upgrade cut short by a crash is simply run again. A version-1 event
/// does not say whether its actor was a user, so every event is indexed.
pub(super) fn index_version_1_log(store: &Store) -> Result<(), StoreError> {
    const BATCH: usize = 1000;
    loop {
        let stale: Vec<(String, serde_json::Value)> =
            store.page(Table::Audit, &layout::derived(), Order::Ascending, BATCH)?;
        if stale.is_empty() {
            break;
        }
        let mut batch = Batch::default();
        for (key, _) in &stale {
            batch.remove(key);
        }
        store.apply(Table::Audit, batch)?;
    }
    let mut range = layout::events();
    loop {
        let events: Vec<(String, AuditEvent)> = store.page(Table::Audit, &range, Order::Ascending, BATCH)?;
        let Some((last, _)) = events.last() else {
            return Ok(());
        };
        let mut batch = Batch::default();
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for (_, event) in &events {
            let digest = layout::actor_digest(&event.actor);
            batch.put(&layout::actor_key(&digest, event.seq), &event.seq);
            *counts.entry(layout::count_key(&digest)).or_default() += 1;
        }
        *counts.entry(layout::COUNT.to_string()).or_default() += events.len() as u64;
        for (key, added) in counts {
            let count: u64 = store.get(Table::Audit, &key)?.unwrap_or(0);
            batch.put(&key, &(count + added));
        }
        store.apply(Table::Audit, batch)?;
        range = range.above(last);
    }
}

/// Whose events an actor may read.
enum Scope {
    All,
    /// One actor's, by the digest of their label.
    Own(String),
}

impl Console {
    /// Reports one committed append; every `PRUNE_EVERY`th prunes a batch. The change that
    /// triggered it is already done, so a failed prune is only logged: the next one retries.
    pub(super) fn audit_appended(&self) {
        if self.audit_appends.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            if let Err(e) = self.prune_audit() {
                tracing::warn!(error = %e, "pruning the audit log failed");
            }
        }
    }

    /// Prunes the backlog a new console finds, up to a bounded amount (see `OPEN_PRUNE_BATCHES`).
    pub(super) fn prune_audit_at_open(&self) {
        for _ in 0..OPEN_PRUNE_BATCHES {
            match self.prune_audit() {
                Ok(removed) if removed == PRUNE_BATCH => continue,
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "pruning the audit log failed");
                    return;
                }
            }
        }
    }

    /// Removes up to one batch of the oldest events that are past the retention period or over
    /// the maximum count, with their index entries and counts (an event of an actor who is not
    /// a user has neither: removing what is not there changes nothing); returns how many went.
    fn prune_audit(&self) -> Result<usize> {
        let limits = &self.config.limits;
        let cutoff = self.now() - Duration::days(limits.audit_retention_days);
        let store = &self.store;
        let removed = store.exclusive(|| {
            let total: u64 = store.get(Table::Audit, layout::COUNT)?.unwrap_or(0);
            let excess = total.saturating_sub(limits.audit_max_events);
            let oldest: Vec<(String, AuditEvent)> =
                store.page(Table::Audit, &layout::events(), Order::Ascending, PRUNE_BATCH)?;
            let mut batch = Batch::default();
            let mut per_actor: BTreeMap<String, u64> = BTreeMap::new();
            let mut removed = 0u64;
            for (key, event) in &oldest {
                if removed >= excess && event.at >= cutoff {
                    break;
                }
                let digest = layout::actor_digest(&event.actor);
                batch.remove(key);
                batch.remove(&layout::actor_key(&digest, event.seq));
                *per_actor.entry(digest).or_default() += 1;
                removed += 1;
            }
            if removed == 0 {
                return Ok(0);
            }
            for (digest, gone) in per_actor {
                let key = layout::count_key(&digest);
                let left = store
                    .get::<u64>(Table::Audit, &key)?
                    .unwrap_or(0)
                    .saturating_sub(gone);
                if left == 0 {
                    batch.remove(&key);
                } else {
                    batch.put(&key, &left);
                }
            }
            batch.put(layout::COUNT, &total.saturating_sub(removed));
            store.apply(Table::Audit, batch)?;
            Ok(removed as usize)
        })?;
        if removed > 0 {
            tracing::debug!(removed, "pruned audit events");
        }
        Ok(removed)
    }

    /// Org Admin and Org Reader see every event *(replica)*; everyone else the events they
    /// caused.
    fn audit_scope(&self, actor: &Actor) -> Result<Scope> {
        let Some(uid) = actor.user_id() else {
            return Err(Error::Denied(
                "only signed-in users can read the audit log".into(),
            ));
        };
        let org_role = self.user_by_id(uid)?.org_role;
        Ok(if matches!(org_role, Some(OrgRole::Admin | OrgRole::Reader)) {
            Scope::All
        } else {
            Scope::Own(layout::actor_digest(&excerpt(&actor.label, ACTOR_MAX)))
        })
    }

    /// One page of the events `actor` may see, newest first: up to `limit` (1 to `PAGE_MAX`)
    /// events older than the event `before` (from the newest when None). Reads only the page.
    pub fn audit_page(&self, actor: &Actor, before: Option<u64>, limit: usize) -> Result<AuditPage> {
        if !(1..=PAGE_MAX).contains(&limit) {
            return Err(Error::Invalid(format!(
                "a page of the audit log holds 1 to {PAGE_MAX} events (asked for {limit}); read further pages with the cursor"
            )));
        }
        // A reader sees the token events counted so far, not only those already written.
        self.write_token_audit()?;
        let mut events: Vec<AuditEvent> = match self.audit_scope(actor)? {
            Scope::All => {
                let mut range = layout::events();
                if let Some(before) = before {
                    range = range.below(&layout::event_key(before));
                }
                self.store
                    .page::<AuditEvent>(Table::Audit, &range, Order::Descending, limit + 1)?
                    .into_iter()
                    .map(|(_, event)| event)
                    .collect()
            }
            Scope::Own(digest) => {
                let mut range = layout::actor_events(&digest);
                if let Some(before) = before {
                    range = range.below(&layout::actor_key(&digest, before));
                }
                let mut events = Vec::new();
                for (_, seq) in self
                    .store
                    .page::<u64>(Table::Audit, &range, Order::Descending, limit + 1)?
                {
                    // Pruned between the two reads: the page simply ends earlier.
                    if let Some(event) = self.store.get(Table::Audit, &layout::event_key(seq))? {
                        events.push(event);
                    }
                }
                events
            }
        };
        let older = if events.len() > limit {
            events.truncate(limit);
            events.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(AuditPage { events, older })
    }

    /// How many events `actor` may see, read from the count kept beside them.
    pub fn audit_count(&self, actor: &Actor) -> Result<u64> {
        self.write_token_audit()?;
        let key = match self.audit_scope(actor)? {
            Scope::All => layout::COUNT.to_string(),
            Scope::Own(digest) => layout::count_key(&digest),
        };
        Ok(self.store.get(Table::Audit, &key)?.unwrap_or(0))
    }

    /// The newest `limit` events `actor` may see, read page by page: for callers that want
    /// them all at once and know the log is small (tests, scripts with a small `limit`).
    pub fn list_audit(&self, actor: &Actor, limit: usize) -> Result<Vec<AuditEvent>> {
        let mut events = Vec::new();
        let mut before = None;
        while events.len() < limit {
            let page = self.audit_page(actor, before, (limit - events.len()).min(PAGE_MAX))?;
            events.extend(page.events);
            match page.older {
                Some(older) => before = Some(older),
                None => break,
            }
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::{Principal, Via};

    fn stranger(label: &str) -> Actor {
        Actor {
            principal: Principal::System,
            via: Via::Password,
            label: label.into(),
        }
    }

    #[test]
    fn a_short_field_is_kept_whole_and_a_long_one_cut_with_a_marker() {
        assert_eq!(excerpt("web-shop", TARGET_MAX), "web-shop");
        let cut = excerpt(&"x".repeat(60_000), TARGET_MAX);
        assert!(cut.len() <= TARGET_MAX, "{}", cut.len());
        assert!(
            cut.starts_with("xxxx") && cut.ends_with("…[cut from 60000 characters]"),
            "{cut}"
        );
        // Cut on a character boundary, in any script.
        let korean = excerpt(&"웹".repeat(1000), TARGET_MAX);
        assert!(korean.len() <= TARGET_MAX && korean.ends_with("[cut from 1000 characters]"));
    }

    #[test]
    fn hidden_characters_are_stored_as_visible_escapes() {
        let event = event(
            1,
            Utc::now(),
            &stranger("a\nb"),
            "x.y",
            "\u{1b}]52;c;aGk=\u{7}",
            "refused: \r",
        );
        assert_eq!(event.actor, "a\\u{a}b");
        assert_eq!(event.target, "\\u{1b}]52;c;aGk=\\u{7}");
        assert_eq!(event.outcome, "refused: \\u{d}");
    }

    #[test]
    fn no_event_record_is_larger_than_its_maximum() {
        // What JSON grows most (quotes and backslashes double; hidden characters become escapes
        // that hold a backslash), and plain text, in every field at once.
        for fill in ['"', '\\', '\u{1b}', '\u{9b}', 'x', '웹'] {
            let huge: String = std::iter::repeat_n(fill, 60_000).collect();
            let event = event(u64::MAX, Utc::now(), &stranger(&huge), &huge, &huge, &huge);
            let bytes = serde_json::to_vec(&event).unwrap().len();
            assert!(bytes <= EVENT_MAX_BYTES, "{fill:?}: {bytes} > {EVENT_MAX_BYTES}");
        }
    }
}
