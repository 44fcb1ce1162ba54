//! The console's limits, in one place. The defaults are the real console's (seed documents);
//! tests and benchmarks may raise them.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub projects_per_org: usize,
    pub keys_per_user_per_project: usize,
    pub service_accounts_per_project: usize,
    pub keys_per_service_account: usize,
    /// Wrong password answers in a row before verification is locked *(replica)*.
    pub password_failures_before_lockout: u32,
    pub lockout_minutes: i64,
    /// How long an API token lasts *(replica: the seeds name no lifetime; Keystone's default)*.
    pub token_hours: i64,
    /// How long a sign-in session lasts *(replica: a working day)*.
    pub session_hours: i64,
}

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
        }
    }
}
