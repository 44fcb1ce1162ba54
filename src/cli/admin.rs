//! `init`, `demo`, `payment`, `user` and `password`: the organization itself.

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use std::sync::Arc;

use super::output::{fields, local_time, table};
use super::{Context, Output};
use crate::console::operator::OPERATOR_EMAIL;
use crate::console::{Error, OrgRole, PaymentMethod, Result, Secret};
use crate::org::request::{NewUser, UserView};
use crate::org::{self, Auth, Request};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Load the bundled demo organization
    #[arg(long, conflicts_with_all = ["org", "admin", "name"])]
    demo: bool,
    /// Name of a new, empty organization
    #[arg(long, requires = "admin", value_name = "NAME")]
    org: Option<String>,
    /// The owner's email; the owner is Org Admin (password: --password-stdin or KC_CONSOLE_PASSWORD)
    #[arg(long, requires = "org", value_name = "EMAIL")]
    admin: Option<String>,
    /// The owner's display name [default: the part of the email before @]
    #[arg(long, value_name = "N")]
    name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PaymentCmd {
    /// List payment methods
    List,
    /// Register a card (Org Admin)
    Add {
        #[arg(long)]
        brand: String,
        #[arg(long, value_name = "NNNN")]
        last4: String,
        #[arg(long, value_name = "MM/YY")]
        expiry: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// List the organization's users (Org Admin, Org Reader)
    List,
    /// Add a user; prints their initial password once (Org Admin)
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin or reader
        #[arg(long, value_name = "ROLE")]
        org_role: Option<String>,
    },
    /// Remove a user, their memberships and keys (Org Admin)
    Remove { email: String },
    /// End a user's password lockout (Org Admin)
    Unlock { email: String },
}

#[derive(Debug, Subcommand)]
pub enum PasswordCmd {
    /// Old password on line 1 of standard input, new password on line 2
    Change,
}

pub(super) fn user_json(u: &UserView) -> Value {
    json!({
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "org_role": u.org_role.map(OrgRole::label),
        "created_at": u.created_at,
    })
}

fn payment_json(p: &PaymentMethod) -> Value {
    json!({ "id": p.id, "brand": p.brand, "last4": p.last4, "expiry": p.expiry, "added_at": p.added_at })
}

/// Creates the organization in the data directory this command holds (never through a
/// server), with its owner and its Help Desk operator, whose password is printed once.
pub fn init(ctx: &mut Context, out: Output, args: InitArgs) -> Result<String> {
    let console = Arc::clone(ctx.org.local_console().expect("init holds the data directory"));
    if args.demo {
        if !console.is_uninitialized()? {
            return Err(Error::Conflict(format!(
                "{} already holds an organization; choose another --data-dir",
                console.store().dir().display()
            )));
        }
        console.load_demo()?;
        let org = console.organization()?;
        return out.show(
            json!({"organization": org.name, "demo": true, "operator_email": OPERATOR_EMAIL}),
            || {
                format!(
                    "Created the demo organization {:?}. Its users, the Help Desk operator ({OPERATOR_EMAIL}) and their passwords are in the README.",
                    org.name
                )
            },
        );
    }
    let (Some(org), Some(admin)) = (args.org, args.admin) else {
        return Err(Error::Invalid(
            "give either --demo, or --org NAME --admin EMAIL".into(),
        ));
    };
    let password = ctx.password()?;
    let (owner, operator_password) =
        console.found_organization(&org, &admin, args.name.as_deref(), &password)?;
    out.show(
        json!({
            "organization": org,
            "owner": user_json(&UserView::from(&owner)),
            "operator_email": OPERATOR_EMAIL,
            "operator_password": operator_password.expose(),
        }),
        || {
            format!(
                "Created organization {org:?}; {} is its owner and Org Admin.\nThe Help Desk operator approves deletion requests; its password is shown only now:\n{}",
                owner.email,
                fields(&[
                    ("Operator email", OPERATOR_EMAIL.to_string()),
                    ("Operator password", operator_password.expose().to_string()),
                ])
            )
        },
    )
}

