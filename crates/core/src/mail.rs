//! Outgoing email over SMTP (RFC 5321), sent with lettre: a tenant's own SMTP
//! server when its settings name one, else the platform's (`smtp_url`).
//! Messages are multipart/alternative (RFC 2046 §5.1.4) with a text and an
//! HTML part; the caller renders both.
//!
//! Secrets: a tenant's SMTP password is stored sealed under the platform
//! master key, bound to the tenant (see [`seal_password`]); it is opened only
//! when the settings are parsed, and no `Debug` output here prints it. Message
//! bodies carry single-use links, so nothing here logs them; the recipient's
//! domain is logged at debug level, never the address.
//!
//! Policy: unencrypted SMTP is allowed to a loopback host, or to any host in
//! development. Outside development, a tenant's SMTP host must resolve to
//! public addresses only, so that tenant settings cannot make the server
//! connect to its own network (loopback, private, link-local ranges).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::config::Config;
use crate::ids::TenantId;
use crate::secretbox::{Keyring, SealError, Sealed};

/// The default deadline of one send.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How many distinct SMTP servers' transports a process keeps ready.
const TRANSPORT_CACHE_MAX: u64 = 1_000;
/// A transport unused for this long is dropped (and rebuilt on next use).
const TRANSPORT_CACHE_IDLE: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Neither the tenant nor the platform has an SMTP server.
    #[error(
        "no SMTP server is configured (GATEHOUSE_SMTP_URL, or the tenant's notifications.smtp)"
    )]
    NotConfigured,
    /// The SMTP settings are malformed. The message never contains a password.
    #[error("SMTP settings: {0}")]
    Settings(String),
    /// The tenant's sealed SMTP password does not open (other tenant, other
    /// master key, tampered).
    #[error("SMTP password: {0}")]
    Password(#[source] SealError),
    /// The settings are well-formed but the policy refuses them.
    #[error("SMTP refused: {0}")]
    Refused(String),
    /// The recipient is not a valid mailbox (not echoed: it is personal data).
    #[error("the recipient is not a valid email address")]
    Recipient,
    #[error("building the message: {0}")]
    Message(String),
    #[error("the SMTP host does not resolve")]
    Unresolvable,
    /// Connecting, TLS, authentication or the SMTP dialogue failed.
    #[error("SMTP: {0}")]
    Smtp(#[source] lettre::transport::smtp::Error),
    /// The whole send took longer than the mailer's timeout.
    #[error("the SMTP server did not complete the send within {0:?}")]
    Timeout(Duration),
}

/// A secret string whose `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (RFC 3207), which is required:
    /// a server that does not offer it is refused. Port 587 by default.
    Starttls,
    /// TLS from the first byte ("implicit TLS", RFC 8314). Port 465 by default.
    Tls,
    /// No encryption: only to a loopback host, or in development. Port 25.
    None,
}

impl SmtpSecurity {
    pub fn default_port(self) -> u16 {
        match self {
            Self::Starttls => 587,
            Self::Tls => 465,
            Self::None => 25,
        }
    }
}

/// One SMTP server and the sender address used with it.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// The `From` mailbox, e.g. `Acme <no-reply@acme.example>`.
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .finish()
    }
}

/// The tenant's `notifications.smtp` document.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantSmtpDoc {
    host: String,
    port: Option<u16>,
    security: Option<SmtpSecurity>,
    username: Option<String>,
    /// Parsed by hand: a serde error would echo a clear password put here.
    password_sealed: Option<serde_json::Value>,
    /// Present only to refuse it with a message that does not echo it.
    password: Option<serde::de::IgnoredAny>,
    from: String,
}

fn password_aad(tenant: TenantId) -> Vec<u8> {
    format!("gatehouse/smtp-password/{tenant}").into_bytes()
}

/// Seals a tenant's SMTP password under the current master key, bound to the
/// tenant. The result is the value of `password_sealed` in the tenant's
/// `notifications.smtp`: `{"key_id": "…", "blob": "base64…"}`.
pub fn seal_password(
    keyring: &Keyring,
    tenant: TenantId,
    clear: &str,
) -> Result<serde_json::Value, SealError> {
    let sealed = keyring.seal(clear.as_bytes(), &password_aad(tenant))?;
    Ok(serde_json::json!({
        "key_id": sealed.key_id,
        "blob": base64::engine::general_purpose::STANDARD.encode(sealed.blob),
    }))
}

