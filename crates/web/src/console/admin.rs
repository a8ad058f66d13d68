//! `{issuer}/admin`: a tenant's users, clients, roles, keys and audit log.

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use gatehouse_admin::roles;
use gatehouse_core::audit::{self, action, Entry};
use gatehouse_core::events::Change;
use gatehouse_core::ids::PLATFORMS_SLUG;
use gatehouse_oidc::clients::{self, Client, NewClient};
use gatehouse_oidc::keys::{self, KeyInfo};
use gatehouse_oidc::users::{self, NewUser, User};
use gatehouse_oidc::{mfa, passkeys, refresh, sessions, StoreError};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{notice, stamp, Area, Console, Layout};
use crate::front::{internal, page, policy, Failure, Front};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/users", get(users_page).post(user_create))
        .route("/admin/users/{id}", get(user_page).post(user_act))
        .route("/admin/clients", get(clients_page).post(client_create))
        .route("/admin/clients/{id}", get(client_page).post(client_act))
        .route("/admin/roles", get(roles_page).post(roles_act))
        .route("/admin/keys", get(keys_page).post(keys_rotate))
        .route(
            "/admin/sessions",
            get(super::sessions_view::page).post(super::sessions_view::end),
        )
        .route("/admin/audit", get(super::audit_view::page))
        .route("/admin/audit.csv", get(super::audit_view::csv))
}

/// Users and clients per page.
pub(crate) const PAGE: i64 = 50;

/// What a store refusal says on the page; None for a failure to hide.
pub(crate) fn refusal(e: StoreError) -> Result<String, Failure> {
    match e {
        StoreError::Invalid(m) => Ok(m),
        StoreError::Duplicate => Ok("That name is already taken.".into()),
        StoreError::NotFound => Ok("It no longer exists.".into()),
        StoreError::Db(e) => Err(internal(e)),
    }
}

/// Runs `work` (a console request) and answers its refusal as a response.
pub(crate) async fn answer(
    work: impl std::future::Future<Output = Result<Response, Response>>,
) -> Response {
    work.await.unwrap_or_else(|r| r)
}

async fn home(f: Front) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        Ok(page::see_other(&c.f.url("/admin/users"), &[]))
    })
    .await
}

// ---------------------------------------------------------------- users

#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub done: Option<String>,
}

pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub name: String,
    pub disabled: bool,
    pub locked: bool,
    pub created: String,
}

impl From<User> for UserRow {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            username: u.username,
            email: u.email.unwrap_or_default(),
            name: u.name.unwrap_or_default(),
            disabled: u.disabled,
            locked: u.locked_at.is_some(),
            created: stamp(u.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "console/users.html", config = "src/front/askama.toml")]
struct UsersPage {
    layout: Layout,
    q: String,
    rows: Vec<UserRow>,
    next: Option<String>,
    form: NewUserForm,
}

const USER_NOTICES: [(&str, &str); 12] = [
    ("profile", "The name and email address were saved."),
    (
        "locked",
        "The user was locked and signed out everywhere; they cannot sign in until unlocked.",
    ),
    (
        "unlocked",
        "The user was unlocked; failed sign-ins no longer hold the account.",
    ),
    (
        "session-ended",
        "The session was ended and the tokens issued in it revoked.",
    ),
    ("created", "The user was created."),
    ("deleted", "The user was deleted."),
    (
        "disabled",
        "The user was disabled and signed out everywhere.",
    ),
    ("enabled", "The user was enabled."),
    (
        "sessions",
        "Every session of the user was ended and their refresh tokens revoked.",
    ),
    (
        "mfa",
        "The user's second factors (authenticator app, recovery codes, passkeys) were removed.",
    ),
    (
        "password",
        "The password was set; the user's sessions were ended.",
    ),
    ("roles", "The user's roles were changed."),
];

async fn users_page(f: Front, q: Result<Query<ListQuery>, QueryRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let Query(q) = q.unwrap_or_default();
        let layout = c
            .layout("/admin/users")
            .with_notice(notice(&USER_NOTICES, q.done.as_deref()));
        users_list(&c, layout, &q, NewUserForm::default(), StatusCode::OK).await
    })
    .await
}

