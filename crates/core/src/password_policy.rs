//! Which new passwords are accepted (at signup, reset and change), per
//! tenant, never weaker than the platform's floor. It follows NIST SP 800-63B
//! §5.1.1.2 (memorized secret verifiers): a minimum length, at least 64
//! characters allowed, any printable Unicode accepted including spaces, no
//! composition rules ("one digit, one symbol"), and a refusal of commonly
//! used passwords and of passwords built from the user's own context
//! (username, email, company name).
//!
//! Rules, in [`PasswordPolicy::check`]:
//! - Length counts Unicode scalar values (`str::chars`), without
//!   normalisation: `é` typed as one code point counts 1, as `e` plus a
//!   combining accent counts 2. Defaults: at least 12, at most 128.
//! - The maximum is never below 64 ([`MAX_LENGTH_FLOOR`]) and never above
//!   1024 ([`MAX_LENGTH_CEILING`]), which keeps megabyte inputs away from
//!   argon2. A password over the maximum is refused before anything else is
//!   looked at.
//! - Common passwords: the 10,000 most common passwords shipped in
//!   `data/common-passwords.txt` (origin and licence in `data/README.md`),
//!   compared ignoring case, so `Password1` is refused like `password1`.
//! - Context: a password equal to or containing one of the caller's context
//!   strings of 4 or more characters, ignoring case, is refused; for a
//!   context string with an `@` (an email), its local part is checked too.
//!
//! Tenant settings (keys of the `security` section): `password_min_length`,
//! `password_max_length`, `password_reject_common`. A value of the wrong
//! type is ignored (the floor's value applies).

use std::collections::HashSet;
use std::sync::LazyLock;

use serde_json::Value;

/// No policy allows fewer than this many characters as its maximum
/// (NIST SP 800-63B §5.1.1.2: "at least 64 characters").
pub const MAX_LENGTH_FLOOR: usize = 64;
/// No policy allows more than this many characters (argon2 input bound).
pub const MAX_LENGTH_CEILING: usize = 1024;
/// Context strings shorter than this are not looked for in passwords.
const MIN_CONTEXT_LEN: usize = 4;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// Whether `password` is on the shipped list of common passwords, ignoring
/// case.
pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Fewest characters accepted.
    pub min_length: usize,
    /// Most characters accepted.
    pub max_length: usize,
    /// Refuse passwords on the common-password list.
    pub reject_common: bool,
}

impl Default for PasswordPolicy {
    /// 12 to 128 characters, common passwords refused.
    fn default() -> Self {
        Self {
            min_length: 12,
            max_length: 128,
            reject_common: true,
        }
    }
}

/// Why a password was refused; the caller shows one translated message
/// per violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyViolation {
    TooShort { min: usize },
    TooLong { max: usize },
    Common,
    ContainsContext,
}

/// In English, for the CLI and logs (the pages translate their own).
impl std::fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooShort { min } => write!(f, "shorter than {min} characters"),
            Self::TooLong { max } => write!(f, "longer than {max} characters"),
            Self::Common => f.write_str("one of the most common passwords"),
            Self::ContainsContext => f.write_str("contains the username or email"),
        }
    }
}

impl PasswordPolicy {
    /// The tenant's policy from its merged `security` settings, never
    /// weaker than `floor`: the larger minimum, common passwords refused if
    /// either says so, and a maximum between [`MAX_LENGTH_FLOOR`] and the
    /// floor's maximum (the platform bounds what it hashes). A minimum above
    /// that maximum raises the maximum with it, up to
    /// [`MAX_LENGTH_CEILING`].
    pub fn from_settings(security: &Value, floor: &PasswordPolicy) -> Self {
        let number = |key: &str| {
            security
                .get(key)
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
        };
        let min_length = number("password_min_length")
            .unwrap_or(floor.min_length)
            .max(floor.min_length)
            .clamp(1, MAX_LENGTH_CEILING);
        let ceiling = floor.max_length.clamp(MAX_LENGTH_FLOOR, MAX_LENGTH_CEILING);
        let max_length = number("password_max_length")
            .unwrap_or(ceiling)
            .clamp(MAX_LENGTH_FLOOR, ceiling)
            .max(min_length);
        let tenant_rejects = security
            .get("password_reject_common")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Self {
            min_length,
            max_length,
            reject_common: floor.reject_common || tenant_rejects,
        }
    }

