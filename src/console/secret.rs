//! A secret shown once: redacted in `Debug`, zeroized when dropped.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(Zeroizing::new(value))
    }

    /// The secret itself, for the one place that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The stored form of a high-entropy secret: a SHA-256 digest. Secrets carry 256 random bits,
/// so a fast digest is safe where a password would need argon2.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares a presented secret against a stored digest in constant time.
pub fn matches(secret: &str, stored_digest: &str) -> bool {
    let presented = digest(secret);
    presented.as_bytes().ct_eq(stored_digest.as_bytes()).into()
}