pub fn payment(ctx: &mut Context, out: Output, cmd: PaymentCmd) -> Result<String> {
    match cmd {
        PaymentCmd::List => {
            let methods: Vec<PaymentMethod> = ctx.call(Request::PaymentList)?;
            out.show(Value::Array(methods.iter().map(payment_json).collect()), || {
                let rows: Vec<Vec<String>> = methods
                    .iter()
                    .map(|p| {
                        vec![
                            p.brand.clone(),
                            format!("•••• {}", p.last4),
                            p.expiry.clone(),
                            local_time(&p.added_at),
                        ]
                    })
                    .collect();
                table(&["BRAND", "CARD", "EXPIRY", "ADDED AT"], &rows)
            })
        }
        PaymentCmd::Add { brand, last4, expiry } => {
            let p: PaymentMethod = ctx.call(Request::PaymentAdd { brand, last4, expiry })?;
            out.show(payment_json(&p), || {
                format!("Registered {} •••• {} (expires {}).", p.brand, p.last4, p.expiry)
            })
        }
    }
}

pub fn user(ctx: &mut Context, out: Output, cmd: UserCmd) -> Result<String> {
    match cmd {
        UserCmd::List => {
            let users: Vec<UserView> = ctx.call(Request::UserList)?;
            out.show(Value::Array(users.iter().map(user_json).collect()), || {
                let rows: Vec<Vec<String>> = users
                    .iter()
                    .map(|u| {
                        vec![
                            u.email.clone(),
                            u.name.clone(),
                            u.org_role.map(OrgRole::label).unwrap_or("-").into(),
                            local_time(&u.created_at),
                        ]
                    })
                    .collect();
                table(&["EMAIL", "NAME", "ORG ROLE", "CREATED AT"], &rows)
            })
        }
        UserCmd::Add {
            email,
            name,
            org_role,
        } => {
            let org_role = match org_role.as_deref() {
                None => None,
                Some(r) => Some(
                    OrgRole::parse(r)
                        .ok_or_else(|| Error::Invalid(format!("org role {r:?} must be admin or reader")))?,
                ),
            };
            let added: NewUser = ctx.call(Request::UserAdd {
                email,
                name,
                org_role,
            })?;
            let mut value = user_json(&added.user);
            value["initial_password"] = json!(added.initial_password.expose());
            out.show(value, || {
                format!(
                    "Added {}.\n{}\nThe initial password is shown only now; give it to the user over a safe channel.",
                    added.user.email,
                    fields(&[("Initial password", added.initial_password.expose().to_string())])
                )
            })
        }
        UserCmd::Remove { email } => {
            let _: Value = ctx.call(Request::UserRemove { email: email.clone() })?;
            out.show(json!({"removed": email}), || {
                format!("Removed {email}, their project memberships and access keys.")
            })
        }
        UserCmd::Unlock { email } => {
            let _: Value = ctx.call(Request::UserUnlock { email: email.clone() })?;
            out.show(json!({"unlocked": email}), || {
                format!("{email} can sign in and verify their password again.")
            })
        }
    }
}

pub fn password(ctx: &mut Context, out: Output, cmd: PasswordCmd) -> Result<String> {
    let PasswordCmd::Change = cmd;
    let email = ctx.email()?;
    let old = Secret::new(ctx.stdin_line(0, "the current password")?);
    let new = Secret::new(ctx.stdin_line(1, "the new password")?);
    let auth = Auth::Password {
        email,
        password: Secret::new(old.expose().to_string()),
    };
    let _: Value = org::call(ctx.org.as_ref(), &auth, Request::PasswordChange { old, new })?;
    out.show(json!({"changed": true}), || {
        "Password changed; sessions signed in with the old one have ended.".into()
    })
}
