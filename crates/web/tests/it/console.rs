//! The administration consoles in-process: `/admin` of a tenant and
//! `/platform` of `_platforms`, through their own sign-in, with the roles
//! that open them, CSRF on every change, refusals that change nothing,
//! and the audit records of what they change.

use gatehouse_admin::roles;
use gatehouse_core::ids::PLATFORMS_SLUG;
use gatehouse_core::testing::unique_slug;
use gatehouse_core::TenantId;
use gatehouse_oidc::users::{self, NewUser};
use gatehouse_web::AppState;

use crate::browser::*;

/// A user of `tenant` with `password` and the roles `held`.
async fn staff(state: &AppState, tenant: TenantId, username: &str, held: &[&str]) -> uuid::Uuid {
    let platforms = state
        .tenancy
        .tenants
        .get(PLATFORMS_SLUG)
        .await
        .is_ok_and(|t| t.id == tenant);
    let hash = state.hasher.hash(PASSWORD.into()).await.unwrap();
    let mut tx = state.db.tenant_tx(tenant).await.unwrap();
    let u = users::create(
        &mut tx,
        NewUser {
            username: username.into(),
            email: None,
            name: None,
            password_hash: Some(hash),
        },
    )
    .await
    .unwrap();
    for r in held {
        roles::assign(&mut tx, platforms, u.id, r).await.unwrap();
    }
    tx.commit().await.unwrap();
    u.id
}

/// Opens `start` (`/t/{slug}/admin` …) without a session and submits
/// `login`'s password on the sign-in page it leads to; the answer.
async fn submit_sign_in(
    app: &axum::Router,
    b: &mut Browser,
    slug: &str,
    start: &str,
    login: &str,
) -> Answer {
    let first = b.get(app, start).await;
    let login_page = b.get(app, &first.next()).await;
    assert_eq!(login_page.status, 200, "{}", login_page.body);
    let (req, csrf) = (login_page.hidden("req"), login_page.hidden("csrf"));
    b.post(
        app,
        &format!("/t/{slug}/login"),
        &[
            ("req", &req),
            ("csrf", &csrf),
            ("username", login),
            ("password", PASSWORD),
        ],
    )
    .await
}

/// Signs in through [`submit_sign_in`] and checks that the sign-in comes
/// back to the console.
async fn sign_in(app: &axum::Router, b: &mut Browser, slug: &str, start: &str, login: &str) {
    let done = submit_sign_in(app, b, slug, start, login).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let landing = done.location().unwrap();
    let area = start.rsplit('/').next().unwrap();
    assert!(landing.path().ends_with(&format!("/{area}")), "{landing}");
}