fn open_password(
    keyring: &Keyring,
    tenant: TenantId,
    doc: &serde_json::Value,
) -> Result<Secret, MailError> {
    let bad = || MailError::Settings("password_sealed must be {\"key_id\": …, \"blob\": …}".into());
    let key_id = doc.get("key_id").and_then(|v| v.as_str()).ok_or_else(bad)?;
    let blob = doc.get("blob").and_then(|v| v.as_str()).ok_or_else(bad)?;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .map_err(|_| bad())?;
    let sealed = Sealed {
        key_id: key_id.to_owned(),
        blob,
    };
    let clear = keyring
        .open(&sealed, &password_aad(tenant))
        .map_err(MailError::Password)?;
    String::from_utf8(clear)
        .map(Secret)
        .map_err(|_| MailError::Settings("the SMTP password is not UTF-8".into()))
}

impl SmtpSettings {
    /// Reads `smtp` from a tenant's `notifications` section: None when the
    /// key is absent or null.
    pub fn from_notifications(
        notifications: &serde_json::Value,
        keyring: &Keyring,
        tenant: TenantId,
    ) -> Result<Option<Self>, MailError> {
        match notifications.get("smtp") {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(smtp) => Self::from_tenant_json(smtp, keyring, tenant).map(Some),
        }
    }

    /// Parses a tenant's SMTP document and opens its sealed password, which
    /// only opens for the tenant it was sealed for.
    pub fn from_tenant_json(
        smtp: &serde_json::Value,
        keyring: &Keyring,
        tenant: TenantId,
    ) -> Result<Self, MailError> {
        let doc = TenantSmtpDoc::deserialize(smtp)
            .map_err(|e| MailError::Settings(format!("notifications.smtp: {e}")))?;
        if doc.password.is_some() {
            return Err(MailError::Settings(
                "notifications.smtp: the password must be stored sealed (password_sealed), never in clear".into(),
            ));
        }
        let password = doc
            .password_sealed
            .as_ref()
            .map(|p| open_password(keyring, tenant, p))
            .transpose()?;
        let security = doc.security.unwrap_or(SmtpSecurity::Starttls);
        Self::checked(Self {
            host: doc.host.trim().to_owned(),
            port: doc.port.unwrap_or_else(|| security.default_port()),
            security,
            username: doc.username.filter(|u| !u.is_empty()),
            password,
            from: doc.from.trim().to_owned(),
        })
    }

    /// Parses the platform's `smtp_url`:
    ///
    /// - `smtp://[user[:password]@]host[:port]`: STARTTLS, required; port 587;
    /// - `smtps://…`: implicit TLS; port 465;
    /// - `smtp+plain://…`: unencrypted; port 25; refused unless
    ///   `allow_plaintext` or the host is loopback.
    ///
    /// User and password are percent-decoded. No path, query or fragment.
    /// Errors never contain the URL (it holds the password).
    pub fn from_url(url: &str, from: &str, allow_plaintext: bool) -> Result<Self, MailError> {
        let bad =
            |what: &str| MailError::Settings(format!("smtp_url (GATEHOUSE_SMTP_URL): {what}"));
        let parsed = url::Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
        let security = match parsed.scheme() {
            "smtp" => SmtpSecurity::Starttls,
            "smtps" => SmtpSecurity::Tls,
            "smtp+plain" => SmtpSecurity::None,
            _ => return Err(bad("the scheme must be smtp, smtps or smtp+plain")),
        };
        if !matches!(parsed.path(), "" | "/")
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return Err(bad("no path, query or fragment is allowed"));
        }
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            None => return Err(bad("a host is required")),
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| bad("user and password must be UTF-8 once percent-decoded"))
        };
        let username = Some(decode(parsed.username())?).filter(|u| !u.is_empty());
        let password = parsed.password().map(decode).transpose()?.map(Secret);
        let settings = Self::checked(Self {
            host,
            port: parsed.port().unwrap_or_else(|| security.default_port()),
            security,
            username,
            password,
            from: from.trim().to_owned(),
        })
        .map_err(|e| match e {
            MailError::Settings(m) if m.starts_with("from") => {
                MailError::Settings(format!("mail_from (GATEHOUSE_MAIL_FROM): {m}"))
            }
            other => other,
        })?;
        if settings.security == SmtpSecurity::None
            && !allow_plaintext
            && !is_loopback_host(&settings.host)
        {
            return Err(bad(
                "smtp+plain:// (unencrypted) is only allowed to a loopback host, or in development",
            ));
        }
        Ok(settings)
    }

    /// The platform's settings from `smtp_url` and `mail_from`; None when
    /// `smtp_url` is empty.
    pub fn from_config(config: &Config) -> Result<Option<Self>, MailError> {
        match config.smtp_url() {
            None => Ok(None),
            Some(url) => Self::from_url(url, &config.mail_from, !config.is_production()).map(Some),
        }
    }

    fn checked(self) -> Result<Self, MailError> {
        let bad = |m: &str| Err(MailError::Settings(m.to_owned()));
        if self.host.is_empty()
            || self.host.len() > 253
            || self
                .host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "/@".contains(c))
        {
            return bad("host must be a host name or an IP address");
        }
        if self.port == 0 {
            return bad("port must be 1 to 65535");
        }
        if self.from.is_empty() {
            return bad("from is required, e.g. \"Acme <no-reply@acme.example>\"");
        }
        if self.from.parse::<Mailbox>().is_err() {
            return bad("from must be a mailbox, e.g. \"Acme <no-reply@acme.example>\"");
        }
        if self.username.is_some() != self.password.is_some() {
            return bad("username and password go together: set both or neither");
        }
        Ok(self)
    }

    /// The transport cache key: every field that shapes the connection,
    /// hashed so that the password is not kept as a key.
    fn cache_key(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        let sec: &[u8] = match self.security {
            SmtpSecurity::Starttls => b"starttls",
            SmtpSecurity::Tls => b"tls",
            SmtpSecurity::None => b"none",
        };
        let user = self.username.as_deref().unwrap_or_default();
        let pass = self
            .password
            .as_ref()
            .map(Secret::expose)
            .unwrap_or_default();
        for part in [
            self.host.as_bytes(),
            &self.port.to_be_bytes(),
            sec,
            user.as_bytes(),
            pass.as_bytes(),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        h.finalize().into()
    }
}

