//! Clients' public keys published at a `jwks_uri` (OpenID Connect Dynamic
//! Client Registration §2, RFC 7591 §2), for `private_key_jwt` client
//! authentication (OpenID Connect Core §9).
//!
//! A fetched JWK Set is cached for [`CACHE_TTL`]. An assertion whose `kid`
//! is not in the cached set makes one refetch (the client rotated its keys,
//! OpenID Connect Core §10.1.1), at most once per [`REFETCH_INTERVAL`] per
//! URI, so forged `kid`s cannot make this server hammer a client's host.
//! Fetches are bounded: [`TIMEOUT`] in all, [`MAX_BODY`] bytes, no
//! redirects, and the set must hold public keys only (as for inline sets).
//! Only `https` URIs are fetched, plus `http` on loopback hosts, or on any
//! host in development: the same rule as redirect URIs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;

use crate::clients::check_jwks;

pub const CACHE_TTL: Duration = Duration::from_secs(300);
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(30);
pub const TIMEOUT: Duration = Duration::from_secs(5);
pub const MAX_BODY: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the jwks_uri is not a URL this server fetches: {0}")]
    Uri(String),
    #[error("fetching the JWK Set failed: {0}")]
    Http(String),
    #[error("the JWK Set is not usable: {0}")]
    Invalid(String),
}

#[derive(Debug)]
struct Entry {
    set: Arc<JwkSet>,
    fetched: Instant,
}

/// Fetches and caches clients' JWK Sets; one per process, shared by tenants
/// (a set is public, and the cache is keyed by its URI).
#[derive(Clone)]
pub struct ClientKeys {
    http: reqwest::Client,
    cache: moka::future::Cache<String, Arc<Entry>>,
    allow_http: bool,
    refetch_interval: Duration,
}

impl std::fmt::Debug for ClientKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKeys")
            .field("cached", &self.cache.entry_count())
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// Whether `uri` may be registered and fetched as a `jwks_uri`: absolute
/// https (http only on loopback unless `allow_http`), no fragment, no
/// credentials.
pub fn check_jwks_uri(uri: &str, allow_http: bool) -> Result<url::Url, FetchError> {
    let url = url::Url::parse(uri).map_err(|e| FetchError::Uri(format!("{uri:?}: {e}")))?;
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::Uri(format!(
            "{uri:?} must have no fragment and no credentials"
        )));
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if loopback || allow_http => Ok(url),
        _ => Err(FetchError::Uri(format!(
            "{uri:?} must be https (http only on a loopback host)"
        ))),
    }
}

impl ClientKeys {
    /// `allow_http`: fetch plain-http URIs on any host (development).
    pub fn new(allow_http: bool) -> Result<Self, FetchError> {
        Self::with_refetch_interval(allow_http, REFETCH_INTERVAL)
    }

    /// As [`ClientKeys::new`], with another bound on refetches for an
    /// unknown `kid` (tests).
    pub fn with_refetch_interval(
        allow_http: bool,
        refetch_interval: Duration,
    ) -> Result<Self, FetchError> {
        // reqwest's rustls takes the process's default provider: aws-lc-rs,
        // the library the signing keys already use (ring is only reqwest's
        // fallback for clients built before this). Installing fails only
        // when a provider is installed already, which is as good.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("gatehouse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Http(e.to_string()))?;
        Ok(Self {
            http,
            cache: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(CACHE_TTL)
                .build(),
            allow_http,
            refetch_interval,
        })
    }

    /// The JWK Set at `uri`: the cached one, or a fresh fetch when none is
    /// cached or `want_kid` is missing from the cached one (and the last
    /// fetch is older than [`REFETCH_INTERVAL`]).
    pub async fn get(&self, uri: &str, want_kid: Option<&str>) -> Result<Arc<JwkSet>, FetchError> {
        if let Some(e) = self.cache.get(uri).await {
            let has_kid = want_kid.is_none_or(|k| e.set.find(k).is_some());
            if has_kid || e.fetched.elapsed() < self.refetch_interval {
                return Ok(e.set.clone());
            }
        }
        let set = Arc::new(self.fetch(uri).await?);
        self.cache
            .insert(
                uri.to_owned(),
                Arc::new(Entry {
                    set: set.clone(),
                    fetched: Instant::now(),
                }),
            )
            .await;
        Ok(set)
    }

    async fn fetch(&self, uri: &str) -> Result<JwkSet, FetchError> {
        let url = check_jwks_uri(uri, self.allow_http)?;
        let http = |e: reqwest::Error| FetchError::Http(e.without_url().to_string());
        let mut response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(http)?;
        if !response.status().is_success() {
            return Err(FetchError::Http(format!("status {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(http)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(FetchError::Invalid(format!("larger than {MAX_BODY} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        let value: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| FetchError::Invalid(e.to_string()))?;
        check_jwks(&value).map_err(|e| FetchError::Invalid(e.to_string()))?;
        serde_json::from_value(value).map_err(|e| FetchError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_fetched() {
        assert!(check_jwks_uri("https://rp.example/jwks.json", false).is_ok());
        assert!(check_jwks_uri("http://127.0.0.1:9000/jwks", false).is_ok());
        assert!(check_jwks_uri("http://[::1]/jwks", false).is_ok());
        assert!(check_jwks_uri("http://localhost/jwks", false).is_ok());
        assert!(check_jwks_uri("http://rp.example/jwks", false).is_err());
        assert!(check_jwks_uri("http://rp.example/jwks", true).is_ok());
        assert!(check_jwks_uri("https://rp.example/jwks#x", false).is_err());
        assert!(check_jwks_uri("https://u:p@rp.example/jwks", false).is_err());
        assert!(check_jwks_uri("file:///etc/passwd", true).is_err());
        assert!(check_jwks_uri("jwks.json", false).is_err());
    }
}
