//! Process configuration: `config/gatehouse.toml` holds the defaults, and
//! `GATEHOUSE_*` environment variables override them (`GATEHOUSE_LISTEN`
//! overrides `listen`). Every key is documented in docs/configuration.md.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use figment::providers::{Env, Format as _, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// Where the defaults file is looked for when `GATEHOUSE_CONFIG` is not set.
pub const DEFAULT_CONFIG_PATH: &str = "config/gatehouse.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    Development,
    Production,
}

/// Every process setting. Field names are the TOML keys; the environment
/// variable is the upper-cased name prefixed with `GATEHOUSE_`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub environment: Environment,
    pub listen: SocketAddr,
    pub public_url: String,
    /// The server's own role: owns nothing, cannot bypass row-level security.
    pub database_url: String,
    /// The schema owner, used only by `gatehouse migrate`.
    pub database_admin_url: String,
    pub database_max_connections: u32,
    /// Connections kept apart for the token grants' one-call functions
    /// (`Db::tenant_call`), besides `database_max_connections`.
    pub database_grant_connections: u32,
    /// Threads hashing and verifying passwords (argon2id), below the
    /// executor's priority; 0 means one fewer than the cores, at least one.
    pub password_hash_threads: u32,
    /// Empty: no Redis, a single node on an in-process event bus.
    pub redis_url: String,
    /// Prefix of every Redis key and of the event channel (`{prefix}:events`).
    pub redis_prefix: String,
    /// Base64 of 32 random bytes. Required in production.
    pub master_key: String,
    pub master_key_id: String,
    /// Earlier master keys still needed to open values sealed under them:
    /// `id:base64,id:base64`. Keep each until everything it sealed was resealed.
    pub master_keys_previous: String,
    /// Scheduled signing-key rotation period, in days (0 disables it).
    pub key_rotation_days: u64,
    /// Tenant resolution strategies in order: custom_domain, subdomain, path, header.
    #[serde(deserialize_with = "list_or_csv")]
    pub tenant_resolution: Vec<String>,
    pub tenant_header: String,
    /// Base domain for subdomain tenants (`acme.{base_domain}`); empty disables it.
    pub base_domain: String,
    /// Reverse proxies (IP addresses or CIDR blocks) whose
    /// `X-Forwarded-For` names the client; empty trusts none.
    #[serde(deserialize_with = "list_or_csv")]
    pub trusted_proxies: Vec<String>,
    pub pool_max_size: u64,
    pub pool_idle_ttl_secs: u64,
    pub pool_housekeeping_secs: u64,
    /// How long a tenant lookup (hit or miss) is cached without an event.
    pub tenant_cache_ttl_secs: u64,
    pub tenant_cache_max_entries: u64,
    /// The platform's SMTP server: `smtp://user:pass@host:587` (STARTTLS),
    /// `smtps://user:pass@host:465` (implicit TLS), `smtp+plain://host:25`
    /// (unencrypted: loopback hosts or development only). Empty: no platform
    /// SMTP; only tenants with their own server can send mail.
    pub smtp_url: String,
    /// `From` of mail sent through `smtp_url`, e.g. `Gatehouse <no-reply@example.com>`.
    pub mail_from: String,
    /// tracing filter, e.g. `info,gatehouse=debug`.
    /// Management API requests per client and minute (0: no limit).
    pub api_rate_limit_per_minute: u64,
    /// The first platform administrator, created at `_platforms` on start
    /// when no user has this address there. Set both or neither; remove
    /// them once the administrator exists (the server warns while set).
    pub bootstrap_admin_email: String,
    pub bootstrap_admin_password: String,
    pub log: String,
    /// `json` or `text`; empty: json in production, text in development.
    pub log_format: String,
    /// Platform-wide settings sections (`[settings.oidc]` …), merged over the
    /// built-in defaults; tenants override them section by section.
    pub settings: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for Config {
    // Hand-written so that URLs with passwords and the master key never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("environment", &self.environment)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("redis", &!self.redis_url.is_empty())
            .field("tenant_resolution", &self.tenant_resolution)
            .field("base_domain", &self.base_domain)
            .field("smtp", &self.smtp_url().is_some())
            .field("mail_from", &self.mail_from)
            .field("bootstrap_admin", &!self.bootstrap_admin_email.is_empty())
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            environment: Environment::Development,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".into(),
            database_url: "postgres://gatehouse_app@127.0.0.1:5432/gatehouse".into(),
            database_admin_url: "postgres://gatehouse_owner@127.0.0.1:5432/gatehouse".into(),
            database_max_connections: 10,
            database_grant_connections: 4,
            password_hash_threads: 0,
            redis_url: "redis://127.0.0.1:6379".into(),
            redis_prefix: "gatehouse".into(),
            master_key: String::new(),
            master_key_id: "primary".into(),
            master_keys_previous: String::new(),
            key_rotation_days: 90,
            tenant_resolution: vec![
                "custom_domain".into(),
                "subdomain".into(),
                "path".into(),
                "header".into(),
            ],
            tenant_header: "x-tenant-id".into(),
            base_domain: String::new(),
            trusted_proxies: Vec::new(),
            pool_max_size: 50,
            pool_idle_ttl_secs: 1800,
            pool_housekeeping_secs: 60,
            tenant_cache_ttl_secs: 30,
            tenant_cache_max_entries: 10_000,
            smtp_url: String::new(),
            mail_from: String::new(),
            api_rate_limit_per_minute: 600,
            bootstrap_admin_email: String::new(),
            bootstrap_admin_password: String::new(),
            log: "info,sqlx=warn".into(),
            log_format: String::new(),
            settings: serde_json::Map::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Defaults compiled in, then the TOML file (if it exists), then the
    /// environment. `path` None means `GATEHOUSE_CONFIG` or the default path.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let path = path
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("GATEHOUSE_CONFIG").map(Into::into))
            .unwrap_or_else(|| DEFAULT_CONFIG_PATH.into());
        // Only variables naming a known key are read: other GATEHOUSE_*
        // variables (test harness settings, bootstrap credentials) are not
        // configuration keys and must not fail the load.
        let known = Config::keys();
        let figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(path))
            .merge(
                Env::prefixed("GATEHOUSE_")
                    .filter(move |k| known.iter().any(|n| k.as_str().eq_ignore_ascii_case(n)))
                    .map(|k| k.as_str().to_ascii_lowercase().into()),
            );
        let config: Config = figment.extract().map_err(Box::new)?;
        config.check()?;
        Ok(config)
    }

    /// The names of every key, for filtering the environment.
    pub fn keys() -> Vec<String> {
        match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// Checks that hold in every environment.
    fn check(&self) -> Result<(), ConfigError> {
        if self.database_max_connections == 0 {
            return Err(ConfigError::Invalid(
                "database_max_connections must be at least 1".into(),
            ));
        }
        if self.database_grant_connections == 0 {
            return Err(ConfigError::Invalid(
                "database_grant_connections must be at least 1".into(),
            ));
        }
        if self.password_hash_threads > 256 {
            return Err(ConfigError::Invalid(
                "password_hash_threads must be at most 256 (0: one fewer than the cores)".into(),
            ));
        }
        if self.pool_max_size == 0 {
            return Err(ConfigError::Invalid(
                "pool_max_size must be at least 1".into(),
            ));
        }
        if self.pool_housekeeping_secs == 0 || self.pool_idle_ttl_secs == 0 {
            return Err(ConfigError::Invalid(
                "pool_idle_ttl_secs and pool_housekeeping_secs must be at least 1".into(),
            ));
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid(
                "public_url (GATEHOUSE_PUBLIC_URL) must be an absolute http(s) URL".into(),
            ));
        }
        if self.public_url.ends_with('/') {
            return Err(ConfigError::Invalid(
                "public_url (GATEHOUSE_PUBLIC_URL) must not end with '/'".into(),
            ));
        }
        self.proxies()?;
        Ok(())
    }

    /// `trusted_proxies` parsed: each an IP address or a CIDR block.
    pub fn proxies(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                let p = p.trim();
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        ConfigError::Invalid(format!(
                            "trusted_proxies (GATEHOUSE_TRUSTED_PROXIES): {p:?} is not an IP address or CIDR block"
                        ))
                    })
            })
            .collect()
    }

    /// Checks that a server must pass before it serves: in production a
    /// strong master key and an https public URL. Returns every problem, each
    /// saying what to fix.
    /// The bootstrap administrator's email and password, when both are set.
    pub fn bootstrap_admin(&self) -> Option<(&str, &str)> {
        let email = self.bootstrap_admin_email.trim();
        (!email.is_empty() && !self.bootstrap_admin_password.is_empty())
            .then_some((email, self.bootstrap_admin_password.as_str()))
    }

    pub fn check_serve(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        // Tenants' signing keys are sealed under the master key, so every
        // environment needs one (scripts/up makes a development key).
        match self.keyring() {
            Ok(ring) if !ring.has_current() => problems.push(
                "GATEHOUSE_MASTER_KEY: missing: set it to the base64 of 32 random bytes, e.g. `head -c 32 /dev/urandom | base64`".to_owned(),
            ),
            Ok(_) => {}
            Err(e) => problems.push(e.to_string()),
        }
        if self.environment == Environment::Production && !self.public_url.starts_with("https://") {
            problems.push("GATEHOUSE_PUBLIC_URL must be an https:// URL in production".to_owned());
        }
        // The message names the key to fix and never contains the URL.
        if let Err(e) = crate::mail::SmtpSettings::from_config(self) {
            problems.push(e.to_string());
        }
        if self.bootstrap_admin_email.trim().is_empty() != self.bootstrap_admin_password.is_empty()
        {
            problems.push(
                "GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL and GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD: set both or neither"
                    .to_owned(),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems.join("; ")))
        }
    }

    /// The keyring of master keys: the current one (if set) and the
    /// previous ones. Errors name the variable to fix.
    pub fn keyring(&self) -> Result<crate::secretbox::Keyring, ConfigError> {
        let current = if self.master_key.trim().is_empty() {
            None
        } else {
            Some(
                MasterKey::parse(&self.master_key_id, &self.master_key)
                    .map_err(|e| ConfigError::Invalid(format!("GATEHOUSE_MASTER_KEY: {e}")))?,
            )
        };
        let mut previous = Vec::new();
        for entry in self
            .master_keys_previous
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (id, key) = entry.split_once(':').ok_or_else(|| {
                ConfigError::Invalid(
                    "GATEHOUSE_MASTER_KEYS_PREVIOUS: expected id:base64,id:base64".into(),
                )
            })?;
            previous.push(MasterKey::parse(id, key).map_err(|e| {
                ConfigError::Invalid(format!("GATEHOUSE_MASTER_KEYS_PREVIOUS ({id}): {e}"))
            })?);
        }
        let current_id = current.as_ref().map(|k| k.id.clone());
        for (i, k) in previous.iter().enumerate() {
            if current_id.as_deref() == Some(k.id.as_str())
                || previous[..i].iter().any(|p| p.id == k.id)
            {
                return Err(ConfigError::Invalid(format!(
                    "GATEHOUSE_MASTER_KEYS_PREVIOUS: key id {:?} is used twice; every master key needs its own id",
                    k.id
                )));
            }
        }
        Ok(crate::secretbox::Keyring::new(current, previous))
    }

    /// The scheduled signing-key rotation period; None when disabled.
    pub fn key_rotation_period(&self) -> Option<Duration> {
        (self.key_rotation_days > 0)
            .then(|| Duration::from_secs(self.key_rotation_days.saturating_mul(86_400)))
    }

    pub fn pool_idle_ttl(&self) -> Duration {
        Duration::from_secs(self.pool_idle_ttl_secs)
    }
    pub fn pool_housekeeping(&self) -> Duration {
        Duration::from_secs(self.pool_housekeeping_secs)
    }
    pub fn redis_url(&self) -> Option<&str> {
        Some(self.redis_url.trim()).filter(|s| !s.is_empty())
    }
    /// The platform's SMTP URL; None when empty (or blank).
    pub fn smtp_url(&self) -> Option<&str> {
        Some(self.smtp_url.trim()).filter(|s| !s.is_empty())
    }
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}

