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
use moka::future::Cache;

use crate::clients::{self, ClientRecord};
use crate::keys::{self, KeyError, TenantKeys};
use crate::StoreError;

pub struct TenantProvider {
    pub base: Provider,
    pub keys: TenantKeys,
    /// `{"keys":[…]}`, serialised once (RFC 7517 §5).
    pub jwks_body: Arc<[u8]>,
    /// The provider metadata, serialised once (OpenID Connect Discovery §3).
    pub discovery_body: Arc<[u8]>,
    /// Clients as client authentication reads them, loaded on first use.
    /// They live as long as the provider: every change to a client bumps
    /// the tenant's version and is announced on the bus, and either
    /// rebuilds the provider.
    clients: Cache<String, Arc<ClientRecord>>,
}

/// Clients kept per provider. A provider of a tenant with more active
/// clients than this reads the rest from the database.
const CLIENT_CACHE_ENTRIES: u64 = 1_000;

/// Why [`TenantProvider::client`] found no client.
#[derive(Debug, thiserror::Error)]
enum Miss {
    #[error("no such client")]
    Absent,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reading a client failed (the database, not a missing client).
#[derive(Debug, thiserror::Error)]
#[error("reading a client: {0}")]
pub struct ClientLookupError(Arc<Miss>);

impl std::fmt::Debug for TenantProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantProvider")
            .field("base", &self.base)
            .field("keys", &self.keys)
            .field("clients", &self.clients.entry_count())
            .finish_non_exhaustive()
    }
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
            clients: Cache::builder().max_capacity(CLIENT_CACHE_ENTRIES).build(),
        })
    }

    /// The client `client_id` with its secret hash, from this provider's
    /// cache or else the database (one select; unknown ids are not
    /// cached, so a client created after this provider is found at once).
    pub async fn client(
        &self,
        db: &Db,
        client_id: &str,
    ) -> Result<Option<Arc<ClientRecord>>, ClientLookupError> {
        let tenant = self.base.tenant.id;
        let found = self
            .clients
            .try_get_with_by_ref(client_id, async {
                let mut tx = db.tenant_tx(tenant).await.map_err(StoreError::from)?;
                let record = clients::find_record(&mut tx, client_id).await?;
                tx.commit().await.map_err(StoreError::from)?;
                record.map(Arc::new).ok_or(Miss::Absent)
            })
            .await;
        match found {
            Ok(record) => Ok(Some(record)),
            Err(e) if matches!(*e, Miss::Absent) => Ok(None),
            Err(e) => Err(ClientLookupError(e)),
        }
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
