//! Second factors: TOTP enrolment, confirmation and verification with replay
//! refusal, single-use recovery codes, and isolation between tenants.

use gatehouse_core::config::MasterKey;
use gatehouse_core::secretbox::{Keyring, SealError};
use gatehouse_core::testing::{insert_tenant, test_db, unique_slug, TEST_MASTER_KEY};
use gatehouse_core::{Db, TenantId, TenantTx};
use gatehouse_oidc::mfa::{self, MfaError, RECOVERY_CODE_COUNT};
use gatehouse_oidc::users::{self, NewUser};
use totp_rs::Totp;
use uuid::Uuid;

/// A fixed time for the tests that pass the time explicitly.
const T: u64 = 1_900_000_000;

fn keyring() -> Keyring {
    Keyring::new(
        Some(MasterKey::parse("test", TEST_MASTER_KEY).unwrap()),
        vec![],
    )
}

async fn tenant_with_user(db: &Db, prefix: &str) -> (TenantId, Uuid) {
    let tenant = insert_tenant(db, &unique_slug(prefix)).await;
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let user = users::create(
        &mut tx,
        NewUser {
            username: "alice".into(),
            ..NewUser::default()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (tenant, user.id)
}

/// Starts enrolment and returns the authenticator app's view of it: the
/// key URI parsed back by totp-rs, as an app would scan it.
async fn begin(tx: &mut TenantTx, user: Uuid) -> Totp {
    let enrolment = mfa::begin_totp(tx, &keyring(), user, "Acme", "alice@example.com")
        .await
        .unwrap();
    Totp::from_url(&enrolment.otpauth_uri).unwrap()
}

/// Enrols and confirms at time `T`; returns the app and the recovery codes.
async fn enrolled(tx: &mut TenantTx, user: Uuid) -> (Totp, Vec<String>) {
    let app = begin(tx, user).await;
    let codes = mfa::confirm_totp_at(tx, &keyring(), user, &code(&app, T), T)
        .await
        .unwrap();
    (app, codes)
}

fn code(app: &Totp, unix_time: u64) -> String {
    app.generate(unix_time).to_string()
}

/// Six digits that are not valid for `app` around `unix_time`.
fn wrong_code(app: &Totp, unix_time: u64) -> String {
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| app.check(c, unix_time).is_none())
        .unwrap()
}

const FACTORS: &str = "select count(*) from totp_factors";
const CODES: &str = "select count(*) from recovery_codes";

/// The row count a `select count(*)` sees in the transaction's tenant.
async fn count(tx: &mut TenantTx, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&mut **tx).await.unwrap()
}

