//! Who may call the management API, and for what. Callers present an
//! access token from Gatehouse's own token endpoint (`client_credentials`,
//! RFC 9068 JWT) as `Authorization: Bearer` (RFC 6750 §2.1).
//!
//! - A token from the `_platforms` issuer acts on the platform (scopes
//!   `gatehouse:tenants:*`) and on any tenant (`gatehouse:cross-tenant:read`
//!   or `:write`, standing for the tenant scopes). Its calls into a tenant
//!   are recorded in that tenant's audit log.
//! - A token from a tenant's issuer acts only on that tenant, with the
//!   tenant scopes (`gatehouse:users:read`, …).
//!
//! Each handler names its scope in its signature: it takes
//! `Authorized<UsersRead>` (a marker type per scope), and the extractor
//! refuses the request before the handler runs. No token or a bad one is
//! 401; a token of another tenant, or without the scope, is 403.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::RequestPartsExt as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gatehouse_core::audit::{self, Actor, Entry};
use gatehouse_core::ids::PLATFORMS_SLUG;
use gatehouse_core::{Slug, TenantId};
use gatehouse_oidc::provider::TenantProvider;
use gatehouse_oidc::tokens;
use gatehouse_tenancy::{ResolveFailure, Resolved, TenantRecord};

use super::problem::Problem;
use super::ApiState;

/// What an API scope guards: the platform, or one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Platform operations; only `_platforms` tokens.
    Platform,
    /// Operations on the tenant named `{slug}` in the path; a platform
    /// token needs the cross-tenant scope instead.
    Tenant { cross: &'static str },
}

/// A scope an API operation requires.
pub trait Scope: Send + Sync + 'static {
    const NAME: &'static str;
    const REACH: Reach;
}

macro_rules! scopes {
    ($($(#[$doc:meta])* $ty:ident = $name:literal, $reach:expr;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub struct $ty;
            impl Scope for $ty {
                const NAME: &'static str = $name;
                const REACH: Reach = $reach;
            }
        )*
        /// Every scope of the API, with what it guards.
        pub const ALL: &[(&str, Reach)] = &[$(($name, $reach)),*];
    };
}

const CROSS_READ: Reach = Reach::Tenant {
    cross: "gatehouse:cross-tenant:read",
};
const CROSS_WRITE: Reach = Reach::Tenant {
    cross: "gatehouse:cross-tenant:write",
};

scopes! {
    /// List and read tenants.
    TenantsRead = "gatehouse:tenants:read", Reach::Platform;
    /// Create tenants, change their status.
    TenantsWrite = "gatehouse:tenants:write", Reach::Platform;
    /// Delete tenants.
    TenantsDelete = "gatehouse:tenants:delete", Reach::Platform;
    /// Read a tenant's users and roles.
    UsersRead = "gatehouse:users:read", CROSS_READ;
    /// Create and change a tenant's users, roles and role assignments.
    UsersWrite = "gatehouse:users:write", CROSS_WRITE;
    /// Read a tenant's clients.
    ClientsRead = "gatehouse:clients:read", CROSS_READ;
    /// Create, change and delete a tenant's clients; rotate their secrets.
    ClientsWrite = "gatehouse:clients:write", CROSS_WRITE;
    /// Read a tenant's settings and keys.
    ConfigRead = "gatehouse:config:read", CROSS_READ;
    /// Change a tenant's settings.
    ConfigWrite = "gatehouse:config:write", CROSS_WRITE;
    /// Rotate a tenant's signing keys.
    KeysWrite = "gatehouse:keys:write", CROSS_WRITE;
    /// Read a tenant's audit log.
    AuditRead = "gatehouse:audit:read", CROSS_READ;
    /// End a tenant's sessions.
    SessionsWrite = "gatehouse:sessions:write", CROSS_WRITE;
}

/// The client calling, as its verified token says.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token is from `_platforms`.
    pub platform: bool,
    /// The tenant whose issuer signed the token.
    pub tenant: TenantId,
    pub client_id: String,
    pub scopes: Vec<String>,
}

impl Caller {
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The caller as the audit log names it.
    pub fn actor(&self) -> Actor {
        let mut actor = Actor::client(&self.client_id);
        if self.platform {
            actor.name = Some(format!("{PLATFORMS_SLUG} client"));
        }
        actor
    }
}

/// A request allowed to do what `S` guards. For a tenant operation,
/// `target` is the tenant named in the path.
#[derive(Debug)]
pub struct Authorized<S> {
    pub caller: Caller,
    pub target: Option<Arc<TenantRecord>>,
    _scope: PhantomData<S>,
}

impl<S> Authorized<S> {
    /// The tenant named in the path (tenant operations only).
    pub fn tenant(&self) -> Result<&Arc<TenantRecord>, Problem> {
        self.target
            .as_ref()
            .ok_or_else(|| Problem::internal("a platform operation asked for its tenant"))
    }
}

