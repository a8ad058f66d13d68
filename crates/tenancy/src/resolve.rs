//! Tenant resolution, the pure part: which tenant does a request address?
//!
//! Four strategies exist, tried in the operator's configured order
//! ([`ResolverConfig::order`]):
//!
//! - [`Strategy::CustomDomain`]: the normalised `Host` is looked up among the
//!   verified custom domains of all tenants. This needs the database, so this
//!   module only yields a [`Step::Domain`]; a miss means "try the next
//!   strategy". Hosts that can never be custom domains (IP literals,
//!   `localhost`, the base domain and its subdomains) are skipped here to save
//!   a lookup.
//! - [`Strategy::Subdomain`]: `Host` is `{slug}.{base_domain}`, e.g.
//!   `acme.auth.example.com`. Exactly one label is allowed in front of the base
//!   domain.
//! - [`Strategy::Path`]: the path starts with `/t/{slug}`; the caller strips that
//!   prefix (the `strip_prefix` of [`Step::Slug`]) before routing.
//! - [`Strategy::Header`]: a trusted reverse proxy names the slug in a header
//!   ([`ResolverConfig::header_name`]), taken verbatim.
//!
//! The first strategy that names a slug wins, even if a later one would name
//! another. A strategy that matches but names something that is not a valid
//! slug is an error ([`ResolveError::InvalidSlug`], HTTP 400), as is a
//! malformed `Host` header ([`ResolveError::InvalidHost`]) when a host-based
//! strategy needs it. [`steps`] evaluates lazily, so a broken value in a later
//! strategy never masks an earlier hit.
//!
//! Everything here is synchronous and free of I/O: the caller drives the
//! [`Steps`] iterator, performs the custom-domain lookups and the slug lookup,
//! and maps errors to responses. Request values are never echoed in errors.

use std::fmt;
use std::iter::FusedIterator;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use gatehouse_core::ids::{Slug, SLUG_MAX_LEN};
use http::{HeaderMap, HeaderName};
use percent_encoding::percent_decode_str;

/// Longest accepted raw `Host` header value, in bytes. A valid host is at most
/// 253 bytes plus a port; the margin covers IDNs in UTF-8 and bounds the work
/// done on hostile input.
const MAX_RAW_HOST_LEN: usize = 1024;
/// Longest host name (without the trailing dot), RFC 1035.
const MAX_HOST_LEN: usize = 253;
/// Longest DNS label.
const MAX_LABEL_LEN: usize = 63;
/// Prefix of the path strategy.
const PATH_PREFIX: &str = "/t/";

/// A way of finding the tenant of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The `Host` is a verified custom domain of a tenant.
    CustomDomain,
    /// The `Host` is `{slug}.{base_domain}`.
    Subdomain,
    /// The path starts with `/t/{slug}`.
    Path,
    /// A header set by a trusted proxy names the slug.
    Header,
}

impl Strategy {
    /// The configuration spelling: `custom_domain`, `subdomain`, `path`, `header`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::CustomDomain => "custom_domain",
            Self::Subdomain => "subdomain",
            Self::Path => "path",
            Self::Header => "header",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Strategy {
    type Err = String;

    /// Case-insensitive, surrounding whitespace ignored; `domain` is an alias
    /// of `custom_domain`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "custom_domain" | "domain" => Ok(Self::CustomDomain),
            "subdomain" => Ok(Self::Subdomain),
            "path" => Ok(Self::Path),
            "header" => Ok(Self::Header),
            _ => Err(format!(
                "unknown tenant resolution strategy {:?}: expected one of \
                 custom_domain, subdomain, path, header",
                s.trim()
            )),
        }
    }
}

/// How tenants are resolved; built once from configuration.
#[derive(Debug, Clone)]
pub struct ResolverConfig {
    /// Strategies in the order they are tried. No duplicates.
    pub order: Vec<Strategy>,
    /// Header of the [`Strategy::Header`] strategy.
    pub header_name: HeaderName,
    /// Lowercase ASCII (punycode), no leading or trailing dot, e.g. "auth.example.com". None disables the subdomain strategy.
    pub base_domain: Option<String>,
}

impl ResolverConfig {
    /// Validates the configuration. `header_name` is trimmed and must be a
    /// valid header name (any case). `base_domain` goes through
    /// [`normalize_host`] (so case, one trailing dot, a port and IDNs are
    /// accepted) and must not be an IP literal; `None`, an empty or a blank
    /// string disable the subdomain strategy. A strategy listed twice is an
    /// error.
    pub fn new(
        order: impl IntoIterator<Item = Strategy>,
        header_name: &str,
        base_domain: Option<&str>,
    ) -> Result<Self, String> {
        let mut seen = Vec::new();
        for strategy in order {
            if seen.contains(&strategy) {
                return Err(format!(
                    "tenant resolution strategy {strategy} is listed more than once"
                ));
            }
            seen.push(strategy);
        }
        let header = header_name.trim();
        let header_name = HeaderName::from_bytes(header.as_bytes())
            .map_err(|_| format!("invalid tenant header name {header:?}"))?;
        let base_domain = match base_domain.map(str::trim) {
            None | Some("") => None,
            Some(raw) => {
                let host = normalize_host(raw.as_bytes())
                    .map_err(|_| format!("invalid tenant base domain {raw:?}"))?;
                if is_ip_literal(&host) {
                    return Err(format!(
                        "tenant base domain {raw:?} must be a domain name, not an IP address"
                    ));
                }
                Some(host)
            }
        };
        Ok(Self {
            order: seen,
            header_name,
            base_domain,
        })
    }
}