async fn users_list(
    c: &Console,
    layout: Layout,
    q: &ListQuery,
    form: NewUserForm,
    status: StatusCode,
) -> Result<Response, Response> {
    let f = &c.f;
    let mut rows = async {
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let rows = users::search(&mut tx, q.q.as_deref(), q.after.as_deref(), PAGE + 1).await?;
        tx.commit().await?;
        Ok::<_, Failure>(rows)
    }
    .await
    .map_err(|e| f.fail(e))?;
    let next = (rows.len() > PAGE as usize).then(|| rows[PAGE as usize - 1].username.clone());
    rows.truncate(PAGE as usize);
    Ok(c.render(
        status,
        &UsersPage {
            layout,
            q: q.q.clone().unwrap_or_default(),
            rows: rows.into_iter().map(UserRow::from).collect(),
            next,
            form,
        },
    ))
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct NewUserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

async fn user_create(f: Front, form: Result<Form<NewUserForm>, FormRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let form = c.change_form(form, |f| &f.csrf)?;
        let f = &c.f;
        let blank = ListQuery::default();
        let again = |error: String| {
            let layout = c.layout("/admin/users").with_error(error);
            let mut kept = form.clone();
            kept.password.clear();
            users_list(&c, layout, &blank, kept, StatusCode::UNPROCESSABLE_ENTITY)
        };
        let email = Some(form.email.trim()).filter(|e| !e.is_empty());
        let name = Some(form.name.trim()).filter(|n| !n.is_empty());
        let hash = if form.password.is_empty() {
            None
        } else {
            let context: Vec<&str> = [Some(form.username.as_str()), email, name]
                .into_iter()
                .flatten()
                .collect();
            let problems = policy::problems(f, &form.password, &context);
            if !problems.is_empty() {
                return again(problems.join(" ")).await;
            }
            Some(
                f.state
                    .hasher
                    .hash(form.password.clone())
                    .await
                    .map_err(|e| f.fail(internal(e)))?,
            )
        };
        let created = async {
            let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
            let user = match users::create(
                &mut tx,
                NewUser {
                    username: form.username.trim().to_owned(),
                    email: email.map(str::to_owned),
                    name: name.map(str::to_owned),
                    password_hash: hash,
                },
            )
            .await
            {
                Ok(u) => u,
                Err(e) => return Ok(Err(refusal(e)?)),
            };
            audit::record(
                &mut tx,
                &Entry::new(c.actor(), action::USER_CREATED)
                    .target("user", user.id)
                    .ip(f.client_ip)
                    .details(json!({ "username": user.username, "email": user.email })),
            )
            .await?;
            tx.commit().await?;
            Ok::<_, Failure>(Ok(user))
        }
        .await
        .map_err(|e| f.fail(e))?;
        match created {
            Ok(user) => Ok(c.back(&format!("/admin/users/{}", user.id), "created")),
            Err(error) => again(error).await,
        }
    })
    .await
}

#[derive(Template)]
#[template(path = "console/user.html", config = "src/front/askama.toml")]
struct UserPage {
    layout: Layout,
    user: UserRow,
    email_verified: bool,
    roles: Vec<String>,
    assignable: Vec<String>,
    totp: bool,
    passkeys: i64,
    min_length: usize,
    sessions: Vec<SessionRow>,
    /// Failed sign-ins hold the account for this much longer.
    throttled: Option<String>,
}

/// A live browser session on the user's page.
pub struct SessionRow {
    pub sid: String,
    pub started: String,
    pub methods: String,
    pub device: String,
}

/// A wait in minutes, rounded up, for people.
fn minutes(d: std::time::Duration) -> String {
    let m = d.as_secs().div_ceil(60).max(1);
    if m == 1 {
        "1 minute".to_owned()
    } else {
        format!("{m} minutes")
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: Option<String>,
}

async fn user_page(
    f: Front,
    Path(id): Path<String>,
    q: Result<Query<DoneQuery>, QueryRejection>,
) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let Query(q) = q.unwrap_or_default();
        let layout = c
            .layout("/admin/users")
            .with_notice(notice(&USER_NOTICES, q.done.as_deref()));
        user_view(&c, &id, layout, StatusCode::OK).await
    })
    .await
}

