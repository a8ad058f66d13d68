//! Serving: start-up checks, background tasks, the HTTP listener and
//! graceful shutdown.

use std::time::Duration;

use axum::extract::Request;
use axum::http::HeaderName;
use gatehouse_core::config::Config;
use gatehouse_core::events::EventBus;
use gatehouse_core::Db;
use tower::Layer as _;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::routes::router;
use crate::state::AppState;
use crate::tenant::resolve_tenant;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application as one service: request ids and a tracing span
/// outside, then the tenant middleware (wrapping the router from outside,
/// because it may rewrite the path before routing), then the routes.
pub fn service(state: AppState) -> axum::Router {
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request| {
        let request_id = req
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        tracing::info_span!(
            "http.request",
            method = %req.method(),
            path = %req.uri().path(),
            request_id = %request_id,
            tenant = tracing::field::Empty,
        )
    });
    let inner =
        axum::middleware::from_fn_with_state(state.clone(), resolve_tenant).layer(router(state));
    // An outer router with only a fallback: its layers see every request
    // before the tenant middleware, and it maps bodies back to axum's.
    axum::Router::new()
        .fallback_service(inner)
        .layer(axum::middleware::from_fn(crate::guard::reject_nul))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(trace)
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Connects the event bus named by the configuration.
pub fn event_bus(config: &Config) -> anyhow::Result<EventBus> {
    match config.redis_url() {
        Some(url) => Ok(EventBus::redis(url, &config.redis_prefix)?),
        None => Ok(EventBus::local()),
    }
}

/// Waits up to 30 s for Postgres, then refuses a role that could bypass
/// row-level security.
async fn connect_checked(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect_lazy(&config.database_url, config.database_max_connections)?
        .with_call_connections(config.database_grant_connections as usize)?;
    let mut waited = Duration::ZERO;
    loop {
        match db.check_role_is_confined().await {
            Ok(()) => return Ok(db),
            Err(gatehouse_core::DbError::UnsafeRole(msg)) => anyhow::bail!(msg),
            Err(e) if waited >= Duration::from_secs(30) => {
                anyhow::bail!("cannot reach Postgres at GATEHOUSE_DATABASE_URL: {e}")
            }
            Err(e) => {
                tracing::warn!(error = %e, "waiting for Postgres");
                tokio::time::sleep(Duration::from_secs(1)).await;
                waited += Duration::from_secs(1);
            }
        }
    }
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    config.check_serve()?;
    // Settings that need no database are checked before waiting for it.
    crate::state::resolver_config(&config).map_err(anyhow::Error::msg)?;
    let db = connect_checked(&config).await?;
    let bus = event_bus(&config)?;
    if bus.is_distributed() {
        tracing::info!("event bus on Redis: changes reach every node");
    } else {
        tracing::warn!("no Redis configured (GATEHOUSE_REDIS_URL is empty): running as a single node on an in-process event bus");
    }
    let listen = config.listen;
    let state = AppState::new(config, db, bus.clone()).map_err(anyhow::Error::msg)?;
    bootstrap_admin(&state).await?;
    let _events = state.tenancy.spawn_event_listener(&bus);
    let _subscription = bus.spawn_listener();
    let _housekeeping = state.tenancy.pool.spawn_housekeeping();
    let _rotation = state.rotator().spawn_scheduler(Duration::from_secs(60));

    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    // One plain line on stdout, for scripts and tests that start a node on port 0.
    println!("gatehouse listening on http://{addr}");
    // The peer address reaches handlers as ConnectInfo (per-client throttling).
    axum::serve(
        listener,
        service(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await?;
    Ok(())
}

/// Creates the first platform administrator from
/// GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL and _PASSWORD, if set and absent, and
/// warns at every start while they are set.
pub async fn bootstrap_admin(state: &AppState) -> anyhow::Result<()> {
    use gatehouse_admin::bootstrap::{ensure_admin, Outcome};
    let Some((email, password)) = state.config.bootstrap_admin() else {
        return Ok(());
    };
    tracing::warn!(
        "GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL and GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD are set: \
         remove them from the environment once the platform administrator can sign in"
    );
    let platforms = state
        .tenancy
        .tenants
        .get(gatehouse_core::ids::PLATFORMS_SLUG)
        .await
        .map_err(|e| anyhow::anyhow!("the _platforms tenant: {e}; run `gatehouse migrate`"))?;
    let policy = crate::commands::password_policy(state, platforms.id).await?;
    match ensure_admin(
        &state.db,
        platforms.id,
        &state.hasher,
        &policy,
        email,
        password,
    )
    .await?
    {
        Outcome::Created(id) => {
            tracing::info!(user = %id, "created the bootstrap platform administrator");
        }
        Outcome::Exists(id) => {
            tracing::info!(user = %id, "the bootstrap platform administrator exists; left unchanged");
        }
    }
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
