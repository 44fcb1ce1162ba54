//! Failed token issues, throttled per key and per client address (GCRA, from `governor`).
//!
//! Each failed issue spends one unit of two budgets: the key ID's (tight: a secret being
//! guessed) and the client address's (looser: many users may share one address behind a NAT,
//! or on loopback). A request that finds either budget spent is answered 429 with
//! `Retry-After` before any secret is checked — a correct secret too, else a 429 would still
//! tell a guesser when it guessed right. 429s spend nothing, so one client hammering one key
//! locks that key, not the address it shares with others; valid credentials of other keys keep
//! working from it. The address budget stops sprays of many key IDs.
//!
//! Memory is bounded: the per-key and per-address states are kept for at most
//! `MAX_TRACKED` keys each; full, the states that have refilled are dropped (at most once a
//! second), and while it stays full a new key is throttled by its address budget alone.
//! IPv6 clients are counted per /64, the block one host is normally given.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

/// Failed attempts allowed in a window: `failures` at once, refilled evenly over `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub failures: u32,
    pub per: Duration,
}

impl Budget {
    fn quota(self) -> Quota {
        let burst = NonZeroU32::new(self.failures.max(1)).expect("at least one");
        let period = (self.per / burst.get()).max(Duration::from_nanos(1));
        Quota::with_period(period)
            .expect("a positive period")
            .allow_burst(burst)
    }
}

/// Keys (and addresses) whose state is kept at most.
const MAX_TRACKED: usize = 100_000;

/// Whose budget is spent, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Throttled {
    Key(Duration),
    Address(Duration),
}

impl Throttled {
    /// Whole seconds for `Retry-After`, at least one.
    pub(super) fn retry_after_seconds(self) -> u64 {
        let (Throttled::Key(wait) | Throttled::Address(wait)) = self;
        (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
    }
}

/// One budget per key of type `K`, and the keys whose budget is spent (until when).
struct Budgets<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    spent: Mutex<HashMap<K, Instant>>,
    /// When states were last swept (nanoseconds since `epoch`).
    last_sweep: AtomicU64,
    epoch: Instant,
}

impl<K: Hash + Eq + Clone> Budgets<K> {
    fn new(budget: Budget) -> Budgets<K> {
        Budgets {
            limiter: DefaultKeyedRateLimiter::keyed(budget.quota()),
            spent: Mutex::new(HashMap::new()),
            last_sweep: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// How long `key` must still wait, if its budget is spent.
    fn waiting<Q>(&self, key: &Q) -> Option<Duration>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        let until = *spent.get(key)?;
        until.checked_duration_since(Instant::now())
    }

    /// Spends one unit for `key`; how long it must wait if that exhausted the budget.
    fn fail(&self, key: &K) -> Option<Duration> {
        if self.limiter.len() >= MAX_TRACKED {
            self.sweep_at_most_every_second();
            if self.limiter.len() >= MAX_TRACKED {
                return None;
            }
        }
        let not_until = self.limiter.check_key(key).err()?;
        let wait = not_until.wait_time_from(self.limiter.clock().now());
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        if spent.len() >= MAX_TRACKED {
            let now = Instant::now();
            spent.retain(|_, until| *until > now);
        }
        if spent.len() < MAX_TRACKED {
            spent.insert(key.clone(), Instant::now() + wait);
        }
        Some(wait)
    }

    fn sweep_at_most_every_second(&self) {
        let now = self.epoch.elapsed().as_nanos() as u64;
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= 1_000_000_000
            && self
                .last_sweep
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.sweep();
        }
    }

    /// Drops the states that have refilled and the spent marks that have run out.
    fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
        let now = Instant::now();
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        spent.retain(|_, until| *until > now);
        spent.shrink_to_fit();
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.limiter.len()
    }
}

/// The address a client is counted under: IPv4 as is, IPv6 by its /64.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

pub(super) struct Throttle {
    keys: Budgets<String>,
    addresses: Budgets<IpAddr>,
}

impl Throttle {
    pub(super) fn new(per_key: Budget, per_address: Budget) -> Throttle {
        Throttle {
            keys: Budgets::new(per_key),
            addresses: Budgets::new(per_address),
        }
    }

    /// Before checking a credential: refused if the address's or the key's budget is spent.
    pub(super) fn admit(&self, key: Option<&str>, client: IpAddr) -> Result<(), Throttled> {
        if let Some(wait) = self.addresses.waiting(&address_key(client)) {
            return Err(Throttled::Address(wait));
        }
        if let Some(wait) = key.and_then(|k| self.keys.waiting(k)) {
            return Err(Throttled::Key(wait));
        }
        Ok(())
    }

    /// After a credential failed: spends one unit of each budget; says which is now spent.
    pub(super) fn failed(&self, key: Option<&str>, client: IpAddr) -> Option<Throttled> {
        let address = self.addresses.fail(&address_key(client)).map(Throttled::Address);
        let key = key
            .and_then(|k| self.keys.fail(&k.to_string()))
            .map(Throttled::Key);
        key.or(address)
    }

    /// Drops what no longer limits anyone; the server calls it on a timer.
    pub(super) fn sweep(&self) {
        self.keys.sweep();
        self.addresses.sweep();
    }

    /// States kept: (keys, addresses).
    #[cfg(test)]
    fn tracked(&self) -> (usize, usize) {
        (self.keys.tracked(), self.addresses.tracked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(failures: u32, per_secs: u64) -> Budget {
        Budget {
            failures,
            per: Duration::from_secs(per_secs),
        }
    }

    #[test]
    fn a_key_is_throttled_after_its_budget_and_others_are_not() {
        let throttle = Throttle::new(budget(3, 60), budget(100, 60));
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(throttle.admit(Some("a"), client), Ok(()));
            assert_eq!(throttle.failed(Some("a"), client), None);
        }
        assert!(matches!(
            throttle.failed(Some("a"), client),
            Some(Throttled::Key(_))
        ));
        assert!(matches!(
            throttle.admit(Some("a"), client),
            Err(Throttled::Key(_))
        ));
        assert_eq!(
            throttle.admit(Some("b"), client),
            Ok(()),
            "another key from the same address"
        );
    }

    #[test]
    fn a_flood_of_distinct_key_ids_keeps_bounded_state() {
        let throttle = Throttle::new(budget(10, 60), budget(u32::MAX, 1));
        let client: IpAddr = "192.0.2.9".parse().unwrap();
        for n in 0..(MAX_TRACKED + 20_000) {
            throttle.failed(Some(&format!("{n:032x}")), client);
        }
        let (keys, addresses) = throttle.tracked();
        assert!(keys <= MAX_TRACKED, "{keys} key states kept");
        assert_eq!(addresses, 1);
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(
            Throttled::Key(Duration::from_millis(5_100)).retry_after_seconds(),
            6
        );
        assert_eq!(Throttled::Key(Duration::from_secs(6)).retry_after_seconds(), 6);
        assert_eq!(Throttled::Address(Duration::ZERO).retry_after_seconds(), 1);
    }
}
