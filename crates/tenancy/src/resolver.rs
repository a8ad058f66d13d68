//! Resolving a request to its tenant (DESIGN.md, "One request", step 1): walk
//! the configured strategies (see [`crate::resolve`]) until one hits, look the
//! tenant up through the cached [`Registry`], and refuse tenants that are
//! not active.

use std::sync::Arc;

use gatehouse_core::ids::{Slug, DEFAULT_SLUG, OPS_SLUG};
use gatehouse_core::DbError;
use http::HeaderMap;

use crate::registry::Registry;
use crate::resolve::{steps, ResolveError, ResolverConfig, Step, Strategy};
use crate::tenants::{TenantRecord, TenantStatus};

/// Where a request belongs.
#[derive(Debug, Clone)]
pub enum Resolved {
    /// A tenant, active. `strip_prefix` bytes of the path (`/t/{slug}`) are
    /// to be removed before routing.
    Tenant {
        tenant: Arc<TenantRecord>,
        by: Option<Strategy>,
        strip_prefix: Option<usize>,
    },
    /// The stateless `_ops` tenant.
    Ops { strip_prefix: Option<usize> },
}

/// Why a request has no tenant. Each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum ResolveFailure {
    /// 400: a strategy matched but named no valid slug, or the Host is malformed.
    #[error(transparent)]
    Invalid(#[from] ResolveError),
    /// 400 in production: no strategy matched.
    #[error("the request does not name a tenant")]
    Unresolved,
    /// 404: no such tenant. Same answer as any other miss.
    #[error("not found")]
    NotFound,
    /// 403: the tenant exists but is suspended or inactive.
    #[error("this tenant is {}", .0.as_str())]
    Unavailable(TenantStatus),
    /// 503: the registry could not be read.
    #[error("tenant registry unavailable")]
    Internal(Arc<DbError>),
}

#[derive(Clone, Debug)]
pub struct Resolver {
    config: Arc<ResolverConfig>,
    registry: Registry,
    /// In development an unresolved request falls back to `default`.
    fallback_to_default: bool,
}

impl Resolver {
    pub fn new(config: ResolverConfig, registry: Registry, fallback_to_default: bool) -> Self {
        Self {
            config: Arc::new(config),
            registry,
            fallback_to_default,
        }
    }

    pub fn config(&self) -> &ResolverConfig {
        &self.config
    }

    pub async fn resolve(
        &self,
        host: Option<&[u8]>,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<Resolved, ResolveFailure> {
        for step in steps(&self.config, host, path, headers) {
            match step? {
                Step::Domain(host) => {
                    if let Some(tenant) = self
                        .registry
                        .by_host(&host)
                        .await
                        .map_err(ResolveFailure::Internal)?
                    {
                        return admit(tenant, Some(Strategy::CustomDomain), None);
                    }
                }
                Step::Slug {
                    slug,
                    by,
                    strip_prefix,
                } => {
                    if slug.as_str() == OPS_SLUG {
                        return Ok(Resolved::Ops { strip_prefix });
                    }
                    return match self
                        .registry
                        .by_slug(&slug)
                        .await
                        .map_err(ResolveFailure::Internal)?
                    {
                        Some(tenant) => admit(tenant, Some(by), strip_prefix),
                        None => Err(ResolveFailure::NotFound),
                    };
                }
            }
        }
        if !self.fallback_to_default {
            return Err(ResolveFailure::Unresolved);
        }
        tracing::warn!(
            path,
            "request names no tenant; serving the default tenant (development only)"
        );
        let default = Slug::parse(DEFAULT_SLUG).map_err(|_| ResolveFailure::NotFound)?;
        match self
            .registry
            .by_slug(&default)
            .await
            .map_err(ResolveFailure::Internal)?
        {
            Some(tenant) => admit(tenant, None, None),
            None => Err(ResolveFailure::NotFound),
        }
    }
}

fn admit(
    tenant: Arc<TenantRecord>,
    by: Option<Strategy>,
    strip_prefix: Option<usize>,
) -> Result<Resolved, ResolveFailure> {
    match tenant.status {
        TenantStatus::Active => Ok(Resolved::Tenant {
            tenant,
            by,
            strip_prefix,
        }),
        other => Err(ResolveFailure::Unavailable(other)),
    }
}
