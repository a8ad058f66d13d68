//! `{issuer}/platform` at `_platforms`: the platform's tenants. A list
//! with search by slug prefix and keyset pages (an index range scan, as
//! fast at 100,000 tenants as at 10), creation, a tenant's page with its
//! status (suspend, archive, activate) and deletion (the slug typed again),
//! and, entering the tenant (recorded in its own audit log), its users and
//! its audit log.

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use gatehouse_core::audit::{self, action, Entry};
use gatehouse_oidc::users;
use gatehouse_tenancy::{TenantError, TenantRecord, TenantStatus};
use serde::Deserialize;
use serde_json::json;

use super::admin::{answer, DoneQuery, ListQuery, UserRow, PAGE};
use super::audit_view::{self, AuditQuery};
use super::{notice, stamp, Area, Console, Layout};
use crate::front::{internal, page, Failure, Front};
use crate::state::AppState;
use gatehouse_tenancy::domains::DomainError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/platform", get(home))
        .route("/platform/tenants", get(tenants_page).post(create))
        .route("/platform/tenants/{slug}", get(tenant_page).post(act))
        .route("/platform/tenants/{slug}/users", get(tenant_users))
        .route("/platform/tenants/{slug}/audit", get(tenant_audit))
        .route("/platform/tenants/{slug}/audit.csv", get(tenant_audit_csv))
}

async fn home(f: Front) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Platform).await?;
        Ok(page::see_other(&c.f.url("/platform/tenants"), &[]))
    })
    .await
}

pub struct TenantRow {
    pub slug: String,
    pub name: String,
    pub status: &'static str,
    pub builtin: bool,
    pub created: String,
    pub id: String,
}

impl From<&TenantRecord> for TenantRow {
    fn from(t: &TenantRecord) -> Self {
        Self {
            slug: t.slug.to_string(),
            name: t.display_name.clone(),
            status: t.status.as_str(),
            builtin: t.builtin,
            created: stamp(t.created_at),
            id: t.id.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/tenants.html", config = "src/front/askama.toml")]
struct TenantsPage {
    layout: Layout,
    q: String,
    rows: Vec<TenantRow>,
    next: Option<String>,
    slug: String,
    name: String,
    domain: String,
}

const NOTICES: [(&str, &str); 9] = [
    (
        "domain-added",
        "The domain was added; every node resolves it to this tenant within a second.",
    ),
    (
        "domain-changed",
        "The primary domain changed, and with it the tenant's issuer.",
    ),
    (
        "domain-removed",
        "The domain was removed; it no longer resolves to this tenant.",
    ),
    ("created", "The tenant was created."),
    (
        "deleted",
        "The tenant was deleted, with every row and every Redis key it had.",
    ),
    (
        "suspended",
        "The tenant is suspended: every endpoint of it answers 403 on every node.",
    ),
    (
        "archived",
        "The tenant is archived: it answers 403 and keeps its data and slug.",
    ),
    ("activated", "The tenant is active."),
    ("unchanged", "Nothing changed."),
];

async fn tenants_page(f: Front, q: Result<Query<ListQuery>, QueryRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Platform).await?;
        let Query(q) = q.unwrap_or_default();
        let layout = c
            .layout("/platform/tenants")
            .with_notice(notice(&NOTICES, q.done.as_deref()));
        list(&c, layout, &q, NewTenantForm::default(), StatusCode::OK).await
    })
    .await
}

async fn list(
    c: &Console,
    layout: Layout,
    q: &ListQuery,
    form: NewTenantForm,
    status: StatusCode,
) -> Result<Response, Response> {
    let f = &c.f;
    let prefix = q.q.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let mut rows = f
        .state
        .tenancy
        .tenants
        .search(prefix, q.after.as_deref(), PAGE + 1)
        .await
        .map_err(|e| f.fail(internal(e)))?;
    let next = (rows.len() > PAGE as usize).then(|| rows[PAGE as usize - 1].slug.to_string());
    rows.truncate(PAGE as usize);
    Ok(c.render(
        status,
        &TenantsPage {
            layout,
            q: q.q.clone().unwrap_or_default(),
            rows: rows.iter().map(TenantRow::from).collect(),
            next,
            slug: form.slug,
            name: form.name,
            domain: form.domain,
        },
    ))
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct NewTenantForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    domain: String,
}