/// Why a request cannot be resolved to a tenant. Both map to HTTP 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// A strategy matched but its slug is not valid.
    #[error("invalid tenant slug")]
    InvalidSlug,
    /// The `Host` header is present but malformed.
    #[error("invalid Host header")]
    InvalidHost,
}

/// One step of resolution, in configured order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Look this normalised host up among verified custom domains; a miss means "try the next strategy".
    Domain(String),
    /// The strategy named a slug: this is a hit (first hit wins); the caller looks the slug up and answers 404 if unknown.
    /// `strip_prefix` is the number of bytes of the request path to remove before routing (Some only for the Path strategy: the length of "/t/{raw segment}").
    Slug {
        /// The named slug, syntactically valid (maybe reserved, maybe unknown).
        slug: Slug,
        /// The strategy that named it.
        by: Strategy,
        /// Bytes of the path to strip before routing (Path strategy only).
        strip_prefix: Option<usize>,
    },
}

/// Normalise a `Host` header value.
///
/// The result is lowercase ASCII without port and without trailing dot:
/// - a domain name, IDN labels converted to punycode with
///   [`idna::domain_to_ascii`] (ASCII input, `xn--` labels included, is only
///   lowercased);
/// - an IPv4 address in dotted-decimal form, e.g. `127.0.0.1`;
/// - an IPv6 address in canonical compressed form and **kept in brackets**,
///   e.g. `[::1]` for `[0:0::1]:8080`, so that a normalised host never
///   contains a bare `:`.
///
/// One trailing dot is removed. Labels may contain `a-z`, `0-9`, `-` and `_`
/// (slugs such as `_platforms` must work as subdomains), 1 to 63 bytes each,
/// at most 253 bytes in all. A name whose last label is numeric must be a
/// valid IPv4 address. The port, if any, must be at most 5 digits and fit
/// in 16 bits; an empty port (`host:`) is accepted as RFC 3986 allows it.
/// Anything else — empty, not UTF-8, over 1024 bytes, whitespace, control
/// characters, `/`, `@`, `\`, `%`, `?`, `#`, empty labels, an unbracketed
/// IPv6 address, IPv6 zone identifiers — is [`ResolveError::InvalidHost`].
pub fn normalize_host(raw: &[u8]) -> Result<String, ResolveError> {
    const BAD: ResolveError = ResolveError::InvalidHost;
    if raw.is_empty() || raw.len() > MAX_RAW_HOST_LEN {
        return Err(BAD);
    }
    let s = std::str::from_utf8(raw).map_err(|_| BAD)?;
    if s.chars().any(|c| {
        c.is_whitespace() || c.is_control() || matches!(c, '/' | '@' | '\\' | '%' | '?' | '#')
    }) {
        return Err(BAD);
    }

    if let Some(rest) = s.strip_prefix('[') {
        let (addr, after) = rest.split_once(']').ok_or(BAD)?;
        if !after.is_empty() {
            check_port(after.strip_prefix(':').ok_or(BAD)?)?;
        }
        let ip: Ipv6Addr = addr.parse().map_err(|_| BAD)?;
        return Ok(format!("[{ip}]"));
    }

    let name = match s.split_once(':') {
        Some((name, port)) => {
            check_port(port)?;
            name
        }
        None => s,
    };
    let mut name = if name.is_ascii() {
        name.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(name).map_err(|_| BAD)?
    };
    if name.ends_with('.') {
        name.pop();
    }
    if name.is_empty() || name.len() > MAX_HOST_LEN {
        return Err(BAD);
    }
    let mut last = "";
    for label in name.split('.') {
        let ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_');
        if label.is_empty() || label.len() > MAX_LABEL_LEN || !label.bytes().all(ok) {
            return Err(BAD);
        }
        last = label;
    }
    if last.bytes().all(|b| b.is_ascii_digit()) {
        // A numeric top label is never a domain: this must be an IPv4 address.
        let ip: Ipv4Addr = name.parse().map_err(|_| BAD)?;
        return Ok(ip.to_string());
    }
    Ok(name)
}

/// `*DIGIT` that fits a `u16`; empty is allowed.
fn check_port(port: &str) -> Result<(), ResolveError> {
    let digits = port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    if digits && (port.is_empty() || port.parse::<u16>().is_ok()) {
        Ok(())
    } else {
        Err(ResolveError::InvalidHost)
    }
}

/// Whether a host returned by [`normalize_host`] is an IP address.
fn is_ip_literal(host: &str) -> bool {
    host.starts_with('[') || host.parse::<Ipv4Addr>().is_ok()
}

/// Whether a host returned by [`normalize_host`] can never be a custom
/// domain: an IP address, `localhost` and its subdomains, the base domain
/// `base` and its subdomains.
pub fn is_reserved_host(host: &str, base: Option<&str>) -> bool {
    is_ip_literal(host)
        || host == "localhost"
        || host.ends_with(".localhost")
        || base.is_some_and(|base| under_base(host, base).is_some())
}

