//! Identifiers and validated newtypes. Parse, don't validate: the constructors
//! here are the only way to obtain a value, so code holding a [`Slug`] or a
//! [`TenantId`] never re-checks it.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The slug of the implicit tenant of a single-tenant deployment and the
/// development fallback.
pub const DEFAULT_SLUG: &str = "default";
/// The stateless operations tenant: health, readiness, metrics.
pub const OPS_SLUG: &str = "_ops";
/// The operator's own tenant, home of `/platform`.
pub const PLATFORMS_SLUG: &str = "_platforms";
/// Every reserved slug. They resolve by every strategy but can never be
/// created, renamed or deleted through the product.
pub const RESERVED_SLUGS: [&str; 3] = [DEFAULT_SLUG, OPS_SLUG, PLATFORMS_SLUG];

/// Longest slug: one DNS label.
pub const SLUG_MAX_LEN: usize = 63;

/// A tenant's primary key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(Uuid);

impl TenantId {
    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }
    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }
    pub const fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a string is not a slug. The offending value is deliberately not kept:
/// it comes from request headers and must not be echoed or logged unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("a tenant slug must match ^[a-z0-9][a-z0-9_-]{{0,62}}$")]
    Invalid,
    #[error("this slug is reserved")]
    Reserved,
    #[error("slugs starting with '_' are reserved for the platform")]
    Underscore,
}

/// A tenant slug matching `^[a-z0-9][a-z0-9_-]{0,62}$`, or one of the reserved
/// slugs (`_ops`, `_platforms` start with an underscore).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    /// Accepts any slug a request may name: the pattern, or a reserved slug.
    pub fn parse(s: &str) -> Result<Self, SlugError> {
        if RESERVED_SLUGS.contains(&s) || matches_pattern(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(SlugError::Invalid)
        }
    }

    /// Accepts only slugs a tenant may be created with (or renamed to): the
    /// pattern, not reserved, not starting with `_`.
    pub fn parse_new(s: &str) -> Result<Self, SlugError> {
        if RESERVED_SLUGS.contains(&s) {
            return Err(SlugError::Reserved);
        }
        if s.starts_with('_') {
            return Err(SlugError::Underscore);
        }
        if !matches_pattern(s) {
            return Err(SlugError::Invalid);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_reserved(&self) -> bool {
        RESERVED_SLUGS.contains(&self.0.as_str())
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Slug::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// `^[a-z0-9][a-z0-9_-]{0,62}$`, written out: cheaper than a regex engine on
/// the per-request path and obviously bounded.
fn matches_pattern(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit() => {}
        _ => return false,
    }
    b.len() <= SLUG_MAX_LEN
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_pattern_accepts_and_refuses() {
        for ok in ["a", "acme", "0", "a-b_c", &"a".repeat(63)] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
            assert!(Slug::parse_new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "_x",
            "A",
            "acMe",
            "a.b",
            "a b",
            "é",
            &"a".repeat(64),
            "..",
            "a/b",
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reserved_slugs_resolve_but_cannot_be_created() {
        for r in RESERVED_SLUGS {
            assert!(Slug::parse(r).unwrap().is_reserved());
            assert_eq!(Slug::parse_new(r), Err(SlugError::Reserved));
        }
        assert_eq!(Slug::parse_new("_mine"), Err(SlugError::Underscore));
        assert_eq!(Slug::parse("_mine"), Err(SlugError::Invalid));
    }
}
