//! `{issuer}/admin/sessions`: every live browser session of the tenant,
//! newest first, paged; owners and admins end one (which revokes what it
//! issued, as on the user's page).

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_oidc::sessions;
use serde::Deserialize;
use uuid::Uuid;

use super::admin::{answer, end_one_session};
use super::{notice, stamp, Area, Console, Layout};
use crate::front::{Failure, Front};

/// Sessions per page.
const PAGE: usize = 50;

const NOTICES: [(&str, &str); 1] = [(
    "session-ended",
    "The session was ended and the tokens issued in it revoked.",
)];

#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

pub struct Row {
    pub user_id: Uuid,
    pub username: String,
    pub sid: String,
    pub started: String,
    pub expires: String,
    pub methods: String,
    pub device: String,
}

#[derive(Template)]
#[template(path = "console/sessions.html", config = "src/front/askama.toml")]
struct SessionsPage {
    layout: Layout,
    rows: Vec<Row>,
    next: Option<String>,
    /// Whether this is a later page (a link back to the first).
    later: bool,
}

pub(super) async fn page(f: Front, q: Result<Query<ListQuery>, QueryRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let Query(q) = q.unwrap_or_default();
        let layout = c
            .layout("/admin/sessions")
            .with_notice(notice(&NOTICES, q.done.as_deref()));
        view(&c, layout, q.after.as_deref(), StatusCode::OK).await
    })
    .await
}

async fn view(
    c: &Console,
    layout: Layout,
    after: Option<&str>,
    status: StatusCode,
) -> Result<Response, Response> {
    let f = &c.f;
    // A cursor that is not one starts from the beginning.
    let cursor = after.and_then(sessions::parse_cursor);
    let later = cursor.is_some();
    let (rows, next) = async {
        let (live, next) =
            sessions::list_tenant_live(&f.state.db, &f.state.kv, f.tenant_id(), cursor, PAGE)
                .await?;
        let at = |t| {
            time::OffsetDateTime::from_unix_timestamp(t)
                .map(stamp)
                .unwrap_or_default()
        };
        let rows = live
            .into_iter()
            .map(|(l, username)| {
                let s = l.session;
                Row {
                    user_id: s.user_id,
                    username,
                    started: at(s.auth_time),
                    expires: at(l.expires_at),
                    methods: s.amr.join(", "),
                    device: if s.user_agent.is_empty() {
                        "unknown browser".to_owned()
                    } else {
                        s.user_agent
                    },
                    sid: s.sid,
                }
            })
            .collect::<Vec<_>>();
        Ok::<_, Failure>((rows, next))
    }
    .await
    .map_err(|e| f.fail(e))?;
    Ok(c.render(
        status,
        &SessionsPage {
            layout,
            rows,
            next,
            later,
        },
    ))
}

#[derive(Debug, Deserialize)]
pub struct EndForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    sid: String,
}

/// `POST {issuer}/admin/sessions`: end the session `sid` of `user`.
pub(super) async fn end(f: Front, form: Result<Form<EndForm>, FormRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let form = c.change_form(form, |f| &f.csrf)?;
        let ended = match Uuid::parse_str(&form.user) {
            Ok(uid) => end_one_session(&c, uid, &form.sid)
                .await
                .map_err(|e| c.f.fail(e))?,
            Err(_) => false,
        };
        if ended {
            Ok(c.back("/admin/sessions", "session-ended"))
        } else {
            let layout = c
                .layout("/admin/sessions")
                .with_error("That session has already ended.");
            view(&c, layout, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    })
    .await
}
