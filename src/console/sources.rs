//! Injected time and randomness: the system clock and the OS CSPRNG in production, a fixed
//! clock and a seeded generator in tests and demo walkthroughs.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move.
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> FixedClock {
        FixedClock(Mutex::new(at))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub trait Entropy: Send + Sync {
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's CSPRNG.
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, buf: &mut [u8]) {
        rand::rngs::OsRng.fill_bytes(buf);
    }
}

/// Reproducible bytes for tests and demo walkthroughs; never used for real keys.
pub struct SeededEntropy(Mutex<ChaCha20Rng>);

impl SeededEntropy {
    pub fn new(seed: u64) -> SeededEntropy {
        SeededEntropy(Mutex::new(ChaCha20Rng::seed_from_u64(seed)))
    }
}

impl Entropy for SeededEntropy {
    fn fill(&self, buf: &mut [u8]) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).fill_bytes(buf);
    }
}