async fn user_view(
    c: &Console,
    id: &str,
    layout: Layout,
    status: StatusCode,
) -> Result<Response, Response> {
    let f = &c.f;
    let not_found = || {
        super::message(
            f,
            StatusCode::NOT_FOUND,
            "No such user",
            "There is no user with this id in this tenant.",
        )
    };
    let Ok(id) = Uuid::parse_str(id) else {
        return Err(not_found());
    };
    let platforms = f.provider.tenant.slug.as_str() == PLATFORMS_SLUG;
    let found = async {
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let Some(user) = users::get(&mut tx, id).await? else {
            return Ok(None);
        };
        let held = roles::of_user(&mut tx, id).await?;
        let custom = roles::list(&mut tx).await?;
        let totp = mfa::has_totp(&mut tx, id).await.map_err(internal)?;
        let passkeys = passkeys::count(&mut tx, id).await.map_err(internal)?;
        let epoch = users::session_epoch(&mut tx, id).await?;
        tx.commit().await?;
        let live: Vec<SessionRow> = sessions::list(&f.state.kv, f.tenant_id(), id)
            .await?
            .into_iter()
            .filter(|s| s.epoch == epoch)
            .map(|s| SessionRow {
                started: time::OffsetDateTime::from_unix_timestamp(s.auth_time)
                    .map(stamp)
                    .unwrap_or_default(),
                methods: s.amr.join(", "),
                device: if s.user_agent.is_empty() {
                    "unknown browser".to_owned()
                } else {
                    s.user_agent.clone()
                },
                sid: s.sid,
            })
            .collect();
        let id_text = id.to_string();
        let mut names = vec![user.username.as_str(), id_text.as_str()];
        if let Some(email) = &user.email {
            names.push(email);
        }
        let throttled = f
            .state
            .throttle
            .account_lock(f.tenant_id(), &names)
            .await?
            .map(minutes);
        Ok::<_, Failure>(Some((user, held, custom, totp, passkeys, live, throttled)))
    }
    .await
    .map_err(|e| f.fail(e))?;
    let Some((user, held, custom, totp, passkeys, live, throttled)) = found else {
        return Err(not_found());
    };
    let builtin: &[&str] = if platforms {
        &roles::PLATFORM_ROLES
    } else {
        &roles::TENANT_ROLES
    };
    let assignable = builtin
        .iter()
        .map(|r| (*r).to_owned())
        .chain(custom.into_iter().map(|r| r.name))
        .filter(|r| !held.contains(r))
        .collect();
    Ok(c.render(
        status,
        &UserPage {
            layout,
            email_verified: user.email_verified,
            user: UserRow::from(user),
            roles: held,
            assignable,
            totp,
            passkeys,
            min_length: policy::of(f).min_length,
            sessions: live,
            throttled,
        },
    ))
}

#[derive(Debug, Deserialize, Default)]
pub struct UserAction {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "do")]
    act: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    sid: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    email_verified: Option<String>,
}

