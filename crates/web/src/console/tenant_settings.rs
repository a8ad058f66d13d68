//! `/platform/tenants/{slug}/settings`: a platform operator's view of one
//! tenant's settings overrides, section by section, as JSON: each section
//! can be replaced (the platform's floors and ceilings checked, secrets
//! sealed, a version kept, the change audited in the tenant's log and
//! announced) and any earlier version restored. The same operations as
//! `PUT /api/v1/tenants/{slug}/config/{section}` and its `restore`.

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use gatehouse_tenancy::sections::{self, SectionError, Writer};
use gatehouse_tenancy::settings::{EffectiveSettings, SECTIONS};
use gatehouse_tenancy::TenantRecord;
use serde::Deserialize;
use serde_json::Value;

use super::admin::{answer, DoneQuery};
use super::platform::found;
use super::{notice, stamp, Area, Console, Layout};
use crate::front::{internal, Front};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/platform/tenants/{slug}/settings",
        get(settings_page).post(act),
    )
}

/// Versions listed per section.
const VERSIONS_SHOWN: usize = 10;

pub struct SectionView {
    pub name: &'static str,
    /// "branding section", for the list of versions.
    pub label: String,
    /// The override as stored (secrets masked), pretty JSON; `{}` for none.
    pub document: String,
    pub versions: Vec<VersionRow>,
}

pub struct VersionRow {
    pub version: i32,
    pub at: String,
    pub by: String,
    pub restored_from: Option<i32>,
    pub current: bool,
}

#[derive(Template)]
#[template(
    path = "console/tenant_settings.html",
    config = "src/front/askama.toml"
)]
struct SettingsPage {
    layout: Layout,
    slug: String,
    name: String,
    sections: Vec<SectionView>,
    /// Where the page's forms post, under `layout.base`.
    settings_path: String,
}

const NOTICES: [(&str, &str); 2] = [
    (
        "saved",
        "The section was saved as a new version; every node uses it within a second.",
    ),
    (
        "restored",
        "The version was restored as a new version; every node uses it within a second.",
    ),
];

async fn settings_page(
    f: Front,
    Path(slug): Path<String>,
    q: Result<Query<DoneQuery>, QueryRejection>,
) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Platform).await?;
        let Query(q) = q.unwrap_or_default();
        let t = found(&c, &slug).await?;
        let layout = c
            .layout("/platform/tenants")
            .with_notice(notice(&NOTICES, q.done.as_deref()));
        view(&c, &t, layout, None, StatusCode::OK).await
    })
    .await
}

/// The page; `typed` (a section and its text) replaces that section's
/// stored document after a refused save, so nothing typed is lost.
async fn view(
    c: &Console,
    t: &TenantRecord,
    layout: Layout,
    typed: Option<(&str, String)>,
    status: StatusCode,
) -> Result<Response, Response> {
    let f = &c.f;
    let stored = sections::overrides(&f.state.db, t.id)
        .await
        .map_err(|e| f.fail(internal(e)))?;
    let mut out = Vec::new();
    for name in SECTIONS {
        let versions = version_rows(c, t.id, name).await?;
        let document = match &typed {
            Some((section, text)) if *section == name => text.clone(),
            _ => serde_json::to_string_pretty(
                stored
                    .get(name)
                    .unwrap_or(&Value::Object(Default::default())),
            )
            .unwrap_or_default(),
        };
        out.push(SectionView {
            name,
            label: format!("{name} section"),
            document,
            versions,
        });
    }
    Ok(c.render(
        status,
        &SettingsPage {
            layout,
            slug: t.slug.to_string(),
            name: t.display_name.clone(),
            sections: out,
            settings_path: format!("/platform/tenants/{}/settings", t.slug),
        },
    ))
}

/// The newest versions of `section` at `tenant`, for a list with restore
/// buttons.
pub(super) async fn version_rows(
    c: &Console,
    tenant: gatehouse_core::TenantId,
    section: &str,
) -> Result<Vec<VersionRow>, Response> {
    let versions = sections::versions(&c.f.state.db, tenant, section)
        .await
        .map_err(|e| c.f.fail(internal(e)))?;
    let latest = versions.first().map(|v| v.version);
    Ok(versions
        .into_iter()
        .take(VERSIONS_SHOWN)
        .map(|v| VersionRow {
            current: Some(v.version) == latest,
            version: v.version,
            at: stamp(v.at),
            by: v
                .actor_name
                .or(v.actor_id)
                .map(|who| format!("{} {who}", v.actor_kind))
                .unwrap_or(v.actor_kind),
            restored_from: v.restored_from,
        })
        .collect())
}

#[derive(Debug, Deserialize, Default)]
pub struct SettingsAction {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "do")]
    act: String,
    #[serde(default)]
    section: String,
    #[serde(default)]
    document: String,
    #[serde(default)]
    version: String,
}

/// `POST …/settings`: `do` = `save` (with `section` and `document`, the
/// section's whole JSON object) or `restore` (with `section`, `version`).
async fn act(
    f: Front,
    Path(slug): Path<String>,
    form: Result<Form<SettingsAction>, FormRejection>,
) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Platform).await?;
        let form = c.change_form(form, |f| &f.csrf)?;
        let t = found(&c, &slug).await?;
        let f = &c.f;
        let Some(section) = SECTIONS.iter().copied().find(|s| *s == form.section) else {
            let layout = c
                .layout("/platform/tenants")
                .with_error("There is no such settings section.");
            return view(&c, &t, layout, None, StatusCode::UNPROCESSABLE_ENTITY).await;
        };
        let platform = EffectiveSettings::platform(&f.state.config.settings);
        let writer = Writer {
            db: &f.state.db,
            bus: &f.state.bus,
            keyring: &f.state.keyring,
            platform: &platform,
            actor: c.operator(),
        };
        let (result, done) = match form.act.as_str() {
            "save" => {
                let doc = match serde_json::from_str::<Value>(&form.document) {
                    Ok(doc) => doc,
                    Err(e) => {
                        let layout = c.layout("/platform/tenants").with_error(format!(
                            "Not saved: the {section} section is not valid JSON ({e})."
                        ));
                        let typed = Some((section, form.document.clone()));
                        return view(&c, &t, layout, typed, StatusCode::UNPROCESSABLE_ENTITY).await;
                    }
                };
                (sections::update(&writer, &t, section, doc).await, "saved")
            }
            "restore" => {
                let Ok(version) = form.version.trim().parse::<i32>() else {
                    let layout = c
                        .layout("/platform/tenants")
                        .with_error("There is no such version.");
                    return view(&c, &t, layout, None, StatusCode::UNPROCESSABLE_ENTITY).await;
                };
                (
                    sections::restore(&writer, &t, section, version).await,
                    "restored",
                )
            }
            _ => {
                let layout = c.layout("/platform/tenants").with_error("Unknown action.");
                return view(&c, &t, layout, None, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
        };
        match result {
            Ok(_) => Ok(c.back(&format!("/platform/tenants/{slug}/settings"), done)),
            Err(SectionError::Db(e)) => Err(f.fail(internal(e))),
            Err(SectionError::Seal(e)) => Err(f.fail(internal(e))),
            Err(e) => {
                let layout = c
                    .layout("/platform/tenants")
                    .with_error(format!("Not saved: {e}."));
                let typed = (form.act == "save").then(|| (section, form.document.clone()));
                view(&c, &t, layout, typed, StatusCode::UNPROCESSABLE_ENTITY).await
            }
        }
    })
    .await
}