#[tokio::test]
async fn mfa_enrolment_confirms_with_a_code_from_the_secret_then_verifies() {
    let db = test_db().await;
    let (tenant, user) = tenant_with_user(&db, "mfa-enrol").await;
    let mut tx = db.tenant_tx(tenant).await.unwrap();

    let enrolment = mfa::begin_totp(&mut tx, &keyring(), user, "Acme Corp", "alice@example.com")
        .await
        .unwrap();
    assert_eq!(enrolment.secret_base32.len(), 32, "160 bits in base32");
    assert!(enrolment
        .otpauth_uri
        .starts_with("otpauth://totp/Acme%20Corp:alice%40example.com?"));
    assert!(enrolment
        .otpauth_uri
        .contains(&format!("secret={}", enrolment.secret_base32)));
    assert!(enrolment.qr_svg.starts_with("<svg") && enrolment.qr_svg.ends_with("</svg>"));
    assert!(!format!("{enrolment:?}").contains(&enrolment.secret_base32));
    assert!(!mfa::has_totp(&mut tx, user).await.unwrap(), "pending");

    // The app's view: SHA-1, 6 digits, 30 s, from the key URI alone.
    let app = Totp::from_url(&enrolment.otpauth_uri).unwrap();
    assert_eq!(app.secret().to_base32(), enrolment.secret_base32);
    assert_eq!((app.digits(), app.step()), (6, 30));
    let now = app.generate_current().to_string();
    let codes = mfa::confirm_totp(&mut tx, &keyring(), user, &now)
        .await
        .unwrap();
    assert_eq!(codes.len(), RECOVERY_CODE_COUNT);
    assert!(mfa::has_totp(&mut tx, user).await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = db.tenant_tx(tenant).await.unwrap();
    assert!(
        !mfa::verify_totp(&mut tx, &keyring(), user, &now)
            .await
            .unwrap(),
        "the confirmation code was used"
    );
    let next = code(
        &app,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 30,
    );
    assert!(mfa::verify_totp(&mut tx, &keyring(), user, &next)
        .await
        .unwrap());
    assert!(matches!(
        mfa::begin_totp(&mut tx, &keyring(), user, "Acme", "alice").await,
        Err(MfaError::AlreadyEnrolled)
    ));
}

#[tokio::test]
async fn mfa_replayed_and_earlier_codes_are_refused() {
    let db = test_db().await;
    let (tenant, user) = tenant_with_user(&db, "mfa-replay").await;
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let (app, _) = enrolled(&mut tx, user).await;
    let ring = keyring();

    // The confirmation code, again in the same step.
    assert!(
        !mfa::verify_totp_at(&mut tx, &ring, user, &code(&app, T), T + 1)
            .await
            .unwrap()
    );
    // The next step's code, once.
    assert!(
        mfa::verify_totp_at(&mut tx, &ring, user, &code(&app, T + 30), T + 30)
            .await
            .unwrap()
    );
    assert!(
        !mfa::verify_totp_at(&mut tx, &ring, user, &code(&app, T + 30), T + 31)
            .await
            .unwrap()
    );
    // An earlier step's code, although within the allowed drift.
    assert!(
        !mfa::verify_totp_at(&mut tx, &ring, user, &code(&app, T), T + 30)
            .await
            .unwrap()
    );
    // One step ahead is accepted (clock drift), and then its step is used:
    // the code of the current (earlier) step no longer passes.
    assert!(
        mfa::verify_totp_at(&mut tx, &ring, user, &code(&app, T + 90), T + 60)
            .await
            .unwrap()
    );
    assert!(
        !mfa::verify_totp_at(&mut tx, &ring, user, &code(&app, T + 60), T + 60)
            .await
            .unwrap()
    );
    // Two steps of drift are too many.
    assert!(
        !mfa::verify_totp_at(&mut tx, &ring, user, &code(&app, T + 300), T + 240)
            .await
            .unwrap()
    );
    assert!(
        mfa::verify_totp_at(&mut tx, &ring, user, &code(&app, T + 300), T + 300)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn mfa_wrong_codes_are_refused_and_change_nothing() {
    let db = test_db().await;
    let (tenant, user) = tenant_with_user(&db, "mfa-wrong").await;
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let ring = keyring();
    let app = begin(&mut tx, user).await;

    assert!(matches!(
        mfa::confirm_totp_at(&mut tx, &ring, user, &wrong_code(&app, T), T).await,
        Err(MfaError::InvalidCode)
    ));
    assert!(!mfa::has_totp(&mut tx, user).await.unwrap());
    assert_eq!(
        mfa::remaining_recovery_codes(&mut tx, user).await.unwrap(),
        0
    );
    // Spaces as apps display the code are fine.
    let spaced = code(&app, T);
    let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
    mfa::confirm_totp_at(&mut tx, &ring, user, &spaced, T)
        .await
        .unwrap();

    let later = T + 600;
    for bad in [
        wrong_code(&app, later),
        "".into(),
        "abcdef".into(),
        "+12345".into(),
    ] {
        assert!(!mfa::verify_totp_at(&mut tx, &ring, user, &bad, later)
            .await
            .unwrap());
    }
    let mut seven = code(&app, later);
    seven.push('0');
    assert!(!mfa::verify_totp_at(&mut tx, &ring, user, &seven, later)
        .await
        .unwrap());
    // Failed attempts did not use up the step.
    assert!(
        mfa::verify_totp_at(&mut tx, &ring, user, &code(&app, later), later)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn mfa_a_pending_factor_cannot_verify_and_is_replaced_by_a_new_enrolment() {
    let db = test_db().await;
    let (tenant, user) = tenant_with_user(&db, "mfa-pending").await;
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let ring = keyring();

    assert!(matches!(
        mfa::confirm_totp_at(&mut tx, &ring, user, "123456", T).await,
        Err(MfaError::NotPending)
    ));
    let first = begin(&mut tx, user).await;
    assert!(
        !mfa::verify_totp_at(&mut tx, &ring, user, &code(&first, T), T)
            .await
            .unwrap(),
        "a pending factor authenticates nothing"
    );
    let second = begin(&mut tx, user).await;
    assert_ne!(first.secret(), second.secret());
    if first.check(&code(&second, T), T).is_none() {
        assert!(matches!(
            mfa::confirm_totp_at(&mut tx, &ring, user, &code(&first, T), T).await,
            Err(MfaError::InvalidCode)
        ));
    }
    mfa::confirm_totp_at(&mut tx, &ring, user, &code(&second, T), T)
        .await
        .unwrap();
    assert_eq!(count(&mut tx, FACTORS).await, 1);
    assert!(matches!(
        mfa::confirm_totp_at(&mut tx, &ring, user, &code(&second, T + 30), T + 30).await,
        Err(MfaError::NotPending)
    ));
}

#[tokio::test]
async fn mfa_recovery_codes_work_once_each_and_regeneration_invalidates_old_ones() {
    let db = test_db().await;
    let (tenant, user) = tenant_with_user(&db, "mfa-recovery").await;
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let (_, codes) = enrolled(&mut tx, user).await;

    assert_eq!(codes.len(), 10);
    let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), 10);
    for c in &codes {
        let groups: Vec<&str> = c.split('-').collect();
        assert_eq!(groups.len(), 3, "{c}");
        assert!(groups.iter().all(|g| g.len() == 4
            && g.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())));
    }
    assert_eq!(
        mfa::remaining_recovery_codes(&mut tx, user).await.unwrap(),
        10
    );

    assert!(mfa::use_recovery_code(&mut tx, user, &codes[0])
        .await
        .unwrap());
    assert!(!mfa::use_recovery_code(&mut tx, user, &codes[0])
        .await
        .unwrap());
    // Case, spaces and dashes do not matter.
    let shouted = codes[1].to_uppercase().replace('-', " ");
    assert!(
        mfa::use_recovery_code(&mut tx, user, &format!("  {shouted} "))
            .await
            .unwrap()
    );
    assert!(
        mfa::use_recovery_code(&mut tx, user, &codes[2].replace('-', ""))
            .await
            .unwrap()
    );
    assert!(
        !mfa::use_recovery_code(&mut tx, user, &codes[2].to_uppercase())
            .await
            .unwrap()
    );
    for bad in ["", "abcd-efgh-jkmn", "not a code at all", &codes[3][..9]] {
        assert!(!mfa::use_recovery_code(&mut tx, user, bad).await.unwrap());
    }
    assert_eq!(
        mfa::remaining_recovery_codes(&mut tx, user).await.unwrap(),
        7
    );

    let fresh = mfa::regenerate_recovery_codes(&mut tx, user).await.unwrap();
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !codes.contains(c)));
    assert_eq!(
        mfa::remaining_recovery_codes(&mut tx, user).await.unwrap(),
        10
    );
    assert!(!mfa::use_recovery_code(&mut tx, user, &codes[3])
        .await
        .unwrap());
    assert!(mfa::use_recovery_code(&mut tx, user, &fresh[9])
        .await
        .unwrap());
    assert_eq!(
        mfa::remaining_recovery_codes(&mut tx, user).await.unwrap(),
        9
    );
}

