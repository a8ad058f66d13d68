//! A provider: everything one tenant needs to answer protocol requests, ready
//! in memory. Today that is the tenant, its canonical issuer and its
//! effective settings; signing keys, the discovery document and the JWKS
//! join it with the OpenID Connect core.

use std::sync::Arc;

use gatehouse_core::ids::{DEFAULT_SLUG, PLATFORMS_SLUG};
use gatehouse_core::{Db, DbError};

use crate::settings::{load_overrides, EffectiveSettings};
use crate::tenants::TenantRecord;

#[derive(Debug)]
pub struct Provider {
    pub tenant: Arc<TenantRecord>,
    /// The tenant's canonical public URL (DESIGN.md "One request").
    pub issuer: String,
    pub settings: EffectiveSettings,
}

/// How issuers are formed, from the process configuration.
#[derive(Debug, Clone)]
pub struct IssuerPolicy {
    /// `GATEHOUSE_PUBLIC_URL`, without a trailing slash.
    pub public_url: String,
    /// Set when subdomain mode is on: the base domain.
    pub subdomain_base: Option<String>,
}

impl IssuerPolicy {
    /// `https://{domain}` for a verified primary custom domain,
    /// `{scheme}://{slug}.{base_domain}` in subdomain mode, otherwise
    /// `{public_url}/t/{slug}`. The `default` tenant is the public URL
    /// itself (a single-tenant deployment); `_platforms` always uses the
    /// path form (an underscore is not valid in a host name).
    pub fn issuer(&self, tenant: &TenantRecord, primary_domain: Option<&str>) -> String {
        let scheme = if self.public_url.starts_with("https://") {
            "https"
        } else {
            "http"
        };
        let slug = tenant.slug.as_str();
        if slug == DEFAULT_SLUG {
            return self.public_url.clone();
        }
        if let Some(domain) = primary_domain {
            return format!("{scheme}://{domain}");
        }
        match &self.subdomain_base {
            Some(base) if slug != PLATFORMS_SLUG => {
                let port = public_port(&self.public_url)
                    .map(|p| format!(":{p}"))
                    .unwrap_or_default();
                format!("{scheme}://{slug}.{base}{port}")
            }
            _ => format!("{}/t/{slug}", self.public_url),
        }
    }
}

fn public_port(url: &str) -> Option<&str> {
    let authority = url.split("://").nth(1)?.split('/').next()?;
    let (_, port) = authority.rsplit_once(':')?;
    (!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())).then_some(port)
}

/// Builds providers from Postgres.
#[derive(Debug, Clone)]
pub struct ProviderFactory {
    db: Db,
    platform: Arc<EffectiveSettings>,
    issuers: IssuerPolicy,
}

impl ProviderFactory {
    pub fn new(db: Db, platform: EffectiveSettings, issuers: IssuerPolicy) -> Self {
        Self {
            db,
            platform: Arc::new(platform),
            issuers,
        }
    }

    pub async fn build(&self, tenant: Arc<TenantRecord>) -> Result<Provider, DbError> {
        let overrides = load_overrides(&self.db, tenant.id).await?;
        let primary = sqlx::query_scalar!(
            "select host from tenant_domains where tenant_id = $1 and verified and is_primary",
            tenant.id.as_uuid(),
        )
        .fetch_optional(self.db.registry())
        .await?;
        Ok(Provider {
            issuer: self.issuers.issuer(&tenant, primary.as_deref()),
            settings: self.platform.with_overrides(&overrides),
            tenant,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenants::TenantStatus;
    use gatehouse_core::{Slug, TenantId};

    fn tenant(slug: &str) -> TenantRecord {
        TenantRecord {
            id: TenantId::new_random(),
            slug: Slug::parse(slug).unwrap(),
            display_name: slug.into(),
            status: TenantStatus::Active,
            builtin: false,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn issuer_is_the_canonical_url_for_each_mode() {
        let path = IssuerPolicy {
            public_url: "https://id.example.com".into(),
            subdomain_base: None,
        };
        assert_eq!(
            path.issuer(&tenant("acme"), None),
            "https://id.example.com/t/acme"
        );
        assert_eq!(
            path.issuer(&tenant("acme"), Some("login.acme.com")),
            "https://login.acme.com"
        );
        assert_eq!(
            path.issuer(&tenant("default"), None),
            "https://id.example.com"
        );

        let sub = IssuerPolicy {
            public_url: "http://localhost:8080".into(),
            subdomain_base: Some("auth.test".into()),
        };
        assert_eq!(
            sub.issuer(&tenant("acme"), None),
            "http://acme.auth.test:8080"
        );
        assert_eq!(
            sub.issuer(&tenant("_platforms"), None),
            "http://localhost:8080/t/_platforms"
        );
    }
}
