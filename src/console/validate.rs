//! Input rules for every field the console accepts. Lengths count characters (Unicode scalar
//! values), as the real console's counters do. The *(replica)* rules — where the seed documents
//! are silent — are all here, so they are easy to change.

use super::{Error, Result};
use crate::text::is_hidden;

pub const PROJECT_NAME_MAX: usize = 30;
pub const PROJECT_NAME_MIN: usize = 3;
pub const NICKNAME_MAX: usize = 30;
pub const PROJECT_DESCRIPTION_MAX: usize = 200;
pub const SA_NAME_MAX: usize = 30;
pub const SA_DESCRIPTION_MAX: usize = 100;
pub const KEY_NAME_MAX: usize = 30;
pub const KEY_DESCRIPTION_MAX: usize = 30;
pub const USER_NAME_MAX: usize = 50;
pub const EMAIL_MAX: usize = 254;
pub const ORG_NAME_MAX: usize = 50;
pub const INQUIRY_TITLE_MAX: usize = 100;
pub const INQUIRY_DETAILS_MAX: usize = 4000;
pub const ATTACHMENT_NAME_MAX: usize = 255;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

/// The longest value accepted for each kind of input from outside, checked (by `bounded`)
/// before the value reaches a lookup, a message or the audit log. Generous — each field's own
/// rule, checked later with its own message, is the real limit — but small enough that nothing
/// a caller sends can fill a message, a log or the disk. E-mails and passwords are bounded by
/// `EMAIL_MAX` and `PASSWORD_MAX`.
///
/// IDs and references: access key, user, inquiry, service account, service, and a project's
/// name or ID.
pub const ID_INPUT_MAX: usize = 128;
/// Names, nicknames, descriptions, titles, details: more than the longest field (details).
pub const TEXT_INPUT_MAX: usize = 4096;
/// A typed confirmation phrase.
pub const PHRASE_INPUT_MAX: usize = 64;
/// An attachment's path, in bytes (Linux's PATH_MAX).
pub const PATH_INPUT_MAX: usize = 4096;

/// Whether `s` is exactly `len` lowercase hex digits (IDs, nonces and MACs are written so).
pub(super) fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `s` is an ID in its one canonical form: 32 lowercase hex digits (users, projects,
/// keys).
pub fn is_id(s: &str) -> bool {
    is_lower_hex(s, 32)
}

/// Refuses a value longer than `max` characters, with a message that does not quote it.
pub fn bounded(field: &str, value: &str, max: usize) -> Result<()> {
    // A value no longer than `max` bytes is no longer than `max` characters.
    if value.len() <= max {
        return Ok(());
    }
    let len = value.chars().count();
    if len > max {
        return Err(Error::Invalid(format!(
            "{field} is {len} characters long; the limit is {max}"
        )));
    }
    Ok(())
}

/// Free text shown in tables: any script (Korean included), no hidden characters, no padding.
pub fn text(field: &str, value: &str, max: usize, required: bool) -> Result<()> {
    let len = value.chars().count();
    if len == 0 {
        return if required {
            Err(Error::Invalid(format!("{field} is required")))
        } else {
            Ok(())
        };
    }
    if len > max {
        return Err(Error::Invalid(format!(
            "{field} is {len} characters long; the limit is {max}"
        )));
    }
    if value.chars().any(is_hidden) {
        return Err(Error::Invalid(format!(
            "{field} contains control or invisible characters"
        )));
    }
    if value.trim() != value {
        return Err(Error::Invalid(format!(
            "{field} must not start or end with spaces"
        )));
    }
    Ok(())
}

/// An identifier that becomes part of IDs and API paths *(replica)*: lowercase ASCII letters,
/// digits and hyphens, starting with a letter and not ending with a hyphen.
pub fn identifier(field: &str, value: &str, min: usize, max: usize) -> Result<()> {
    let len = value.chars().count();
    if len == 0 {
        return Err(Error::Invalid(format!("{field} is required")));
    }
    if len > max {
        return Err(Error::Invalid(format!(
            "{field} is {len} characters long; the limit is {max}"
        )));
    }
    if len < min {
        return Err(Error::Invalid(format!(
            "{field} must be at least {min} characters long"
        )));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(Error::Invalid(format!(
            "{field} may use only lowercase letters a-z, digits and hyphens (found {bad:?})"
        )));
    }
    if !value.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(Error::Invalid(format!("{field} must start with a letter")));
    }
    if value.ends_with('-') {
        return Err(Error::Invalid(format!("{field} must not end with a hyphen")));
    }
    Ok(())
}

pub fn project_name(value: &str) -> Result<()> {
    identifier("project name", value, PROJECT_NAME_MIN, PROJECT_NAME_MAX)
}

pub fn service_account_name(value: &str) -> Result<()> {
    identifier("service account name", value, 1, SA_NAME_MAX)
}

pub fn email(value: &str) -> Result<()> {
    text("email", value, EMAIL_MAX, true)?;
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{value:?} is not an email address (expected name@example.com)"
        )))
    }
}

pub fn password(value: &str) -> Result<()> {
    let len = value.chars().count();
    if len < PASSWORD_MIN {
        return Err(Error::Invalid(format!(
            "the password must be at least {PASSWORD_MIN} characters long"
        )));
    }
    if len > PASSWORD_MAX {
        return Err(Error::Invalid(format!(
            "the password is {len} characters long; the limit is {PASSWORD_MAX}"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::Invalid("the password contains control characters".into()));
    }
    Ok(())
}

/// A typed confirmation must match the phrase exactly: no trimming, no case folding.
pub fn confirmation(expected: &str, typed: &str) -> Result<()> {
    if typed == expected {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "the confirmation does not match; type exactly \"{expected}\""
        )))
    }
}

/// "MM/YY", month 01–12.
pub fn card_expiry(value: &str) -> Result<(u32, u32)> {
    let parsed = value.split_once('/').and_then(|(m, y)| {
        let ok = m.len() == 2 && y.len() == 2;
        let month: u32 = m.parse().ok()?;
        let year: u32 = y.parse().ok()?;
        (ok && (1..=12).contains(&month)).then_some((month, year))
    });
    parsed.ok_or_else(|| Error::Invalid(format!("expiry {value:?} must be MM/YY, e.g. 09/28")))
}

pub fn card_last4(value: &str) -> Result<()> {
    if value.len() == 4 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "last four digits {value:?} must be exactly four digits"
        )))
    }
}
