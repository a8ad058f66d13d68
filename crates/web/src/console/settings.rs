//! `{issuer}/admin/settings`: the tenant's brand and security policy as
//! forms, each saved as its settings section through
//! `gatehouse_tenancy::sections` (the platform's floors and ceilings
//! checked, a new version kept, the change audited and announced), and a
//! preview of the sign-in page as it now looks.

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use gatehouse_tenancy::sections::{self, SectionError, Writer};
use gatehouse_tenancy::settings::EffectiveSettings;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::admin::{answer, DoneQuery};
use super::tenant_settings::{version_rows, VersionRow};
use super::{notice, Area, Console, Layout};
use crate::front::page::{Chrome, Csp, LoginPage};
use crate::front::{brand, internal, page, session, Failure, Front};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/settings", get(settings_page).post(save))
        .route("/admin/settings/restore", post(restore))
        .route("/admin/settings/preview", get(preview))
}

/// The brand keys the form edits (others in the section are kept).
const BRAND_KEYS: [&str; 6] = [
    "company_name",
    "logo_url",
    "primary_color",
    "primary_color_dark",
    "accent_color",
    "font_family",
];

#[derive(Template)]
#[template(path = "console/settings.html", config = "src/front/askama.toml")]
struct SettingsPage {
    layout: Layout,
    brand: Map<String, Value>,
    security: Map<String, Value>,
    /// The platform's values, shown as what applies when a field is empty.
    platform_min_length: u64,
    platform_mfa: String,
    session_ceiling: u64,
    brand_versions: Vec<VersionRow>,
    security_versions: Vec<VersionRow>,
}

impl SettingsPage {
    fn text(map: &Map<String, Value>, key: &str) -> String {
        match map.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    }

    pub fn brand_value(&self, key: &str) -> String {
        Self::text(&self.brand, key)
    }

    pub fn security_value(&self, key: &str) -> String {
        Self::text(&self.security, key)
    }
}

fn platform(f: &Front) -> EffectiveSettings {
    EffectiveSettings::platform(&f.state.config.settings)
}

const NOTICES: [(&str, &str); 3] = [
    (
        "restored",
        "The version was restored as a new version; the sign-in pages use it now.",
    ),
    (
        "branding",
        "The brand was saved; the sign-in pages use it now.",
    ),
    ("security", "The security policy was saved."),
];

async fn settings_page(f: Front, q: Result<Query<DoneQuery>, QueryRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let Query(q) = q.unwrap_or_default();
        let layout = c
            .layout("/admin/settings")
            .with_notice(notice(&NOTICES, q.done.as_deref()));
        view(&c, layout, None, StatusCode::OK).await
    })
    .await
}

/// The page; `typed` (a section and what was typed in its form) replaces
/// the stored values of that section after a refused save.
async fn view(
    c: &Console,
    layout: Layout,
    typed: Option<(&str, Map<String, Value>)>,
    status: StatusCode,
) -> Result<Response, Response> {
    let f = &c.f;
    let mut stored = sections::overrides(&f.state.db, f.tenant_id())
        .await
        .map_err(|e| f.fail(internal(e)))?;
    if let Some((section, doc)) = typed {
        stored.insert(section.to_owned(), Value::Object(doc));
    }
    let object = |s: &str| {
        stored
            .get(s)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let p = platform(f);
    Ok(c.render(
        status,
        &SettingsPage {
            layout,
            brand: object("branding"),
            security: object("security"),
            platform_min_length: p
                .get("security", "password_min_length")
                .and_then(Value::as_u64)
                .unwrap_or(12),
            platform_mfa: p
                .get("security", "mfa")
                .and_then(Value::as_str)
                .unwrap_or("optional")
                .to_owned(),
            session_ceiling: sections::ceiling(&p, "security", "session_ttl_secs").unwrap_or(0),
            brand_versions: version_rows(c, f.tenant_id(), "branding").await?,
            security_versions: version_rows(c, f.tenant_id(), "security").await?,
        },
    ))
}

#[derive(Debug, Deserialize, Default)]
pub struct SettingsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    section: String,
    #[serde(flatten)]
    fields: std::collections::BTreeMap<String, String>,
}

/// The section document the form describes, over the stored one (keys the
/// form does not edit are kept); Err names a field and what it must be.
fn merged(
    section: &str,
    stored: Option<&Value>,
    fields: &std::collections::BTreeMap<String, String>,
) -> Result<Map<String, Value>, String> {
    let mut doc = stored
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let get = |k: &str| fields.get(k).map(|v| v.trim()).unwrap_or_default();
    match section {
        "branding" => {
            for key in BRAND_KEYS {
                let v = get(key);
                if v.is_empty() {
                    doc.remove(key);
                    continue;
                }
                let ok = match key {
                    "logo_url" => brand::image_url(v).is_some(),
                    "font_family" => brand::font_stack(v).is_some(),
                    "company_name" => v.chars().count() <= 200,
                    _ => brand::Rgb::parse(v).is_some(),
                };
                if !ok {
                    return Err(match key {
                        "logo_url" => "The logo must be an https:// URL or a data:image/ URI of at most 64 KiB.".into(),
                        "font_family" => "The font must be a list of font family names (letters, digits, spaces, commas, hyphens, quotes; at most 200 characters).".into(),
                        "company_name" => "The company name is at most 200 characters.".into(),
                        _ => format!("{key} must be a colour like #1d4ed8 or #14b."),
                    });
                }
                doc.insert(key.to_owned(), Value::String(v.to_owned()));
            }
        }
        "security" => {
            for key in ["mfa", "email_verification"] {
                match get(key) {
                    "" => {
                        doc.remove(key);
                    }
                    v => {
                        doc.insert(key.to_owned(), Value::String(v.to_owned()));
                    }
                }
            }
            for key in ["password_min_length", "session_ttl_secs"] {
                match get(key) {
                    "" => {
                        doc.remove(key);
                    }
                    v => match v.parse::<u64>() {
                        Ok(n) => {
                            doc.insert(key.to_owned(), Value::from(n));
                        }
                        Err(_) => return Err(format!("{key} must be a whole number.")),
                    },
                }
            }
        }
        _ => return Err("Unknown settings section.".into()),
    }
    Ok(doc)
}