/// The events of `tenant`'s audit log with `action`.
async fn audited(
    state: &AppState,
    tenant: TenantId,
    action: &str,
) -> Vec<gatehouse_admin::audit::AuditEvent> {
    let mut tx = state.db.tenant_tx(tenant).await.unwrap();
    let page = gatehouse_admin::audit::list(
        &mut tx,
        &gatehouse_admin::audit::Filter {
            action: Some(action.into()),
            limit: Some(100),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    page.items
}

async fn user_count(state: &AppState, tenant: TenantId, username: &str) -> usize {
    let mut tx = state.db.tenant_tx(tenant).await.unwrap();
    let n = users::find_by_username(&mut tx, username)
        .await
        .unwrap()
        .into_iter()
        .count();
    tx.commit().await.unwrap();
    n
}

#[tokio::test]
async fn console_admin_needs_a_sign_in_and_an_administrative_role() {
    let fx = Fixture::new().await;
    let (app, state, slug) = (&fx.app, &fx.state, fx.slug().to_owned());
    // No session: a sign-in that comes back to /admin.
    let mut b = Browser::default();
    sign_in(app, &mut b, &slug, &fx.path("/admin"), "alice").await;
    // alice holds no role: 403, and a member's role opens nothing either.
    let page = b.get(app, &fx.path("/admin/users")).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("no administrative role"));
    // /platform exists only at _platforms.
    assert_eq!(b.get(app, &fx.path("/platform/tenants")).await.status, 404);

    staff(state, fx.tenant.id, "olga", &["owner"]).await;
    let mut owner = Browser::default();
    sign_in(app, &mut owner, &slug, &fx.path("/admin"), "olga").await;
    let home = owner.get(app, &fx.path("/admin")).await;
    assert_eq!(home.next(), fx.path("/admin/users"));
    for page in [
        "/admin/users",
        "/admin/clients",
        "/admin/roles",
        "/admin/keys",
        "/admin/audit",
    ] {
        let a = owner.get(app, &fx.path(page)).await;
        assert_eq!(a.status, 200, "{page}: {}", a.body);
        assert!(a.body.contains("aria-current=\"page\""), "{page}");
    }
    // Another tenant's session opens nothing here: olga exists only at fx.
    let other = fx.sibling().await;
    let a = owner.get(app, &other.path("/admin/users")).await;
    assert_eq!(a.status, 303, "no session at the other tenant: a sign-in");
}

#[tokio::test]
async fn console_admin_manages_users_roles_and_their_audit_records() {
    let fx = Fixture::new().await;
    let (app, state, slug) = (&fx.app, &fx.state, fx.slug().to_owned());
    let owner_id = staff(state, fx.tenant.id, "olga", &["owner"]).await;
    let mut b = Browser::default();
    sign_in(app, &mut b, &slug, &fx.path("/admin"), "olga").await;
    let page = b.get(app, &fx.path("/admin/users")).await;
    let csrf = page.hidden("csrf");

    // Bad input: 422 with the reason, nothing created.
    let weak = b
        .post(
            app,
            &fx.path("/admin/users"),
            &[("csrf", &csrf), ("username", "bob"), ("password", "short")],
        )
        .await;
    assert_eq!(weak.status, 422, "{}", weak.body);
    assert!(weak.body.contains("notice-error"));
    assert_eq!(user_count(state, fx.tenant.id, "bob").await, 0);
    let nameless = b
        .post(
            app,
            &fx.path("/admin/users"),
            &[("csrf", &csrf), ("username", " ")],
        )
        .await;
    assert_eq!(nameless.status, 422);
    // Without the CSRF token: refused, nothing created.
    let forged = b
        .post(
            app,
            &fx.path("/admin/users"),
            &[("csrf", "x"), ("username", "bob")],
        )
        .await;
    assert_eq!(forged.status, 400);
    assert_eq!(user_count(state, fx.tenant.id, "bob").await, 0);

    let made = b
        .post(
            app,
            &fx.path("/admin/users"),
            &[
                ("csrf", &csrf),
                ("username", "bob"),
                ("email", "bob@example.com"),
                ("password", "a long and unusual passphrase"),
            ],
        )
        .await;
    let user_page = made.next();
    assert!(user_page.ends_with("?done=created"), "{user_page}");
    let bob = users::find_by_username(&mut state.db.tenant_tx(fx.tenant.id).await.unwrap(), "bob")
        .await
        .unwrap()
        .unwrap()
        .id;
    let path = fx.path(&format!("/admin/users/{bob}"));
    let shown = b.get(app, &user_page).await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.contains("The user was created."));
    // The search finds bob by email prefix, not olga.
    let found = b.get(app, &fx.path("/admin/users?q=BOB%40")).await;
    assert!(found.body.contains(">bob</a>") && !found.body.contains(">olga</a>"));

    for (act, extra) in [
        ("assign", ("role", "readonly")),
        ("disable", ("x", "")),
        ("enable", ("x", "")),
        ("sessions", ("x", "")),
        ("mfa", ("x", "")),
        // The fixture's password, so that bob can sign in below.
        ("password", ("password", PASSWORD)),
    ] {
        let a = b
            .post(app, &path, &[("csrf", &csrf), ("do", act), extra])
            .await;
        assert_eq!(a.status, 303, "{act}: {}", a.body);
    }
    let mut tx = state.db.tenant_tx(fx.tenant.id).await.unwrap();
    assert_eq!(roles::of_user(&mut tx, bob).await.unwrap(), ["readonly"]);
    tx.commit().await.unwrap();
    // The last owner cannot lose the role; an unknown role is refused.
    for (act, role) in [("unassign", "owner"), ("assign", "wizard")] {
        let a = b
            .post(
                app,
                &fx.path(&format!("/admin/users/{owner_id}")),
                &[("csrf", &csrf), ("do", act), ("role", role)],
            )
            .await;
        assert_eq!(a.status, 422, "{act} {role}");
    }
    // A password built from the user's address is refused, as everywhere else.
    let named = b
        .post(
            app,
            &path,
            &[
                ("csrf", &csrf),
                ("do", "password"),
                ("password", "mail-me-at-bob@example.com"),
            ],
        )
        .await;
    assert_eq!(named.status, 422, "{}", named.body);
    // Deleting needs the username typed again.
    let wrong = b
        .post(
            app,
            &path,
            &[("csrf", &csrf), ("do", "delete"), ("confirm", "bobby")],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(user_count(state, fx.tenant.id, "bob").await, 1);

    // Each change is in the log, by olga, with the target.
    for action in [
        "user.created",
        "role.assigned",
        "user.updated",
        "sessions.revoked",
        "mfa.reset",
        "password.reset",
    ] {
        let events = audited(state, fx.tenant.id, action).await;
        let e = events
            .iter()
            .find(|e| e.target_id.as_deref() == Some(bob.to_string().as_str()))
            .unwrap_or_else(|| panic!("{action}: {events:?}"));
        assert_eq!(
            (e.actor_kind.as_str(), e.actor_name.as_deref()),
            ("user", Some("olga"))
        );
    }

    // A read-only administrator reads and changes nothing.
    let mut reader = Browser::default();
    sign_in(app, &mut reader, &slug, &fx.path("/admin"), "bob").await;
    let page = reader.get(app, &path).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Delete user"), "no change forms");
    // A read-only page has no forms; the token is the cookie's.
    let csrf_r = reader.cookies["gatehouse_csrf"].clone();
    let refused = reader
        .post(
            app,
            &fx.path(&format!("/admin/users/{owner_id}")),
            &[("csrf", &csrf_r), ("do", "disable")],
        )
        .await;
    assert_eq!(refused.status, 403);

    let gone = b
        .post(
            app,
            &path,
            &[("csrf", &csrf), ("do", "delete"), ("confirm", "bob")],
        )
        .await;
    assert!(gone.next().ends_with("/admin/users?done=deleted"));
    assert_eq!(user_count(state, fx.tenant.id, "bob").await, 0);
    assert_eq!(audited(state, fx.tenant.id, "user.deleted").await.len(), 1);
}

/// Tries `login`'s password at `slug` in a new browser; whether it signed in.
async fn can_sign_in(app: &axum::Router, slug: &str, login: &str) -> bool {
    let start = format!("/t/{slug}/account");
    let done = submit_sign_in(app, &mut Browser::default(), slug, &start, login).await;
    done.status == 303
}

#[tokio::test]
async fn console_admin_lists_and_ends_sessions_and_locks_and_unlocks_users() {
    let fx = Fixture::new().await;
    let (app, state, slug) = (&fx.app, &fx.state, fx.slug().to_owned());
    staff(state, fx.tenant.id, "olga", &["admin"]).await;
    let bob = staff(state, fx.tenant.id, "bob", &[]).await;
    let mut admin = Browser::default();
    sign_in(app, &mut admin, &slug, &fx.path("/admin"), "olga").await;
    let (mut first, mut second) = (Browser::default(), Browser::default());
    sign_in(app, &mut first, &slug, &fx.path("/account"), "bob").await;
    sign_in(app, &mut second, &slug, &fx.path("/account"), "bob").await;
    let user_path = fx.path(&format!("/admin/users/{bob}"));
    let account = fx.path("/account");
    // Both sessions are listed; ending one signs that browser out only.
    let page = admin.get(app, &user_path).await;
    assert_eq!(
        page.body.matches("value=\"end-session\"").count(),
        2,
        "{}",
        page.body
    );
    let csrf = page.hidden("csrf");
    let sid = page.hidden("sid");
    let ended = admin
        .post(
            app,
            &user_path,
            &[("csrf", &csrf), ("do", "end-session"), ("sid", &sid)],
        )
        .await;
    assert_eq!(ended.status, 303, "{}", ended.body);
    let one = first.get(app, &account).await.status == 200;
    let two = second.get(app, &account).await.status == 200;
    assert!(one != two, "exactly one browser was signed out");
    let page = admin.get(app, &user_path).await;
    assert_eq!(page.body.matches("value=\"end-session\"").count(), 1);
    let again = admin
        .post(
            app,
            &user_path,
            &[("csrf", &csrf), ("do", "end-session"), ("sid", &sid)],
        )
        .await;
    assert_eq!(again.status, 422, "an ended session is not ended twice");
    let revoked = audited(state, fx.tenant.id, "sessions.revoked").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].details["sid"], sid.as_str());

    // The tenant's sessions page: olga's and bob's remaining one, newest
    // first, each naming its user; ending bob's there signs him out.
    let sessions_path = fx.path("/admin/sessions");
    let page = admin.get(app, &sessions_path).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.body.matches("name=\"sid\"").count(),
        2,
        "{}",
        page.body
    );
    assert!(page.body.contains(">olga</a>") && page.body.contains(">bob</a>"));
    assert_eq!(page.hidden("user"), bob.to_string(), "bob signed in last");
    let last = page.hidden("sid");
    let ended = admin
        .post(
            app,
            &sessions_path,
            &[("csrf", &csrf), ("user", &bob.to_string()), ("sid", &last)],
        )
        .await;
    assert!(
        ended.next().ends_with("/admin/sessions?done=session-ended"),
        "{}",
        ended.body
    );
    assert_ne!(first.get(app, &account).await.status, 200);
    assert_ne!(second.get(app, &account).await.status, 200);
    let page = admin.get(app, &sessions_path).await;
    assert_eq!(page.body.matches("name=\"sid\"").count(), 1, "olga's own");
    let again = admin
        .post(
            app,
            &sessions_path,
            &[("csrf", &csrf), ("user", &bob.to_string()), ("sid", &last)],
        )
        .await;
    assert_eq!(again.status, 422, "already ended");
    assert_eq!(
        audited(state, fx.tenant.id, "sessions.revoked").await.len(),
        2
    );

    // Locked: signed out everywhere, and the password no longer signs in.
    let locked = admin
        .post(app, &user_path, &[("csrf", &csrf), ("do", "lock")])
        .await;
    assert_eq!(locked.status, 303, "{}", locked.body);
    let one = first.get(app, &account).await.status == 200;
    let two = second.get(app, &account).await.status == 200;
    assert!(!one && !two, "signed out everywhere");
    let page = admin.get(app, &user_path).await;
    assert!(
        page.body.contains("status-disabled\">locked"),
        "{}",
        page.body
    );
    assert!(page.body.contains("No browser is signed in"));
    assert!(
        !can_sign_in(app, &slug, "bob").await,
        "a locked user cannot sign in"
    );
    let refused = admin
        .post(
            app,
            &fx.path(&format!(
                "/admin/users/{}",
                users_id(state, fx.tenant.id, "olga").await
            )),
            &[("csrf", &csrf), ("do", "lock")],
        )
        .await;
    assert_eq!(
        refused.status, 422,
        "an administrator cannot lock themselves out"
    );

    // Failed sign-ins hold the account too; an unlock clears both.
    let throttle = &state.throttle;
    let key = [gatehouse_core::throttle::Key::account("bob")];
    for _ in 0..12 {
        throttle
            .failed(fx.tenant.id, gatehouse_core::throttle::Action::Login, &key)
            .await
            .unwrap();
    }
    let page = admin.get(app, &user_path).await;
    assert!(page.body.contains("sign-in held for"), "{}", page.body);
    let unlocked = admin
        .post(app, &user_path, &[("csrf", &csrf), ("do", "unlock")])
        .await;
    assert_eq!(unlocked.status, 303);
    let page = admin.get(app, &user_path).await;
    assert!(!page.body.contains("sign-in held for"));
    assert!(page.body.contains("status-active\">active"));
    assert!(
        can_sign_in(app, &slug, "bob").await,
        "unlocked, bob signs in"
    );
    let changes = audited(state, fx.tenant.id, "user.updated").await;
    for (before, after) in [(false, true), (true, false)] {
        assert!(
            changes
                .iter()
                .any(|e| e.details["locked"]
                    == serde_json::json!({ "before": before, "after": after })),
            "{changes:?}"
        );
    }
}

