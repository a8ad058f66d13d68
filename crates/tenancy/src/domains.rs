//! Custom domains of tenants (`tenant_domains`): a host such as
//! `login.acme.com` that resolves to its tenant (the `custom_domain`
//! strategy) and, when primary, is the tenant's issuer
//! (`https://login.acme.com`).
//!
//! Only platform operators add domains. Adding one is the operator's
//! statement that the host's DNS and TLS end at this deployment (they
//! configure both at the proxy in front of it), so a domain is verified
//! when added; the `verified` column keeps room for a self-service flow with
//! a DNS proof, which does not exist yet.
//!
//! A host is refused when it could take traffic that is not the tenant's:
//! the deployment's own public host, the subdomain base domain and its
//! subdomains, `localhost`, IP addresses, single-label names, and a host
//! another tenant holds.

use gatehouse_core::audit::{self, action, Actor, Entry};
use gatehouse_core::events::Change;
use gatehouse_core::ids::DEFAULT_SLUG;
use gatehouse_core::{DbError, TenantId};
use serde::Serialize;
use time::OffsetDateTime;

use crate::resolve::{is_reserved_host, normalize_host};
use crate::tenants::{TenantRecord, Tenants};

/// A tenant's custom domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Domain {
    /// Lowercase ASCII (an internationalised name in punycode).
    pub host: String,
    /// The tenant's issuer is `https://{host}`.
    pub primary: bool,
    pub verified: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The hosts no tenant may hold: the deployment's own.
#[derive(Debug, Clone, Default)]
pub struct DomainRules {
    /// The host of `public_url`.
    pub public_host: Option<String>,
    /// The subdomain mode's base domain.
    pub base_domain: Option<String>,
}