/// `POST {issuer}/admin/users/{id}`: one change, named by `do`.
async fn user_act(
    f: Front,
    Path(id): Path<String>,
    form: Result<Form<UserAction>, FormRejection>,
) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let form = c.change_form(form, |f| &f.csrf)?;
        let Ok(uid) = Uuid::parse_str(&id) else {
            return user_view(&c, &id, c.layout("/admin/users"), StatusCode::NOT_FOUND).await;
        };
        let f = &c.f;
        let platforms = f.provider.tenant.slug.as_str() == PLATFORMS_SLUG;
        if form.act == "end-session" {
            return end_session(&c, uid, &form.sid).await;
        }
        // A new password is checked against the policy (with the user's
        // names, which it must not contain) and hashed before the
        // transaction opens.
        let hash = if form.act == "password" {
            let target = async {
                let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
                let user = users::get(&mut tx, uid).await?;
                tx.commit().await?;
                Ok::<_, Failure>(user)
            }
            .await
            .map_err(|e| f.fail(e))?;
            let context: Vec<&str> = target
                .iter()
                .flat_map(|u| {
                    [
                        Some(u.username.as_str()),
                        u.email.as_deref(),
                        u.name.as_deref(),
                    ]
                })
                .flatten()
                .collect();
            let problems = policy::problems(f, &form.password, &context);
            if !problems.is_empty() {
                let layout = c.layout("/admin/users").with_error(problems.join(" "));
                return user_view(&c, &id, layout, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
            Some(
                f.state
                    .hasher
                    .hash(form.password.clone())
                    .await
                    .map_err(|e| f.fail(internal(e)))?,
            )
        } else {
            None
        };
        let outcome = async {
            let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
            let Some(user) = users::get(&mut tx, uid).await? else {
                return Ok(Err("There is no such user.".to_owned()));
            };
            let entry = |act: &'static str| {
                Entry::new(c.actor(), act)
                    .target("user", uid)
                    .ip(f.client_ip)
            };
            let done = match form.act.as_str() {
                "disable" | "enable" => {
                    let disabled = form.act == "disable";
                    if disabled && uid == c.user.id {
                        return Ok(Err("You cannot disable yourself.".to_owned()));
                    }
                    users::set_disabled(&mut tx, uid, disabled).await?;
                    if disabled {
                        refresh::revoke_user(&mut tx, uid).await.map_err(internal)?;
                    }
                    audit::record(
                        &mut tx,
                        &entry(action::USER_UPDATED).details(json!({
                            "disabled": { "before": user.disabled, "after": disabled }
                        })),
                    )
                    .await?;
                    if disabled {
                        "disabled"
                    } else {
                        "enabled"
                    }
                }
                "profile" => {
                    let name = Some(form.name.trim()).filter(|n| !n.is_empty());
                    let email = Some(form.email.trim()).filter(|e| !e.is_empty());
                    let verified = form.email_verified.is_some() && email.is_some();
                    if let Err(e) = users::set_contact(&mut tx, uid, name, email, verified).await {
                        return Ok(Err(refusal(e)?));
                    }
                    audit::record(
                        &mut tx,
                        &entry(action::USER_UPDATED).details(json!({
                            "name": { "before": user.name, "after": name },
                            "email": { "before": user.email, "after": email },
                            "email_verified": { "before": user.email_verified, "after": verified },
                        })),
                    )
                    .await?;
                    "profile"
                }
                "lock" | "unlock" => {
                    let locked = form.act == "lock";
                    if locked && uid == c.user.id {
                        return Ok(Err("You cannot lock yourself.".to_owned()));
                    }
                    users::set_locked(&mut tx, uid, locked).await?;
                    audit::record(
                        &mut tx,
                        &entry(action::USER_UPDATED).details(json!({
                            "locked": { "before": user.locked_at.is_some(), "after": locked }
                        })),
                    )
                    .await?;
                    if locked {
                        "locked"
                    } else {
                        "unlocked"
                    }
                }
                "sessions" => {
                    users::end_sessions(&mut tx, uid).await?;
                    let revoked = refresh::revoke_user(&mut tx, uid).await.map_err(internal)?;
                    audit::record(
                        &mut tx,
                        &entry(action::SESSIONS_REVOKED)
                            .details(json!({ "refresh_tokens": revoked })),
                    )
                    .await?;
                    "sessions"
                }
                "mfa" => {
                    let totp = mfa::remove_totp(&mut tx, uid).await.map_err(internal)?;
                    let mut removed = 0;
                    for p in passkeys::list(&mut tx, uid).await.map_err(internal)? {
                        if passkeys::remove(&mut tx, uid, p.id)
                            .await
                            .map_err(internal)?
                        {
                            removed += 1;
                        }
                    }
                    audit::record(
                        &mut tx,
                        &entry(action::MFA_RESET)
                            .details(json!({ "totp": totp, "passkeys": removed })),
                    )
                    .await?;
                    "mfa"
                }
                "password" => {
                    let Some(hash) = &hash else {
                        return Ok(Err("Type a new password.".to_owned()));
                    };
                    users::set_password_hash(&mut tx, uid, hash).await?;
                    users::end_sessions(&mut tx, uid).await?;
                    refresh::revoke_user(&mut tx, uid).await.map_err(internal)?;
                    audit::record(
                        &mut tx,
                        &entry(action::PASSWORD_RESET).details(json!({ "by": "administrator" })),
                    )
                    .await?;
                    "password"
                }
                "assign" | "unassign" => {
                    let role = form.role.trim();
                    let changed = if form.act == "assign" {
                        roles::assign(&mut tx, platforms, uid, role)
                            .await
                            .map(|_| ())
                    } else {
                        roles::remove(&mut tx, uid, role).await
                    };
                    if let Err(e) = changed {
                        return Ok(Err(refusal(e)?));
                    }
                    let act = if form.act == "assign" {
                        action::ROLE_ASSIGNED
                    } else {
                        action::ROLE_REMOVED
                    };
                    audit::record(&mut tx, &entry(act).details(json!({ "role": role }))).await?;
                    "roles"
                }
                "delete" => {
                    if form.confirm.trim() != user.username {
                        return Ok(Err(format!(
                            "Type the username, {}, to confirm the deletion.",
                            user.username
                        )));
                    }
                    for role in [roles::OWNER, roles::PLATFORM_ADMIN] {
                        if roles::holders(&mut tx, role).await? == [uid] {
                            return Ok(Err(format!(
                                "This user is the last {role}; give the role to someone else first."
                            )));
                        }
                    }
                    users::delete(&mut tx, uid).await?;
                    audit::record(
                        &mut tx,
                        &entry(action::USER_DELETED).details(json!({ "username": user.username })),
                    )
                    .await?;
                    "deleted"
                }
                _ => return Ok(Err("Unknown action.".to_owned())),
            };
            tx.commit().await?;
            // After the commit, the parts outside the database: what the
            // user's sessions issued, and the counters an unlock clears.
            match done {
                "sessions" | "locked" | "disabled" | "password" => {
                    sessions::end_all(&f.state.kv, &f.provider, uid).await?;
                }
                "unlocked" => {
                    gatehouse_admin::unlock_counters(&f.state.kv, f.tenant_id(), &user).await?;
                }
                _ => {}
            }
            Ok::<_, Failure>(Ok(done))
        }
        .await
        .map_err(|e| f.fail(e))?;
        match outcome {
            Ok("deleted") => Ok(c.back("/admin/users", "deleted")),
            Ok(done) => Ok(c.back(&format!("/admin/users/{uid}"), done)),
            Err(error) => {
                let layout = c.layout("/admin/users").with_error(error);
                user_view(&c, &id, layout, StatusCode::UNPROCESSABLE_ENTITY).await
            }
        }
    })
    .await
}