fn refusal(e: TenantError) -> Result<String, Failure> {
    match e {
        TenantError::Db(e) => Err(internal(e)),
        TenantError::NotFound => Ok("There is no such tenant.".into()),
        other => Ok(format!("{}.", capitalised(&other.to_string()))),
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

async fn create(f: Front, form: Result<Form<NewTenantForm>, FormRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Platform).await?;
        let form = c.change_form(form, |f| &f.csrf)?;
        let f = &c.f;
        let tenants = &f.state.tenancy.tenants;
        let rules = f.state.domain_rules();
        // The domain is checked first, so a refused one creates nothing.
        let domain = form.domain.trim();
        let checked = if domain.is_empty() {
            Ok(None)
        } else {
            match rules.check(domain) {
                Ok(host) => match tenants.domain_holder(&host).await {
                    Ok(None) => Ok(Some(host)),
                    Ok(Some(_)) => Err(format!("{host} is already a tenant's domain.")),
                    Err(e) => return Err(f.fail(internal(e))),
                },
                Err(e) => Err(format!("{}.", capitalised(&e.to_string()))),
            }
        };
        let made = match checked {
            Ok(host) => match tenants
                .create_by(form.slug.trim(), &form.name, c.operator())
                .await
            {
                Ok(t) => Ok((t, host)),
                Err(e) => Err(refusal(e).map_err(|e| f.fail(e))?),
            },
            Err(error) => Err(error),
        };
        match made {
            Ok((t, host)) => {
                if let Some(host) = host {
                    if let Err(e) = tenants
                        .add_domain(&t, &host, true, &rules, c.operator())
                        .await
                    {
                        let layout = c.layout("/platform/tenants").with_error(format!(
                            "The tenant was created, but its domain was not: {e}."
                        ));
                        return tenant_view(&c, &t, layout, StatusCode::CONFLICT).await;
                    }
                }
                Ok(c.back(&format!("/platform/tenants/{}", t.slug), "created"))
            }
            Err(error) => {
                let layout = c.layout("/platform/tenants").with_error(error);
                list(
                    &c,
                    layout,
                    &ListQuery::default(),
                    form,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    })
    .await
}

#[derive(Template)]
#[template(path = "console/tenant.html", config = "src/front/askama.toml")]
struct TenantPage {
    layout: Layout,
    tenant: TenantRow,
    /// Counts only (no one's data): not recorded as entering the tenant.
    usage: gatehouse_admin::usage::Usage,
    domains: Vec<gatehouse_tenancy::domains::Domain>,
    /// What the domain form held, when it was refused.
    new_host: String,
}

/// The tenant's page: its record, usage and custom domains.
async fn tenant_view(
    c: &Console,
    t: &TenantRecord,
    layout: Layout,
    status: StatusCode,
) -> Result<Response, Response> {
    tenant_view_with(c, t, layout, status, String::new()).await
}

async fn tenant_view_with(
    c: &Console,
    t: &TenantRecord,
    layout: Layout,
    status: StatusCode,
    new_host: String,
) -> Result<Response, Response> {
    let f = &c.f;
    let usage = async {
        let mut tx = f.state.db.tenant_tx(t.id).await?;
        let usage = gatehouse_admin::usage::of_tenant(&mut tx).await?;
        tx.commit().await?;
        Ok::<_, Failure>(usage)
    }
    .await
    .map_err(|e| f.fail(e))?;
    let domains = f
        .state
        .tenancy
        .tenants
        .domains(t)
        .await
        .map_err(|e| f.fail(internal(e)))?;
    Ok(c.render(
        status,
        &TenantPage {
            layout,
            tenant: TenantRow::from(t),
            usage,
            domains,
            new_host,
        },
    ))
}

pub(super) async fn found(c: &Console, slug: &str) -> Result<TenantRecord, Response> {
    let f = &c.f;
    match f.state.tenancy.tenants.get(slug).await {
        Ok(t) => Ok(t),
        Err(TenantError::NotFound) => Err(super::message(
            f,
            StatusCode::NOT_FOUND,
            "No such tenant",
            "There is no tenant with this slug.",
        )),
        Err(e) => Err(f.fail(internal(e))),
    }
}

async fn tenant_page(
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
        tenant_view(&c, &t, layout, StatusCode::OK).await
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
pub struct TenantAction {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "do")]
    act: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    primary: Option<String>,
}

/// `POST {issuer}/platform/tenants/{slug}`: `do` = suspend, archive,
/// activate or delete (with `confirm` = the slug); `domain-add` (with
/// `host`, `primary`), `domain-primary`, `domain-secondary` and
/// `domain-remove` (with `host`).
async fn act(
    f: Front,
    Path(slug): Path<String>,
    form: Result<Form<TenantAction>, FormRejection>,
) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Platform).await?;
        let form = c.change_form(form, |f| &f.csrf)?;
        let t = found(&c, &slug).await?;
        let f = &c.f;
        let tenants = &f.state.tenancy.tenants;
        if let Some(kind) = form.act.strip_prefix("domain-") {
            let host = form.host.trim();
            let done = match kind {
                "add" => tenants
                    .add_domain(
                        &t,
                        host,
                        form.primary.is_some(),
                        &f.state.domain_rules(),
                        c.operator(),
                    )
                    .await
                    .map(|_| "domain-added"),
                "primary" | "secondary" => tenants
                    .set_primary_domain(&t, host, kind == "primary", c.operator())
                    .await
                    .map(|()| "domain-changed"),
                "remove" => tenants
                    .remove_domain(&t, host, c.operator())
                    .await
                    .map(|()| "domain-removed"),
                _ => Ok("unchanged"),
            };
            return match done {
                Ok(done) => Ok(c.back(&format!("/platform/tenants/{slug}"), done)),
                Err(DomainError::Db(e)) => Err(f.fail(internal(e))),
                Err(e) => {
                    let layout = c
                        .layout("/platform/tenants")
                        .with_error(format!("{}.", capitalised(&e.to_string())));
                    let kept = if kind == "add" { form.host.clone() } else { String::new() };
                    tenant_view_with(&c, &t, layout, StatusCode::UNPROCESSABLE_ENTITY, kept).await
                }
            };
        }
        let status = match form.act.as_str() {
            "suspend" => Some((TenantStatus::Suspended, "suspended")),
            "archive" => Some((TenantStatus::Inactive, "archived")),
            "activate" => Some((TenantStatus::Active, "activated")),
            _ => None,
        };
        let result = if let Some((status, done)) = status {
            if t.status == status {
                Ok("unchanged")
            } else {
                tenants
                    .set_status_by(&slug, status, c.operator())
                    .await
                    .map(|_| done)
            }
        } else if form.act == "delete" {
            if form.confirm.trim() != t.slug.as_str() {
                let layout = c.layout("/platform/tenants").with_error(format!(
                    "Type the slug, {}, to confirm the deletion. Nothing was deleted.",
                    t.slug
                ));
                return tenant_view(&c, &t, layout, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
            match tenants.delete(&slug).await {
                Ok(gone) => {
                    if let Err(e) = f.state.kv.purge_tenant(gone.id).await {
                        tracing::warn!(tenant = %gone.slug, error = %e, "deleted tenant's Redis entries not purged; they expire");
                    }
                    tracing::info!(tenant = %gone.slug, operator = %c.user.id, "tenant deleted");
                    return Ok(c.back("/platform/tenants", "deleted"));
                }
                Err(e) => Err(e),
            }
        } else {
            Ok("unchanged")
        };
        match result {
            Ok(done) => Ok(c.back(&format!("/platform/tenants/{slug}"), done)),
            Err(e) => {
                let error = refusal(e).map_err(|e| f.fail(e))?;
                let layout = c.layout("/platform/tenants").with_error(error);
                tenant_view(&c, &t, layout, StatusCode::UNPROCESSABLE_ENTITY).await
            }
        }
    })
    .await
}

