//! `/tenants/{slug}/config`: a tenant's settings, section by section, with
//! the platform's floors and ceilings, sealed secrets and every version
//! (`gatehouse_tenancy::sections`).

use axum::extract::State;
use axum::Json;
use gatehouse_tenancy::sections::{self, SectionError, Writer};
use gatehouse_tenancy::settings::SECTIONS;
use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Authorized, ConfigRead, ConfigWrite};
use super::problem::Problem;
use super::{ApiState, Body, Segments};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(get_all))
        .routes(routes!(put_section))
        .routes(routes!(versions))
        .routes(routes!(restore))
}

fn problem(e: SectionError) -> Problem {
    match e {
        SectionError::UnknownSection(s) => Problem::not_found(&format!("settings section {s:?}")),
        SectionError::NotAnObject => Problem::invalid("a settings section must be a JSON object"),
        SectionError::Bound(v) => Problem::validation(&v.field, v.to_string()),
        SectionError::Field { field, message } => {
            Problem::validation(&field, format!("{field} {message}"))
        }
        SectionError::NoVersion(_) => Problem::not_found("version of this section"),
        SectionError::Seal(e) => Problem::internal(e),
        SectionError::Db(e) => Problem::internal(e),
    }
}

/// The tenant's settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct Config {
    /// What the tenant's requests use: the platform's settings overridden
    /// by the tenant's sections. Secrets are shown as `…_set: true`.
    #[schema(value_type = Object)]
    pub effective: Map<String, Value>,
    /// The tenant's own sections, as stored (secrets masked).
    #[schema(value_type = Object)]
    pub overrides: Map<String, Value>,
    /// The most each bounded lifetime may be, in seconds, by `section.key`.
    #[schema(value_type = Object)]
    pub ceilings: Map<String, Value>,
    /// The least strict value each security setting may take, by `section.key`.
    #[schema(value_type = Object)]
    pub floors: Map<String, Value>,
    /// The sections a tenant may write.
    pub sections: Vec<String>,
}

/// A section as stored after a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct Section {
    pub section: String,
    /// Its number in the section's history (1 for the first).
    pub version: i32,
    /// The document, secrets masked.
    #[schema(value_type = Object)]
    pub document: Value,
}

/// One version of a section.
#[derive(Debug, Serialize, ToSchema)]
pub struct Version {
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `user`, `operator`, `client` or `system`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    /// The version this one restored.
    pub restored_from: Option<i32>,
    /// The document, secrets masked.
    #[schema(value_type = Object)]
    pub document: Value,
}

/// The versions of a section, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Versions {
    pub items: Vec<Version>,
}

fn masked_effective(
    effective: &gatehouse_tenancy::settings::EffectiveSettings,
) -> Map<String, Value> {
    SECTIONS
        .iter()
        .filter_map(|s| {
            effective
                .section(s)
                .map(|d| ((*s).to_owned(), sections::masked(s, d)))
        })
        .collect()
}

/// The tenant's effective settings, its own sections, and the platform's
/// floors and ceilings.
#[utoipa::path(get, path = "/tenants/{slug}/config", tag = "config",
    params(("slug" = String, Path)),
    responses((status = 200, body = Config), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:config:read"])))]
async fn get_all(
    auth: Authorized<ConfigRead>,
    State(state): State<ApiState>,
) -> Result<Json<Config>, Problem> {
    let tenant = auth.tenant()?;
    let stored = gatehouse_tenancy::settings::load_overrides(&state.db, tenant.id).await?;
    let effective = state.platform.with_overrides(&stored);
    let overrides = sections::overrides(&state.db, tenant.id)
        .await
        .map_err(problem)?;
    let ceilings = sections::DEFAULT_CEILINGS
        .iter()
        .filter_map(|(s, k, _)| {
            sections::ceiling(&state.platform, s, k).map(|v| (format!("{s}.{k}"), Value::from(v)))
        })
        .collect();
    let floors = [
        "password_min_length",
        "mfa",
        "email_verification",
        "password_reject_common",
    ]
    .iter()
    .filter_map(|k| {
        state
            .platform
            .get("security", k)
            .map(|v| (format!("security.{k}"), v.clone()))
    })
    .collect();
    Ok(Json(Config {
        effective: masked_effective(&effective),
        overrides,
        ceilings,
        floors,
        sections: SECTIONS.iter().map(|s| (*s).to_owned()).collect(),
    }))
}

fn writer<'a>(state: &'a ApiState, actor: gatehouse_core::audit::Actor) -> Writer<'a> {
    Writer {
        db: &state.db,
        bus: &state.bus,
        keyring: &state.keyring,
        platform: &state.platform,
        actor,
    }
}

/// Replace one section of the tenant's settings. A value that breaks a
/// platform floor or ceiling is refused (422, naming the field and the
/// bound), never clamped. Secrets (`notifications.smtp.password`,
/// `integrations.*.client_secret`) are sent in clear, stored sealed and
/// never returned; leaving one out keeps it, `null` removes it.
#[utoipa::path(put, path = "/tenants/{slug}/config/{section}", tag = "config",
    params(("slug" = String, Path), ("section" = String, Path)),
    request_body(content = Object, description = "The whole section, a JSON object"),
    responses((status = 200, body = Section), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:config:write"])))]
async fn put_section(
    auth: Authorized<ConfigWrite>,
    State(state): State<ApiState>,
    Segments((_, section)): Segments<(String, String)>,
    Body(doc): Body<Value>,
) -> Result<Json<Section>, Problem> {
    let tenant = auth.tenant()?.clone();
    let (document, version) =
        sections::update(&writer(&state, auth.caller.actor()), &tenant, &section, doc)
            .await
            .map_err(problem)?;
    Ok(Json(Section {
        section,
        version,
        document,
    }))
}

/// The versions of a section, newest first (at most 100), secrets masked.
#[utoipa::path(get, path = "/tenants/{slug}/config/{section}/versions", tag = "config",
    params(("slug" = String, Path), ("section" = String, Path)),
    responses((status = 200, body = Versions), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:config:read"])))]
async fn versions(
    auth: Authorized<ConfigRead>,
    State(state): State<ApiState>,
    Segments((_, section)): Segments<(String, String)>,
) -> Result<Json<Versions>, Problem> {
    let items = sections::versions(&state.db, auth.tenant()?.id, &section)
        .await
        .map_err(problem)?;
    Ok(Json(Versions {
        items: items
            .into_iter()
            .map(|v| Version {
                version: v.version,
                at: v.at,
                actor_kind: v.actor_kind,
                actor_id: v.actor_id,
                actor_name: v.actor_name,
                restored_from: v.restored_from,
                document: v.document,
            })
            .collect(),
    }))
}

/// Make a previous version of a section current again (as a new version).
/// Refused (422) when it breaks today's floors or ceilings.
#[utoipa::path(post, path = "/tenants/{slug}/config/{section}/versions/{version}/restore", tag = "config",
    params(("slug" = String, Path), ("section" = String, Path), ("version" = i32, Path)),
    responses((status = 200, body = Section), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:config:write"])))]
async fn restore(
    auth: Authorized<ConfigWrite>,
    State(state): State<ApiState>,
    Segments((_, section, version)): Segments<(String, String, i32)>,
) -> Result<Json<Section>, Problem> {
    let tenant = auth.tenant()?.clone();
    let (document, version) = sections::restore(
        &writer(&state, auth.caller.actor()),
        &tenant,
        &section,
        version,
    )
    .await
    .map_err(problem)?;
    Ok(Json(Section {
        section,
        version,
        document,
    }))
}