/// `POST {issuer}/admin/settings`: saves one section.
async fn save(f: Front, form: Result<Form<SettingsForm>, FormRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let form = c.change_form(form, |f| &f.csrf)?;
        let f = &c.f;
        let section = match form.section.as_str() {
            "branding" => "branding",
            "security" => "security",
            _ => return Err(c.f.fail(Failure::csrf())),
        };
        let stored = sections::overrides(&f.state.db, f.tenant_id())
            .await
            .map_err(|e| f.fail(internal(e)))?;
        let doc = match merged(section, stored.get(section), &form.fields) {
            Ok(d) => d,
            Err(m) => {
                let typed = typed_fields(section, &form.fields);
                let layout = c.layout("/admin/settings").with_error(m);
                return view(
                    &c,
                    layout,
                    Some((section, typed)),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        };
        let p = platform(f);
        let writer = Writer {
            db: &f.state.db,
            bus: &f.state.bus,
            keyring: &f.state.keyring,
            platform: &p,
            actor: c.actor(),
        };
        match sections::update(
            &writer,
            &f.provider.tenant,
            section,
            Value::Object(doc.clone()),
        )
        .await
        {
            Ok(_) => Ok(c.back("/admin/settings", section)),
            Err(SectionError::Db(e)) => Err(f.fail(internal(e))),
            Err(SectionError::Seal(e)) => Err(f.fail(internal(e))),
            Err(e) => {
                let layout = c
                    .layout("/admin/settings")
                    .with_error(format!("Not saved: {e}."));
                view(
                    &c,
                    layout,
                    Some((section, doc)),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
pub struct RestoreForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    section: String,
    #[serde(default)]
    version: String,
}

/// `POST {issuer}/admin/settings/restore`: makes an earlier version of the
/// brand or the security policy current again (a new version), if it still
/// meets the platform's bounds.
async fn restore(f: Front, form: Result<Form<RestoreForm>, FormRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let form = c.change_form(form, |f| &f.csrf)?;
        let f = &c.f;
        let section = match form.section.as_str() {
            "branding" => "branding",
            "security" => "security",
            _ => return Err(c.f.fail(Failure::csrf())),
        };
        let Ok(version) = form.version.trim().parse::<i32>() else {
            return refused(&c, "There is no such version.".into()).await;
        };
        let p = platform(f);
        let writer = Writer {
            db: &f.state.db,
            bus: &f.state.bus,
            keyring: &f.state.keyring,
            platform: &p,
            actor: c.actor(),
        };
        match sections::restore(&writer, &f.provider.tenant, section, version).await {
            Ok(_) => Ok(c.back("/admin/settings", "restored")),
            Err(SectionError::Db(e)) => Err(f.fail(internal(e))),
            Err(SectionError::Seal(e)) => Err(f.fail(internal(e))),
            Err(e) => refused(&c, format!("Not restored: {e}.")).await,
        }
    })
    .await
}

/// The page again with `message` as the error, answered 422.
async fn refused(c: &Console, message: String) -> Result<Response, Response> {
    let layout = c.layout("/admin/settings").with_error(message);
    view(c, layout, None, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// What was typed, as text, to show again after a refusal.
fn typed_fields(
    section: &str,
    fields: &std::collections::BTreeMap<String, String>,
) -> Map<String, Value> {
    let keys: &[&str] = if section == "branding" {
        &BRAND_KEYS
    } else {
        &[
            "mfa",
            "email_verification",
            "password_min_length",
            "session_ttl_secs",
        ]
    };
    keys.iter()
        .filter_map(|k| {
            fields
                .get(*k)
                .map(|v| ((*k).to_owned(), Value::String(v.clone())))
        })
        .collect()
}

/// `GET {issuer}/admin/settings/preview`: the sign-in page with the
/// tenant's brand as it is now. Its form signs nobody in (it names no
/// pending request).
async fn preview(f: Front) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let f = &c.f;
        let (csrf, _) = session::csrf_token(f, &f.headers);
        let here = format!("{}/admin/settings/preview", Chrome::of(f).base);
        Ok(page::render(
            StatusCode::OK,
            &LoginPage {
                chrome: Chrome::at(f, &here),
                req: "preview",
                csrf: &csrf,
                username: "",
                client_name: None,
                error: None,
                signup: false,
                passkey: None,
            },
            &Csp::default(),
            &[],
        ))
    })
    .await
}