/// Ends one session of the user and revokes what it issued, audited;
/// false when there was no such session.
pub(crate) async fn end_one_session(c: &Console, uid: Uuid, sid: &str) -> Result<bool, Failure> {
    let f = &c.f;
    let Some(ended) = sessions::end_one(&f.state.kv, f.tenant_id(), uid, sid).await? else {
        return Ok(false);
    };
    sessions::end_tokens(&f.state.db, &f.state.kv, &f.provider, &ended.sid).await?;
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    audit::record(
        &mut tx,
        &Entry::new(c.actor(), action::SESSIONS_REVOKED)
            .target("user", uid)
            .ip(f.client_ip)
            .details(json!({ "sid": ended.sid })),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Ends one session of the user from their page.
async fn end_session(c: &Console, uid: Uuid, sid: &str) -> Result<Response, Response> {
    let ended = end_one_session(c, uid, sid)
        .await
        .map_err(|e| c.f.fail(e))?;
    if ended {
        Ok(c.back(&format!("/admin/users/{uid}"), "session-ended"))
    } else {
        let layout = c
            .layout("/admin/users")
            .with_error("That session has already ended.");
        user_view(
            c,
            &uid.to_string(),
            layout,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
    }
}

// ---------------------------------------------------------------- clients

pub struct ClientRow {
    pub client_id: String,
    pub name: String,
    pub kind: &'static str,
    pub first_party: bool,
    pub grants: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub auth_method: String,
    pub scopes: String,
    pub id_token_alg: String,
    pub created: String,
    pub disabled: bool,
}

impl From<Client> for ClientRow {
    fn from(c: Client) -> Self {
        Self {
            kind: if c.public { "public" } else { "confidential" },
            client_id: c.client_id,
            name: c.name,
            first_party: c.first_party,
            grants: c.grant_types.join(", "),
            redirect_uris: c.redirect_uris,
            post_logout_redirect_uris: c.post_logout_redirect_uris,
            auth_method: c.auth_method,
            scopes: c.scopes.join(" "),
            id_token_alg: c.id_token_signed_response_alg,
            created: stamp(c.created_at),
            disabled: c.disabled,
        }
    }
}

#[derive(Template)]
#[template(path = "console/clients.html", config = "src/front/askama.toml")]
struct ClientsPage {
    layout: Layout,
    rows: Vec<ClientRow>,
    next: Option<String>,
    form: NewClientForm,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct NewClientForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    post_logout_redirect_uris: String,
    /// `confidential`, `public` or `machine` (client_credentials only).
    #[serde(default)]
    kind: String,
    #[serde(default)]
    first_party: Option<String>,
    #[serde(default)]
    scopes: String,
}

const CLIENT_NOTICES: [(&str, &str); 5] = [
    (
        "disabled",
        "The client was disabled: it authenticates nowhere and its access tokens stop verifying, on every node.",
    ),
    ("enabled", "The client was enabled again."),
    (
        "deleted",
        "The client was deleted; it stopped authenticating on every node.",
    ),
    ("uris", "The redirect URIs were saved."),
    ("alg", "The ID token algorithm was saved."),
];

async fn clients_page(f: Front, q: Result<Query<ListQuery>, QueryRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let Query(q) = q.unwrap_or_default();
        let layout = c
            .layout("/admin/clients")
            .with_notice(notice(&CLIENT_NOTICES, q.done.as_deref()));
        clients_list(
            &c,
            layout,
            q.after.as_deref(),
            NewClientForm::default(),
            StatusCode::OK,
        )
        .await
    })
    .await
}

async fn clients_list(
    c: &Console,
    layout: Layout,
    after: Option<&str>,
    form: NewClientForm,
    status: StatusCode,
) -> Result<Response, Response> {
    let f = &c.f;
    let mut rows = async {
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let rows = clients::list_after(&mut tx, after, PAGE + 1).await?;
        tx.commit().await?;
        Ok::<_, Failure>(rows)
    }
    .await
    .map_err(|e| f.fail(e))?;
    let next = (rows.len() > PAGE as usize).then(|| rows[PAGE as usize - 1].client_id.clone());
    rows.truncate(PAGE as usize);
    Ok(c.render(
        status,
        &ClientsPage {
            layout,
            rows: rows.into_iter().map(ClientRow::from).collect(),
            next,
            form,
        },
    ))
}

/// The lines of a textarea, trimmed, without empty ones.
fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Template)]
#[template(path = "console/client_secret.html", config = "src/front/askama.toml")]
struct SecretPage {
    layout: Layout,
    client_id: String,
    name: String,
    secret: String,
    created: bool,
}

