//! Brute-force protection shared by every node: failed attempts at login,
//! MFA, signup and password reset are counted in the shared store ([`Kv`]:
//! Redis with several nodes), per account and per client IP address. Past a
//! number of free attempts each further attempt must wait a growing delay
//! after the last failure; past a higher number the key is locked for a
//! while. Counters expire on their own.
//!
//! How a caller uses it, around one attempt:
//! 1. [`Throttle::check`] with the account key and the IP key. On
//!    [`Verdict::Wait`], refuse without looking at the password or code: an
//!    API answers `429 Too Many Requests` (RFC 6585 §4) with `Retry-After`
//!    (RFC 9110 §10.2.3) set to [`Verdict::retry_after_secs`]; a page shows
//!    the wait. Refused attempts are not counted.
//! 2. On failure, [`Throttle::failed`] with the same keys; it returns the
//!    wait that now applies to the next attempt.
//! 3. On success, [`Throttle::succeeded`] with the same keys: the account's
//!    counters are cleared, the IP's are kept (one success from an address
//!    does not wash away a spray of failures against other accounts).
//!
//! Signup and reset have no "wrong password": count every request that
//! would send mail or create an account with [`Throttle::failed`].
//!
//! **Anti-enumeration.** The account key is built from the name as typed
//! ([`Key::account`]), and the throttle never looks at the user table:
//! callers must check and count the submitted name the same way whether or
//! not such an account exists, so the delays and locks (and their timing)
//! tell an attacker nothing about which accounts exist.
//!
//! **What is stored.** Per action and key, under the tenant's prefix
//! (`{prefix}:t:{tenant}:throttle:{action}:{account|ip}:{sha256}:…`): a
//! failure counter (`:n`, expiring `window` after the first failure it
//! counts: a fixed window), a delay mark (`:delay`, expiring when the delay
//! is over) and a lock mark (`:lock`, expiring after `lock_for`). Account
//! names (trimmed, lowercased) and IP addresses appear only as SHA-256
//! hashes, never in clear. Waits are measured by the store's expiry, so they
//! hold across nodes without relying on their clocks.
//!
//! Defaults ([`Policy::for_action`]); every delay starts at 1 s, doubles per
//! further failure and is capped at 30 s:
//!
//! | action | key     | free attempts | lock after | window | lock for |
//! |--------|---------|---------------|------------|--------|----------|
//! | login  | account | 5             | 10         | 15 min | 15 min   |
//! | login  | IP      | 50            | 100        | 15 min | 15 min   |
//! | MFA    | account | 3             | 5          | 15 min | 15 min   |
//! | MFA    | IP      | 30            | 60         | 15 min | 15 min   |
//! | signup | account | 3             | 5          | 1 h    | 1 h      |
//! | signup | IP      | 10            | 20         | 1 h    | 1 h      |
//! | reset  | account | 3             | 5          | 1 h    | 1 h      |
//! | reset  | IP      | 20            | 50         | 1 h    | 1 h      |
//!
//! So a login account gets 5 attempts without waiting, then waits 1, 2, 4, 8 and
//! 16 s before attempts 6 to 10, and is locked for 15 minutes after the
//! 10th failure within 15 minutes. (NIST SP 800-63B §5.2.2 asks for at most
//! 100 consecutive failures per account.)
//!
//! Known limit: `check` and `failed` are separate steps, so requests sent at
//! the same instant all pass `check` before any of them is counted; the delay
//! or lock follows as soon as they are. The IP key bounds such a burst from
//! one address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use crate::crypto::secret_hash;
use crate::ids::TenantId;
use crate::kv::{Kv, KvError};

/// What is being attempted: each action has its own counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Login,
    Mfa,
    Signup,
    Reset,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Mfa => "mfa",
            Self::Signup => "signup",
            Self::Reset => "reset",
        }
    }
}

/// Whose attempts a key counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    Account,
    Ip,
}

impl KeyKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Ip => "ip",
        }
    }
}

/// One throttled subject: an account name or a client address. Holds only
/// a hash of it, so neither a name nor an address reaches the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    kind: KeyKind,
    hash: String,
}

impl Key {
    /// The account as submitted (username or email), trimmed and lowercased
    /// so `Alice` and ` alice ` share a counter. Pass what the user typed,
    /// whether or not such an account exists (see the module docs). For MFA,
    /// the user's id.
    pub fn account(name: &str) -> Self {
        Self {
            kind: KeyKind::Account,
            hash: secret_hash(&name.trim().to_lowercase()),
        }
    }