/// A rendered message, ready to send.
#[derive(Clone)]
pub struct OutgoingMail {
    /// The recipient: `user@example.com` or `Name <user@example.com>`.
    pub to: String,
    pub subject: String,
    pub text: String,
    /// Empty: a text-only message.
    pub html: String,
}

impl std::fmt::Debug for OutgoingMail {
    // The body carries single-use links; the address is personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingMail")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// How a [`Mailer`] behaves.
#[derive(Debug, Clone)]
pub struct MailerOptions {
    /// Deadline of one send: resolving, connecting, TLS, authentication and
    /// the SMTP dialogue together. Also lettre's connect timeout.
    pub timeout: Duration,
    /// Development: unencrypted SMTP to any host, and tenant SMTP hosts on
    /// internal addresses, are allowed.
    pub development: bool,
    /// The name sent with EHLO: a domain or an IP address. None: `[127.0.0.1]`.
    pub hello_name: Option<String>,
}

impl Default for MailerOptions {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            development: false,
            hello_name: None,
        }
    }
}

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Sends mail. Build one per process and share it: it keeps one lettre
/// transport per SMTP server (keyed by host, port, security, user and a
/// digest of the password) so TLS configuration is built once per server.
/// Connections are not pooled: each mail is one SMTP session, which a
/// timeout can abandon without leaving a half-read connection behind.
pub struct Mailer {
    platform: Option<SmtpSettings>,
    options: MailerOptions,
    hello: ClientId,
    transports: moka::future::Cache<[u8; 32], Arc<Transport>>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("platform", &self.platform)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    pub fn new(platform: Option<SmtpSettings>, options: MailerOptions) -> Self {
        let hello = options
            .hello_name
            .as_deref()
            .map(client_id)
            .unwrap_or(ClientId::Ipv4(Ipv4Addr::LOCALHOST));
        Self {
            platform,
            options,
            hello,
            transports: moka::future::Cache::builder()
                .max_capacity(TRANSPORT_CACHE_MAX)
                .time_to_idle(TRANSPORT_CACHE_IDLE)
                .build(),
        }
    }

