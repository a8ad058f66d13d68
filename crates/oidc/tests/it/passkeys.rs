//! Passkeys: real WebAuthn ceremonies against a software authenticator
//! (webauthn-authenticator-rs' `SoftPasskey`), single-use ceremonies bound
//! to their user, the account page's list, rename and remove, and the
//! isolation of tenants, with distinct RP IDs (subdomains) and with one
//! shared RP ID (path mode).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gatehouse_core::crypto::secret_hash;
use gatehouse_core::kv::Kv;
use gatehouse_core::testing::{insert_tenant, test_db, test_env, unique_redis_prefix, unique_slug};
use gatehouse_core::{Db, TenantId, TenantTx};
use gatehouse_oidc::passkeys::{self, Authenticated, PasskeyError, Rp};
use gatehouse_oidc::users::{self, NewUser};
use serde_json::{json, Value};
use url::Url;
use uuid::Uuid;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

type Authenticator = WebauthnAuthenticator<SoftPasskey>;

/// A software passkey that performs user verification (the flag it sets is
/// what a PIN or biometric check would set).
fn authenticator() -> Authenticator {
    WebauthnAuthenticator::new(SoftPasskey::new(true))
}

fn rp(issuer: &str) -> Rp {
    Rp::for_issuer(issuer, "Acme").unwrap()
}