impl<S: Scope> FromRequestParts<ApiState> for Authorized<S> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Problem> {
        let token = bearer(&parts.headers)?;
        let caller = authenticate(state, token).await?;
        rate_limit(state, &caller).await?;
        let target = match S::REACH {
            Reach::Platform => {
                if !caller.platform || !caller.has(S::NAME) {
                    return Err(Problem::insufficient_scope(S::NAME));
                }
                None
            }
            Reach::Tenant { cross } => {
                let params = parts
                    .extract::<RawPathParams>()
                    .await
                    .map_err(|_| Problem::internal("no path parameters"))?;
                let slug = params
                    .iter()
                    .find(|(k, _)| *k == "slug")
                    .map(|(_, v)| v.to_owned())
                    .ok_or_else(|| Problem::internal("a tenant operation without {slug}"))?;
                let target = tenant_by_slug(state, &slug).await?;
                if caller.platform {
                    if !caller.has(cross) {
                        return Err(Problem::insufficient_scope(cross));
                    }
                    entered(state, &caller, &target, parts).await?;
                } else {
                    if caller.tenant != target.id {
                        return Err(Problem::new(
                            "foreign_tenant",
                            "a tenant's token acts only on its own tenant",
                        ));
                    }
                    if !caller.has(S::NAME) {
                        return Err(Problem::insufficient_scope(S::NAME));
                    }
                }
                Some(target)
            }
        };
        Ok(Self {
            caller,
            target,
            _scope: PhantomData,
        })
    }
}

fn bearer(headers: &HeaderMap) -> Result<&str, Problem> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| Problem::unauthorized("send an access token: Authorization: Bearer …"))?
        .to_str()
        .map_err(|_| Problem::unauthorized("the Authorization header is not ASCII"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| Problem::unauthorized("the Authorization header is not Bearer"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(Problem::unauthorized(
            "the Authorization header is not Bearer",
        ));
    }
    Ok(token.trim())
}

/// Verifies the token with the keys of the tenant whose issuer it names
/// (RFC 9068 §4: signature, `typ`, `iss`, `aud`, `exp`; and not revoked).
async fn authenticate(state: &ApiState, token: &str) -> Result<Caller, Problem> {
    let invalid = || Problem::unauthorized("the access token is invalid, expired or revoked");
    let iss = unverified_issuer(token).ok_or_else(invalid)?;
    let url = url::Url::parse(&iss).map_err(|_| invalid())?;
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => return Err(invalid()),
    };
    let resolved = state
        .tenancy
        .resolver
        .resolve(Some(host.as_bytes()), url.path(), &HeaderMap::new())
        .await;
    let tenant = match resolved {
        Ok(Resolved::Tenant { tenant, .. }) => tenant,
        Err(ResolveFailure::Unavailable(_)) => {
            return Err(Problem::new(
                "tenant_unavailable",
                "the token's tenant is suspended or inactive",
            ))
        }
        Err(ResolveFailure::Internal(e)) => return Err(Problem::internal(e)),
        _ => return Err(invalid()),
    };
    let provider = provider(state, tenant.clone()).await?;
    if provider.issuer != iss {
        return Err(invalid());
    }
    let claims = tokens::verify_access_token(&state.kv, &state.db, &provider, token)
        .await
        .map_err(|_| invalid())?;
    Ok(Caller {
        platform: tenant.slug.as_str() == PLATFORMS_SLUG,
        tenant: tenant.id,
        client_id: claims.client_id,
        scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
    })
}

pub(super) async fn provider(
    state: &ApiState,
    tenant: Arc<TenantRecord>,
) -> Result<Arc<TenantProvider>, Problem> {
    state
        .tenancy
        .pool
        .get(tenant)
        .await
        .map_err(Problem::internal)
}

fn unverified_issuer(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

/// The tenant named in the path, whatever its status (an operator must
/// reach a suspended tenant to activate it; its own tokens are refused
/// earlier, when their issuer does not resolve).
pub(super) async fn tenant_by_slug(
    state: &ApiState,
    slug: &str,
) -> Result<Arc<TenantRecord>, Problem> {
    let parsed = Slug::parse(slug).map_err(|_| Problem::not_found("tenant"))?;
    state
        .tenancy
        .registry
        .by_slug(&parsed)
        .await
        .map_err(Problem::internal)?
        .ok_or_else(|| Problem::not_found("tenant"))
}

/// A platform client entered a tenant: recorded in that tenant's log.
async fn entered(
    state: &ApiState,
    caller: &Caller,
    target: &TenantRecord,
    parts: &Parts,
) -> Result<(), Problem> {
    let mut tx = state.db.tenant_tx(target.id).await?;
    audit::record(
        &mut tx,
        &Entry::new(caller.actor(), audit::action::TENANT_ENTERED)
            .target("tenant", target.slug.as_str())
            .details(serde_json::json!({
                "method": parts.method.as_str(),
                "path": parts.uri.path(),
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// At most `state.rate_limit_per_minute` requests per client and minute
/// (a fixed window in the issuing tenant's key space).
async fn rate_limit(state: &ApiState, caller: &Caller) -> Result<(), Problem> {
    if state.rate_limit_per_minute == 0 {
        return Ok(());
    }
    let minute = time::OffsetDateTime::now_utc().unix_timestamp() / 60;
    let key = format!("api-rate:{}:{minute}", caller.client_id);
    let n = state
        .kv
        .incr_with_ttl(caller.tenant, &key, Duration::from_secs(61))
        .await
        .map_err(Problem::internal)?;
    if n > state.rate_limit_per_minute {
        let wait = 60
            - time::OffsetDateTime::now_utc()
                .unix_timestamp()
                .rem_euclid(60);
        let mut p = Problem::new(
            "rate_limited",
            format!(
                "this client may make {} requests a minute",
                state.rate_limit_per_minute
            ),
        );
        p.retry_after = Some(u32::try_from(wait).unwrap_or(60));
        return Err(p);
    }
    Ok(())
}