async fn users_id(state: &AppState, tenant: TenantId, username: &str) -> uuid::Uuid {
    let mut tx = state.db.tenant_tx(tenant).await.unwrap();
    let u = users::find_by_username(&mut tx, username)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    u.id
}

#[tokio::test]
async fn console_admin_registers_clients_rotates_secrets_and_keys() {
    let fx = Fixture::new().await;
    let (app, state, slug) = (&fx.app, &fx.state, fx.slug().to_owned());
    staff(state, fx.tenant.id, "olga", &["admin"]).await;
    let mut b = Browser::default();
    sign_in(app, &mut b, &slug, &fx.path("/admin"), "olga").await;
    let csrf = b.get(app, &fx.path("/admin/clients")).await.hidden("csrf");

    let refused = b
        .post(
            app,
            &fx.path("/admin/clients"),
            &[
                ("csrf", &csrf),
                ("name", "Shop"),
                ("kind", "confidential"),
                ("redirect_uris", "https://shop.example/cb#fragment"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "a redirect URI with a fragment");
    assert!(refused.body.contains("fragment"), "{}", refused.body);
    assert!(
        refused.body.contains("value=\"Shop\""),
        "the form keeps what was typed"
    );
    let made = b
        .post(
            app,
            &fx.path("/admin/clients"),
            &[
                ("csrf", &csrf),
                ("name", "Shop"),
                ("kind", "confidential"),
                (
                    "redirect_uris",
                    "https://shop.example/cb\r\n\r\nhttps://shop.example/cb2",
                ),
            ],
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let secret_of = |body: &str| {
        let start = body.find("id=\"client-secret\">").unwrap() + "id=\"client-secret\">".len();
        body[start..start + body[start..].find('<').unwrap()].to_owned()
    };
    let secret = secret_of(&made.body);
    assert!(made.headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("no-store"));
    let mut tx = state.db.tenant_tx(fx.tenant.id).await.unwrap();
    let client = gatehouse_oidc::clients::find_by_name(&mut tx, "Shop")
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(client.redirect_uris.len(), 2);
    let id = client.client_id.clone();

    // The secret authenticates (introspection answers 200), a wrong one 401.
    let introspect = |secret: String| {
        let app = app.clone();
        let uri = fx.path("/introspect");
        let id = id.clone();
        async move {
            use base64::Engine as _;
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
            let req = axum::http::Request::post(uri)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("authorization", format!("Basic {basic}"))
                .body(axum::body::Body::from("token=x"))
                .unwrap();
            crate::support::send(&app, req).await.0
        }
    };
    assert_eq!(introspect(secret.clone()).await, 200);
    // The authorization endpoint reads the client from the provider's cache
    // too: a browser without a session is sent to the login page (303), or
    // shown an error page (400) for an unregistered redirect URI or a
    // client it does not know (RFC 6749 §4.1.2.1).
    let authorize = |redirect_uri: &'static str| {
        let app = app.clone();
        let uri = fx.path(&format!(
            "/authorize?client_id={id}&response_type=code&scope=openid&state=s\
             &redirect_uri={}&code_challenge_method=S256\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            redirect_uri.replace(':', "%3A").replace('/', "%2F")
        ));
        async move {
            let req = axum::http::Request::get(uri)
                .body(axum::body::Body::empty())
                .unwrap();
            crate::support::send(&app, req).await.0
        }
    };
    // until STATUS F: F's status once it is STATUS, polling for up to 1 s
    // while the change reaches this node through the event bus.
    async fn until<F: std::future::Future<Output = u16>>(status: u16, f: impl Fn() -> F) -> u16 {
        let mut got = 0;
        for _ in 0..100 {
            got = f().await;
            if got == status {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        got
    }
    assert_eq!(authorize("https://shop.example/cb").await, 303);
    let rotated = b
        .post(
            app,
            &fx.path(&format!("/admin/clients/{id}")),
            &[("csrf", &csrf), ("do", "rotate")],
        )
        .await;
    assert_eq!(rotated.status, 200);
    let new_secret = secret_of(&rotated.body);
    // The change reaches every node (this one too) through the event bus.
    let mut old = 0;
    for _ in 0..100 {
        old = introspect(secret.clone()).await;
        if old == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(old, 401, "the old secret stopped");
    assert_eq!(introspect(new_secret.clone()).await, 200);

    let client_path = fx.path(&format!("/admin/clients/{id}"));
    let uris = b
        .post(
            app,
            &client_path,
            &[
                ("csrf", &csrf),
                ("do", "uris"),
                ("redirect_uris", "https://shop.example/new"),
                ("post_logout_redirect_uris", "https://shop.example/bye"),
            ],
        )
        .await;
    assert_eq!(uris.status, 303, "{}", uris.body);
    let empty = b
        .post(
            app,
            &client_path,
            &[("csrf", &csrf), ("do", "uris"), ("redirect_uris", "")],
        )
        .await;
    assert_eq!(empty.status, 422, "a code-flow client keeps a redirect URI");
    let mut tx = state.db.tenant_tx(fx.tenant.id).await.unwrap();
    let now = gatehouse_oidc::clients::find(&mut tx, &id)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(now.redirect_uris, ["https://shop.example/new"]);
    assert_eq!(now.post_logout_redirect_uris, ["https://shop.example/bye"]);
    assert_eq!(
        until(400, || authorize("https://shop.example/cb")).await,
        400,
        "a removed redirect URI is refused"
    );
    assert_eq!(authorize("https://shop.example/new").await, 303);

    // Disabled, the client authenticates nowhere; enabled, it is back as it
    // was, with the same secret.
    let disabled = b
        .post(app, &client_path, &[("csrf", &csrf), ("do", "disable")])
        .await;
    assert_eq!(disabled.status, 303, "{}", disabled.body);
    let mut refused = 0;
    for _ in 0..100 {
        refused = introspect(new_secret.clone()).await;
        if refused == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(refused, 401, "a disabled client cannot authenticate");
    assert_eq!(
        until(400, || authorize("https://shop.example/new")).await,
        400,
        "a disabled client cannot start a sign-in"
    );
    let shown = b.get(app, &client_path).await;
    assert!(shown.body.contains("Enable client"), "{}", shown.body);
    let enabled = b
        .post(app, &client_path, &[("csrf", &csrf), ("do", "enable")])
        .await;
    assert_eq!(enabled.status, 303);
    let mut back = 0;
    for _ in 0..100 {
        back = introspect(new_secret.clone()).await;
        if back == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(back, 200, "enabled again with the same secret");
    assert_eq!(
        until(303, || authorize("https://shop.example/new")).await,
        303
    );
    let changes = audited(state, fx.tenant.id, "client.updated").await;
    assert!(
        changes
            .iter()
            .any(|e| e.details["disabled"] == serde_json::json!({ "before": false, "after": true })),
        "{changes:?}"
    );

    // Roles: a custom role, a bad name refused.
    let bad = b
        .post(
            app,
            &fx.path("/admin/roles"),
            &[("csrf", &csrf), ("do", "create"), ("name", "Bad Name")],
        )
        .await;
    assert_eq!(bad.status, 422);
    let good = b
        .post(
            app,
            &fx.path("/admin/roles"),
            &[
                ("csrf", &csrf),
                ("do", "create"),
                ("name", "editor"),
                ("description", "Edits"),
            ],
        )
        .await;
    assert_eq!(good.status, 303);
    assert!(b
        .get(app, &fx.path("/admin/roles"))
        .await
        .body
        .contains("<code>editor</code>"));

    // Keys: rotation activates another key.
    let kid_of = |state: AppState, tenant: TenantId| async move {
        let mut tx = state.db.tenant_tx(tenant).await.unwrap();
        let keys = gatehouse_oidc::keys::list(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        keys.into_iter()
            .filter(|k| k.alg == "ES256" && k.state == gatehouse_oidc::keys::KeyState::Active)
            .map(|k| k.kid)
            .collect::<Vec<_>>()
    };
    let before = kid_of(state.clone(), fx.tenant.id).await;
    let rotated = b
        .post(app, &fx.path("/admin/keys"), &[("csrf", &csrf)])
        .await;
    assert_eq!(rotated.status, 303);
    let after = kid_of(state.clone(), fx.tenant.id).await;
    assert_eq!(after.len(), 1);
    assert_ne!(before, after);

    // Deleting the client needs its name.
    let kept = b
        .post(
            app,
            &client_path,
            &[("csrf", &csrf), ("do", "delete"), ("confirm", "shop")],
        )
        .await;
    assert_eq!(kept.status, 422);
    let deleted = b
        .post(
            app,
            &client_path,
            &[("csrf", &csrf), ("do", "delete"), ("confirm", "Shop")],
        )
        .await;
    assert_eq!(deleted.status, 303);

    // The audit log page and its CSV export.
    let log = b.get(app, &fx.path("/admin/audit?action=client.")).await;
    assert_eq!(log.status, 200);
    for action in [
        "client.created",
        "client.secret_rotated",
        "client.updated",
        "client.deleted",
    ] {
        assert!(log.body.contains(action), "{action}");
    }
    assert!(!log.body.contains("role.created"), "filtered");
    let csv = b
        .get(
            app,
            &fx.path("/admin/audit.csv?action=client.&since=2000-01-01"),
        )
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert!(csv.header("content-disposition").starts_with("attachment;"));
    let mut lines = csv.body.lines();
    assert!(lines.next().unwrap().starts_with("at,actor_kind,actor_id"));
    // Created, secret rotated, URIs updated (the refused change left no
    // record), disabled, enabled, deleted.
    assert_eq!(lines.count(), 6, "{}", csv.body);
    let bad_day = b.get(app, &fx.path("/admin/audit?since=yesterday")).await;
    assert_eq!(bad_day.status, 422);
}

#[tokio::test]
async fn console_platform_creates_finds_suspends_and_deletes_tenants() {
    let fx = Fixture::new().await;
    let (app, state) = (&fx.app, &fx.state);
    let platforms = state.tenancy.tenants.get(PLATFORMS_SLUG).await.unwrap();
    let op = unique_slug("op");
    let viewer = unique_slug("viewer");
    staff(state, platforms.id, &op, &["platform_admin"]).await;
    staff(state, platforms.id, &viewer, &["platform_viewer"]).await;
    let p = |rest: &str| format!("/t/{PLATFORMS_SLUG}{rest}");
    let mut b = Browser::default();
    sign_in(app, &mut b, PLATFORMS_SLUG, &p("/platform"), &op).await;
    let list = b.get(app, &p("/platform/tenants")).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let csrf = list.hidden("csrf");

    // Keyset pages of 50: 51 tenants under one prefix.
    let prefix = unique_slug("pl");
    for n in 0..51 {
        state
            .tenancy
            .tenants
            .create(&format!("{prefix}-{n:02}"), "T")
            .await
            .unwrap();
    }
    let first = b
        .get(app, &p(&format!("/platform/tenants?q={prefix}")))
        .await;
    assert_eq!(first.body.matches(&format!(">{prefix}-")).count(), 50);
    assert!(!first.body.contains(&format!(">{prefix}-50<")));
    let next = first.body.find("Next page").expect("a next page");
    let href_start = first.body[..next].rfind("href=\"").unwrap() + 6;
    let href = first.body[href_start..next - 2].replace("&amp;", "&");
    let second = b.get(app, &href).await;
    assert!(second.body.contains(&format!(">{prefix}-50<")), "{href}");
    assert!(!second.body.contains("Next page"));

    // Create: refusals name the problem; then the tenant's page.
    let slug = unique_slug("made");
    for (s, name) in [("Bad Slug", "X"), (slug.as_str(), ""), ("_ops", "X")] {
        let a = b
            .post(
                app,
                &p("/platform/tenants"),
                &[("csrf", &csrf), ("slug", s), ("name", name)],
            )
            .await;
        assert_eq!(a.status, 422, "{s:?} {name:?}");
    }
    let made = b
        .post(
            app,
            &p("/platform/tenants"),
            &[("csrf", &csrf), ("slug", &slug), ("name", "Made Here")],
        )
        .await;
    assert_eq!(
        made.next(),
        p(&format!("/platform/tenants/{slug}?done=created"))
    );
    let t = state.tenancy.tenants.get(&slug).await.unwrap();
    let created = audited(state, t.id, "tenant.created").await;
    assert_eq!(created[0].actor_kind, "operator");
    assert_eq!(created[0].actor_name.as_deref(), Some(op.as_str()));

    // Suspend: the tenant answers 403; activate: served again.
    let tenant_path = p(&format!("/platform/tenants/{slug}"));
    let discovery = format!("/t/{slug}/.well-known/openid-configuration");
    let a = b
        .post(app, &tenant_path, &[("csrf", &csrf), ("do", "suspend")])
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(Browser::default().get(app, &discovery).await.status, 403);
    let a = b
        .post(app, &tenant_path, &[("csrf", &csrf), ("do", "archive")])
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(
        state
            .tenancy
            .tenants
            .get(&slug)
            .await
            .unwrap()
            .status
            .as_str(),
        "inactive"
    );
    let a = b
        .post(app, &tenant_path, &[("csrf", &csrf), ("do", "activate")])
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(Browser::default().get(app, &discovery).await.status, 200);

    // Reading its users and audit log enters the tenant, on its own record.
    assert_eq!(
        b.get(app, &format!("{tenant_path}/users")).await.status,
        200
    );
    let log = b.get(app, &format!("{tenant_path}/audit")).await;
    assert_eq!(log.status, 200);
    assert!(log.body.contains("tenant.status_changed"));
    let entered = audited(state, t.id, "tenant.entered").await;
    assert_eq!(entered.len(), 2);
    assert!(entered.iter().all(|e| e.actor_kind == "operator"));

    // A platform viewer reads and changes nothing.
    let mut v = Browser::default();
    sign_in(app, &mut v, PLATFORMS_SLUG, &p("/platform"), &viewer).await;
    assert_eq!(v.get(app, &tenant_path).await.status, 200);
    let vcsrf = v.cookies["gatehouse_csrf"].clone();
    let refused = v
        .post(app, &tenant_path, &[("csrf", &vcsrf), ("do", "suspend")])
        .await;
    assert_eq!(refused.status, 403);

    // Delete needs the slug typed again; then every trace goes.
    let kept = b
        .post(
            app,
            &tenant_path,
            &[("csrf", &csrf), ("do", "delete"), ("confirm", "nope")],
        )
        .await;
    assert_eq!(kept.status, 422);
    assert!(state.tenancy.tenants.get(&slug).await.is_ok());
    let gone = b
        .post(
            app,
            &tenant_path,
            &[("csrf", &csrf), ("do", "delete"), ("confirm", &slug)],
        )
        .await;
    assert_eq!(gone.next(), p("/platform/tenants?done=deleted"));
    assert!(state.tenancy.tenants.get(&slug).await.is_err());
    assert_eq!(b.get(app, &tenant_path).await.status, 404);

    // The built-in tenants cannot be suspended.
    let reserved = b
        .post(
            app,
            &p(&format!("/platform/tenants/{PLATFORMS_SLUG}")),
            &[("csrf", &csrf), ("do", "suspend")],
        )
        .await;
    assert_eq!(reserved.status, 422);
}

#[tokio::test]
async fn console_admin_settings_keep_the_platforms_bounds_and_show_the_brand() {
    let fx = Fixture::new().await;
    let (app, state, slug) = (&fx.app, &fx.state, fx.slug().to_owned());
    staff(state, fx.tenant.id, "olga", &["owner"]).await;
    let mut b = Browser::default();
    sign_in(app, &mut b, &slug, &fx.path("/admin"), "olga").await;
    let page = b.get(app, &fx.path("/admin/settings")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.hidden("csrf");
    let path = fx.path("/admin/settings");
    let stored = |state: AppState, tenant: TenantId| async move {
        gatehouse_tenancy::settings::load_overrides(&state.db, tenant)
            .await
            .unwrap()
    };

    // Refused: a colour that is none, a floor, a ceiling. Nothing stored.
    for form in [
        vec![("section", "branding"), ("primary_color", "blue")],
        vec![("section", "security"), ("mfa", "off")],
        vec![("section", "security"), ("password_min_length", "8")],
        vec![("section", "security"), ("session_ttl_secs", "99999999")],
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(form.iter().copied());
        let a = b.post(app, &path, &f).await;
        assert_eq!(a.status, 422, "{form:?}: {}", a.body);
        assert!(a.body.contains("notice-error"));
    }
    assert!(stored(state.clone(), fx.tenant.id).await.is_empty());

    let saved = b
        .post(
            app,
            &path,
            &[
                ("csrf", &csrf),
                ("section", "branding"),
                ("company_name", "Acme Console"),
                ("primary_color", "#0f766e"),
            ],
        )
        .await;
    assert_eq!(saved.next(), fx.path("/admin/settings?done=branding"));
    let saved = b
        .post(
            app,
            &path,
            &[
                ("csrf", &csrf),
                ("section", "security"),
                ("mfa", "required"),
                ("password_min_length", "16"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let now = stored(state.clone(), fx.tenant.id).await;
    let get = |s: &str| {
        now.iter()
            .find(|(n, _)| n == s)
            .map(|(_, d)| d.clone())
            .unwrap()
    };
    assert_eq!(get("branding")["company_name"], "Acme Console");
    assert_eq!(get("security")["password_min_length"], 16);
    assert_eq!(get("security")["mfa"], "required");
    let events = audited(state, fx.tenant.id, "settings.changed").await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].actor_name.as_deref(), Some("olga"));

    // The preview is the sign-in page with the new brand (once the change
    // has reached this node's provider).
    let mut shown = String::new();
    for _ in 0..100 {
        shown = b.get(app, &fx.path("/admin/settings/preview")).await.body;
        if shown.contains("Acme Console") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        shown.contains("Acme Console") && shown.contains("name=\"password\""),
        "{shown}"
    );
    // Emptied fields fall back to the platform's.
    let cleared = b
        .post(
            app,
            &path,
            &[
                ("csrf", &csrf),
                ("section", "security"),
                ("mfa", ""),
                ("password_min_length", ""),
            ],
        )
        .await;
    assert_eq!(cleared.status, 303);
    let now = stored(state.clone(), fx.tenant.id).await;
    let security = now
        .iter()
        .find(|(n, _)| n == "security")
        .map(|(_, d)| d.clone())
        .unwrap();
    assert_eq!(security, serde_json::json!({}));

    // The earlier security policy (version 1: mfa required, 16) restored
    // from its list, as a new version; a version that does not exist is
    // refused and changes nothing.
    let page = b.get(app, &path).await;
    assert!(
        page.body.contains("Versions of the security policy"),
        "{}",
        page.body
    );
    let restore = fx.path("/admin/settings/restore");
    let missing = b
        .post(
            app,
            &restore,
            &[("csrf", &csrf), ("section", "security"), ("version", "99")],
        )
        .await;
    assert_eq!(missing.status, 422);
    let restored = b
        .post(
            app,
            &restore,
            &[("csrf", &csrf), ("section", "security"), ("version", "1")],
        )
        .await;
    assert_eq!(restored.next(), fx.path("/admin/settings?done=restored"));
    let now = stored(state.clone(), fx.tenant.id).await;
    let security = now
        .iter()
        .find(|(n, _)| n == "security")
        .map(|(_, d)| d.clone())
        .unwrap();
    assert_eq!(security["password_min_length"], 16);
    let versions = gatehouse_tenancy::sections::versions(&state.db, fx.tenant.id, "security")
        .await
        .unwrap();
    assert_eq!(
        (versions[0].version, versions[0].restored_from),
        (3, Some(1))
    );
}

#[tokio::test]
async fn console_platform_edits_a_tenants_settings_sections_and_restores_versions() {
    let fx = Fixture::new().await;
    let (app, state) = (&fx.app, &fx.state);
    let platforms = state.tenancy.tenants.get(PLATFORMS_SLUG).await.unwrap();
    let op = unique_slug("op");
    let viewer = unique_slug("viewer");
    staff(state, platforms.id, &op, &["platform_admin"]).await;
    staff(state, platforms.id, &viewer, &["platform_viewer"]).await;
    let p = |rest: &str| format!("/t/{PLATFORMS_SLUG}{rest}");
    let mut b = Browser::default();
    sign_in(app, &mut b, PLATFORMS_SLUG, &p("/platform"), &op).await;
    let slug = fx.slug().to_owned();
    let path = p(&format!("/platform/tenants/{slug}/settings"));
    let page = b.get(app, &path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for section in gatehouse_tenancy::settings::SECTIONS {
        assert!(
            page.body.contains(&format!("id=\"doc-{section}\"")),
            "{section}"
        );
    }
    let csrf = page.hidden("csrf");
    let save = |section: &'static str, document: &'static str| {
        let (csrf, path) = (csrf.clone(), path.clone());
        let app = app.clone();
        let mut b = b.clone();
        async move {
            b.post(
                &app,
                &path,
                &[
                    ("csrf", csrf.as_str()),
                    ("do", "save"),
                    ("section", section),
                    ("document", document),
                ],
            )
            .await
        }
    };

    // Refused, with what was typed kept: not JSON, a floor broken, a
    // ceiling broken. Nothing stored.
    let bad = save("branding", "{ not json").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("{ not json"), "the textarea keeps it");
    let floor = save("security", r#"{"password_min_length": 4}"#).await;
    assert_eq!(floor.status, 422);
    assert!(
        floor.body.contains("security.password_min_length"),
        "{}",
        floor.body
    );
    let ceiling = save("oidc", r#"{"access_token_ttl_secs": 99999999}"#).await;
    assert_eq!(ceiling.status, 422);
    assert!(
        gatehouse_tenancy::settings::load_overrides(&state.db, fx.tenant.id)
            .await
            .unwrap()
            .is_empty()
    );

    // Saved twice, then the first version restored.
    let first = save("branding", r#"{"company_name": "First"}"#).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let second = save("branding", r#"{"company_name": "Second"}"#).await;
    assert_eq!(second.status, 303);
    let restored = b
        .post(
            app,
            &path,
            &[
                ("csrf", &csrf),
                ("do", "restore"),
                ("section", "branding"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(restored.status, 303, "{}", restored.body);
    let now = gatehouse_tenancy::settings::load_overrides(&state.db, fx.tenant.id)
        .await
        .unwrap();
    assert_eq!(now[0].1["company_name"], "First");
    let page = b.get(app, &path).await;
    assert!(
        page.body.contains("restored from version 1"),
        "{}",
        page.body
    );

    // Recorded in the tenant's own log, by the operator.
    let changes = audited(state, fx.tenant.id, "settings.changed").await;
    assert_eq!(changes.len(), 3);
    assert!(
        changes.iter().all(|e| e.actor_kind == "operator"),
        "{changes:?}"
    );

    // A viewer reads but cannot change.
    let mut v = Browser::default();
    sign_in(app, &mut v, PLATFORMS_SLUG, &p("/platform"), &viewer).await;
    let page = v.get(app, &path).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Save branding"));
    let refused = v
        .post(
            app,
            &path,
            &[
                ("csrf", &page.hidden("csrf")),
                ("do", "save"),
                ("section", "branding"),
                ("document", "{}"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
}
