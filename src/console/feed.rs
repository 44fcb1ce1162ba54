//! The change feed: every change the model commits, published to whoever listens (consoles
//! that redraw what they show, the server that forwards it to its clients). An event says what
//! changed and by whom, never a secret; a listener that falls behind learns how many it missed
//! and reloads.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// How many changes a slow listener may fall behind before it is told to reload.
const BACKLOG: usize = 1024;

/// One committed change: the audit event of a successful change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The audit sequence number of the change.
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// Who made it (email, service-account ID or operator).
    pub actor: String,
    /// What was done, e.g. `service_account.delete`, `credential.iam.create`.
    pub action: String,
    /// What it was done to (names and IDs, never a secret).
    pub target: String,
}

pub(super) struct Feed {
    sender: broadcast::Sender<Change>,
}

impl Feed {
    pub(super) fn new() -> Feed {
        Feed {
            sender: broadcast::channel(BACKLOG).0,
        }
    }

    pub(super) fn publish(&self, change: Change) {
        // No listener is not an error: most processes never subscribe.
        let _ = self.sender.send(change);
    }

    pub(super) fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }
}