async fn user(db: &Db, tenant: TenantId, username: &str) -> Uuid {
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let user = users::create(
        &mut tx,
        NewUser {
            username: username.into(),
            ..NewUser::default()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    user.id
}

async fn tenant_with_user(db: &Db, prefix: &str) -> (TenantId, Uuid) {
    let tenant = insert_tenant(db, &unique_slug(prefix)).await;
    (tenant, user(db, tenant, "alice").await)
}

/// What the browser script posts: the authenticator's answer with the
/// extension outputs under `clientExtensionResults`, as the script names
/// them.
fn as_browser_posts(mut credential: Value) -> Value {
    if let Some(obj) = credential.as_object_mut() {
        let extensions = obj.remove("extensions").unwrap_or_else(|| json!({}));
        obj.insert("clientExtensionResults".into(), extensions);
    }
    credential
}

/// `navigator.credentials.create` at `origin`.
fn create(authn: &mut Authenticator, origin: &str, options: &Value) -> Value {
    let options: CreationChallengeResponse = serde_json::from_value(options.clone()).unwrap();
    let credential = authn
        .do_registration(Url::parse(origin).unwrap(), options)
        .unwrap();
    as_browser_posts(serde_json::to_value(credential).unwrap())
}

/// `navigator.credentials.get` at `origin`.
fn get(authn: &mut Authenticator, origin: &str, options: &Value) -> Value {
    let options: RequestChallengeResponse = serde_json::from_value(options.clone()).unwrap();
    let credential = authn
        .do_authentication(Url::parse(origin).unwrap(), options)
        .unwrap();
    as_browser_posts(serde_json::to_value(credential).unwrap())
}

/// `navigator.credentials.get` for a discoverable-credential request (empty
/// `allowCredentials`): the authenticator finds its own credential for the
/// RP ID and returns the user handle stored with it. `SoftPasskey` keeps no
/// discoverable credentials, so its choice is emulated: it is told which
/// credential to use (neither the list of allowed credentials nor the user
/// handle is covered by the signature) and the user handle is added.
fn get_discoverable(
    authn: &mut Authenticator,
    origin: &str,
    options: &Value,
    credential_id: &str,
    user_handle: Option<Uuid>,
) -> Value {
    assert_eq!(options["publicKey"]["allowCredentials"], json!([]));
    let mut chosen = options.clone();
    chosen["publicKey"]["allowCredentials"] = json!([{"type": "public-key", "id": credential_id}]);
    let mut credential = get(authn, origin, &chosen);
    credential["response"]["userHandle"] = match user_handle {
        Some(u) => URL_SAFE_NO_PAD.encode(u.as_bytes()).into(),
        None => Value::Null,
    };
    credential
}

/// Registers a passkey for `user` at `origin` and returns its credential id
/// (base64url) and its id.
async fn register(
    tx: &mut TenantTx,
    kv: &Kv,
    rp: &Rp,
    authn: &mut Authenticator,
    user: Uuid,
    name: &str,
) -> (String, Uuid) {
    let (ceremony, options) = passkeys::start_registration(tx, kv, rp, user, "alice", "Alice")
        .await
        .unwrap();
    let credential = create(authn, rp.origin().as_str(), &options);
    let info = passkeys::finish_registration(tx, kv, rp, user, &ceremony, &credential, name)
        .await
        .unwrap();
    (credential["rawId"].as_str().unwrap().to_owned(), info.id)
}

/// Signs in as the known `user` with `authn`.
async fn sign_in(
    tx: &mut TenantTx,
    kv: &Kv,
    rp: &Rp,
    authn: &mut Authenticator,
    user: Uuid,
) -> Result<Authenticated, PasskeyError> {
    let (ceremony, options) = passkeys::start_authentication(tx, kv, rp, Some(user)).await?;
    let credential = get(authn, rp.origin().as_str(), &options);
    passkeys::finish_authentication(tx, kv, rp, &ceremony, &credential).await
}

/// The stored signature counter of a passkey (as webauthn-rs serialises it).
async fn stored_counter(tx: &mut TenantTx, id: Uuid) -> i64 {
    sqlx::query_scalar("select (passkey->'cred'->>'counter')::bigint from passkeys where id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await
        .unwrap()
}

const ROWS: &str = "select count(*) from passkeys";

async fn rows(tx: &mut TenantTx) -> i64 {
    sqlx::query_scalar(ROWS).fetch_one(&mut **tx).await.unwrap()
}

#[tokio::test]
async fn passkey_registers_then_signs_in_as_a_known_user_and_discoverably() {
    let db = test_db().await;
    let kv = Kv::memory("gh-test");
    let (tenant, user) = tenant_with_user(&db, "pk-flow").await;
    let rp = rp("https://acme.id.example");
    let mut authn = authenticator();
    let mut tx = db.tenant_tx(tenant).await.unwrap();

    let (ceremony, options) =
        passkeys::start_registration(&mut tx, &kv, &rp, user, "alice", "Alice")
            .await
            .unwrap();
    let public_key = &options["publicKey"];
    assert_eq!(public_key["rp"]["id"], "acme.id.example");
    assert_eq!(public_key["user"]["name"], "alice");
    assert_eq!(
        public_key["user"]["id"],
        URL_SAFE_NO_PAD.encode(user.as_bytes()),
        "the user handle is the user's random id"
    );
    assert_eq!(public_key["excludeCredentials"], json!([]));
    assert_eq!(
        public_key["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(
        public_key["authenticatorSelection"]["residentKey"],
        "preferred"
    );
    let credential = create(&mut authn, "https://acme.id.example", &options);
    let info = passkeys::finish_registration(
        &mut tx,
        &kv,
        &rp,
        user,
        &ceremony,
        &credential,
        "  Laptop  ",
    )
    .await
    .unwrap();
    assert_eq!(info.name, "Laptop");
    assert_eq!(info.last_used_at, None);
    assert_eq!(
        passkeys::list(&mut tx, user).await.unwrap(),
        vec![info.clone()]
    );
    assert_eq!(passkeys::count(&mut tx, user).await.unwrap(), 1);
    let credential_id = credential["rawId"].as_str().unwrap().to_owned();
    tx.commit().await.unwrap();

    // A known user (second factor, or after a username): their credential.
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let (ceremony, options) = passkeys::start_authentication(&mut tx, &kv, &rp, Some(user))
        .await
        .unwrap();
    let allowed = options["publicKey"]["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1);
    assert_eq!(allowed[0]["id"], credential_id.as_str());
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert_eq!(options["publicKey"]["rpId"], "acme.id.example");
    let assertion = get(&mut authn, "https://acme.id.example", &options);
    let signed_in = passkeys::finish_authentication(&mut tx, &kv, &rp, &ceremony, &assertion)
        .await
        .unwrap();
    assert_eq!(
        signed_in,
        Authenticated {
            user_id: user,
            passkey_id: info.id,
            user_verified: true
        }
    );
    let listed = passkeys::list(&mut tx, user).await.unwrap();
    assert!(listed[0].last_used_at.is_some());
    let counter = stored_counter(&mut tx, info.id).await;
    assert!(counter > 0, "the signature counter is stored");

    // Passwordless: no user beforehand, the credential names its user.
    let (ceremony, options) = passkeys::start_authentication(&mut tx, &kv, &rp, None)
        .await
        .unwrap();
    assert_eq!(options.get("mediation"), None, "the script chooses");
    let assertion = get_discoverable(
        &mut authn,
        "https://acme.id.example",
        &options,
        &credential_id,
        Some(user),
    );
    let signed_in = passkeys::finish_authentication(&mut tx, &kv, &rp, &ceremony, &assertion)
        .await
        .unwrap();
    assert_eq!((signed_in.user_id, signed_in.passkey_id), (user, info.id));
    assert!(stored_counter(&mut tx, info.id).await > counter);

    // Discoverable without a user handle, or with another user's: refused.
    for handle in [None, Some(Uuid::new_v4())] {
        let (ceremony, options) = passkeys::start_authentication(&mut tx, &kv, &rp, None)
            .await
            .unwrap();
        let assertion = get_discoverable(
            &mut authn,
            "https://acme.id.example",
            &options,
            &credential_id,
            handle,
        );
        assert!(matches!(
            passkeys::finish_authentication(&mut tx, &kv, &rp, &ceremony, &assertion).await,
            Err(PasskeyError::Rejected)
        ));
    }

    // A second registration excludes the first credential.
    let (_, options) = passkeys::start_registration(&mut tx, &kv, &rp, user, "alice", "")
        .await
        .unwrap();
    let excluded = options["publicKey"]["excludeCredentials"]
        .as_array()
        .unwrap();
    assert_eq!(excluded.len(), 1);
    assert_eq!(excluded[0]["id"], credential_id.as_str());
    assert_eq!(options["publicKey"]["user"]["displayName"], "alice");
}

#[tokio::test]
async fn passkey_ceremonies_are_single_use_and_bound_to_their_user() {
    let db = test_db().await;
    let env = test_env();
    let kv = Kv::redis(&env.redis_url, &unique_redis_prefix()).unwrap();
    let (tenant, alice) = tenant_with_user(&db, "pk-ceremony").await;
    let bob = user(&db, tenant, "bob").await;
    let rp = rp("https://acme.id.example");
    let origin = "https://acme.id.example";
    let (mut alices_key, mut bobs_key) = (authenticator(), authenticator());
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let (alices_credential, _) = register(&mut tx, &kv, &rp, &mut alices_key, alice, "A").await;
    register(&mut tx, &kv, &rp, &mut bobs_key, bob, "B").await;

    // The ceremony lives five minutes, under a hash of its id.
    let (ceremony, options) = passkeys::start_authentication(&mut tx, &kv, &rp, Some(alice))
        .await
        .unwrap();
    let name = format!("webauthn:{}", secret_hash(&ceremony));
    let ttl = kv.ttls(tenant, &[&name]).await.unwrap()[0].unwrap();
    assert!(ttl.as_secs() > 290 && ttl.as_secs() <= 300, "{ttl:?}");
    assert_eq!(kv.get(tenant, &ceremony).await.unwrap(), None);

    // Finished once; the same answer again, or in a fresh ceremony, fails.
    let assertion = get(&mut alices_key, origin, &options);
    passkeys::finish_authentication(&mut tx, &kv, &rp, &ceremony, &assertion)
        .await
        .unwrap();
    assert!(matches!(
        passkeys::finish_authentication(&mut tx, &kv, &rp, &ceremony, &assertion).await,
        Err(PasskeyError::Ceremony)
    ));
    let (fresh, _) = passkeys::start_authentication(&mut tx, &kv, &rp, Some(alice))
        .await
        .unwrap();
    assert!(matches!(
        passkeys::finish_authentication(&mut tx, &kv, &rp, &fresh, &assertion).await,
        Err(PasskeyError::Rejected)
    ));
    assert!(matches!(
        passkeys::finish_authentication(&mut tx, &kv, &rp, "no-such-ceremony", &assertion).await,
        Err(PasskeyError::Ceremony)
    ));

    // A ceremony for Bob answered with Alice's credential: refused.
    let (ceremony, options) = passkeys::start_authentication(&mut tx, &kv, &rp, Some(bob))
        .await
        .unwrap();
    let mut forced = options.clone();
    forced["publicKey"]["allowCredentials"] =
        json!([{"type": "public-key", "id": alices_credential}]);
    let assertion = get(&mut alices_key, origin, &forced);
    assert!(matches!(
        passkeys::finish_authentication(&mut tx, &kv, &rp, &ceremony, &assertion).await,
        Err(PasskeyError::Rejected)
    ));

    // Alice's registration ceremony cannot be finished as Bob, and is then
    // used up; nor can it be finished as a sign-in.
    let (ceremony, options) =
        passkeys::start_registration(&mut tx, &kv, &rp, alice, "alice", "Alice")
            .await
            .unwrap();
    let credential = create(&mut alices_key, origin, &options);
    assert!(matches!(
        passkeys::finish_registration(&mut tx, &kv, &rp, bob, &ceremony, &credential, "x").await,
        Err(PasskeyError::Ceremony)
    ));
    assert!(matches!(
        passkeys::finish_registration(&mut tx, &kv, &rp, alice, &ceremony, &credential, "x").await,
        Err(PasskeyError::Ceremony)
    ));
    let (ceremony, _) = passkeys::start_registration(&mut tx, &kv, &rp, alice, "alice", "Alice")
        .await
        .unwrap();
    assert!(matches!(
        passkeys::finish_authentication(&mut tx, &kv, &rp, &ceremony, &assertion).await,
        Err(PasskeyError::Ceremony)
    ));
    // A sign-in ceremony cannot finish a registration.
    let (ceremony, _) = passkeys::start_authentication(&mut tx, &kv, &rp, None)
        .await
        .unwrap();
    assert!(matches!(
        passkeys::finish_registration(&mut tx, &kv, &rp, alice, &ceremony, &credential, "x").await,
        Err(PasskeyError::Ceremony)
    ));

    // An invalid name is refused before the ceremony is used.
    let (ceremony, options) =
        passkeys::start_registration(&mut tx, &kv, &rp, alice, "alice", "Alice")
            .await
            .unwrap();
    let credential = create(&mut alices_key, origin, &options);
    for bad in ["", "  ", &"x".repeat(65), "two\nlines"] {
        assert!(matches!(
            passkeys::finish_registration(&mut tx, &kv, &rp, alice, &ceremony, &credential, bad)
                .await,
            Err(PasskeyError::Name)
        ));
    }
    let info =
        passkeys::finish_registration(&mut tx, &kv, &rp, alice, &ceremony, &credential, "Phone")
            .await
            .unwrap();
    assert_eq!(info.name, "Phone");

    // Garbage instead of a credential.
    let (ceremony, _) = passkeys::start_authentication(&mut tx, &kv, &rp, Some(alice))
        .await
        .unwrap();
    assert!(matches!(
        passkeys::finish_authentication(&mut tx, &kv, &rp, &ceremony, &json!({"id": 1})).await,
        Err(PasskeyError::Malformed)
    ));
}

#[tokio::test]
async fn passkey_registration_needs_a_user_of_the_tenant_and_a_new_credential() {
    let db = test_db().await;
    let kv = Kv::memory("gh-test");
    let (tenant, alice) = tenant_with_user(&db, "pk-register").await;
    let bob = user(&db, tenant, "bob").await;
    let rp = rp("https://acme.id.example");
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    assert!(matches!(
        passkeys::start_registration(&mut tx, &kv, &rp, Uuid::new_v4(), "ghost", "").await,
        Err(PasskeyError::UnknownUser)
    ));
    assert!(matches!(
        passkeys::start_authentication(&mut tx, &kv, &rp, Some(alice)).await,
        Err(PasskeyError::NoPasskeys)
    ));

    // A credential id already registered in the tenant (here planted for
    // Bob) is refused (WebAuthn §7.1).
    let mut authn = authenticator();
    let (ceremony, options) =
        passkeys::start_registration(&mut tx, &kv, &rp, alice, "alice", "Alice")
            .await
            .unwrap();
    let credential = create(&mut authn, "https://acme.id.example", &options);
    let raw_id = URL_SAFE_NO_PAD
        .decode(credential["rawId"].as_str().unwrap())
        .unwrap();
    sqlx::query(
        "insert into passkeys (tenant_id, id, user_id, credential_id, passkey, name)
         values ($1, $2, $3, $4, '{}', 'planted')",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::new_v4())
    .bind(bob)
    .bind(&raw_id)
    .execute(&mut *tx)
    .await
    .unwrap();
    assert!(matches!(
        passkeys::finish_registration(&mut tx, &kv, &rp, alice, &ceremony, &credential, "Key")
            .await,
        Err(PasskeyError::AlreadyRegistered)
    ));
}

#[tokio::test]
async fn passkey_list_rename_and_remove_touch_only_the_users_own_passkeys() {
    let db = test_db().await;
    let kv = Kv::memory("gh-test");
    let (tenant, alice) = tenant_with_user(&db, "pk-manage").await;
    let bob = user(&db, tenant, "bob").await;
    let rp = rp("https://acme.id.example");
    let (mut laptop, mut phone, mut bobs) = (authenticator(), authenticator(), authenticator());
    // One transaction each, as one request each would be: the list is in
    // order of creation, which is the transaction's time.
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let (laptop_credential, laptop_id) =
        register(&mut tx, &kv, &rp, &mut laptop, alice, "Laptop").await;
    tx.commit().await.unwrap();
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let (_, phone_id) = register(&mut tx, &kv, &rp, &mut phone, alice, "Phone").await;
    tx.commit().await.unwrap();
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let (_, bobs_id) = register(&mut tx, &kv, &rp, &mut bobs, bob, "Bob's").await;

    let names = |list: Vec<passkeys::PasskeyInfo>| -> Vec<String> {
        list.into_iter().map(|p| p.name).collect()
    };
    assert_eq!(
        names(passkeys::list(&mut tx, alice).await.unwrap()),
        ["Laptop", "Phone"]
    );
    assert_eq!(passkeys::count(&mut tx, alice).await.unwrap(), 2);

    assert!(passkeys::rename(&mut tx, alice, phone_id, " Work phone ")
        .await
        .unwrap());
    assert!(matches!(
        passkeys::rename(&mut tx, alice, phone_id, "").await,
        Err(PasskeyError::Name)
    ));
    assert!(
        !passkeys::rename(&mut tx, alice, bobs_id, "Mine now")
            .await
            .unwrap(),
        "another user's passkey"
    );
    assert!(!passkeys::remove(&mut tx, alice, bobs_id).await.unwrap());
    assert_eq!(
        names(passkeys::list(&mut tx, bob).await.unwrap()),
        ["Bob's"]
    );
    assert_eq!(
        names(passkeys::list(&mut tx, alice).await.unwrap()),
        ["Laptop", "Work phone"]
    );

    assert!(passkeys::remove(&mut tx, alice, laptop_id).await.unwrap());
    assert!(!passkeys::remove(&mut tx, alice, laptop_id).await.unwrap());
    assert_eq!(passkeys::count(&mut tx, alice).await.unwrap(), 1);
    // The removed passkey no longer signs in, even when the authenticator
    // answers with it; the other one does.
    let (ceremony, options) = passkeys::start_authentication(&mut tx, &kv, &rp, Some(alice))
        .await
        .unwrap();
    let mut stale = options.clone();
    stale["publicKey"]["allowCredentials"] =
        json!([{"type": "public-key", "id": laptop_credential}]);
    let assertion = get(&mut laptop, rp.origin().as_str(), &stale);
    assert!(matches!(
        passkeys::finish_authentication(&mut tx, &kv, &rp, &ceremony, &assertion).await,
        Err(PasskeyError::Rejected)
    ));
    let (ceremony, options) = passkeys::start_authentication(&mut tx, &kv, &rp, None)
        .await
        .unwrap();
    let assertion = get_discoverable(
        &mut laptop,
        rp.origin().as_str(),
        &options,
        &laptop_credential,
        Some(alice),
    );
    assert!(matches!(
        passkeys::finish_authentication(&mut tx, &kv, &rp, &ceremony, &assertion).await,
        Err(PasskeyError::Rejected)
    ));
    assert_eq!(
        sign_in(&mut tx, &kv, &rp, &mut phone, alice)
            .await
            .unwrap()
            .passkey_id,
        phone_id
    );

    // Deleting the user deletes their passkeys.
    sqlx::query("delete from users where id = $1")
        .bind(alice)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(rows(&mut tx).await, 1, "Bob's remains");
}

#[tokio::test]
async fn passkey_a_wrong_origin_is_refused() {
    let db = test_db().await;
    let kv = Kv::memory("gh-test");
    let (tenant, user) = tenant_with_user(&db, "pk-origin").await;
    let rp = rp("https://acme.id.example");
    let mut authn = authenticator();
    let mut tx = db.tenant_tx(tenant).await.unwrap();

    // Origins a browser would allow for the RP ID but the tenant does not
    // expect (§13.4.9): a subdomain, another port.
    for origin in [
        "https://evil.acme.id.example",
        "https://acme.id.example:8443",
    ] {
        let (ceremony, options) =
            passkeys::start_registration(&mut tx, &kv, &rp, user, "alice", "Alice")
                .await
                .unwrap();
        let credential = create(&mut authn, origin, &options);
        assert!(
            matches!(
                passkeys::finish_registration(&mut tx, &kv, &rp, user, &ceremony, &credential, "x")
                    .await,
                Err(PasskeyError::Rejected)
            ),
            "{origin}"
        );
    }
    assert_eq!(passkeys::count(&mut tx, user).await.unwrap(), 0);

    register(&mut tx, &kv, &rp, &mut authn, user, "Key").await;
    for origin in [
        "https://evil.acme.id.example",
        "https://acme.id.example:8443",
    ] {
        let (ceremony, options) = passkeys::start_authentication(&mut tx, &kv, &rp, Some(user))
            .await
            .unwrap();
        let assertion = get(&mut authn, origin, &options);
        assert!(
            matches!(
                passkeys::finish_authentication(&mut tx, &kv, &rp, &ceremony, &assertion).await,
                Err(PasskeyError::Rejected)
            ),
            "{origin}"
        );
        // The refused answer used the ceremony up.
        assert!(matches!(
            passkeys::finish_authentication(&mut tx, &kv, &rp, &ceremony, &assertion).await,
            Err(PasskeyError::Ceremony)
        ));
    }
    assert!(sign_in(&mut tx, &kv, &rp, &mut authn, user).await.is_ok());
}

/// Registers Alice's passkey at tenant A and returns (A, B, Alice, the
/// credential id, the passkey's row id), B having its own user Bob with
/// his own passkey.
struct TwoTenants {
    a: TenantId,
    b: TenantId,
    alice: Uuid,
    bob: Uuid,
    alices_key: Authenticator,
    alices_credential: String,
}

async fn two_tenants(db: &Db, kv: &Kv, rp_a: &Rp, rp_b: &Rp, prefix: &str) -> TwoTenants {
    let (a, alice) = tenant_with_user(db, &format!("{prefix}-a")).await;
    let (b, bob) = tenant_with_user(db, &format!("{prefix}-b")).await;
    let mut alices_key = authenticator();
    let mut tx = db.tenant_tx(a).await.unwrap();
    let (alices_credential, _) = register(&mut tx, kv, rp_a, &mut alices_key, alice, "A").await;
    tx.commit().await.unwrap();
    let mut tx = db.tenant_tx(b).await.unwrap();
    register(&mut tx, kv, rp_b, &mut authenticator(), bob, "B").await;
    tx.commit().await.unwrap();
    TwoTenants {
        a,
        b,
        alice,
        bob,
        alices_key,
        alices_credential,
    }
}

/// At tenant B, Alice's authenticator answers B's challenge at B's origin
/// with her credential of tenant A, discoverably and in a ceremony for B's
/// user Bob. Both are refused.
async fn alice_tries_at_b(db: &Db, kv: &Kv, rp_b: &Rp, t: &mut TwoTenants) {
    let origin = rp_b.origin().as_str();
    let mut tx = db.tenant_tx(t.b).await.unwrap();
    assert_eq!(rows(&mut tx).await, 1, "B sees only Bob's passkey");
    assert!(passkeys::list(&mut tx, t.alice).await.unwrap().is_empty());

    let (ceremony, options) = passkeys::start_authentication(&mut tx, kv, rp_b, None)
        .await
        .unwrap();
    let assertion = get_discoverable(
        &mut t.alices_key,
        origin,
        &options,
        &t.alices_credential,
        Some(t.alice),
    );
    assert!(matches!(
        passkeys::finish_authentication(&mut tx, kv, rp_b, &ceremony, &assertion).await,
        Err(PasskeyError::Rejected)
    ));

    let (ceremony, options) = passkeys::start_authentication(&mut tx, kv, rp_b, Some(t.bob))
        .await
        .unwrap();
    let mut forced = options.clone();
    forced["publicKey"]["allowCredentials"] =
        json!([{"type": "public-key", "id": t.alices_credential}]);
    let assertion = get(&mut t.alices_key, origin, &forced);
    assert!(matches!(
        passkeys::finish_authentication(&mut tx, kv, rp_b, &ceremony, &assertion).await,
        Err(PasskeyError::Rejected)
    ));
}

/// Copies Alice's passkey row of tenant A into tenant B, for a user of B
/// with Alice's id: what B would have to hold for her passkey to verify
/// there.
async fn plant_alices_passkey_in_b(db: &Db, t: &TwoTenants) {
    let mut tx = db.tenant_tx(t.a).await.unwrap();
    let (credential_id, passkey): (Vec<u8>, Value) =
        sqlx::query_as("select credential_id, passkey from passkeys where user_id = $1")
            .bind(t.alice)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    drop(tx);
    let mut tx = db.tenant_tx(t.b).await.unwrap();
    sqlx::query("insert into users (tenant_id, id, username) values ($1, $2, 'mallory')")
        .bind(t.b.as_uuid())
        .bind(t.alice)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "insert into passkeys (tenant_id, id, user_id, credential_id, passkey, name)
         values ($1, $2, $3, $4, $5, 'copied')",
    )
    .bind(t.b.as_uuid())
    .bind(Uuid::new_v4())
    .bind(t.alice)
    .bind(credential_id)
    .bind(passkey)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn passkey_of_tenant_a_fails_at_tenant_b_with_another_rp_id() {
    let db = test_db().await;
    let kv = Kv::memory("gh-test");
    let (rp_a, rp_b) = (rp("https://a.id.example"), rp("https://b.id.example"));
    let mut t = two_tenants(&db, &kv, &rp_a, &rp_b, "pk-sub").await;
    alice_tries_at_b(&db, &kv, &rp_b, &mut t).await;

    // Even if B held the credential, an assertion made for A's relying
    // party (A's RP ID and origin) is refused at B.
    plant_alices_passkey_in_b(&db, &t).await;
    let mut tx = db.tenant_tx(t.b).await.unwrap();
    let (ceremony, options) = passkeys::start_authentication(&mut tx, &kv, &rp_b, Some(t.alice))
        .await
        .unwrap();
    let mut for_a = options.clone();
    for_a["publicKey"]["rpId"] = "a.id.example".into();
    let assertion = get(&mut t.alices_key, "https://a.id.example", &for_a);
    assert!(matches!(
        passkeys::finish_authentication(&mut tx, &kv, &rp_b, &ceremony, &assertion).await,
        Err(PasskeyError::Rejected)
    ));

    // A ceremony of A cannot be finished at B, even with B's relying party
    // being A's.
    let mut tx_a = db.tenant_tx(t.a).await.unwrap();
    let (ceremony, options) = passkeys::start_authentication(&mut tx_a, &kv, &rp_a, Some(t.alice))
        .await
        .unwrap();
    let assertion = get(&mut t.alices_key, "https://a.id.example", &options);
    assert!(matches!(
        passkeys::finish_authentication(&mut tx, &kv, &rp_a, &ceremony, &assertion).await,
        Err(PasskeyError::Ceremony)
    ));
    drop(tx);
    // A is untouched: the passkey still works there (the ceremony too).
    let signed_in = passkeys::finish_authentication(&mut tx_a, &kv, &rp_a, &ceremony, &assertion)
        .await
        .unwrap();
    assert_eq!(signed_in.user_id, t.alice);
}

#[tokio::test]
async fn passkey_of_tenant_a_fails_at_tenant_b_in_path_mode_with_the_same_rp_id() {
    let db = test_db().await;
    let kv = Kv::memory("gh-test");
    let (rp_a, rp_b) = (rp("https://id.example/t/a"), rp("https://id.example/t/b"));
    assert_eq!((rp_a.id(), rp_a.origin()), (rp_b.id(), rp_b.origin()));
    let mut t = two_tenants(&db, &kv, &rp_a, &rp_b, "pk-path").await;
    alice_tries_at_b(&db, &kv, &rp_b, &mut t).await;

    let mut tx = db.tenant_tx(t.b).await.unwrap();
    assert!(!passkeys::remove(&mut tx, t.alice, Uuid::new_v4())
        .await
        .unwrap());
    assert_eq!(passkeys::count(&mut tx, t.alice).await.unwrap(), 0);
    // A's ceremony is not found at B, although the relying party is the
    // same: ceremonies are kept under the tenant.
    let mut tx_a = db.tenant_tx(t.a).await.unwrap();
    let (ceremony, options) = passkeys::start_authentication(&mut tx_a, &kv, &rp_a, Some(t.alice))
        .await
        .unwrap();
    let assertion = get(&mut t.alices_key, "https://id.example", &options);
    assert!(matches!(
        passkeys::finish_authentication(&mut tx, &kv, &rp_b, &ceremony, &assertion).await,
        Err(PasskeyError::Ceremony)
    ));
    drop(tx);
    passkeys::finish_authentication(&mut tx_a, &kv, &rp_a, &ceremony, &assertion)
        .await
        .unwrap();
    tx_a.commit().await.unwrap();

    // The control: with the same RP ID nothing but B's lookup stood in the
    // way. Once B holds a copy of the credential, the same answer verifies
    // there; so a credential must never be looked up outside its tenant.
    plant_alices_passkey_in_b(&db, &t).await;
    let mut tx = db.tenant_tx(t.b).await.unwrap();
    let (ceremony, options) = passkeys::start_authentication(&mut tx, &kv, &rp_b, None)
        .await
        .unwrap();
    let assertion = get_discoverable(
        &mut t.alices_key,
        "https://id.example",
        &options,
        &t.alices_credential,
        Some(t.alice),
    );
    assert!(
        passkeys::finish_authentication(&mut tx, &kv, &rp_b, &ceremony, &assertion)
            .await
            .is_ok()
    );
}
