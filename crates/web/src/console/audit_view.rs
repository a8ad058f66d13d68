//! The audit log in the consoles: `{issuer}/admin/audit` (the tenant's
//! own) and, at `_platforms`, `/platform/tenants/{slug}/audit` (another
//! tenant's, which records the operator's entry in that tenant's log).
//! Filters by action (a name, or a prefix ending in `.`), actor id and a
//! range of days (UTC); keyset pages of 50, newest first; and the same
//! selection as CSV (at most [`CSV_MAX`] events).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_admin::audit::{self, AuditEvent, Filter};
use gatehouse_core::TenantId;
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};

use super::admin::answer;
use super::{stamp, Area, Console, Layout};
use crate::front::{internal, Failure, Front};

/// The most events one CSV export holds.
pub const CSV_MAX: usize = 10_000;

#[derive(Debug, Deserialize, Default, Clone)]
pub struct AuditQuery {
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub actor: Option<String>,
    /// First day, `YYYY-MM-DD` (UTC), included.
    #[serde(default)]
    pub since: Option<String>,
    /// Last day, `YYYY-MM-DD` (UTC), included.
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
}

fn day(s: Option<&str>) -> Result<Option<Date>, String> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Date::parse(s, format_description!("[year]-[month]-[day]"))
            .map(Some)
            .map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD).")),
    }
}

impl AuditQuery {
    /// The store's filter; Err names a malformed field.
    pub fn filter(&self, limit: u32) -> Result<Filter, String> {
        let since = day(self.since.as_deref())?.map(|d| d.with_time(Time::MIDNIGHT).assume_utc());
        let until = day(self.until.as_deref())?
            .and_then(|d| d.next_day())
            .map(|d| d.with_time(Time::MIDNIGHT).assume_utc());
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Ok(Filter {
            since,
            until,
            actor: text(&self.actor),
            action: text(&self.action),
            after: text(&self.after),
            limit: Some(limit),
        })
    }

    /// The query string of these filters (no cursor).
    pub fn query_string(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("action", &self.action),
            ("actor", &self.actor),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
                q.append_pair(k, v.trim());
            }
        }
        q.finish()
    }
}

pub struct EventRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub details: String,
}

impl From<AuditEvent> for EventRow {
    fn from(e: AuditEvent) -> Self {
        let actor = match (&e.actor_name, &e.actor_id) {
            (Some(n), Some(id)) => format!("{} {n} ({id})", e.actor_kind),
            (None, Some(id)) => format!("{} {id}", e.actor_kind),
            _ => e.actor_kind.clone(),
        };
        Self {
            at: stamp(e.at),
            actor,
            action: e.action,
            target: match (e.target_kind, e.target_id) {
                (Some(k), Some(id)) => format!("{k} {id}"),
                (Some(k), None) => k,
                _ => String::new(),
            },
            ip: e.ip.unwrap_or_default(),
            details: if e.details.as_object().is_some_and(|o| o.is_empty()) {
                String::new()
            } else {
                e.details.to_string()
            },
        }
    }
}

#[derive(Template)]
#[template(path = "console/audit.html", config = "src/front/askama.toml")]
pub struct AuditPage {
    pub layout: Layout,
    /// Whose log: the tenant's display name.
    pub whose: String,
    /// Where the filter form sends its GET (a path with the issuer's base).
    pub action_url: String,
    pub q: AuditQuery,
    pub rows: Vec<EventRow>,
    pub next: Option<String>,
    pub csv_url: String,
}

/// One page of `tenant`'s log for `q`; Err is a message for the page.
pub async fn read(
    f: &Front,
    tenant: TenantId,
    q: &AuditQuery,
    limit: u32,
) -> Result<Result<audit::Page, String>, Failure> {
    let filter = match q.filter(limit) {
        Ok(f) => f,
        Err(m) => return Ok(Err(m)),
    };
    let mut tx = f.state.db.tenant_tx(tenant).await?;
    let page = audit::list(&mut tx, &filter).await;
    tx.commit().await?;
    match page {
        Ok(p) => Ok(Ok(p)),
        Err(gatehouse_oidc::StoreError::Invalid(m)) => Ok(Err(m)),
        Err(e) => Err(internal(e)),
    }
}