    /// A client address. An IPv4-mapped IPv6 address counts as its IPv4
    /// address; other IPv6 addresses are grouped by their /64 network, the
    /// block one subscriber usually holds whole.
    pub fn ip(addr: IpAddr) -> Self {
        let subject = match addr.to_canonical() {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let network = u128::from(v6) & (u128::MAX << 64);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
        };
        Self {
            kind: KeyKind::Ip,
            hash: secret_hash(&subject),
        }
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    fn name(&self, action: Action, part: &str) -> String {
        format!(
            "throttle:{}:{}:{}:{part}",
            action.as_str(),
            self.kind.as_str(),
            self.hash
        )
    }
}

/// The limits of one kind of key for one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed without any wait.
    pub free_attempts: u32,
    /// Failures after which the key is locked; 0: never locked.
    pub lock_after: u32,
    /// How long failures are remembered, from the first one counted.
    pub window: Duration,
    /// How long a lock lasts.
    pub lock_for: Duration,
    /// The wait after the first failure past the free ones; doubles with
    /// every further failure.
    pub first_delay: Duration,
    /// The longest wait short of a lock.
    pub max_delay: Duration,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

impl Policy {
    /// The defaults of the module docs' table.
    pub fn for_action(action: Action, kind: KeyKind) -> Self {
        let (free_attempts, lock_after, window) = match (action, kind) {
            (Action::Login, KeyKind::Account) => (5, 10, 15 * MINUTE),
            (Action::Login, KeyKind::Ip) => (50, 100, 15 * MINUTE),
            (Action::Mfa, KeyKind::Account) => (3, 5, 15 * MINUTE),
            (Action::Mfa, KeyKind::Ip) => (30, 60, 15 * MINUTE),
            (Action::Signup, KeyKind::Account) => (3, 5, HOUR),
            (Action::Signup, KeyKind::Ip) => (10, 20, HOUR),
            (Action::Reset, KeyKind::Account) => (3, 5, HOUR),
            (Action::Reset, KeyKind::Ip) => (20, 50, HOUR),
        };
        Self {
            free_attempts,
            lock_after,
            window,
            lock_for: window,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }

    /// The wait imposed on the next attempt once `failures` have been
    /// counted: none up to `free_attempts - 1`, then `first_delay ×
    /// 2^(failures - free_attempts)` capped at `max_delay`, and a lock of
    /// `lock_for` from `lock_after` on.
    pub fn wait_after(&self, failures: u64) -> Verdict {
        if self.lock_after > 0 && failures >= u64::from(self.lock_after) {
            return Verdict::Wait {
                retry_after: self.lock_for,
                locked: true,
            };
        }
        let Some(doublings) = failures.checked_sub(u64::from(self.free_attempts)) else {
            return Verdict::Allowed;
        };
        let delay = u32::try_from(doublings)
            .ok()
            .and_then(|d| 2u32.checked_pow(d))
            .and_then(|factor| self.first_delay.checked_mul(factor))
            .map_or(self.max_delay, |d| d.min(self.max_delay));
        if delay.is_zero() {
            Verdict::Allowed
        } else {
            Verdict::Wait {
                retry_after: delay,
                locked: false,
            }
        }
    }
}

/// Whether an attempt may go ahead now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Not before `retry_after` has passed; `locked` when a key is locked
    /// rather than only delayed.
    Wait {
        retry_after: Duration,
        locked: bool,
    },
}

impl Verdict {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed)
    }

    /// The `Retry-After` delay-seconds (RFC 9110 §10.2.3): the wait rounded
    /// up to whole seconds, at least 1; `None` when allowed.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::Allowed => None,
            Self::Wait { retry_after, .. } => {
                let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                Some(secs.max(1))
            }
        }
    }

    /// The stricter of two verdicts: the longer wait, locked if either is.
    pub fn stricter(self, other: Self) -> Self {
        match (self, other) {
            (Self::Allowed, v) | (v, Self::Allowed) => v,
            (
                Self::Wait {
                    retry_after: a,
                    locked: la,
                },
                Self::Wait {
                    retry_after: b,
                    locked: lb,
                },
            ) => Self::Wait {
                retry_after: a.max(b),
                locked: la || lb,
            },
        }
    }
}