/// `host` is `base` or a (possibly multi-level) subdomain of it; returns the
/// part in front of `.{base}`, or `""` for `base` itself.
fn under_base<'h>(host: &'h str, base: &str) -> Option<&'h str> {
    if host == base {
        return Some("");
    }
    host.strip_suffix(base)?.strip_suffix('.')
}

/// Lazily produce the steps in configured order.
///
/// Strategies that do not apply are skipped: no `Host` (custom domain,
/// subdomain), no base domain (subdomain), a path not under `/t/`, an absent
/// header. `host` is the raw `Host` header value (or the URI authority for
/// HTTP/2), `path` the request path without query string (anything from a `?`
/// is ignored anyway).
///
/// The iterator is fused and ends right after the first [`Step::Slug`] or the
/// first error, so later strategies are never evaluated: the caller stops at
/// the first `Slug`, at the first `Domain` that hits, or at the first `Err`.
pub fn steps<'a>(
    cfg: &'a ResolverConfig,
    host: Option<&'a [u8]>,
    path: &'a str,
    headers: &'a HeaderMap,
) -> Steps<'a> {
    Steps {
        cfg,
        host,
        path,
        headers,
        next: 0,
        host_cache: None,
        done: false,
    }
}

/// The iterator returned by [`steps`].
#[derive(Debug)]
pub struct Steps<'a> {
    cfg: &'a ResolverConfig,
    host: Option<&'a [u8]>,
    path: &'a str,
    headers: &'a HeaderMap,
    next: usize,
    /// The normalised host, computed on first use by a host-based strategy.
    host_cache: Option<Result<String, ResolveError>>,
    done: bool,
}

impl Steps<'_> {
    /// The normalised host, `None` when there is no `Host`.
    fn host(&mut self) -> Option<Result<&str, ResolveError>> {
        let raw = self.host?;
        let cached = self.host_cache.get_or_insert_with(|| normalize_host(raw));
        Some(cached.as_ref().map(String::as_str).map_err(|e| *e))
    }

    fn evaluate(&mut self, strategy: Strategy) -> Option<Result<Step, ResolveError>> {
        match strategy {
            Strategy::CustomDomain => self.custom_domain(),
            Strategy::Subdomain => self.subdomain(),
            Strategy::Path => path_slug(self.path),
            Strategy::Header => header_slug(self.headers, &self.cfg.header_name),
        }
    }

    fn custom_domain(&mut self) -> Option<Result<Step, ResolveError>> {
        let base = self.cfg.base_domain.as_deref();
        let host = match self.host()? {
            Ok(host) => host,
            Err(e) => return Some(Err(e)),
        };
        (!is_reserved_host(host, base)).then(|| Ok(Step::Domain(host.to_owned())))
    }

    fn subdomain(&mut self) -> Option<Result<Step, ResolveError>> {
        let base = self.cfg.base_domain.as_deref()?;
        let host = match self.host()? {
            Ok(host) => host,
            Err(e) => return Some(Err(e)),
        };
        let label = under_base(host, base).filter(|label| !label.is_empty())?;
        if label.contains('.') {
            return Some(Err(ResolveError::InvalidSlug));
        }
        Some(slug_step(label, Strategy::Subdomain, None))
    }
}

impl Iterator for Steps<'_> {
    type Item = Result<Step, ResolveError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let strategy = *self.cfg.order.get(self.next)?;
            self.next += 1;
            if let Some(item) = self.evaluate(strategy) {
                self.done = !matches!(item, Ok(Step::Domain(_)));
                return Some(item);
            }
        }
        None
    }
}

impl FusedIterator for Steps<'_> {}

fn slug_step(s: &str, by: Strategy, strip_prefix: Option<usize>) -> Result<Step, ResolveError> {
    let slug = Slug::parse(s).map_err(|_| ResolveError::InvalidSlug)?;
    Ok(Step::Slug {
        slug,
        by,
        strip_prefix,
    })
}

/// `/t/{segment}[/...]`: the segment is percent-decoded and must be a slug.
fn path_slug(path: &str) -> Option<Result<Step, ResolveError>> {
    let path = path.split('?').next().unwrap_or(path);
    let rest = path.strip_prefix(PATH_PREFIX)?;
    let raw = rest.split('/').next().unwrap_or(rest);
    let strip = PATH_PREFIX.len() + raw.len();
    // Each decoded byte takes at most three encoded ones.
    if raw.len() > 3 * SLUG_MAX_LEN {
        return Some(Err(ResolveError::InvalidSlug));
    }
    let Ok(decoded) = percent_decode_str(raw).decode_utf8() else {
        return Some(Err(ResolveError::InvalidSlug));
    };
    Some(slug_step(&decoded, Strategy::Path, Some(strip)))
}