async fn client_create(f: Front, form: Result<Form<NewClientForm>, FormRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let form = c.change_form(form, |f| &f.csrf)?;
        let f = &c.f;
        let machine = form.kind == "machine";
        let new = NewClient {
            name: form.name.trim().to_owned(),
            redirect_uris: if machine {
                vec![]
            } else {
                lines(&form.redirect_uris)
            },
            post_logout_redirect_uris: if machine {
                vec![]
            } else {
                lines(&form.post_logout_redirect_uris)
            },
            public: form.kind == "public",
            first_party: form.first_party.is_some(),
            allow_http: f.state.config.environment
                == gatehouse_core::config::Environment::Development,
            auth_method: None,
            grant_types: if machine {
                vec!["client_credentials".into()]
            } else {
                vec![]
            },
            scopes: form.scopes.split_whitespace().map(str::to_owned).collect(),
            jwks: None,
            jwks_uri: None,
        };
        let created = async {
            let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
            let (client, secret) = match clients::create(&mut tx, new).await {
                Ok(made) => made,
                Err(e) => return Ok(Err(refusal(e)?)),
            };
            audit::record(
                &mut tx,
                &Entry::new(c.actor(), action::CLIENT_CREATED)
                    .target("client", &client.client_id)
                    .ip(f.client_ip)
                    .details(json!({ "name": client.name, "public": client.public })),
            )
            .await?;
            tx.commit().await?;
            Ok::<_, Failure>(Ok((client, secret)))
        }
        .await
        .map_err(|e| f.fail(e))?;
        match created {
            Ok((client, Some(secret))) => Ok(c.render(
                StatusCode::CREATED,
                &SecretPage {
                    layout: c.layout("/admin/clients"),
                    client_id: client.client_id,
                    name: client.name,
                    secret,
                    created: true,
                },
            )),
            Ok((client, None)) => {
                Ok(c.back(&format!("/admin/clients/{}", client.client_id), "created"))
            }
            Err(error) => {
                let layout = c.layout("/admin/clients").with_error(error);
                clients_list(&c, layout, None, form, StatusCode::UNPROCESSABLE_ENTITY).await
            }
        }
    })
    .await
}

#[derive(Template)]
#[template(path = "console/client.html", config = "src/front/askama.toml")]
struct ClientPage {
    layout: Layout,
    client: ClientRow,
    public: bool,
}

async fn client_page(
    f: Front,
    Path(id): Path<String>,
    q: Result<Query<DoneQuery>, QueryRejection>,
) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let Query(q) = q.unwrap_or_default();
        let layout = c.layout("/admin/clients").with_notice(notice(
            &[("created", "The client was created.")]
                .into_iter()
                .chain(CLIENT_NOTICES)
                .collect::<Vec<_>>(),
            q.done.as_deref(),
        ));
        client_view(&c, &id, layout, StatusCode::OK).await
    })
    .await
}

async fn client_view(
    c: &Console,
    id: &str,
    layout: Layout,
    status: StatusCode,
) -> Result<Response, Response> {
    let f = &c.f;
    let found = async {
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let client = clients::get(&mut tx, id).await?;
        tx.commit().await?;
        Ok::<_, Failure>(client)
    }
    .await
    .map_err(|e| f.fail(e))?;
    let Some(client) = found else {
        return Err(super::message(
            f,
            StatusCode::NOT_FOUND,
            "No such client",
            "There is no client with this id in this tenant.",
        ));
    };
    Ok(c.render(
        status,
        &ClientPage {
            layout,
            public: client.public,
            client: ClientRow::from(client),
        },
    ))
}

#[derive(Debug, Deserialize, Default)]
pub struct ClientAction {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "do")]
    act: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    post_logout_redirect_uris: String,
    #[serde(default)]
    alg: String,
    #[serde(default)]
    confirm: String,
}

