//! The tenant middleware (DESIGN.md "One request", steps 1 and 2). It wraps
//! the router from outside so it can rewrite the path before routing:
//! resolve the tenant, refuse bad or unavailable ones, take the tenant's
//! provider from the pool, strip a `/t/{slug}` prefix, and hand the request
//! on with a [`CurrentTenant`] extension. `/_ops/*` is served on every host
//! without resolution.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, uri::PathAndQuery, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_oidc::provider::TenantProvider;
use gatehouse_tenancy::resolve::ResolveError;
use gatehouse_tenancy::{ResolveFailure, Resolved, TenantStatus};

use crate::error::HttpError;
use crate::state::AppState;

/// The resolved tenant of a request, with its provider.
#[derive(Clone, Debug)]
pub struct CurrentTenant {
    pub provider: Arc<TenantProvider>,
}

pub const OPS_PREFIX: &str = "/_ops";

fn is_ops_path(path: &str) -> bool {
    path == OPS_PREFIX || path.starts_with("/_ops/")
}

pub(crate) fn is_api_path(path: &str) -> bool {
    let prefix = gatehouse_admin::api::PREFIX;
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

pub async fn resolve_tenant(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    // The management API names its tenants in its paths and authorises by
    // token; it is served at the root of every host.
    if is_ops_path(&path) || is_api_path(&path) {
        return next.run(req).await;
    }
    // Browsers ask every host for this; it names no tenant, and resolving
    // it would only make noise (and in development build the default
    // tenant). Pages declare their icon themselves.
    if path == "/favicon.ico" {
        return HttpError::NOT_FOUND.into_response();
    }
    // HTTP/1.1 carries the host in Host; HTTP/2 in :authority (the URI).
    let host = req
        .headers()
        .get(header::HOST)
        .map(|v| v.as_bytes().to_vec())
        .or_else(|| {
            req.uri()
                .authority()
                .map(|a| a.as_str().as_bytes().to_vec())
        });
    let resolved = state
        .tenancy
        .resolver
        .resolve(host.as_deref(), &path, req.headers())
        .await;
    match resolved {
        Ok(Resolved::Ops { strip_prefix }) => {
            let rest = strip(&path, strip_prefix);
            if rest == "/" {
                return HttpError::NOT_FOUND.into_response();
            }
            match rewrite(req.uri(), &format!("{OPS_PREFIX}{rest}")) {
                Some(uri) => *req.uri_mut() = uri,
                None => return HttpError::NOT_FOUND.into_response(),
            }
            next.run(req).await
        }
        Ok(Resolved::Tenant {
            tenant,
            strip_prefix,
            ..
        }) => {
            tracing::Span::current().record("tenant", tenant.slug.as_str());
            let provider = match state.tenancy.pool.get(tenant).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "provider unavailable");
                    return HttpError::UNAVAILABLE.into_response();
                }
            };
            if strip_prefix.is_some() {
                let rest = strip(&path, strip_prefix);
                // After stripping, an /_ops path belongs to no tenant.
                if is_ops_path(&rest) {
                    return HttpError::NOT_FOUND.into_response();
                }
                match rewrite(req.uri(), &rest) {
                    Some(uri) => *req.uri_mut() = uri,
                    None => return HttpError::NOT_FOUND.into_response(),
                }
            }
            req.extensions_mut().insert(CurrentTenant { provider });
            next.run(req).await
        }
        Err(failure) => failure_response(failure),
    }
}

fn failure_response(failure: ResolveFailure) -> Response {
    match failure {
        ResolveFailure::Invalid(ResolveError::InvalidSlug) => HttpError::INVALID_SLUG,
        ResolveFailure::Invalid(ResolveError::InvalidHost) => HttpError::INVALID_HOST,
        ResolveFailure::Unresolved => HttpError::UNRESOLVED,
        ResolveFailure::NotFound => HttpError::NOT_FOUND,
        ResolveFailure::Unavailable(TenantStatus::Suspended) => HttpError::SUSPENDED,
        ResolveFailure::Unavailable(_) => HttpError::INACTIVE,
        ResolveFailure::Internal(e) => {
            tracing::error!(error = %e, "tenant registry unavailable");
            HttpError::UNAVAILABLE
        }
    }
    .into_response()
}

/// The path after a `/t/{slug}` prefix of `len` bytes; "/" when nothing is left.
fn strip(path: &str, len: Option<usize>) -> String {
    let rest = len.and_then(|n| path.get(n..)).unwrap_or(path);
    if rest.is_empty() {
        "/".to_owned()
    } else {
        rest.to_owned()
    }
}

/// `uri` with its path replaced, the query kept.
fn rewrite(uri: &Uri, path: &str) -> Option<Uri> {
    let pq = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(pq).ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripping_keeps_the_rest_of_the_path_and_the_query() {
        assert_eq!(strip("/t/acme/x/y", Some(7)), "/x/y");
        assert_eq!(strip("/t/acme", Some(7)), "/");
        let uri: Uri = "/t/acme/tenant?a=1".parse().unwrap();
        assert_eq!(rewrite(&uri, "/tenant").unwrap().to_string(), "/tenant?a=1");
    }
}
