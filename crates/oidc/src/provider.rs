//! The protocol's provider: the tenancy provider (tenant, issuer, effective
//! settings) plus the tenant's parsed signing keys and its pre-rendered
//! JWKS, built once per tenant and kept in the pool. Serving the JWKS is a
//! copy of bytes built here.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::secretbox::Keyring;
use gatehouse_core::Db;
use gatehouse_tenancy::pool::BuildFn;
use gatehouse_tenancy::{Provider, ProviderFactory};

use crate::keys::{self, KeyError, TenantKeys};

#[derive(Debug)]
pub struct TenantProvider {
    pub base: Provider,
    pub keys: TenantKeys,
    /// `{"keys":[…]}`, serialised once (RFC 7517 §5).
    pub jwks_body: Arc<[u8]>,
    /// The provider metadata, serialised once (OpenID Connect Discovery §3).
    pub discovery_body: Arc<[u8]>,
}

impl Deref for TenantProvider {
    type Target = Provider;
    fn deref(&self) -> &Provider {
        &self.base
    }
}

/// The longest a token signed by a key can stay valid: how long a retired
/// key must stay published. Access and ID token lifetimes from the tenant's
/// settings, plus five minutes for clock skew.
pub fn retire_period(base: &Provider) -> Duration {
    let ttl = |k: &str| {
        base.settings
            .get("oidc", k)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(3600)
    };
    Duration::from_secs(ttl("access_token_ttl_secs").max(ttl("id_token_ttl_secs")) + 300)
}

impl TenantProvider {
    /// Loads the tenant's keys, creating them first if it has none (a new
    /// tenant, or one that existed before keys did).
    pub async fn build(
        base: Provider,
        db: &Db,
        keyring: &Keyring,
        rotation_period: Option<Duration>,
    ) -> Result<Self, KeyError> {
        let mut tx = db.tenant_tx(base.tenant.id).await?;
        let mut loaded = keys::load(&mut tx, keyring).await?;
        if loaded.active.len() < keys::Alg::ALL.len() {
            if keys::ensure(&mut tx, keyring).await? {
                tracing::info!(tenant = %base.tenant.slug, "created signing keys");
                if let Some(period) = rotation_period {
                    crate::rotation::schedule(&mut tx, period).await?;
                }
            }
            loaded = keys::load(&mut tx, keyring).await?;
        }
        tx.commit().await?;
        let jwks_body: Arc<[u8]> = serde_json::to_vec(&loaded.jwks).unwrap_or_default().into();
        let discovery_body: Arc<[u8]> = serde_json::to_vec(&crate::discovery::document(
            &base.issuer,
            &crate::discovery::offered_locales(&base.settings).0,
        ))
        .unwrap_or_default()
        .into();
        Ok(Self {
            base,
            keys: loaded,
            jwks_body,
            discovery_body,
        })
    }
}

/// The pool's build function for protocol providers.
pub fn build_fn(
    factory: ProviderFactory,
    db: Db,
    keyring: Keyring,
    rotation_period: Option<Duration>,
) -> BuildFn<TenantProvider> {
    Arc::new(move |tenant| {
        let (factory, db, keyring) = (factory.clone(), db.clone(), keyring.clone());
        Box::pin(async move {
            let base = factory.build(tenant).await.map_err(|e| e.to_string())?;
            TenantProvider::build(base, &db, &keyring, rotation_period)
                .await
                .map_err(|e| e.to_string())
        })
    })
}
