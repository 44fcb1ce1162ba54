//! `login`, `logout` and `recover`: signing in once for later commands, and the way back for
//! whoever holds the data directory.

use clap::Args;
use serde_json::json;

use super::output::fields;
use super::{saved, Context, Output};
use crate::console::{Error, Result};
use crate::org::request::{Recovered, SessionGrant};
use crate::org::{self, Auth, Location, Request};

#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// The user to unlock (their password lockout ends)
    #[arg(long, value_name = "EMAIL", conflicts_with = "operator")]
    user: Option<String>,
    /// Also give the user a new password, printed once
    #[arg(long, requires = "user")]
    reset_password: bool,
    /// Give the Help Desk operator a new password, printed once
    #[arg(long)]
    operator: bool,
}

pub fn login(ctx: &mut Context, out: Output, fingerprint: Option<String>) -> Result<String> {
    let auth = ctx.password_auth()?;
    let grant: SessionGrant = org::call(ctx.org.as_ref(), &auth, Request::SessionOpen)?;
    let location = ctx.org.location().clone();
    let fingerprint = match location {
        Location::Server(_) => fingerprint,
        Location::Directory(_) => None,
    };
    saved::store(
        &location,
        &grant.email,
        saved::Saved {
            token: grant.token,
            expires_at: grant.expires_at,
            fingerprint,
        },
    )?;
    out.show(
        json!({"signed_in": grant.email, "organization": location.key(), "expires_at": grant.expires_at}),
        || {
            format!(
                "Signed in as {} to {} until {}; later commands use this session (kc-console logout ends it).",
                grant.email,
                location.key(),
                super::output::local_time(&grant.expires_at)
            )
        },
    )
}

pub fn logout(ctx: &mut Context, out: Output) -> Result<String> {
    let location = ctx.org.location().clone();
    let Some((email, session)) = saved::find(&location, ctx.cli_user.as_deref(), chrono::Utc::now())? else {
        return Err(Error::NotFound(format!(
            "no session is kept for {}; nothing to end",
            location.key()
        )));
    };
    // End it at the server too; a session that has already ended is simply forgotten.
    let auth = Auth::Session { token: session.token };
    match org::call::<serde_json::Value>(ctx.org.as_ref(), &auth, Request::SessionClose) {
        Ok(_) | Err(Error::Auth(_)) => {}
        Err(e) => return Err(e),
    }
    saved::forget(&location, &email)?;
    out.show(json!({"signed_out": email}), || {
        format!("Signed out {email}; the session no longer works anywhere.")
    })
}

pub fn recover(ctx: &mut Context, out: Output, args: RecoverArgs) -> Result<String> {
    let request = match (args.user, args.operator) {
        (Some(email), false) => Request::RecoverUser {
            email,
            reset_password: args.reset_password,
        },
        (None, true) => Request::RecoverOperator,
        _ => {
            return Err(Error::Invalid(
                "say what to recover: --user EMAIL [--reset-password], or --operator".into(),
            ))
        }
    };
    let done: Recovered = org::call(ctx.org.as_ref(), &Auth::Holder, request)?;
    let mut value = json!({"email": done.email, "unlocked": true});
    if let Some(password) = &done.password {
        value["password"] = json!(password.expose());
    }
    out.show(value, || match &done.password {
        Some(password) => format!(
            "{} is unlocked and has a new password, shown only now:\n{}",
            done.email,
            fields(&[("Password", password.expose().to_string())])
        ),
        None => format!("{} is unlocked.", done.email),
    })
}