#[tokio::test]
async fn mfa_removing_totp_removes_the_factor_and_the_recovery_codes() {
    let db = test_db().await;
    let (tenant, user) = tenant_with_user(&db, "mfa-remove").await;
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let ring = keyring();
    let (app, codes) = enrolled(&mut tx, user).await;

    assert!(mfa::remove_totp(&mut tx, user).await.unwrap());
    assert!(!mfa::has_totp(&mut tx, user).await.unwrap());
    assert_eq!(
        mfa::remaining_recovery_codes(&mut tx, user).await.unwrap(),
        0
    );
    assert!(!mfa::use_recovery_code(&mut tx, user, &codes[0])
        .await
        .unwrap());
    assert!(
        !mfa::verify_totp_at(&mut tx, &ring, user, &code(&app, T + 30), T + 30)
            .await
            .unwrap()
    );
    assert!(!mfa::remove_totp(&mut tx, user).await.unwrap());
    // Enrolling again is possible, with a new secret.
    let again = begin(&mut tx, user).await;
    assert_ne!(again.secret(), app.secret());
}

#[tokio::test]
async fn mfa_deleting_a_user_deletes_their_factor_and_codes() {
    let db = test_db().await;
    let (tenant, user) = tenant_with_user(&db, "mfa-cascade").await;
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    enrolled(&mut tx, user).await;
    assert_eq!(count(&mut tx, FACTORS).await, 1);
    assert_eq!(count(&mut tx, CODES).await, 10);
    sqlx::query("delete from users where id = $1")
        .bind(user)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(count(&mut tx, FACTORS).await, 0);
    assert_eq!(count(&mut tx, CODES).await, 0);
}