/// The counters, on a [`Kv`] that every node shares.
#[derive(Debug, Clone)]
pub struct Throttle {
    kv: Kv,
    policies: HashMap<(Action, KeyKind), Policy>,
}

impl Throttle {
    /// With the default policies ([`Policy::for_action`]).
    pub fn new(kv: Kv) -> Self {
        Self {
            kv,
            policies: HashMap::new(),
        }
    }

    /// Replaces the policy of one action and kind of key.
    #[must_use]
    pub fn with_policy(mut self, action: Action, kind: KeyKind, policy: Policy) -> Self {
        self.policies.insert((action, kind), policy);
        self
    }

    pub fn policy(&self, action: Action, kind: KeyKind) -> Policy {
        self.policies
            .get(&(action, kind))
            .copied()
            .unwrap_or_else(|| Policy::for_action(action, kind))
    }

    /// Before an attempt: [`Verdict::Allowed`], or the stricter wait of all
    /// `keys` (one round trip).
    pub async fn check(
        &self,
        tenant: TenantId,
        action: Action,
        keys: &[Key],
    ) -> Result<Verdict, KvError> {
        let names: Vec<String> = keys
            .iter()
            .flat_map(|k| [k.name(action, "lock"), k.name(action, "delay")])
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let ttls = self.kv.ttls(tenant, &refs).await?;
        let verdict = ttls
            .iter()
            .enumerate()
            .filter_map(|(i, ttl)| {
                ttl.map(|retry_after| Verdict::Wait {
                    retry_after,
                    locked: i % 2 == 0,
                })
            })
            .fold(Verdict::Allowed, Verdict::stricter);
        Ok(verdict)
    }

    /// After a failed attempt: counts it for every key and returns the wait
    /// that now applies to the next attempt (the stricter of all keys).
    pub async fn failed(
        &self,
        tenant: TenantId,
        action: Action,
        keys: &[Key],
    ) -> Result<Verdict, KvError> {
        let mut verdict = Verdict::Allowed;
        for key in keys {
            let policy = self.policy(action, key.kind);
            let failures = self
                .kv
                .incr_with_ttl(tenant, &key.name(action, "n"), policy.window)
                .await?;
            let wait = policy.wait_after(failures);
            if let Verdict::Wait {
                retry_after,
                locked,
            } = wait
            {
                let part = if locked { "lock" } else { "delay" };
                self.kv
                    .set(tenant, &key.name(action, part), b"1", retry_after)
                    .await?;
            }
            verdict = verdict.stricter(wait);
        }
        Ok(verdict)
    }

    /// After a successful attempt: clears the counters of the account keys
    /// among `keys`; IP keys keep theirs.
    pub async fn succeeded(
        &self,
        tenant: TenantId,
        action: Action,
        keys: &[Key],
    ) -> Result<(), KvError> {
        for key in keys.iter().filter(|k| k.kind == KeyKind::Account) {
            for part in ["n", "delay", "lock"] {
                self.kv.del(tenant, &key.name(action, part)).await?;
            }
        }
        Ok(())
    }

    /// Clears every action's counters (failures, delay, lock) of the
    /// accounts named `names` (as [`Key::account`] takes them: a username,
    /// an email address, a user id): an administrator's unlock.
    pub async fn clear_accounts(&self, tenant: TenantId, names: &[&str]) -> Result<(), KvError> {
        let keys: Vec<Key> = names.iter().map(|n| Key::account(n)).collect();
        for action in [Action::Login, Action::Mfa, Action::Signup, Action::Reset] {
            self.succeeded(tenant, action, &keys).await?;
        }
        Ok(())
    }