/// The page for both consoles.
pub async fn render_page(
    c: &Console,
    tenant: TenantId,
    whose: String,
    current: &str,
    path: &str,
    q: AuditQuery,
) -> Result<Response, Response> {
    let f = &c.f;
    let (rows, next, layout, status) = match read(f, tenant, &q, 50).await.map_err(|e| f.fail(e))? {
        Ok(page) => (page.items, page.next, c.layout(current), StatusCode::OK),
        Err(m) => (
            Vec::new(),
            None,
            c.layout(current).with_error(m),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let base = c.layout(current).base;
    let qs = q.query_string();
    Ok(c.render(
        status,
        &AuditPage {
            layout,
            whose,
            action_url: format!("{base}{path}"),
            csv_url: format!(
                "{base}{path}.csv{}{qs}",
                if qs.is_empty() { "" } else { "?" }
            ),
            rows: rows.into_iter().map(EventRow::from).collect(),
            next,
            q,
        },
    ))
}

pub async fn page(f: Front, q: Result<Query<AuditQuery>, QueryRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let Query(q) = q.unwrap_or_default();
        let tenant = c.f.tenant_id();
        let whose = c.f.provider.tenant.display_name.clone();
        render_page(&c, tenant, whose, "/admin/audit", "/admin/audit", q).await
    })
    .await
}

pub async fn csv(f: Front, q: Result<Query<AuditQuery>, QueryRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let Query(q) = q.unwrap_or_default();
        let slug = c.f.provider.tenant.slug.to_string();
        export(&c, c.f.tenant_id(), &slug, q).await
    })
    .await
}

/// A cell that a spreadsheet will not run as a formula (OWASP "CSV
/// injection"): a leading `=`, `+`, `-`, `@`, tab or carriage return gets
/// a `'` in front.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

/// `tenant`'s events for `q` as CSV (RFC 4180), newest first.
pub async fn export(
    c: &Console,
    tenant: TenantId,
    slug: &str,
    mut q: AuditQuery,
) -> Result<Response, Response> {
    let f = &c.f;
    q.after = None;
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "at",
        "actor_kind",
        "actor_id",
        "actor_name",
        "action",
        "target_kind",
        "target_id",
        "ip",
        "details",
    ];
    out.write_record(header).map_err(|e| f.fail(internal(e)))?;
    let mut written = 0;
    loop {
        let page = match read(f, tenant, &q, 100).await.map_err(|e| f.fail(e))? {
            Ok(p) => p,
            Err(m) => {
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, m).into_response());
            }
        };
        for e in &page.items {
            let at =
                e.at.format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
            let record = [
                at,
                e.actor_kind.clone(),
                e.actor_id.clone().unwrap_or_default(),
                e.actor_name.clone().unwrap_or_default(),
                e.action.clone(),
                e.target_kind.clone().unwrap_or_default(),
                e.target_id.clone().unwrap_or_default(),
                e.ip.clone().unwrap_or_default(),
                e.details.to_string(),
            ];
            out.write_record(record.iter().map(|s| cell(s)))
                .map_err(|e| f.fail(internal(e)))?;
            written += 1;
        }
        match page.next {
            Some(next) if written < CSV_MAX => q.after = Some(next),
            _ => break,
        }
    }
    let body = out.into_inner().map_err(|e| f.fail(internal(e)))?;
    let name = format!(
        "attachment; filename=\"audit-{slug}-{}.csv\"",
        OffsetDateTime::now_utc().date()
    );
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_whole_utc_days_and_bad_ones_are_named() {
        let q = AuditQuery {
            since: Some("2026-12-01".into()),
            until: Some("2026-12-02".into()),
            ..AuditQuery::default()
        };
        let f = q.filter(50).unwrap();
        assert_eq!(
            f.since.unwrap().to_string(),
            "2026-12-01 0:00:00.0 +00:00:00"
        );
        assert_eq!(
            f.until.unwrap().to_string(),
            "2026-12-03 0:00:00.0 +00:00:00"
        );
        let bad = AuditQuery {
            since: Some("yesterday".into()),
            ..AuditQuery::default()
        };
        assert!(bad.filter(50).unwrap_err().contains("yesterday"));
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("login.failed"), "login.failed");
    }
}