/// Records in `t`'s own audit log that the operator entered it to read
/// `what`.
async fn enter(c: &Console, t: &TenantRecord, what: &str) -> Result<(), Response> {
    let f = &c.f;
    async {
        let mut tx = f.state.db.tenant_tx(t.id).await?;
        audit::record(
            &mut tx,
            &Entry::new(c.operator(), action::TENANT_ENTERED)
                .target("tenant", t.slug.as_str())
                .ip(f.client_ip)
                .details(json!({ "console": "platform", "read": what })),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, Failure>(())
    }
    .await
    .map_err(|e| f.fail(e))
}

#[derive(Template)]
#[template(path = "console/tenant_users.html", config = "src/front/askama.toml")]
struct TenantUsersPage {
    layout: Layout,
    tenant: TenantRow,
    q: String,
    rows: Vec<UserRow>,
    next: Option<String>,
}

async fn tenant_users(
    f: Front,
    Path(slug): Path<String>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Platform).await?;
        let Query(q) = q.unwrap_or_default();
        let t = found(&c, &slug).await?;
        enter(&c, &t, "users").await?;
        let f = &c.f;
        let mut rows = async {
            let mut tx = f.state.db.tenant_tx(t.id).await?;
            let rows = users::search(&mut tx, q.q.as_deref(), q.after.as_deref(), PAGE + 1).await?;
            tx.commit().await?;
            Ok::<_, Failure>(rows)
        }
        .await
        .map_err(|e| f.fail(e))?;
        let next = (rows.len() > PAGE as usize).then(|| rows[PAGE as usize - 1].username.clone());
        rows.truncate(PAGE as usize);
        Ok(c.render(
            StatusCode::OK,
            &TenantUsersPage {
                layout: c.layout("/platform/tenants"),
                tenant: TenantRow::from(&t),
                q: q.q.clone().unwrap_or_default(),
                rows: rows.into_iter().map(UserRow::from).collect(),
                next,
            },
        ))
    })
    .await
}

async fn tenant_audit(
    f: Front,
    Path(slug): Path<String>,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Platform).await?;
        let Query(q) = q.unwrap_or_default();
        let t = found(&c, &slug).await?;
        enter(&c, &t, "audit log").await?;
        let path = format!("/platform/tenants/{}/audit", t.slug);
        audit_view::render_page(
            &c,
            t.id,
            t.display_name.clone(),
            "/platform/tenants",
            &path,
            q,
        )
        .await
    })
    .await
}

async fn tenant_audit_csv(
    f: Front,
    Path(slug): Path<String>,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Platform).await?;
        let Query(q) = q.unwrap_or_default();
        let t = found(&c, &slug).await?;
        enter(&c, &t, "audit log export").await?;
        audit_view::export(&c, t.id, t.slug.as_str(), q).await
    })
    .await
}
