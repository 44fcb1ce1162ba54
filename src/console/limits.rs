//! The console's limits, in one place. The key and service-account limits are the guides' (2
//! IAM/S3 keys per user per project, 100 service accounts per project, 2 keys per service
//! account); the others are the replica's choices, marked below. Tests and benchmarks may raise
//! them, and an operator may set the audit log's retention with the environment (see
//! `with_env`).

use super::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Projects in one organization *(replica: the guides name no limit)*.
    pub projects_per_org: usize,
    pub keys_per_user_per_project: usize,
    pub service_accounts_per_project: usize,
    pub keys_per_service_account: usize,
    /// Wrong password answers in a row before verification is locked *(replica)*.
    pub password_failures_before_lockout: u32,
    /// How long the lockout lasts *(replica)*.
    pub lockout_minutes: i64,
    /// How long an API token lasts *(replica: the guides name no lifetime; 12 hours is this
    /// replica's choice, not a documented KakaoCloud value)*.
    pub token_hours: i64,
    /// How long a sign-in session lasts *(replica: a working day)*.
    pub session_hours: i64,
    /// Audit events older than this are pruned *(replica: the guides do not cover the audit
    /// log; 90 days follows KakaoCloud's Cloud Trail)*.
    pub audit_retention_days: i64,
    /// At most this many audit events are kept, the oldest pruned first: a cap on the disk the
    /// log takes and on the memory sled holds from its start (a record is at most
    /// `audit::EVENT_MAX_BYTES`, typically 250 bytes; sled takes about 1 KiB of disk and 70
    /// bytes of memory per event: 1 GiB and 80 MiB at the default).
    pub audit_max_events: u64,
}

/// The environment variables that set the audit log's retention (`Limits::with_env`).
pub const RETENTION_DAYS_ENV: &str = "KC_CONSOLE_AUDIT_RETENTION_DAYS";
pub const MAX_EVENTS_ENV: &str = "KC_CONSOLE_AUDIT_MAX_EVENTS";

impl Default for Limits {
    fn default() -> Self {
        Limits {
            projects_per_org: 30,
            keys_per_user_per_project: 2,
            service_accounts_per_project: 100,
            keys_per_service_account: 2,
            password_failures_before_lockout: 5,
            lockout_minutes: 15,
            token_hours: 12,
            session_hours: 12,
            audit_retention_days: 90,
            audit_max_events: 1_000_000,
        }
    }
}

impl Limits {
    /// These limits with the audit log's retention taken from the environment where it is set:
    /// `KC_CONSOLE_AUDIT_RETENTION_DAYS` (1 to 36,500 days) and `KC_CONSOLE_AUDIT_MAX_EVENTS`
    /// (100 to 1,000,000,000 events). This is the one place settings are read.
    pub fn with_env(self) -> Result<Limits> {
        let setting = |name: &str, min: u64, max: u64| -> Result<Option<u64>> {
            let Ok(text) = std::env::var(name) else {
                return Ok(None);
            };
            match text.trim().replace('_', "").parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(Error::Invalid(format!(
                    "{name} must be a whole number from {min} to {max} (it is {:?})",
                    crate::text::visible(&text.chars().take(40).collect::<String>())
                ))),
            }
        };
        Ok(Limits {
            audit_retention_days: setting(RETENTION_DAYS_ENV, 1, 36_500)?
                .map_or(self.audit_retention_days, |days| days as i64),
            audit_max_events: setting(MAX_EVENTS_ENV, 100, 1_000_000_000)?.unwrap_or(self.audit_max_events),
            ..self
        })
    }
}