/// `POST {issuer}/admin/clients/{id}`: one change, named by `do`.
async fn client_act(
    f: Front,
    Path(id): Path<String>,
    form: Result<Form<ClientAction>, FormRejection>,
) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let form = c.change_form(form, |f| &f.csrf)?;
        let f = &c.f;
        let outcome = async {
            let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
            let Some(client) = clients::get(&mut tx, &id).await? else {
                return Ok(Err("There is no such client.".to_owned()));
            };
            let entry = |act: &'static str| {
                Entry::new(c.actor(), act)
                    .target("client", &client.client_id)
                    .ip(f.client_ip)
            };
            let done = match form.act.as_str() {
                "uris" => {
                    let redirect = lines(&form.redirect_uris);
                    let post_logout = lines(&form.post_logout_redirect_uris);
                    if let Err(e) = clients::set_redirect_uris(
                        &mut tx,
                        &client.client_id,
                        &redirect,
                        &post_logout,
                        f.state.config.environment
                            == gatehouse_core::config::Environment::Development,
                    )
                    .await
                    {
                        return Ok(Err(refusal(e)?));
                    }
                    audit::record(
                        &mut tx,
                        &entry(action::CLIENT_UPDATED).details(json!({
                            "redirect_uris": { "before": client.redirect_uris, "after": redirect },
                            "post_logout_redirect_uris": {
                                "before": client.post_logout_redirect_uris, "after": post_logout
                            },
                        })),
                    )
                    .await?;
                    "uris"
                }
                "alg" => {
                    if let Err(e) =
                        clients::set_id_token_alg(&mut tx, &client.client_id, &form.alg).await
                    {
                        return Ok(Err(refusal(e)?));
                    }
                    audit::record(
                        &mut tx,
                        &entry(action::CLIENT_UPDATED).details(json!({
                            "id_token_signed_response_alg": {
                                "before": client.id_token_signed_response_alg, "after": form.alg
                            }
                        })),
                    )
                    .await?;
                    "alg"
                }
                "disable" | "enable" => {
                    let disabled = form.act == "disable";
                    clients::set_disabled(&mut tx, &client.client_id, disabled).await?;
                    audit::record(
                        &mut tx,
                        &entry(action::CLIENT_UPDATED).details(json!({
                            "disabled": { "before": client.disabled, "after": disabled }
                        })),
                    )
                    .await?;
                    if disabled {
                        "disabled"
                    } else {
                        "enabled"
                    }
                }
                "rotate" => {
                    let secret = match clients::rotate_secret(&mut tx, &client.client_id).await {
                        Ok(s) => s,
                        Err(e) => return Ok(Err(refusal(e)?)),
                    };
                    audit::record(&mut tx, &entry(action::CLIENT_SECRET_ROTATED)).await?;
                    tx.commit().await?;
                    return Ok(Ok(Err((client, secret))));
                }
                "delete" => {
                    if form.confirm.trim() != client.name {
                        return Ok(Err(format!(
                            "Type the client's name, {}, to confirm the deletion.",
                            client.name
                        )));
                    }
                    clients::delete(&mut tx, &client.client_id).await?;
                    audit::record(
                        &mut tx,
                        &entry(action::CLIENT_DELETED).details(json!({ "name": client.name })),
                    )
                    .await?;
                    "deleted"
                }
                _ => return Ok(Err("Unknown action.".to_owned())),
            };
            tx.commit().await?;
            Ok::<_, Failure>(Ok(Ok(done)))
        }
        .await
        .map_err(|e| f.fail(e))?;
        if outcome.is_ok() {
            // Every node drops its cached copy of the tenant's clients.
            f.state
                .tenancy
                .tenants
                .announce(&f.provider.tenant, Change::Clients)
                .await;
        }
        match outcome {
            Ok(Ok("deleted")) => Ok(c.back("/admin/clients", "deleted")),
            Ok(Ok(done)) => {
                let done_path = format!("/admin/clients/{id}");
                // Client ids are URL-safe; the notice goes back to the page.
                Ok(c.back(&done_path, done))
            }
            Ok(Err((client, secret))) => Ok(c.render(
                StatusCode::OK,
                &SecretPage {
                    layout: c.layout("/admin/clients"),
                    client_id: client.client_id,
                    name: client.name,
                    secret,
                    created: false,
                },
            )),
            Err(error) => {
                let layout = c.layout("/admin/clients").with_error(error);
                client_view(&c, &id, layout, StatusCode::UNPROCESSABLE_ENTITY).await
            }
        }
    })
    .await
}

// ---------------------------------------------------------------- roles

pub struct RoleRow {
    pub name: String,
    pub description: String,
    pub holders: usize,
    pub builtin: bool,
}

#[derive(Template)]
#[template(path = "console/roles.html", config = "src/front/askama.toml")]
struct RolesPage {
    layout: Layout,
    rows: Vec<RoleRow>,
    name: String,
    description: String,
}

const ROLE_NOTICES: [(&str, &str); 2] = [
    ("created", "The role was created."),
    (
        "deleted",
        "The role was deleted, and taken from everyone who held it.",
    ),
];

async fn roles_page(f: Front, q: Result<Query<DoneQuery>, QueryRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let Query(q) = q.unwrap_or_default();
        let layout = c
            .layout("/admin/roles")
            .with_notice(notice(&ROLE_NOTICES, q.done.as_deref()));
        roles_view(&c, layout, String::new(), String::new(), StatusCode::OK).await
    })
    .await
}

async fn roles_view(
    c: &Console,
    layout: Layout,
    name: String,
    description: String,
    status: StatusCode,
) -> Result<Response, Response> {
    let f = &c.f;
    let platforms = f.provider.tenant.slug.as_str() == PLATFORMS_SLUG;
    let rows = async {
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let builtin: &[&str] = if platforms {
            &roles::PLATFORM_ROLES
        } else {
            &roles::TENANT_ROLES
        };
        let mut rows = Vec::new();
        for r in builtin {
            rows.push(RoleRow {
                name: (*r).to_owned(),
                description: match *r {
                    "owner" => "Administers the tenant, including its owners.",
                    "admin" => "Administers users, clients, settings and keys.",
                    "member" => "Staff of the tenant, without administration.",
                    "readonly" => "Reads the administration console, changes nothing.",
                    "platform_admin" => "Runs the platform: tenants, and any tenant's data.",
                    _ => "Reads the platform and its tenants.",
                }
                .to_owned(),
                holders: roles::holders(&mut tx, r).await?.len(),
                builtin: true,
            });
        }
        for r in roles::list(&mut tx).await? {
            rows.push(RoleRow {
                holders: roles::holders(&mut tx, &r.name).await?.len(),
                name: r.name,
                description: r.description,
                builtin: false,
            });
        }
        tx.commit().await?;
        Ok::<_, Failure>(rows)
    }
    .await
    .map_err(|e| f.fail(e))?;
    Ok(c.render(
        status,
        &RolesPage {
            layout,
            rows,
            name,
            description,
        },
    ))
}

