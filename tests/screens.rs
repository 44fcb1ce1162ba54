//! Screen tests for the interactive console: every screen and popup driven through the real key
//! handling (`Headless`), rendered to ratatui's `TestBackend` and snapshotted with insta at
//! 80×24 and 120×40; flow assertions on what the keys do; and a no-panic sweep over sizes.
//!
//! Everything is deterministic: a fixed clock, seeded entropy, the bundled demo organization,
//! and TZ=UTC (times are shown in the local time zone). One-time secrets are replaced by
//! `<secret>` before a frame is snapshotted, so no secret is ever committed.

use std::sync::{Arc, Once};
use std::time::Instant;

use chrono::{TimeZone, Utc};
use kc_console::console::{Config, Console, FixedClock, Limits, SeededEntropy, DemoOrgRef as _};
