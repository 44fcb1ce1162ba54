//! The organization (one per data directory) and its payment methods.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::access::{OrgRole, Permission};
use super::{validate, Actor, Console, Error, Result, Secret};
use crate::store::Table;

pub(super) const ORG_KEY: &str = "org";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub name: String,
    pub owner_id: String,
    pub default_project: Option<String>,
    /// IDs of every project, so the per-organization limit is checked inside the transaction.
    pub project_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethod {
    pub id: String,
    pub brand: String,
    pub last4: String,
    /// "MM/YY".
    pub expiry: String,
    pub added_at: DateTime<Utc>,
}

impl Console {
    pub fn organization(&self) -> Result<Organization> {
        self.store.get(Table::Meta, ORG_KEY)?.ok_or_else(|| {
            Error::NotFound("this data directory has no organization yet; run `kc-console init`".into())
        })
    }

    /// A new organization with its owner and its Help Desk operator, whose generated password
    /// is returned (to be shown once). The owner's name defaults to the e-mail's local part,
    /// cut to a name's length (a valid e-mail's local part may be longer).
    pub fn found_organization(
        &self,
        name: &str,
        owner_email: &str,
        owner_name: Option<&str>,
        password: &str,
    ) -> Result<(User, Secret)> {
        let default_name: String = owner_email
            .split('@')
            .next()
            .unwrap_or_default()
            .chars()
            .take(validate::USER_NAME_MAX)
            .collect();
        let owner = self.init_org(name, owner_email, owner_name.unwrap_or(&default_name), password)?;
        let operator_password = self.reset_operator(&Actor::system())?;
        Ok((owner, operator_password))
    }

    /// Creates the organization and its owner, who is Org Admin. Refused if one exists.
    pub fn init_org(&self, name: &str, admin_email: &str, admin_name: &str, password: &str) -> Result<User> {
        validate::text("organization name", name, validate::ORG_NAME_MAX, true)?;
        let owner = self.prepare_user(admin_email, admin_name, Some(OrgRole::Admin), password)?;
        let created_at = self.now();
        self.change(&Actor::system(), "organization.create", name, |tx| {
            if tx.get::<Organization, _>(Table::Meta, ORG_KEY)?.is_some() {
                return Err(Error::Conflict(
                    "this data directory already holds an organization; choose another --data-dir".into(),
                )
                .into());
            }
            let org = Organization {
                name: name.into(),
                owner_id: owner.id.clone(),
                default_project: None,
                project_ids: Vec::new(),
                created_at,
            };
            tx.put(Table::Meta, ORG_KEY, &org)?;
            super::users::insert_user(tx, &owner)
        })?;
        self.store.mark_initialized()?;
        Ok(owner)
    }

    pub fn list_payment_methods(&self, actor: &Actor) -> Result<Vec<PaymentMethod>> {
        self.guard(actor, "payment.list", "", || self.require_org_member(actor))?;
        Ok(self
            .store
            .scan::<PaymentMethod>(Table::Payments, "")?
            .into_iter()
            .map(|(_, p)| p)
            .collect())
    }

    /// Billing is the organization's: registering a card is an Org Admin task *(replica)*.
    pub fn add_payment_method(
        &self,
        actor: &Actor,
        brand: &str,
        last4: &str,
        expiry: &str,
    ) -> Result<PaymentMethod> {
        self.bound_inputs(
            actor,
            "payment.add",
            &[
                ("card brand", brand, validate::TEXT_INPUT_MAX),
                ("last four digits", last4, validate::ID_INPUT_MAX),
                ("expiry", expiry, validate::ID_INPUT_MAX),
            ],
        )?;
        let method = PaymentMethod {
            id: self.new_id(),
            brand: brand.into(),
            last4: last4.into(),
            expiry: expiry.into(),
            added_at: self.now(),
        };
        let target = format!("{brand} •••• {last4}");
        self.change(actor, "payment.add", &target, |tx| {
            self.require_org_permission(
                tx,
                actor,
                Permission::ManageBilling,
                "registering a payment method",
            )?;
            validate::text("card brand", brand, 20, true)?;
            validate::card_last4(last4)?;
            validate::card_expiry(expiry)?;
            tx.put(Table::Payments, &method.id, &method)
        })?;
        Ok(method)
    }
}

use super::users::User;
