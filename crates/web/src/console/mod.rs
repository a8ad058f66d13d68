//! The administration consoles, plain HTML forms that work without
//! JavaScript:
//!
//! | route | who |
//! |---|---|
//! | `{issuer}/admin[/…]` at every tenant | its `owner`s and `admin`s change, `readonly` reads (at `_platforms`: `platform_admin` and `platform_viewer`) |
//! | `{issuer}/platform[/…]` at `_platforms` only | `platform_admin` changes, `platform_viewer` reads |
//!
//! Both use the tenant's own sign-in and session (a visitor without one is
//! sent to sign in and brought back), a CSRF token on every form (the
//! double-submit cookie of the sign-in pages), and record every change in
//! the audit log of the tenant it changes, in the change's transaction. A
//! platform operator who opens a tenant's users or audit log is recorded
//! in that tenant's log as having entered it (`tenant.entered`).
//!
//! The pages are in English only; the sign-in pages they lead through
//! speak the tenant's languages.

mod admin;
mod audit_view;
mod platform;
mod sessions_view;
mod settings;
pub(crate) mod tenant_settings;

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gatehouse_admin::roles;
use gatehouse_core::audit::Actor;
use gatehouse_core::ids::PLATFORMS_SLUG;
use gatehouse_oidc::users::UserClaims;

use crate::front::account::signed_in;
use crate::front::page::{self, Csp};
use crate::front::pending::{self, Pending};
use crate::front::{session, Failure, Front};
use crate::state::AppState;

/// The consoles' stylesheet, after the sign-in pages' one.
pub const CONSOLE_CSS_PATH: &str = "/assets/console.css";
const CONSOLE_CSS: &str = include_str!("../../assets/console.css");

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(admin::routes())
        .merge(platform::routes())
        .merge(settings::routes())
        .merge(tenant_settings::routes())
        .route(CONSOLE_CSS_PATH, get(stylesheet))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CONSOLE_CSS,
    )
        .into_response()
}

/// Which console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Area {
    Admin,
    Platform,
}

impl Area {
    fn path(self) -> &'static str {
        match self {
            Self::Admin => "/admin",
            Self::Platform => "/platform",
        }
    }
}

/// What the signed-in administrator may do here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// The access `roles` give in `area` of a tenant (`platforms`: the tenant
/// is `_platforms`).
pub(crate) fn access_of(roles: &[String], area: Area, platforms: bool) -> Option<Access> {
    let has = |r: &str| roles.iter().any(|x| x == r);
    let (write, read): (&[&str], &[&str]) = match (area, platforms) {
        (Area::Platform, true) | (Area::Admin, true) => {
            (&[roles::PLATFORM_ADMIN], &[roles::PLATFORM_VIEWER])
        }
        (Area::Platform, false) => return None,
        (Area::Admin, false) => (&[roles::OWNER, roles::ADMIN], &[roles::READONLY]),
    };
    if write.iter().any(|r| has(r)) {
        Some(Access::Write)
    } else if read.iter().any(|r| has(r)) {
        Some(Access::Read)
    } else {
        None
    }
}

/// A request of a signed-in administrator.
pub(crate) struct Console {
    pub f: Front,
    pub user: UserClaims,
    pub access: Access,
    pub area: Area,
    csrf: String,
    set_csrf: Option<HeaderValue>,
}

impl Console {
    /// Lets the request in, or answers it: a sign-in that comes back here,
    /// 404 for `/platform` outside `_platforms`, 403 without a role.
    pub async fn enter(f: Front, area: Area) -> Result<Self, Response> {
        let platforms = f.provider.tenant.slug.as_str() == PLATFORMS_SLUG;
        if area == Area::Platform && !platforms {
            return Err(message(
                &f,
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such page here.",
            ));
        }
        let Some((_, user)) = signed_in(&f).await.map_err(|e| f.fail(e))? else {
            let id = pending::park(&f, &Pending::console(area.path()))
                .await
                .map_err(|e| f.fail(e.into()))?;
            return Err(page::see_other(&f.url(&format!("/login?req={id}")), &[]));
        };
        let held = async {
            let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
            let held = roles::of_user(&mut tx, user.id).await?;
            tx.commit().await?;
            Ok::<_, Failure>(held)
        }
        .await
        .map_err(|e| f.fail(e))?;
        let Some(access) = access_of(&held, area, platforms) else {
            return Err(message(
                &f,
                StatusCode::FORBIDDEN,
                "No access",
                &format!(
                    "You are signed in as {}, who has no administrative role here. Ask an owner of this tenant for one, or sign out and sign in as someone else.",
                    user.username
                ),
            ));
        };
        let (csrf, set_csrf) = session::csrf_token(&f, &f.headers);
        Ok(Self {
            f,
            user,
            access,
            area,
            csrf,
            set_csrf,
        })
    }

    /// Who the audit log names for a change made here: the user at their
    /// own tenant, an operator when acting in another tenant.
    pub fn actor(&self) -> Actor {
        Actor::user(self.user.id, Some(self.user.username.clone()))
    }

    pub fn operator(&self) -> Actor {
        Actor::operator(self.user.id, Some(self.user.username.clone()))
    }

    /// A change: refused (403) for read-only administrators and without
    /// the form's CSRF token. (The refusal is the page that answers the
    /// request, returned at once; boxing it would only add an allocation.)
    #[allow(clippy::result_large_err)]
    pub fn may_change(&self, csrf_field: &str) -> Result<(), Response> {
        if !session::csrf_ok(&self.f.headers, csrf_field) {
            return Err(self.f.fail(Failure::csrf()));
        }
        if self.access != Access::Write {
            return Err(message(
                &self.f,
                StatusCode::FORBIDDEN,
                "Read only",
                "Your role lets you read this console, not change anything.",
            ));
        }
        Ok(())
    }