    /// The platform mailer: `smtp_url` and `mail_from`, the default timeout,
    /// development rules outside production, and the host of `public_url`
    /// as the EHLO name.
    pub fn from_config(config: &Config) -> Result<Self, MailError> {
        let hello_name = url::Url::parse(&config.public_url)
            .ok()
            .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_owned()));
        Ok(Self::new(
            SmtpSettings::from_config(config)?,
            MailerOptions {
                timeout: DEFAULT_TIMEOUT,
                development: !config.is_production(),
                hello_name,
            },
        ))
    }

    /// Whether the platform has an SMTP server.
    pub fn has_platform_smtp(&self) -> bool {
        self.platform.is_some()
    }

    /// Sends `msg` through the tenant's SMTP server when it has one, else the
    /// platform's; `From` is the one of the server used.
    pub async fn send(
        &self,
        tenant_smtp: Option<&SmtpSettings>,
        msg: OutgoingMail,
    ) -> Result<(), MailError> {
        let (settings, origin) = match tenant_smtp {
            Some(s) => (s, "tenant"),
            None => (
                self.platform.as_ref().ok_or(MailError::NotConfigured)?,
                "platform",
            ),
        };
        let tenant = tenant_smtp.is_some();
        if settings.security == SmtpSecurity::None
            && !self.options.development
            && !is_loopback_host(&settings.host)
        {
            return Err(MailError::Refused(
                "unencrypted SMTP is only allowed to a loopback host, or in development".into(),
            ));
        }
        let message = build_message(settings, msg)?;
        let domain = message
            .envelope()
            .to()
            .first()
            .map(|a| a.domain().to_owned())
            .unwrap_or_default();
        tracing::debug!(recipient_domain = %domain, smtp = origin, "sending mail");
        let transport = self.transport(settings).await?;
        let timeout = self.options.timeout;
        let sent = tokio::time::timeout(timeout, async {
            if tenant && !self.options.development {
                ensure_public_host(&settings.host, settings.port).await?;
            }
            transport.send(message).await.map_err(MailError::Smtp)
        })
        .await
        .map_err(|_| MailError::Timeout(timeout))?;
        match sent {
            Ok(_) => {
                tracing::debug!(recipient_domain = %domain, smtp = origin, "mail accepted");
                Ok(())
            }
            Err(e) => {
                tracing::debug!(recipient_domain = %domain, smtp = origin, error = %e, "mail not sent");
                Err(e)
            }
        }
    }

    async fn transport(&self, settings: &SmtpSettings) -> Result<Arc<Transport>, MailError> {
        let key = settings.cache_key();
        if let Some(t) = self.transports.get(&key).await {
            return Ok(t);
        }
        let t = Arc::new(self.build_transport(settings)?);
        self.transports.insert(key, Arc::clone(&t)).await;
        Ok(t)
    }

    fn build_transport(&self, s: &SmtpSettings) -> Result<Transport, MailError> {
        let tls_parameters = || {
            TlsParameters::new(s.host.clone())
                .map_err(|e| MailError::Settings(format!("TLS for {}: {e}", s.host)))
        };
        let tls = match s.security {
            SmtpSecurity::Starttls => Tls::Required(tls_parameters()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_parameters()?),
            SmtpSecurity::None => Tls::None,
        };
        let mut builder = Transport::builder_dangerous(s.host.as_str())
            .port(s.port)
            .tls(tls)
            .timeout(Some(self.options.timeout))
            .hello_name(self.hello.clone());
        if let (Some(user), Some(password)) = (&s.username, &s.password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        Ok(builder.build())
    }
}

fn build_message(settings: &SmtpSettings, msg: OutgoingMail) -> Result<Message, MailError> {
    let from: Mailbox = settings
        .from
        .parse()
        .map_err(|_| MailError::Settings("from must be a mailbox".into()))?;
    let to: Mailbox = msg.to.trim().parse().map_err(|_| MailError::Recipient)?;
    // Message-ID in the sender's domain, not this machine's host name.
    let message_id = format!(
        "<{}@{}>",
        uuid::Uuid::new_v4().simple(),
        from.email.domain()
    );
    // Header values are one line: a control character in a rendered subject
    // (from a tenant's brand name, say) must not start a new header.
    let subject: String = msg
        .subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let builder = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(message_id));
    let built = if msg.html.is_empty() {
        builder.singlepart(SinglePart::plain(msg.text))
    } else {
        builder.multipart(MultiPart::alternative_plain_html(msg.text, msg.html))
    };
    built.map_err(|e| MailError::Message(e.to_string()))
}

fn client_id(name: &str) -> ClientId {
    match name.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => ClientId::Ipv4(a),
        Ok(IpAddr::V6(a)) => ClientId::Ipv6(a),
        Err(_) => ClientId::Domain(name.to_owned()),
    }
}