#[tokio::test]
async fn mfa_enrolment_needs_a_user_of_the_tenant_and_labels() {
    let db = test_db().await;
    let (tenant, user) = tenant_with_user(&db, "mfa-nouser").await;
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    assert!(matches!(
        mfa::begin_totp(&mut tx, &keyring(), user, " ", "alice").await,
        Err(MfaError::Label(_))
    ));
    // A ':' would split the key URI's label; it is replaced.
    let e = mfa::begin_totp(&mut tx, &keyring(), user, "Acme: EU", "a:b")
        .await
        .unwrap();
    assert!(
        e.otpauth_uri.starts_with("otpauth://totp/Acme-%20EU:a-b?"),
        "{}",
        e.otpauth_uri
    );
    assert!(matches!(
        mfa::begin_totp(&mut tx, &keyring(), Uuid::new_v4(), "Acme", "ghost").await,
        Err(MfaError::UnknownUser)
    ));
}

#[tokio::test]
async fn mfa_tenant_b_can_neither_see_nor_use_tenant_a_factors_and_codes() {
    let db = test_db().await;
    let ring = keyring();
    let (a, user) = tenant_with_user(&db, "mfa-a").await;
    let b = insert_tenant(&db, &unique_slug("mfa-b")).await;

    let mut tx = db.tenant_tx(a).await.unwrap();
    let (app, codes) = enrolled(&mut tx, user).await;
    let (key_id, sealed): (String, Vec<u8>) =
        sqlx::query_as("select master_key_id, sealed_secret from totp_factors where user_id = $1")
            .bind(user)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    tx.commit().await.unwrap();

    // B sees no row of A's and can neither use nor remove them.
    let mut tx = db.tenant_tx(b).await.unwrap();
    assert_eq!(count(&mut tx, FACTORS).await, 0);
    assert_eq!(count(&mut tx, CODES).await, 0);
    assert!(!mfa::has_totp(&mut tx, user).await.unwrap());
    assert!(
        !mfa::verify_totp_at(&mut tx, &ring, user, &code(&app, T + 30), T + 30)
            .await
            .unwrap()
    );
    assert!(!mfa::use_recovery_code(&mut tx, user, &codes[0])
        .await
        .unwrap());
    assert_eq!(
        mfa::remaining_recovery_codes(&mut tx, user).await.unwrap(),
        0
    );
    assert!(!mfa::remove_totp(&mut tx, user).await.unwrap());
    assert!(matches!(
        mfa::begin_totp(&mut tx, &ring, user, "B", "alice").await,
        Err(MfaError::UnknownUser)
    ));
    drop(tx);

    // Even a user of B with A's user id, holding a copy of A's sealed
    // secret, cannot use it: the sealed value names tenant A.
    let mut tx = db.tenant_tx(b).await.unwrap();
    sqlx::query("insert into users (tenant_id, id, username) values ($1, $2, 'mallory')")
        .bind(b.as_uuid())
        .bind(user)
        .execute(&mut *tx)
        .await
        .unwrap();
    begin(&mut tx, user).await;
    sqlx::query(
        "update totp_factors set master_key_id = $2, sealed_secret = $3,
                confirmed_at = now(), last_step = 0 where user_id = $1",
    )
    .bind(user)
    .bind(&key_id)
    .bind(&sealed)
    .execute(&mut *tx)
    .await
    .unwrap();
    assert!(matches!(
        mfa::verify_totp_at(&mut tx, &ring, user, &code(&app, T + 30), T + 30).await,
        Err(MfaError::Seal(SealError::Open))
    ));
    drop(tx);

    // A's factor and codes are untouched.
    let mut tx = db.tenant_tx(a).await.unwrap();
    assert!(mfa::has_totp(&mut tx, user).await.unwrap());
    assert_eq!(
        mfa::remaining_recovery_codes(&mut tx, user).await.unwrap(),
        10
    );
    assert!(
        mfa::verify_totp_at(&mut tx, &ring, user, &code(&app, T + 30), T + 30)
            .await
            .unwrap()
    );
    assert!(mfa::use_recovery_code(&mut tx, user, &codes[0])
        .await
        .unwrap());
}

#[tokio::test]
async fn mfa_secrets_are_resealed_under_a_rotated_master_key() {
    let db = test_db().await;
    let (tenant, user) = tenant_with_user(&db, "mfa-reseal").await;
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let (app, _) = enrolled(&mut tx, user).await;

    let next = MasterKey::parse("next", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
    let rotated = Keyring::new(
        Some(next.clone()),
        vec![MasterKey::parse("test", TEST_MASTER_KEY).unwrap()],
    );
    assert_eq!(mfa::reseal(&mut tx, &rotated).await.unwrap(), 1);
    assert_eq!(mfa::reseal(&mut tx, &rotated).await.unwrap(), 0);
    let forgotten = Keyring::new(Some(next), vec![]);
    assert!(
        mfa::verify_totp_at(&mut tx, &forgotten, user, &code(&app, T + 30), T + 30)
            .await
            .unwrap()
    );
}