fn list_or_csv<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrCsv {
        List(Vec<String>),
        Csv(String),
    }
    Ok(match ListOrCsv::deserialize(d)? {
        ListOrCsv::List(v) => v,
        ListOrCsv::Csv(s) => s
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect(),
    })
}

/// The platform master key that encrypts tenants' private keys and secrets.
/// Its id travels with every ciphertext so the key can be rotated.
#[derive(Clone)]
pub struct MasterKey {
    pub id: String,
    bytes: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// Parses base64 (standard or URL-safe, padded or not) of exactly 32
    /// bytes, and refuses keys with visibly little entropy.
    pub fn parse(id: &str, b64: &str) -> Result<Self, String> {
        let b64 = b64.trim();
        if b64.is_empty() {
            return Err("missing: set it to the base64 of 32 random bytes, e.g. `head -c 32 /dev/urandom | base64`".into());
        }
        if id.is_empty() || id.len() > 64 {
            return Err("GATEHOUSE_MASTER_KEY_ID must be 1 to 64 characters".into());
        }
        let engines = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::URL_SAFE,
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        let raw = engines
            .iter()
            .find_map(|e| e.decode(b64).ok())
            .ok_or("not valid base64: set it to the base64 of 32 random bytes")?;
        let bytes: [u8; 32] = raw
            .try_into()
            .map_err(|_| "must decode to exactly 32 bytes (256 bits)".to_owned())?;
        let mut distinct = bytes.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 16 {
            return Err("too weak (too few distinct bytes): generate it from a random source, e.g. `head -c 32 /dev/urandom | base64`".into());
        }
        Ok(Self {
            id: id.to_owned(),
            bytes,
        })
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_names_only_known_keys_and_repeats_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/gatehouse.toml");
        let shipped: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file_exact(&path))
            .extract()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let d = Config::default();
        assert_eq!(shipped.master_keys_previous, d.master_keys_previous);
        assert_eq!(shipped.key_rotation_days, d.key_rotation_days);
        assert_eq!(shipped.master_key_id, d.master_key_id);
        assert_eq!(shipped.pool_max_size, d.pool_max_size);
        assert_eq!(shipped.password_hash_threads, d.password_hash_threads);
    }

    #[test]
    fn password_hash_threads_is_bounded() {
        let with = |n| Config {
            password_hash_threads: n,
            ..Config::default()
        };
        assert!(with(0).check().is_ok());
        assert!(with(256).check().is_ok());
        let err = with(257).check().unwrap_err().to_string();
        assert!(err.contains("password_hash_threads"), "{err}");
    }

    #[test]
    fn master_key_must_be_32_random_bytes() {
        assert!(MasterKey::parse("k", "").is_err());
        assert!(MasterKey::parse("k", "not base64!").is_err());
        let short = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
        assert!(MasterKey::parse("k", &short).is_err());
        let zeros = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
        assert!(MasterKey::parse("k", &zeros).unwrap_err().contains("weak"));
        let good: Vec<u8> = (0u8..32)
            .map(|i| i.wrapping_mul(37).wrapping_add(11))
            .collect();
        let good = base64::engine::general_purpose::STANDARD.encode(good);
        assert_eq!(MasterKey::parse("k1", &good).unwrap().id, "k1");
    }

    #[test]
    fn production_refuses_weak_key_and_plain_http() {
        let c = Config {
            environment: Environment::Production,
            ..Config::default()
        };
        let err = c.check_serve().unwrap_err().to_string();
        assert!(err.contains("GATEHOUSE_MASTER_KEY"), "{err}");
        assert!(err.contains("https"), "{err}");
        let dev = Config::default();
        assert!(dev
            .check_serve()
            .unwrap_err()
            .to_string()
            .contains("GATEHOUSE_MASTER_KEY"));
        let key = base64::engine::general_purpose::STANDARD.encode((0u8..32).collect::<Vec<_>>());
        let dev = Config {
            master_key: key,
            ..Config::default()
        };
        assert!(dev.check_serve().is_ok());
    }

    #[test]
    fn debug_hides_the_mail_server_password_and_serve_checks_the_mail_settings() {
        let key = base64::engine::general_purpose::STANDARD.encode((0u8..32).collect::<Vec<_>>());
        let c = Config {
            master_key: key,
            smtp_url: "smtps://mailer:hunter2-secret@smtp.example.com".into(),
            mail_from: "Gatehouse <no-reply@example.com>".into(),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("smtp: true"), "{shown}");
        assert!(c.check_serve().is_ok());
        let no_from = Config {
            mail_from: String::new(),
            ..c.clone()
        };
        let err = no_from.check_serve().unwrap_err().to_string();
        assert!(
            err.contains("GATEHOUSE_MAIL_FROM") && !err.contains("hunter2"),
            "{err}"
        );
        let plain = Config {
            environment: Environment::Production,
            public_url: "https://id.example.com".into(),
            smtp_url: "smtp+plain://mailer:hunter2-secret@smtp.example.com".into(),
            ..c
        };
        let err = plain.check_serve().unwrap_err().to_string();
        assert!(
            err.contains("smtp_url") && !err.contains("hunter2"),
            "{err}"
        );
    }

    #[test]
    fn resolution_order_accepts_a_comma_separated_string() {
        let c: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(("tenant_resolution", "header, path"))
            .extract()
            .unwrap();
        assert_eq!(c.tenant_resolution, vec!["header", "path"]);
    }
}