    /// The form of a change, once [`Console::may_change`] lets it through:
    /// an unreadable form is answered like a missing CSRF token.
    #[allow(clippy::result_large_err)]
    pub fn change_form<T>(
        &self,
        form: Result<axum::extract::Form<T>, axum::extract::rejection::FormRejection>,
        csrf: fn(&T) -> &str,
    ) -> Result<T, Response> {
        let Ok(axum::extract::Form(form)) = form else {
            return Err(self.f.fail(Failure::csrf()));
        };
        self.may_change(csrf(&form))?;
        Ok(form)
    }

    /// The layout of a page whose navigation entry is `current`.
    pub fn layout(&self, current: &str) -> Layout {
        let base = self.f.url("");
        let base = url::Url::parse(&base)
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let entries: &[(&str, &str)] = match self.area {
            Area::Admin => &[
                ("/admin/users", "Users"),
                ("/admin/sessions", "Sessions"),
                ("/admin/clients", "Clients"),
                ("/admin/roles", "Roles"),
                ("/admin/keys", "Keys"),
                ("/admin/settings", "Settings"),
                ("/admin/audit", "Audit log"),
            ],
            Area::Platform => &[("/platform/tenants", "Tenants")],
        };
        let mut nav: Vec<NavItem> = entries
            .iter()
            .map(|(path, label)| NavItem {
                href: format!("{base}{path}"),
                label,
                current: *path == current,
            })
            .collect();
        if self.f.provider.tenant.slug.as_str() == PLATFORMS_SLUG {
            match self.area {
                Area::Admin => nav.push(NavItem {
                    href: format!("{base}/platform"),
                    label: "Platform",
                    current: false,
                }),
                Area::Platform => nav.push(NavItem {
                    href: format!("{base}/admin"),
                    label: "Operators",
                    current: false,
                }),
            }
        }
        Layout {
            tenant_name: self.f.provider.tenant.display_name.clone(),
            area: match self.area {
                Area::Admin => "Administration",
                // After the `_platforms` tenant's name, "Platform".
                Area::Platform => "Console",
            },
            nav,
            who: self.user.username.clone(),
            can_write: self.access == Access::Write,
            csrf: self.csrf.clone(),
            notice: None,
            error: None,
            base,
        }
    }

    /// A page of this console, with the CSRF cookie it needs.
    pub fn render(&self, status: StatusCode, template: &impl Template) -> Response {
        page::render(
            status,
            template,
            &Csp::default(),
            std::slice::from_ref(&self.set_csrf),
        )
    }

    /// A redirect to `path` of this console (below the issuer) with the
    /// notice `done`.
    pub fn back(&self, path: &str, done: &str) -> Response {
        let sep = if path.contains('?') { '&' } else { '?' };
        page::see_other(&self.f.url(&format!("{path}{sep}done={done}")), &[])
    }
}

/// One entry of the navigation.
pub struct NavItem {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

/// What every console page shows around its content.
pub struct Layout {
    pub tenant_name: String,
    /// The issuer's path (`/t/acme`, or empty).
    pub base: String,
    pub area: &'static str,
    pub nav: Vec<NavItem>,
    pub who: String,
    pub can_write: bool,
    pub csrf: String,
    pub notice: Option<String>,
    pub error: Option<String>,
}

impl Layout {
    pub fn with_notice(mut self, notice: Option<&str>) -> Self {
        self.notice = notice.map(str::to_owned);
        self
    }

    pub fn with_error(mut self, error: impl Into<String>) -> Self {
        self.error = Some(error.into());
        self
    }
}

#[derive(Template)]
#[template(path = "console/message.html", config = "src/front/askama.toml")]
struct MessagePage<'a> {
    base: String,
    title: &'a str,
    message: &'a str,
}

/// A page with a title and a message (no access, not found).
fn message(f: &Front, status: StatusCode, title: &str, message: &str) -> Response {
    let base = url::Url::parse(&f.url(""))
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    page::render(
        status,
        &MessagePage {
            base,
            title,
            message,
        },
        &Csp::default(),
        &[],
    )
}

/// `2026-12-03 06:10 UTC`.
pub(crate) fn stamp(t: time::OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_default()
}

/// The notice of `done`, from a page's table of them.
pub(crate) fn notice<'a>(table: &[(&str, &'a str)], done: Option<&str>) -> Option<&'a str> {
    let done = done?;
    table.iter().find(|(k, _)| *k == done).map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn roles_give_access_by_area_and_tenant_kind() {
        assert_eq!(
            access_of(&r(&["owner"]), Area::Admin, false),
            Some(Access::Write)
        );
        assert_eq!(
            access_of(&r(&["admin"]), Area::Admin, false),
            Some(Access::Write)
        );
        assert_eq!(
            access_of(&r(&["readonly"]), Area::Admin, false),
            Some(Access::Read)
        );
        assert_eq!(
            access_of(&r(&["member", "editor"]), Area::Admin, false),
            None
        );
        assert_eq!(access_of(&r(&["platform_admin"]), Area::Admin, false), None);
        assert_eq!(access_of(&r(&["owner"]), Area::Platform, false), None);
        assert_eq!(
            access_of(&r(&["platform_admin"]), Area::Platform, true),
            Some(Access::Write)
        );
        assert_eq!(
            access_of(&r(&["platform_viewer"]), Area::Platform, true),
            Some(Access::Read)
        );
        assert_eq!(access_of(&r(&["owner"]), Area::Platform, true), None);
        assert_eq!(
            access_of(
                &r(&["platform_viewer", "platform_admin"]),
                Area::Admin,
                true
            ),
            Some(Access::Write)
        );
    }
}