    /// Checks a new password. `context` holds what the user's password must
    /// not be built from: username, email, display or company name.
    pub fn check(&self, password: &str, context: &[&str]) -> Result<(), Vec<PolicyViolation>> {
        let length = password.chars().count();
        if length > self.max_length {
            return Err(vec![PolicyViolation::TooLong {
                max: self.max_length,
            }]);
        }
        let mut violations = Vec::new();
        if length < self.min_length {
            violations.push(PolicyViolation::TooShort {
                min: self.min_length,
            });
        }
        let lower = password.to_lowercase();
        if self.reject_common && COMMON.contains(lower.as_str()) {
            violations.push(PolicyViolation::Common);
        }
        if contains_context(&lower, context) {
            violations.push(PolicyViolation::ContainsContext);
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }
}

/// Whether the lowercased password contains one of the context strings (of
/// [`MIN_CONTEXT_LEN`] characters or more), or an email's local part.
fn contains_context(lower_password: &str, context: &[&str]) -> bool {
    context.iter().any(|c| {
        let c = c.trim().to_lowercase();
        let local = c.split_once('@').map(|(local, _)| local.to_owned());
        std::iter::once(c)
            .chain(local)
            .any(|s| s.chars().count() >= MIN_CONTEXT_LEN && lower_password.contains(&s))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use PolicyViolation::*;

    #[test]
    fn the_shipped_list_is_large_lowercase_and_has_the_usual_suspects() {
        assert_eq!(COMMON.len(), 10_000);
        assert!(COMMON.iter().all(|p| *p == p.to_lowercase()));
        for p in ["123456", "password", "qwerty", "password1", "p@ssw0rd"] {
            assert!(is_common(p), "{p}");
        }
        assert!(is_common("PassWord1"));
        assert!(!is_common("correct horse battery staple"));
    }

    #[test]
    fn a_tenant_cannot_go_below_the_floor() {
        let floor = PasswordPolicy::default();
        let weaker = json!({
            "password_min_length": 4,
            "password_max_length": 10,
            "password_reject_common": false
        });
        let p = PasswordPolicy::from_settings(&weaker, &floor);
        assert_eq!(
            (p.min_length, p.max_length, p.reject_common),
            (12, MAX_LENGTH_FLOOR, true),
            "the maximum may drop to 64, no lower"
        );

        let stricter = json!({ "password_min_length": 16, "password_max_length": 100 });
        let p = PasswordPolicy::from_settings(&stricter, &floor);
        assert_eq!(
            (p.min_length, p.max_length, p.reject_common),
            (16, 100, true)
        );

        let lax_floor = PasswordPolicy {
            min_length: 8,
            max_length: 4096,
            reject_common: false,
        };
        let tenant = json!({ "password_reject_common": true, "password_max_length": 5000 });
        let p = PasswordPolicy::from_settings(&tenant, &lax_floor);
        assert!(p.reject_common, "the tenant may add the common check");
        assert_eq!(p.max_length, MAX_LENGTH_CEILING);

        let long_min = json!({ "password_min_length": 200 });
        let p = PasswordPolicy::from_settings(&long_min, &floor);
        assert_eq!((p.min_length, p.max_length), (200, 200));

        let garbage = json!({ "password_min_length": "20", "password_reject_common": "no" });
        assert_eq!(PasswordPolicy::from_settings(&garbage, &floor), floor);
        assert_eq!(PasswordPolicy::from_settings(&json!(null), &floor), floor);
    }

    #[test]
    fn long_passphrases_are_accepted_up_to_the_maximum() {
        let p = PasswordPolicy::default();
        let words = "correct horse battery staple ".repeat(5);
        let sixty_four: String = words.chars().take(64).collect();
        assert_eq!(p.check(&sixty_four, &[]), Ok(()));
        let max: String = words.repeat(2).chars().take(128).collect();
        assert_eq!(p.check(&max, &[]), Ok(()));
        let over: String = words.repeat(2).chars().take(129).collect();
        assert_eq!(p.check(&over, &[]), Err(vec![TooLong { max: 128 }]));
        let huge = "a".repeat(1 << 20);
        assert_eq!(p.check(&huge, &[]), Err(vec![TooLong { max: 128 }]));
    }

    #[test]
    fn short_and_common_passwords_are_refused_ignoring_case() {
        let p = PasswordPolicy::default();
        assert_eq!(p.check("", &[]), Err(vec![TooShort { min: 12 }]));
        assert_eq!(
            p.check("Password1", &[]),
            Err(vec![TooShort { min: 12 }, Common])
        );
        let short_floor = PasswordPolicy {
            min_length: 8,
            ..PasswordPolicy::default()
        };
        assert_eq!(short_floor.check("BASEBALL", &[]), Err(vec![Common]));
        assert_eq!(short_floor.check("P@ssw0rd", &[]), Err(vec![Common]));
        let no_list = PasswordPolicy {
            reject_common: false,
            ..short_floor
        };
        assert_eq!(no_list.check("P@ssw0rd", &[]), Ok(()));
    }

    #[test]
    fn passwords_built_from_the_context_are_refused() {
        let p = PasswordPolicy::default();
        let ctx = ["alice", "Alice.Smith@example.com", "Acme Corporation", "Bo"];
        assert_eq!(
            p.check("xx-ALICE-2024-yy", &ctx),
            Err(vec![ContainsContext])
        );
        assert_eq!(
            p.check("alice.smith@example.com", &ctx),
            Err(vec![ContainsContext])
        );
        assert_eq!(
            p.check("my alice.smith 99", &ctx),
            Err(vec![ContainsContext])
        );
        assert_eq!(
            p.check("ACME CORPORATION", &ctx),
            Err(vec![ContainsContext])
        );
        assert_eq!(
            p.check("bobobobobobobo", &ctx),
            Ok(()),
            "short context ignored"
        );
        assert_eq!(p.check("a quiet walk in the park", &ctx), Ok(()));
        assert_eq!(p.check("a quiet walk in the park", &[]), Ok(()));
    }

    #[test]
    fn unicode_and_spaces_count_as_characters() {
        let p = PasswordPolicy::default();
        // 12 characters, 36 bytes.
        assert_eq!(p.check("パスワードは長い秘密です", &[]), Ok(()));
        // 11 characters, 44 bytes: still too short.
        assert_eq!(
            p.check(&"🔑".repeat(11), &[]),
            Err(vec![TooShort { min: 12 }])
        );
        assert_eq!(p.check("           x", &[]), Ok(()), "spaces are allowed");
        assert_eq!(
            p.check("MÜLLER-straße-42", &["müller"]),
            Err(vec![ContainsContext])
        );
    }
}