/// Exactly one value, verbatim (neither trimmed nor lowercased).
fn header_slug(headers: &HeaderMap, name: &HeaderName) -> Option<Result<Step, ResolveError>> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() || value.len() > SLUG_MAX_LEN {
        return Some(Err(ResolveError::InvalidSlug));
    }
    let Ok(s) = std::str::from_utf8(value.as_bytes()) else {
        return Some(Err(ResolveError::InvalidSlug));
    };
    Some(slug_step(s, Strategy::Header, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    use Strategy::{CustomDomain, Header, Path, Subdomain};

    const BASE: &str = "auth.example.com";

    fn cfg(order: &[Strategy]) -> ResolverConfig {
        ResolverConfig::new(order.iter().copied(), "X-Tenant", Some(BASE)).unwrap()
    }

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append("x-tenant", HeaderValue::from_bytes(v).unwrap());
        }
        map
    }

    fn run(
        cfg: &ResolverConfig,
        host: Option<&[u8]>,
        path: &str,
        headers: &HeaderMap,
    ) -> Vec<Result<Step, ResolveError>> {
        steps(cfg, host, path, headers).collect()
    }

    fn run_one(
        order: Strategy,
        host: Option<&str>,
        path: &str,
        hdrs: &[&[u8]],
    ) -> Vec<Result<Step, ResolveError>> {
        run(
            &cfg(&[order]),
            host.map(str::as_bytes),
            path,
            &headers(hdrs),
        )
    }

    fn hit(slug: &str, by: Strategy, strip_prefix: Option<usize>) -> Result<Step, ResolveError> {
        Ok(Step::Slug {
            slug: Slug::parse(slug).unwrap(),
            by,
            strip_prefix,
        })
    }

    fn domain(host: &str) -> Result<Step, ResolveError> {
        Ok(Step::Domain(host.to_owned()))
    }

    fn norm(raw: &str) -> Result<String, ResolveError> {
        normalize_host(raw.as_bytes())
    }

    // --- Strategy -------------------------------------------------------

    #[test]
    fn strategy_parses_every_spelling_case_insensitively_and_trimmed() {
        for (text, want) in [
            ("custom_domain", CustomDomain),
            ("domain", CustomDomain),
            ("  Custom_Domain\t", CustomDomain),
            ("DOMAIN", CustomDomain),
            ("subdomain", Subdomain),
            ("SubDomain", Subdomain),
            ("path", Path),
            (" PATH ", Path),
            ("header", Header),
            ("Header\n", Header),
        ] {
            assert_eq!(text.parse::<Strategy>(), Ok(want), "{text:?}");
        }
    }

    #[test]
    fn strategy_parsing_rejects_unknown_names_with_a_readable_message() {
        for bad in ["", "host", "custom domain", "sub_domain", "paths"] {
            let err = bad.parse::<Strategy>().unwrap_err();
            assert!(
                err.contains("custom_domain, subdomain, path, header"),
                "{err}"
            );
        }
    }

    #[test]
    fn strategy_as_str_round_trips_through_from_str_and_display() {
        for s in [CustomDomain, Subdomain, Path, Header] {
            assert_eq!(s.as_str().parse::<Strategy>(), Ok(s));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(CustomDomain.as_str(), "custom_domain");
    }

    // --- ResolverConfig -------------------------------------------------

    #[test]
    fn config_accepts_a_header_name_in_any_case_and_lowercases_it() {
        let c = ResolverConfig::new([Header], " X-Gatehouse-Tenant ", None).unwrap();
        assert_eq!(c.header_name.as_str(), "x-gatehouse-tenant");
        assert_eq!(c.order, vec![Header]);
    }

    #[test]
    fn config_rejects_invalid_header_names() {
        for bad in ["", "   ", "x tenant", "x:tenant", "x-ténant"] {
            assert!(ResolverConfig::new([Header], bad, None).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn config_normalises_the_base_domain_like_a_host() {
        let c = ResolverConfig::new([Subdomain], "x-tenant", Some("Auth.Example.COM.")).unwrap();
        assert_eq!(c.base_domain.as_deref(), Some(BASE));
        let c = ResolverConfig::new([Subdomain], "x-tenant", Some("bücher.example")).unwrap();
        assert_eq!(c.base_domain.as_deref(), Some("xn--bcher-kva.example"));
    }

    #[test]
    fn config_treats_an_empty_base_domain_as_none() {
        for empty in [None, Some(""), Some("  ")] {
            let c = ResolverConfig::new([Subdomain], "x-tenant", empty).unwrap();
            assert_eq!(c.base_domain, None);
        }
    }

    #[test]
    fn config_rejects_malformed_or_ip_base_domains() {
        for bad in [
            "a..b",
            "example.com/x",
            "127.0.0.1",
            "[::1]",
            ".example.com",
        ] {
            assert!(
                ResolverConfig::new([Subdomain], "x-tenant", Some(bad)).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn config_rejects_a_strategy_listed_twice() {
        let err = ResolverConfig::new([Path, Header, Path], "x-tenant", None).unwrap_err();
        assert!(err.contains("path"), "{err}");
    }

    // --- normalize_host -------------------------------------------------

    #[test]
    fn host_is_lowercased_and_stripped_of_its_port() {
        assert_eq!(norm("Auth.Example.COM").unwrap(), BASE);
        assert_eq!(norm("auth.example.com:8443").unwrap(), BASE);
        assert_eq!(
            norm("ACME.auth.example.com:443").unwrap(),
            "acme.auth.example.com"
        );
        assert_eq!(norm("localhost:3000").unwrap(), "localhost");
        assert_eq!(norm("auth.example.com:").unwrap(), BASE);
    }

    #[test]
    fn host_loses_exactly_one_trailing_dot() {
        assert_eq!(norm("auth.example.com.").unwrap(), BASE);
        assert_eq!(norm("auth.example.com.:8080").unwrap(), BASE);
        assert_eq!(norm("auth.example.com.."), Err(ResolveError::InvalidHost));
        assert_eq!(norm("."), Err(ResolveError::InvalidHost));
    }

    #[test]
    fn ipv4_hosts_are_kept_in_dotted_decimal_without_port() {
        assert_eq!(norm("127.0.0.1").unwrap(), "127.0.0.1");
        assert_eq!(norm("10.1.2.3:8080").unwrap(), "10.1.2.3");
        assert_eq!(norm("10.1.2.3.").unwrap(), "10.1.2.3");
    }

    #[test]
    fn ipv6_literals_are_canonicalised_and_kept_in_brackets() {
        assert_eq!(norm("[::1]").unwrap(), "[::1]");
        assert_eq!(norm("[::1]:8080").unwrap(), "[::1]");
        assert_eq!(norm("[0:0:0:0:0:0:0:1]:443").unwrap(), "[::1]");
        assert_eq!(norm("[2001:DB8::A]").unwrap(), "[2001:db8::a]");
    }

    #[test]
    fn idn_hosts_become_punycode() {
        assert_eq!(
            norm("bücher.auth.example.com").unwrap(),
            "xn--bcher-kva.auth.example.com"
        );
        assert_eq!(
            norm("BÜCHER.Example.com:8080").unwrap(),
            "xn--bcher-kva.example.com"
        );
        assert_eq!(
            norm("bücher.example.com.").unwrap(),
            "xn--bcher-kva.example.com"
        );
    }

    #[test]
    fn ascii_punycode_labels_are_only_lowercased() {
        assert_eq!(
            norm("XN--BCHER-KVA.example.com").unwrap(),
            "xn--bcher-kva.example.com"
        );
    }

    #[test]
    fn host_labels_may_contain_underscores_for_reserved_slugs() {
        assert_eq!(
            norm("_platforms.auth.example.com").unwrap(),
            "_platforms.auth.example.com"
        );
    }

    #[test]
    fn malformed_hosts_are_rejected() {
        let long_label = format!("{}.example.com", "a".repeat(64));
        let long_host = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(62),
        ]
        .join(".");
        assert_eq!(long_host.len(), 254);
        let max_host = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        assert_eq!(norm(&max_host).unwrap().len(), 253);
        for bad in [
            "",
            " ",
            "a..b",
            ".example.com",
            "example.com/evil",
            "user@example.com",
            "exa mple.com",
            " example.com",
            "example.com\t",
            "exa\\mple.com",
            "exa%41mple.com",
            "example.com?x",
            "example.com#x",
            "exa\u{7}mple.com",
            "host:abc",
            "host:99999",
            "host:65536",
            "host:000080",
            "host:-1",
            "host:80:80",
            "::1",
            "[::1",
            "[::1]x",
            "[::1]:abc",
            "[::1]:99999",
            "[fe80::1%eth0]",
            "[not-an-ip]",
            "[127.0.0.1]",
            "1.2.3.999",
            "1.2.3",
            "example.123",
            "exa!mple.com",
            "exa*mple.com",
            "xn--bcher-kva..com",
            &long_label,
            &long_host,
        ] {
            assert_eq!(norm(bad), Err(ResolveError::InvalidHost), "{bad:?}");
        }
    }

    #[test]
    fn hosts_that_are_not_utf8_or_absurdly_long_are_rejected() {
        assert_eq!(
            normalize_host(b"ex\xffample.com"),
            Err(ResolveError::InvalidHost)
        );
        assert_eq!(normalize_host(b"b\xc3"), Err(ResolveError::InvalidHost));
        let huge = "a.".repeat(5000) + "com";
        assert_eq!(norm(&huge), Err(ResolveError::InvalidHost));
    }

    // --- CustomDomain ---------------------------------------------------

    #[test]
    fn custom_domain_yields_the_normalised_host_for_lookup() {
        let got = run_one(CustomDomain, Some("Login.Acme.COM.:443"), "/", &[]);
        assert_eq!(got, vec![domain("login.acme.com")]);
        let got = run_one(CustomDomain, Some("bücher.de"), "/", &[]);
        assert_eq!(got, vec![domain("xn--bcher-kva.de")]);
    }

    #[test]
    fn custom_domain_is_skipped_for_hosts_that_can_never_be_custom_domains() {
        for host in [
            "auth.example.com",
            "Auth.Example.com:8443",
            "acme.auth.example.com",
            "a.b.auth.example.com",
            "127.0.0.1:8080",
            "[::1]:8080",
            "localhost",
            "localhost:3000",
            "acme.localhost",
        ] {
            assert_eq!(
                run_one(CustomDomain, Some(host), "/", &[]),
                vec![],
                "{host}"
            );
        }
    }

    #[test]
    fn custom_domain_does_not_confuse_a_lookalike_suffix_with_the_base_domain() {
        let got = run_one(CustomDomain, Some("evilauth.example.com"), "/", &[]);
        assert_eq!(got, vec![domain("evilauth.example.com")]);
    }

    #[test]
    fn custom_domain_is_skipped_without_a_host() {
        assert_eq!(run_one(CustomDomain, None, "/", &[]), vec![]);
    }

    #[test]
    fn custom_domain_reports_a_malformed_host() {
        for bad in ["", "a..b", "host:abc", "x/y"] {
            let got = run_one(CustomDomain, Some(bad), "/", &[]);
            assert_eq!(got, vec![Err(ResolveError::InvalidHost)], "{bad:?}");
        }
    }

    #[test]
    fn custom_domain_checks_every_host_when_no_base_domain_is_configured() {
        let c = ResolverConfig::new([CustomDomain], "x-tenant", None).unwrap();
        let got = run(&c, Some(b"auth.example.com"), "/", &HeaderMap::new());
        assert_eq!(got, vec![domain(BASE)]);
    }

    #[test]
    fn a_custom_domain_step_is_followed_by_the_next_strategy_in_case_of_a_miss() {
        let c = cfg(&[CustomDomain, Path, Header]);
        let got = run(
            &c,
            Some(b"login.acme.com"),
            "/t/acme/authorize",
            &headers(&[b"other"]),
        );
        assert_eq!(
            got,
            vec![domain("login.acme.com"), hit("acme", Path, Some(7))]
        );
    }

    // --- Subdomain ------------------------------------------------------

    #[test]
    fn subdomain_names_the_slug_in_front_of_the_base_domain() {
        let got = run_one(Subdomain, Some("acme.auth.example.com"), "/", &[]);
        assert_eq!(got, vec![hit("acme", Subdomain, None)]);
    }

    #[test]
    fn subdomain_matches_after_case_port_and_trailing_dot_normalisation() {
        for host in [
            "ACME.Auth.Example.Com",
            "acme.auth.example.com:8443",
            "acme.auth.example.com.",
            "Acme.AUTH.example.com.:443",
        ] {
            assert_eq!(
                run_one(Subdomain, Some(host), "/", &[]),
                vec![hit("acme", Subdomain, None)],
                "{host}"
            );
        }
    }

    #[test]
    fn subdomain_turns_an_idn_label_into_a_punycode_slug() {
        let got = run(
            &cfg(&[Subdomain]),
            Some("bücher.auth.example.com".as_bytes()),
            "/",
            &HeaderMap::new(),
        );
        assert_eq!(got, vec![hit("xn--bcher-kva", Subdomain, None)]);
    }

    #[test]
    fn subdomain_resolves_reserved_slugs() {
        let got = run_one(Subdomain, Some("_platforms.auth.example.com"), "/", &[]);
        assert_eq!(got, vec![hit("_platforms", Subdomain, None)]);
    }

    #[test]
    fn subdomain_with_more_than_one_label_is_an_invalid_slug() {
        let got = run_one(Subdomain, Some("a.b.auth.example.com"), "/", &[]);
        assert_eq!(got, vec![Err(ResolveError::InvalidSlug)]);
    }

    #[test]
    fn subdomain_label_that_is_not_a_slug_is_an_invalid_slug() {
        for host in ["-acme.auth.example.com", "_mine.auth.example.com"] {
            let got = run_one(Subdomain, Some(host), "/", &[]);
            assert_eq!(got, vec![Err(ResolveError::InvalidSlug)], "{host}");
        }
    }

    #[test]
    fn subdomain_label_of_maximum_length_is_a_slug_and_a_longer_one_an_invalid_host() {
        let max = "a".repeat(SLUG_MAX_LEN);
        let got = run_one(Subdomain, Some(&format!("{max}.{BASE}")), "/", &[]);
        assert_eq!(got, vec![hit(&max, Subdomain, None)]);
        let got = run_one(Subdomain, Some(&format!("{max}a.{BASE}")), "/", &[]);
        assert_eq!(got, vec![Err(ResolveError::InvalidHost)]);
    }

    #[test]
    fn subdomain_is_skipped_for_the_base_domain_itself_and_unrelated_hosts() {
        for host in [
            "auth.example.com",
            "AUTH.example.com:443",
            "example.com",
            "evilauth.example.com",
            "acme.example.org",
            "127.0.0.1",
            "[::1]:80",
            "localhost",
        ] {
            assert_eq!(run_one(Subdomain, Some(host), "/", &[]), vec![], "{host}");
        }
    }

    #[test]
    fn subdomain_is_skipped_without_a_host() {
        assert_eq!(run_one(Subdomain, None, "/", &[]), vec![]);
    }

    #[test]
    fn subdomain_is_disabled_without_a_base_domain_even_for_a_malformed_host() {
        let c = ResolverConfig::new([Subdomain], "x-tenant", None).unwrap();
        assert_eq!(
            run(&c, Some(b"acme.auth.example.com"), "/", &HeaderMap::new()),
            vec![]
        );
        assert_eq!(run(&c, Some(b"a..b"), "/", &HeaderMap::new()), vec![]);
    }

    #[test]
    fn subdomain_reports_a_malformed_host() {
        for bad in [
            "",
            "acme..auth.example.com",
            "acme.auth.example.com:99999",
            "ac me.auth.example.com",
        ] {
            assert_eq!(
                run_one(Subdomain, Some(bad), "/", &[]),
                vec![Err(ResolveError::InvalidHost)],
                "{bad:?}"
            );
        }
    }

    // --- Path -----------------------------------------------------------

    #[test]
    fn path_names_the_slug_and_the_prefix_to_strip() {
        assert_eq!(
            run_one(Path, None, "/t/acme/x", &[]),
            vec![hit("acme", Path, Some(7))]
        );
        assert_eq!(
            run_one(Path, None, "/t/acme", &[]),
            vec![hit("acme", Path, Some(7))]
        );
        assert_eq!(
            run_one(Path, None, "/t/acme/", &[]),
            vec![hit("acme", Path, Some(7))]
        );
        assert_eq!(
            run_one(Path, None, "/t/acme/.well-known/openid-configuration", &[]),
            vec![hit("acme", Path, Some(7))]
        );
    }

    #[test]
    fn path_strip_prefix_counts_the_raw_percent_encoded_segment() {
        assert_eq!(
            run_one(Path, None, "/t/%61cme/x", &[]),
            vec![hit("acme", Path, Some(9))]
        );
        assert_eq!(
            run_one(Path, None, "/t/%61%63%6d%65", &[]),
            vec![hit("acme", Path, Some(15))]
        );
        let path = "/t/%61cme/x";
        assert_eq!(&path[9..], "/x");
    }

    #[test]
    fn path_ignores_a_query_string_passed_by_mistake() {
        assert_eq!(
            run_one(Path, None, "/t/acme?x=1", &[]),
            vec![hit("acme", Path, Some(7))]
        );
    }

    #[test]
    fn path_resolves_reserved_slugs() {
        assert_eq!(
            run_one(Path, None, "/t/_platforms/x", &[]),
            vec![hit("_platforms", Path, Some(13))]
        );
        assert_eq!(
            run_one(Path, None, "/t/default", &[]),
            vec![hit("default", Path, Some(10))]
        );
    }

    #[test]
    fn path_segments_that_are_not_slugs_are_invalid() {
        let long = format!("/t/{}/x", "a".repeat(64));
        let encoded_long = format!("/t/{}/x", "%61".repeat(64));
        for bad in [
            "/t/",
            "/t//x",
            "/t/../x",
            "/t/..",
            "/t/./x",
            "/t/%2e%2e/x",
            "/t/%2E%2E",
            "/t/a%2Fb",
            "/t/a%2fb/x",
            "/t/ACME/x",
            "/t/acme%20/x",
            "/t/%ff/x",
            "/t/%c3/x",
            "/t/%zz/x",
            "/t/%/x",
            "/t/_mine/x",
            "/t/-acme",
            "/t/a.b",
            "/t/bücher",
            &long,
            &encoded_long,
        ] {
            assert_eq!(
                run_one(Path, None, bad, &[]),
                vec![Err(ResolveError::InvalidSlug)],
                "{bad}"
            );
        }
    }

    #[test]
    fn path_accepts_a_percent_encoded_slug_of_maximum_length() {
        let path = format!("/t/{}/x", "%61".repeat(63));
        assert_eq!(
            run_one(Path, None, &path, &[]),
            vec![hit(&"a".repeat(63), Path, Some(3 + 189))]
        );
    }

    #[test]
    fn path_is_skipped_outside_the_tenant_prefix() {
        for path in [
            "/",
            "",
            "/t",
            "/tenant",
            "/tenant/acme",
            "/x/t/acme",
            "t/acme",
            "//t/acme",
            "/T/acme",
        ] {
            assert_eq!(run_one(Path, None, path, &[]), vec![], "{path}");
        }
    }

    // --- Header ---------------------------------------------------------

    #[test]
    fn header_names_the_slug_verbatim() {
        assert_eq!(
            run_one(Header, None, "/", &[b"acme"]),
            vec![hit("acme", Header, None)]
        );
    }

    #[test]
    fn header_resolves_reserved_slugs() {
        assert_eq!(
            run_one(Header, None, "/", &[b"_platforms"]),
            vec![hit("_platforms", Header, None)]
        );
    }

    #[test]
    fn header_is_skipped_when_absent() {
        assert_eq!(run_one(Header, None, "/", &[]), vec![]);
        let mut other = HeaderMap::new();
        other.insert("x-other", HeaderValue::from_static("acme"));
        assert_eq!(run(&cfg(&[Header]), None, "/", &other), vec![]);
    }

    #[test]
    fn header_uses_the_configured_name() {
        let c = ResolverConfig::new([Header], "X-Gatehouse-Tenant", None).unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-gatehouse-tenant", HeaderValue::from_static("acme"));
        h.insert("x-tenant", HeaderValue::from_static("other"));
        assert_eq!(run(&c, None, "/", &h), vec![hit("acme", Header, None)]);
    }

    #[test]
    fn header_given_twice_is_an_invalid_slug_even_when_both_agree() {
        assert_eq!(
            run_one(Header, None, "/", &[b"acme", b"acme"]),
            vec![Err(ResolveError::InvalidSlug)]
        );
        assert_eq!(
            run_one(Header, None, "/", &[b"acme", b"other"]),
            vec![Err(ResolveError::InvalidSlug)]
        );
    }

    #[test]
    fn header_longer_than_a_slug_is_an_invalid_slug() {
        let huge = vec![b'a'; 10 * 1024];
        assert_eq!(
            run_one(Header, None, "/", &[&huge]),
            vec![Err(ResolveError::InvalidSlug)]
        );
        let just_over = vec![b'a'; SLUG_MAX_LEN + 1];
        assert_eq!(
            run_one(Header, None, "/", &[&just_over]),
            vec![Err(ResolveError::InvalidSlug)]
        );
        let max = vec![b'a'; SLUG_MAX_LEN];
        assert_eq!(
            run_one(Header, None, "/", &[&max]),
            vec![hit(&"a".repeat(SLUG_MAX_LEN), Header, None)]
        );
    }

    #[test]
    fn header_is_neither_lowercased_nor_trimmed() {
        for bad in [
            &b"ACME"[..],
            b"Acme",
            b"acme ",
            b"a cme",
            b"",
            b"-acme",
            b"_mine",
        ] {
            assert_eq!(
                run_one(Header, None, "/", &[bad]),
                vec![Err(ResolveError::InvalidSlug)],
                "{bad:?}"
            );
        }
    }

    #[test]
    fn header_that_is_not_utf8_is_an_invalid_slug() {
        assert_eq!(
            run_one(Header, None, "/", &[b"acm\xe9"]),
            vec![Err(ResolveError::InvalidSlug)]
        );
    }

    // --- Order and laziness ---------------------------------------------

    #[test]
    fn when_header_and_subdomain_disagree_the_first_in_order_wins() {
        let host = Some(&b"acme.auth.example.com"[..]);
        let h = headers(&[b"other"]);
        assert_eq!(
            run(&cfg(&[Subdomain, Header]), host, "/", &h),
            vec![hit("acme", Subdomain, None)]
        );
        assert_eq!(
            run(&cfg(&[Header, Subdomain]), host, "/", &h),
            vec![hit("other", Header, None)]
        );
    }

    #[test]
    fn when_path_and_header_disagree_the_first_in_order_wins() {
        let h = headers(&[b"other"]);
        assert_eq!(
            run(&cfg(&[Path, Header]), None, "/t/acme/x", &h),
            vec![hit("acme", Path, Some(7))]
        );
        assert_eq!(
            run(&cfg(&[Header, Path]), None, "/t/acme/x", &h),
            vec![hit("other", Header, None)]
        );
    }

    #[test]
    fn an_invalid_header_does_not_matter_when_the_path_comes_first_and_hits() {
        let h = headers(&[b"NOT A SLUG"]);
        let c = cfg(&[Path, Header]);
        assert_eq!(
            run(&c, None, "/t/acme/x", &h),
            vec![hit("acme", Path, Some(7))]
        );
    }

    #[test]
    fn an_invalid_header_is_reported_when_it_comes_first() {
        let h = headers(&[b"NOT A SLUG"]);
        let c = cfg(&[Header, Path]);
        assert_eq!(
            run(&c, None, "/t/acme/x", &h),
            vec![Err(ResolveError::InvalidSlug)]
        );
    }

    #[test]
    fn a_malformed_host_does_not_matter_when_an_earlier_strategy_hits() {
        let c = cfg(&[Header, CustomDomain, Subdomain]);
        assert_eq!(
            run(&c, Some(b"a..b:xyz"), "/", &headers(&[b"acme"])),
            vec![hit("acme", Header, None)]
        );
    }

    #[test]
    fn a_skipped_strategy_lets_the_next_one_decide() {
        let c = cfg(&[Header, Path, Subdomain, CustomDomain]);
        let got = run(
            &c,
            Some(b"acme.auth.example.com"),
            "/authorize",
            &HeaderMap::new(),
        );
        assert_eq!(got, vec![hit("acme", Subdomain, None)]);
        let got = run(&c, Some(b"login.acme.com"), "/authorize", &HeaderMap::new());
        assert_eq!(got, vec![domain("login.acme.com")]);
    }

    #[test]
    fn the_iterator_ends_after_the_first_error() {
        let c = cfg(&[Path, Header]);
        let h = HeaderMap::new();
        let mut it = steps(&c, None, "/t/../x", &h);
        assert_eq!(it.next(), Some(Err(ResolveError::InvalidSlug)));
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
    }

    #[test]
    fn the_iterator_ends_after_the_first_slug() {
        let c = cfg(&[Path, Header]);
        let h = headers(&[b"other"]);
        let mut it = steps(&c, None, "/t/acme", &h);
        assert_eq!(it.next(), Some(hit("acme", Path, Some(7))));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn nothing_is_produced_when_nothing_applies() {
        let c = cfg(&[CustomDomain, Subdomain, Path, Header]);
        assert_eq!(run(&c, None, "/authorize", &HeaderMap::new()), vec![]);
        let empty = ResolverConfig::new([], "x-tenant", Some(BASE)).unwrap();
        assert_eq!(
            run(
                &empty,
                Some(b"acme.auth.example.com"),
                "/t/acme",
                &headers(&[b"acme"])
            ),
            vec![]
        );
    }
}