    /// Whether sign-in as any of `names` is locked now after failures, and
    /// for how much longer (an administrator's view; counts nothing).
    pub async fn account_lock(
        &self,
        tenant: TenantId,
        names: &[&str],
    ) -> Result<Option<Duration>, KvError> {
        let keys: Vec<Key> = names.iter().map(|n| Key::account(n)).collect();
        Ok(match self.check(tenant, Action::Login, &keys).await? {
            Verdict::Wait {
                retry_after,
                locked: true,
            } => Some(retry_after),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn wait(ms: u64, locked: bool) -> Verdict {
        Verdict::Wait {
            retry_after: Duration::from_millis(ms),
            locked,
        }
    }

    /// Short durations for tests that sleep: 2 free, lock after 4.
    fn quick() -> Policy {
        Policy {
            free_attempts: 2,
            lock_after: 4,
            window: Duration::from_secs(5),
            lock_for: 800 * MS,
            first_delay: 500 * MS,
            max_delay: 1000 * MS,
        }
    }

    fn throttle(account: Policy, ip: Policy) -> Throttle {
        Throttle::new(Kv::memory("gh"))
            .with_policy(Action::Login, KeyKind::Account, account)
            .with_policy(Action::Login, KeyKind::Ip, ip)
    }

    fn is_wait(v: Verdict, at_most: Duration, locked: bool) -> bool {
        matches!(v, Verdict::Wait { retry_after, locked: l } if retry_after <= at_most && l == locked)
    }

    #[test]
    fn delays_double_after_the_free_attempts_up_to_the_cap_then_the_key_locks() {
        let p = Policy::for_action(Action::Login, KeyKind::Account);
        let secs = |s: u64| wait(s * 1000, false);
        assert_eq!(p.wait_after(0), Verdict::Allowed);
        assert_eq!(p.wait_after(4), Verdict::Allowed);
        assert_eq!(p.wait_after(5), secs(1));
        assert_eq!(p.wait_after(6), secs(2));
        assert_eq!(p.wait_after(9), secs(16));
        assert_eq!(p.wait_after(10), wait(15 * 60 * 1000, true));
        assert_eq!(p.wait_after(u64::MAX), wait(15 * 60 * 1000, true));

        let never_locks = Policy { lock_after: 0, ..p };
        assert_eq!(never_locks.wait_after(10), secs(30), "capped");
        assert_eq!(never_locks.wait_after(u64::MAX), secs(30), "no overflow");

        let ip = Policy::for_action(Action::Login, KeyKind::Ip);
        assert!(ip.free_attempts > p.free_attempts && ip.lock_after > p.lock_after);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(Verdict::Allowed.retry_after_secs(), None);
        assert_eq!(wait(1, false).retry_after_secs(), Some(1));
        assert_eq!(wait(2000, true).retry_after_secs(), Some(2));
        assert_eq!(wait(2001, false).retry_after_secs(), Some(3));
        assert_eq!(wait(0, false).retry_after_secs(), Some(1));
    }

    #[tokio::test]
    async fn after_the_free_failures_the_next_attempt_waits_a_growing_delay() {
        let t = throttle(quick(), quick());
        let tenant = TenantId::new_random();
        let keys = [Key::account("alice")];
        let check = || t.check(tenant, Action::Login, &keys);

        assert_eq!(check().await.unwrap(), Verdict::Allowed);
        let after_one = t.failed(tenant, Action::Login, &keys).await.unwrap();
        assert_eq!(after_one, Verdict::Allowed, "a free attempt");
        assert_eq!(check().await.unwrap(), Verdict::Allowed);

        let after_two = t.failed(tenant, Action::Login, &keys).await.unwrap();
        assert_eq!(after_two, wait(500, false));
        assert!(is_wait(check().await.unwrap(), 500 * MS, false));
        tokio::time::sleep(700 * MS).await;
        assert_eq!(check().await.unwrap(), Verdict::Allowed, "waited enough");

        let after_three = t.failed(tenant, Action::Login, &keys).await.unwrap();
        assert_eq!(after_three, wait(1000, false), "doubled");
        let v = check().await.unwrap();
        assert!(is_wait(v, 1000 * MS, false), "{v:?}");
        assert!(v.retry_after_secs() == Some(1));
    }

    #[tokio::test]
    async fn a_key_locks_after_lock_after_failures_and_unlocks_after_lock_for() {
        let t = throttle(quick(), quick());
        let tenant = TenantId::new_random();
        let keys = [Key::account("bob")];
        for _ in 0..3 {
            t.failed(tenant, Action::Login, &keys).await.unwrap();
        }
        let fourth = t.failed(tenant, Action::Login, &keys).await.unwrap();
        assert_eq!(fourth, wait(800, true));
        let v = t.check(tenant, Action::Login, &keys).await.unwrap();
        assert!(
            matches!(v, Verdict::Wait { locked: true, .. }),
            "the lock wins over the delay: {v:?}"
        );
        tokio::time::sleep(1200 * MS).await;
        assert_eq!(
            t.check(tenant, Action::Login, &keys).await.unwrap(),
            Verdict::Allowed
        );
    }

    #[tokio::test]
    async fn failures_are_forgotten_after_the_window() {
        let short_window = Policy {
            free_attempts: 1,
            lock_after: 2,
            window: 200 * MS,
            first_delay: 10 * MS,
            ..quick()
        };
        let t = throttle(short_window, short_window);
        let tenant = TenantId::new_random();
        let keys = [Key::account("carol")];
        assert_eq!(
            t.failed(tenant, Action::Login, &keys).await.unwrap(),
            wait(10, false)
        );
        tokio::time::sleep(300 * MS).await;
        assert_eq!(
            t.failed(tenant, Action::Login, &keys).await.unwrap(),
            wait(10, false),
            "counted as the first failure again, not the second (a lock)"
        );
    }

    #[tokio::test]
    async fn success_clears_the_account_but_not_the_ip() {
        let t = throttle(quick(), quick());
        let tenant = TenantId::new_random();
        let ip = Key::ip(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)));
        let keys = [Key::account("dave"), ip.clone()];
        for _ in 0..4 {
            t.failed(tenant, Action::Login, &keys).await.unwrap();
        }
        t.succeeded(tenant, Action::Login, &keys).await.unwrap();
        let account_only = [Key::account("dave")];
        assert_eq!(
            t.check(tenant, Action::Login, &account_only).await.unwrap(),
            Verdict::Allowed
        );
        assert_eq!(
            t.failed(tenant, Action::Login, &account_only)
                .await
                .unwrap(),
            Verdict::Allowed,
            "the account starts again from its free attempts"
        );
        let v = t.check(tenant, Action::Login, &[ip]).await.unwrap();
        assert!(matches!(v, Verdict::Wait { locked: true, .. }), "{v:?}");
    }

    #[tokio::test]
    async fn the_stricter_key_wins_and_actions_and_tenants_count_apart() {
        let lenient = Policy {
            free_attempts: 100,
            lock_after: 0,
            ..quick()
        };
        let t = throttle(quick(), lenient);
        let (tenant, other) = (TenantId::new_random(), TenantId::new_random());
        let ip = Key::ip(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)));
        for name in ["erin", "frank"] {
            let keys = [Key::account(name), ip.clone()];
            t.failed(tenant, Action::Login, &keys).await.unwrap();
            t.failed(tenant, Action::Login, &keys).await.unwrap();
        }
        // frank is delayed by his own counter; the IP (4 failures) is not.
        let v = t
            .check(tenant, Action::Login, &[Key::account("frank"), ip.clone()])
            .await
            .unwrap();
        assert!(is_wait(v, 500 * MS, false), "{v:?}");
        let fresh = [Key::account("grace"), ip.clone()];
        assert_eq!(
            t.check(tenant, Action::Login, &fresh).await.unwrap(),
            Verdict::Allowed
        );
        let frank = [Key::account("frank")];
        assert_eq!(
            t.check(tenant, Action::Mfa, &frank).await.unwrap(),
            Verdict::Allowed
        );
        assert_eq!(
            t.check(other, Action::Login, &frank).await.unwrap(),
            Verdict::Allowed
        );
    }

    #[test]
    fn account_keys_are_normalised_and_hashed() {
        let k = Key::account("  Alice@Example.COM ");
        assert_eq!(k, Key::account("alice@example.com"));
        assert_ne!(k, Key::account("alice@example.org"));
        assert_eq!(k.kind(), KeyKind::Account);
        let name = k.name(Action::Login, "n");
        assert!(!name.contains("alice") && !name.contains('@'), "{name}");
        assert!(name.starts_with("throttle:login:account:"), "{name}");
    }

    #[test]
    fn ipv6_addresses_count_per_64_and_mapped_ipv4_as_ipv4() {
        let v6 = |s: &str| Key::ip(IpAddr::V6(s.parse::<Ipv6Addr>().unwrap()));
        assert_eq!(v6("2001:db8:1:2:aaaa::1"), v6("2001:db8:1:2:ffff:1:2:3"));
        assert_ne!(v6("2001:db8:1:2::1"), v6("2001:db8:1:3::1"));
        let v4 = Key::ip(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(v6("::ffff:192.0.2.1"), v4);
        assert_ne!(v4, Key::ip(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2))));
        assert_eq!(v4.kind(), KeyKind::Ip);
        assert!(!v4.name(Action::Login, "n").contains("192.0.2"));
        assert_ne!(v4, Key::account("192.0.2.1"), "kinds never collide");
    }
}