/// `localhost` (and its subdomains) or a loopback IP address.
fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a host with any address that is not public. The check and
/// lettre's own connection resolve separately, so a DNS answer that changes
/// in between is not caught; literal addresses and stable names are.
async fn ensure_public_host(host: &str, port: u16) -> Result<(), MailError> {
    let addrs: Vec<_> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| MailError::Unresolvable)?
        .collect();
    if addrs.is_empty() {
        return Err(MailError::Unresolvable);
    }
    if addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(MailError::Refused(
            "the tenant's SMTP host has an internal address (loopback, private or link-local)"
                .into(),
        ));
    }
    Ok(())
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(a),
        },
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let [o0, o1, ..] = a.octets();
    !(a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_broadcast()
        || a.is_multicast()
        || a.is_documentation()
        || o0 == 0
        || o0 >= 240
        // 100.64.0.0/10, carrier-grade NAT (RFC 6598)
        || (o0 == 100 && (o1 & 0xc0) == 64))
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let s0 = a.segments()[0];
    !(a.is_loopback()
        || a.is_unspecified()
        || a.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local
        || (s0 & 0xfe00) == 0xfc00
        || (s0 & 0xffc0) == 0xfe80)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FROM: &str = "Gatehouse <no-reply@example.com>";

    #[test]
    fn mail_url_schemes_choose_security_and_default_port() {
        let s = SmtpSettings::from_url("smtp://u:p@smtp.example.com", FROM, false).unwrap();
        assert_eq!((s.security, s.port), (SmtpSecurity::Starttls, 587));
        assert_eq!(s.username.as_deref(), Some("u"));
        assert_eq!(s.password.as_ref().map(Secret::expose), Some("p"));
        let s = SmtpSettings::from_url("smtps://smtp.example.com", FROM, false).unwrap();
        assert_eq!(
            (s.security, s.port, s.username),
            (SmtpSecurity::Tls, 465, None)
        );
        let s = SmtpSettings::from_url("smtp://smtp.example.com:2525", FROM, false).unwrap();
        assert_eq!(s.port, 2525);
        let s = SmtpSettings::from_url("smtp+plain://[::1]", FROM, false).unwrap();
        assert_eq!((s.host.as_str(), s.port), ("::1", 25));
    }

    #[test]
    fn mail_url_plaintext_needs_loopback_or_development() {
        let err = SmtpSettings::from_url("smtp+plain://mail.example.com", FROM, false).unwrap_err();
        assert!(err.to_string().contains("loopback"), "{err}");
        assert!(SmtpSettings::from_url("smtp+plain://mail.example.com", FROM, true).is_ok());
        assert!(SmtpSettings::from_url("smtp+plain://127.0.0.1:1025", FROM, false).is_ok());
        assert!(SmtpSettings::from_url("smtp+plain://localhost", FROM, false).is_ok());
    }

    #[test]
    fn mail_url_errors_never_show_the_password() {
        let secret = "s3cr%C3%A9t-pass";
        for url in [
            format!("smtp://user:{secret}@host/path"),
            format!("smtp://user:{secret}@host?tls=required"),
            format!("http://user:{secret}@host"),
            format!("smtp+plain://user:{secret}@mail.example.com"),
            format!("smtp://user:{secret}@host:99999"),
        ] {
            let err = SmtpSettings::from_url(&url, FROM, false)
                .unwrap_err()
                .to_string();
            assert!(!err.contains("s3cr"), "{err}");
        }
        let err = SmtpSettings::from_url("smtp://h", "not a mailbox", false).unwrap_err();
        assert!(err.to_string().contains("GATEHOUSE_MAIL_FROM"), "{err}");
        let s = SmtpSettings::from_url(&format!("smtp://us%40er:{secret}@h"), FROM, false).unwrap();
        assert_eq!(s.username.as_deref(), Some("us@er"));
        assert_eq!(s.password.as_ref().map(Secret::expose), Some("s3crét-pass"));
        assert!(!format!("{s:?}").contains("s3cr"));
    }

    #[test]
    fn mail_transport_key_changes_with_the_password() {
        let a = SmtpSettings::from_url("smtp://u:one@h", FROM, false).unwrap();
        let b = SmtpSettings::from_url("smtp://u:two@h", FROM, false).unwrap();
        assert_ne!(a.cache_key(), b.cache_key());
        assert_eq!(a.cache_key(), a.clone().cache_key());
    }

    #[test]
    fn mail_internal_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