impl DomainRules {
    pub fn new(public_url: &str, base_domain: Option<&str>) -> Self {
        let authority = public_url
            .split_once("://")
            .map_or(public_url, |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or_default();
        let public_host = normalize_host(authority.as_bytes())
            .ok()
            .map(|h| h.split(':').next().unwrap_or_default().to_owned());
        Self {
            public_host,
            base_domain: base_domain.map(str::to_owned),
        }
    }

    /// `raw` as stored: normalised, and allowed for a tenant.
    pub fn check(&self, raw: &str) -> Result<String, DomainError> {
        let invalid = || {
            DomainError::Invalid(format!(
                "{raw:?} is not a domain name (no port, no path, no IP address)"
            ))
        };
        let trimmed = raw.trim();
        if trimmed.contains(':') {
            return Err(invalid());
        }
        let host = normalize_host(trimmed.as_bytes()).map_err(|_| invalid())?;
        if !host.contains('.') {
            return Err(DomainError::Invalid(format!(
                "{host} has a single label; a custom domain needs a public name such as login.example.com"
            )));
        }
        if host.contains('_') {
            return Err(DomainError::Invalid(format!(
                "{host} contains an underscore, which a host name may not"
            )));
        }
        if is_reserved_host(&host, self.base_domain.as_deref())
            || self.public_host.as_deref() == Some(host.as_str())
        {
            return Err(DomainError::Invalid(format!(
                "{host} belongs to this deployment (its public URL, its base domain or an address) and cannot be a tenant's"
            )));
        }
        Ok(host)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{0}")]
    Invalid(String),
    #[error("the domain is already a tenant's")]
    Taken,
    #[error("no such domain")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for DomainError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

impl Tenants {
    /// The tenant holding `host` (normalised), verified or not.
    pub async fn domain_holder(&self, host: &str) -> Result<Option<TenantId>, DomainError> {
        let row = sqlx::query_scalar!("select tenant_id from tenant_domains where host = $1", host)
            .fetch_optional(self.db().registry())
            .await?;
        Ok(row.map(TenantId::from_uuid))
    }

    /// The tenant's domains, the primary first, then by host.
    pub async fn domains(&self, tenant: &TenantRecord) -> Result<Vec<Domain>, DomainError> {
        let mut tx = self.db().tenant_tx(tenant.id).await?;
        let rows = sqlx::query!(
            "select host, is_primary, verified, created_at from tenant_domains
             where tenant_id = $1 order by is_primary desc, host",
            tenant.id.as_uuid(),
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|r| Domain {
                host: r.host,
                primary: r.is_primary,
                verified: r.verified,
                created_at: r.created_at,
            })
            .collect())
    }

    /// Adds `raw` (checked by `rules`) to the tenant; with `primary`, it
    /// becomes the tenant's issuer in place of any earlier primary domain.
    /// Announced, so every node resolves the host within a second.
    pub async fn add_domain(
        &self,
        tenant: &TenantRecord,
        raw: &str,
        primary: bool,
        rules: &DomainRules,
        actor: Actor,
    ) -> Result<Domain, DomainError> {
        let host = rules.check(raw)?;
        if tenant.slug.as_str() == DEFAULT_SLUG {
            return Err(DomainError::Invalid(
                "the default tenant's issuer is the public URL itself; it takes no custom domain"
                    .into(),
            ));
        }
        let mut tx = self.db().tenant_tx(tenant.id).await?;
        if primary {
            sqlx::query!(
                "update tenant_domains set is_primary = false, updated_at = now()
                 where tenant_id = $1 and is_primary",
                tenant.id.as_uuid(),
            )
            .execute(&mut *tx)
            .await?;
        }
        let row = sqlx::query!(
            "insert into tenant_domains (host, tenant_id, verified, is_primary)
             values ($1, $2, true, $3)
             returning created_at",
            host,
            tenant.id.as_uuid(),
            primary,
        )
        .fetch_one(&mut *tx)
        .await;
        let created_at = match row {
            Ok(r) => r.created_at,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(DomainError::Taken)
            }
            Err(e) => return Err(e.into()),
        };
        touch(&mut tx).await?;
        audit::record(
            &mut tx,
            &Entry::new(actor, action::DOMAIN_ADDED)
                .target("domain", &host)
                .details(serde_json::json!({ "primary": primary })),
        )
        .await?;
        tx.commit().await?;
        self.announce(tenant, Change::Domains).await;
        Ok(Domain {
            host,
            primary,
            verified: true,
            created_at,
        })
    }

    /// Makes `host` the tenant's primary domain (its issuer), or, with
    /// `primary` false, leaves the tenant without one (its issuer goes back
    /// to the path or subdomain form).
    pub async fn set_primary_domain(
        &self,
        tenant: &TenantRecord,
        host: &str,
        primary: bool,
        actor: Actor,
    ) -> Result<(), DomainError> {
        let host = &stored_form(host);
        let mut tx = self.db().tenant_tx(tenant.id).await?;
        let exists = sqlx::query_scalar!(
            "select is_primary from tenant_domains where tenant_id = $1 and host = $2 for update",
            tenant.id.as_uuid(),
            host,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound)?;
        if exists == primary {
            tx.commit().await?;
            return Ok(());
        }
        sqlx::query!(
            "update tenant_domains set is_primary = false, updated_at = now()
             where tenant_id = $1 and is_primary",
            tenant.id.as_uuid(),
        )
        .execute(&mut *tx)
        .await?;
        if primary {
            sqlx::query!(
                "update tenant_domains set is_primary = true, updated_at = now()
                 where tenant_id = $1 and host = $2",
                tenant.id.as_uuid(),
                host,
            )
            .execute(&mut *tx)
            .await?;
        }
        touch(&mut tx).await?;
        audit::record(
            &mut tx,
            &Entry::new(actor, action::DOMAIN_CHANGED)
                .target("domain", host)
                .details(serde_json::json!({ "primary": { "before": exists, "after": primary } })),
        )
        .await?;
        tx.commit().await?;
        self.announce(tenant, Change::Domains).await;
        Ok(())
    }

    /// Removes `host` from the tenant: it stops resolving on every node
    /// within a second.
    pub async fn remove_domain(
        &self,
        tenant: &TenantRecord,
        host: &str,
        actor: Actor,
    ) -> Result<(), DomainError> {
        let host = &stored_form(host);
        let mut tx = self.db().tenant_tx(tenant.id).await?;
        let removed = sqlx::query_scalar!(
            "delete from tenant_domains where tenant_id = $1 and host = $2 returning is_primary",
            tenant.id.as_uuid(),
            host,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound)?;
        touch(&mut tx).await?;
        audit::record(
            &mut tx,
            &Entry::new(actor, action::DOMAIN_REMOVED)
                .target("domain", host)
                .details(serde_json::json!({ "primary": removed })),
        )
        .await?;
        tx.commit().await?;
        self.announce(tenant, Change::Domains).await;
        Ok(())
    }
}

/// `host` as [`DomainRules::check`] stores it (`Login.Example.COM.` is
/// `login.example.com`), so a domain is named the same way everywhere;
/// what is no host at all is kept as given, and found nowhere.
fn stored_form(host: &str) -> String {
    normalize_host(host.trim().as_bytes()).unwrap_or_else(|_| host.to_owned())
}

/// Moves the tenant's `updated_at` on: a node that missed the announcement
/// rebuilds the provider (whose issuer may have changed) when its cached
/// record expires.
async fn touch(tx: &mut gatehouse_core::TenantTx) -> Result<(), DbError> {
    tx.bump_tenant_version().await
}