#[derive(Debug, Deserialize, Default)]
pub struct RoleAction {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "do")]
    act: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

/// `POST {issuer}/admin/roles`: `do=create` or `do=delete` a custom role.
async fn roles_act(f: Front, form: Result<Form<RoleAction>, FormRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let form = c.change_form(form, |f| &f.csrf)?;
        let f = &c.f;
        let name = form.name.trim().to_owned();
        let outcome = async {
            let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
            let entry = |act: &'static str| {
                Entry::new(c.actor(), act)
                    .target("role", &name)
                    .ip(f.client_ip)
            };
            let done = match form.act.as_str() {
                "create" => {
                    if let Err(e) = roles::create(&mut tx, &name, form.description.trim()).await {
                        return Ok(Err(refusal(e)?));
                    }
                    audit::record(
                        &mut tx,
                        &entry(action::ROLE_CREATED)
                            .details(json!({ "description": form.description.trim() })),
                    )
                    .await?;
                    "created"
                }
                "delete" => {
                    if let Err(e) = roles::delete(&mut tx, &name).await {
                        return Ok(Err(refusal(e)?));
                    }
                    audit::record(&mut tx, &entry(action::ROLE_DELETED)).await?;
                    "deleted"
                }
                _ => return Ok(Err("Unknown action.".to_owned())),
            };
            tx.commit().await?;
            Ok::<_, Failure>(Ok(done))
        }
        .await
        .map_err(|e| f.fail(e))?;
        match outcome {
            Ok(done) => Ok(c.back("/admin/roles", done)),
            Err(error) => {
                let layout = c.layout("/admin/roles").with_error(error);
                let (n, d) = if form.act == "create" {
                    (name.clone(), form.description.clone())
                } else {
                    (String::new(), String::new())
                };
                roles_view(&c, layout, n, d, StatusCode::UNPROCESSABLE_ENTITY).await
            }
        }
    })
    .await
}

// ---------------------------------------------------------------- keys

pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub state: String,
    pub created: String,
    pub activated: String,
    pub retired: String,
    pub remove_after: String,
}

impl From<KeyInfo> for KeyRow {
    fn from(k: KeyInfo) -> Self {
        let opt = |t: Option<time::OffsetDateTime>| t.map(stamp).unwrap_or_default();
        Self {
            kid: k.kid,
            alg: k.alg,
            state: match k.state {
                keys::KeyState::Next => "next",
                keys::KeyState::Active => "active",
                keys::KeyState::Retired => "retired",
            }
            .to_owned(),
            created: stamp(k.created_at),
            activated: opt(k.activated_at),
            retired: opt(k.retired_at),
            remove_after: opt(k.remove_after),
        }
    }
}

#[derive(Template)]
#[template(path = "console/keys.html", config = "src/front/askama.toml")]
struct KeysPage {
    layout: Layout,
    rows: Vec<KeyRow>,
}

async fn keys_page(f: Front, q: Result<Query<DoneQuery>, QueryRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        let Query(q) = q.unwrap_or_default();
        let layout = c.layout("/admin/keys").with_notice(notice(
            &[(
                "rotated",
                "The keys were rotated: the next keys sign from now on, and the old ones stay published until their tokens have expired.",
            )],
            q.done.as_deref(),
        ));
        let f = &c.f;
        let rows = async {
            let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
            let rows = keys::list(&mut tx).await.map_err(internal)?;
            tx.commit().await?;
            Ok::<_, Failure>(rows)
        }
        .await
        .map_err(|e| f.fail(e))?;
        Ok(c.render(
            StatusCode::OK,
            &KeysPage {
                layout,
                rows: rows.into_iter().map(KeyRow::from).collect(),
            },
        ))
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST {issuer}/admin/keys`: rotates now (announced to every node).
async fn keys_rotate(f: Front, form: Result<Form<CsrfOnly>, FormRejection>) -> Response {
    answer(async {
        let c = Console::enter(f, Area::Admin).await?;
        c.change_form(form, |f| &f.csrf)?;
        let f = &c.f;
        f.state
            .rotator()
            .rotate_by(&f.provider.tenant, c.actor())
            .await
            .map_err(|e| f.fail(internal(e)))?;
        Ok(c.back("/admin/keys", "rotated"))
    })
    .await
}
