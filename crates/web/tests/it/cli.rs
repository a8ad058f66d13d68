//! The command line: the tenant lifecycle with --json, and bad input that
//! gets a clear message, a non-zero exit, and changes nothing.

use gatehouse_core::testing::{test_db, unique_redis_prefix, unique_slug};
use serde_json::Value;

use crate::support::{cli, cli_with_stdin, gatehouse};

/// Tenants with these slugs (other tests create tenants concurrently, so
/// only the slugs a test touches are counted).
async fn tenant_count(slugs: &[&str]) -> i64 {
    let db = test_db().await;
    let slugs: Vec<String> = slugs.iter().map(|s| s.to_string()).collect();
    sqlx::query_scalar("select count(*) from tenants where slug = any($1)")
        .bind(&slugs)
        .fetch_one(db.registry())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_tenant_goes_through_its_lifecycle_with_json_output() {
    let p = unique_redis_prefix();
    let slug = unique_slug("cli");
    let out = cli(
        &p,
        &[
            "tenant", "create", "--slug", &slug, "--name", "CLI Corp", "--json",
        ],
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    let created = out.json();
    assert_eq!(
        (created["slug"].as_str(), created["status"].as_str()),
        (Some(slug.as_str()), Some("active"))
    );
    assert_eq!(created["display_name"], "CLI Corp");

    let listed = cli(
        &p,
        &[
            "tenant",
            "list",
            "--json",
            "--limit",
            "1000",
            "--after",
            &slug[..slug.len() - 1],
        ],
    )
    .await
    .json();
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["slug"] == slug.as_str()));

    let suspended = cli(&p, &["tenant", "suspend", &slug, "--json"])
        .await
        .json();
    assert_eq!(suspended["status"], "suspended");
    let active = cli(&p, &["tenant", "activate", &slug, "--json"])
        .await
        .json();
    assert_eq!(active["status"], "active");
    // Archive keeps the tenant (and its slug) and activate restores it.
    let archived = cli(&p, &["tenant", "archive", &slug, "--json"])
        .await
        .json();
    assert_eq!(archived["status"], "inactive");
    let restored = cli(&p, &["tenant", "activate", &slug, "--json"])
        .await
        .json();
    assert_eq!(restored["status"], "active");

    let refused = cli(&p, &["tenant", "delete", &slug]).await;
    assert!(!refused.ok);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    let still_there = cli(&p, &["tenant", "suspend", &slug, "--json"]).await;
    assert!(still_there.ok);

    let deleted = cli(&p, &["tenant", "delete", &slug, "--yes", "--json"]).await;
    assert!(deleted.ok, "{}", deleted.stderr);
    let gone = cli(&p, &["tenant", "activate", &slug, "--json"]).await;
    assert!(!gone.ok);
    assert_eq!(gone.json()["error"], "unknown_tenant");
}

#[tokio::test]
async fn bad_input_exits_non_zero_with_a_clear_message_and_changes_nothing() {
    let p = unique_redis_prefix();
    let existing = unique_slug("cli-dup");
    assert!(
        cli(
            &p,
            &["tenant", "create", "--slug", &existing, "--name", "Dup"]
        )
        .await
        .ok
    );
    let unknown = unique_slug("cli-ghost");
    let watched = [
        existing.as_str(),
        unknown.as_str(),
        "default",
        "_platforms",
        "_mine",
    ];
    assert_eq!(tenant_count(&watched).await, 3);
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec!["tenant", "create", "--slug", "Not Valid", "--name", "x"],
            "invalid_slug",
            "must match",
        ),
        (
            vec!["tenant", "create", "--slug", "default", "--name", "x"],
            "reserved_tenant",
            "reserved",
        ),
        (
            vec!["tenant", "create", "--slug", "_platforms", "--name", "x"],
            "reserved_tenant",
            "reserved",
        ),
        (
            vec!["tenant", "create", "--slug", "_mine", "--name", "x"],
            "invalid_slug",
            "'_'",
        ),
        (
            vec!["tenant", "create", "--slug", &existing, "--name", "x"],
            "duplicate_slug",
            "already exists",
        ),
        (
            vec!["tenant", "create", "--slug", &unknown, "--name", " "],
            "invalid_name",
            "display name",
        ),
        (
            vec!["tenant", "suspend", &unknown],
            "unknown_tenant",
            "no such tenant",
        ),
        (
            vec!["tenant", "delete", &unknown, "--yes"],
            "unknown_tenant",
            "no such tenant",
        ),
        (
            vec!["tenant", "delete", "_platforms", "--yes"],
            "reserved_tenant",
            "reserved",
        ),
        (
            vec!["tenant", "delete", "default", "--yes"],
            "reserved_tenant",
            "reserved",
        ),
        (
            vec!["tenant", "suspend", "_platforms"],
            "reserved_tenant",
            "reserved",
        ),
        (
            vec!["tenant", "suspend", "_ops"],
            "reserved_tenant",
            "reserved",
        ),
        (
            vec!["keys", "rotate", "--tenant", &unknown],
            "unknown_tenant",
            "no such tenant",
        ),
        (
            vec![
                "client",
                "create",
                "--tenant",
                &existing,
                "--name",
                "x",
                "--public",
                "--grant-type",
                "client_credentials",
            ],
            "invalid_input",
            "client_credentials",
        ),
        (
            vec![
                "client",
                "create",
                "--tenant",
                &existing,
                "--name",
                "x",
                "--redirect-uri",
                "ftp://x/cb",
            ],
            "invalid_input",
            "unsupported scheme",
        ),
        (
            vec!["client", "delete", "--tenant", &existing, "no-such-client"],
            "not_found",
            "no such item",
        ),
        (
            vec!["tenant", "list", "--limit", "0"],
            "invalid_limit",
            "--limit",
        ),
    ];
    for (args, code, message) in cases {
        let mut with_json = args.clone();
        with_json.push("--json");
        let out = cli(&p, &with_json).await;
        assert!(!out.ok, "{args:?} succeeded");
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
        let body: Value = out.json();
        assert_eq!(body["error"], code, "{args:?}");
    }
    assert_eq!(tenant_count(&watched).await, 3);
    // Unknown commands and missing arguments are usage errors.
    assert!(!cli(&p, &["tenant", "create", "--slug", "x"]).await.ok);
    assert!(!cli(&p, &["frobnicate"]).await.ok);
}

#[tokio::test]
async fn migrate_is_idempotent() {
    let p = unique_redis_prefix();
    for _ in 0..2 {
        let out = cli(&p, &["migrate", "--json"]).await;
        assert!(out.ok, "{}", out.stderr);
        let report = out.json();
        assert_eq!(report["applied"], serde_json::json!([]));
        assert_eq!(report["server_role_created"], false);
    }
}

#[tokio::test]
async fn clients_users_and_keys_are_managed_inside_their_own_tenant() {
    let p = unique_redis_prefix();
    let (a, b) = (unique_slug("cli-a"), unique_slug("cli-b"));
    for s in [&a, &b] {
        assert!(
            cli(&p, &["tenant", "create", "--slug", s, "--name", "T"])
                .await
                .ok
        );
    }
    // Keys were made with the tenant.
    let keys = cli(&p, &["keys", "list", "--tenant", &a, "--json"])
        .await
        .json();
    assert_eq!(keys.as_array().unwrap().len(), 6);

    let created = cli(
        &p,
        &[
            "client",
            "create",
            "--tenant",
            &a,
            "--name",
            "App",
            "--redirect-uri",
            "https://app.example/cb",
            "--json",
        ],
    )
    .await;
    assert!(created.ok, "{}", created.stderr);
    let created = created.json();
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    assert_eq!(created["client_secret"].as_str().unwrap().len(), 43);

    let in_b = cli(&p, &["client", "list", "--tenant", &b, "--json"])
        .await
        .json();
    assert_eq!(in_b, serde_json::json!([]));
    let in_a = cli(&p, &["client", "list", "--tenant", &a, "--json"]).await;
    assert!(in_a.stdout.contains(&client_id));
    let listed = in_a.json();
    assert!(
        listed[0].get("client_secret").is_none() && listed[0].get("secret_hash").is_none(),
        "{listed}"
    );
    assert!(
        !cli(&p, &["client", "delete", "--tenant", &b, &client_id])
            .await
            .ok
    );
    assert!(
        cli(&p, &["client", "delete", "--tenant", &a, &client_id])
            .await
            .ok
    );
    assert_eq!(
        cli(&p, &["client", "list", "--tenant", &a, "--json"])
            .await
            .json(),
        serde_json::json!([])
    );

    let args = [
        "user",
        "create",
        "--tenant",
        &a,
        "--username",
        "alice",
        "--email",
        "alice@example.com",
        "--password-stdin",
        "--json",
    ];
    let user = cli_with_stdin(&p, &args, "correct horse battery staple\n").await;
    assert!(user.ok, "{}", user.stderr);
    assert_eq!(user.json()["username"], "alice");
    assert!(!user.stdout.contains("correct horse"));
    let again = cli_with_stdin(&p, &args, "another password\n").await;
    assert_eq!(again.json()["error"], "duplicate");
    let empty = cli_with_stdin(
        &p,
        &[
            "user",
            "create",
            "--tenant",
            &b,
            "--username",
            "bob",
            "--password-stdin",
            "--json",
        ],
        "\n",
    )
    .await;
    assert_eq!(empty.json()["error"], "invalid_input");
    // The same username is free in B.
    let in_b = cli_with_stdin(
        &p,
        &[
            "user",
            "create",
            "--tenant",
            &b,
            "--username",
            "alice",
            "--password-stdin",
        ],
        "a different long passphrase\n",
    )
    .await;
    assert!(in_b.ok, "{}", in_b.stderr);
    // The tenant's password policy applies here too.
    for weak in ["pw\n", "1qaz2wsx3edc4rfv\n", "carol-carol-carol\n"] {
        let refused = cli_with_stdin(
            &p,
            &[
                "user",
                "create",
                "--tenant",
                &b,
                "--username",
                "carol",
                "--password-stdin",
                "--json",
            ],
            weak,
        )
        .await;
        assert_eq!(refused.json()["error"], "weak_password", "{weak}");
    }
}

#[tokio::test]
async fn keys_reseal_needs_a_current_master_key() {
    let out = gatehouse(&unique_redis_prefix())
        .env("GATEHOUSE_MASTER_KEY", "")
        .args(["keys", "reseal", "--json"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"], "no_master_key", "{err}");
}

#[tokio::test]
async fn a_tenant_exported_to_a_file_is_imported_under_another_slug() {
    let p = unique_redis_prefix();
    let from = unique_slug("cli-exp");
    let to = unique_slug("cli-imp");
    assert!(
        cli(&p, &["tenant", "create", "--slug", &from, "--name", "Exp"])
            .await
            .ok
    );
    let made = cli_with_stdin(
        &p,
        &[
            "user",
            "create",
            "--tenant",
            &from,
            "--username",
            "olga",
            "--role",
            "owner",
            "--password-stdin",
            "--json",
        ],
        "a long and unusual passphrase\n",
    )
    .await;
    assert!(made.ok, "{}", made.stderr);
    let unknown_role = cli_with_stdin(
        &p,
        &[
            "user",
            "create",
            "--tenant",
            &from,
            "--username",
            "olaf",
            "--role",
            "wizard",
            "--password-stdin",
        ],
        "a long and unusual passphrase\n",
    )
    .await;
    assert!(!unknown_role.ok, "an unknown role creates nothing");
    let exported = cli(&p, &["tenant", "export", &from, "--with-users"]).await;
    assert!(exported.ok, "{}", exported.stderr);
    let doc = exported.json();
    let names: Vec<&str> = doc["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["olga"], "olaf was not created");
    assert_eq!(doc["users"][0]["roles"], serde_json::json!(["owner"]));
    let file = std::env::temp_dir().join(format!("{from}.json"));
    std::fs::write(&file, &exported.stdout).unwrap();
    let imported = cli(
        &p,
        &[
            "tenant",
            "import",
            file.to_str().unwrap(),
            "--slug",
            &to,
            "--json",
        ],
    )
    .await;
    std::fs::remove_file(&file).unwrap();
    assert!(imported.ok, "{}", imported.stderr);
    assert_eq!(imported.json()["slug"], to.as_str());
    let again = cli(&p, &["tenant", "export", &to, "--with-users"])
        .await
        .json();
    assert_eq!(again["users"][0]["id"], doc["users"][0]["id"]);
    assert_eq!(
        again["users"][0]["password_hash"],
        doc["users"][0]["password_hash"]
    );
    let garbage = cli_with_stdin(&p, &["tenant", "import", "-"], "{\"format\": 1}").await;
    assert!(!garbage.ok);
    assert!(
        garbage.stderr.contains("not a tenant document"),
        "{}",
        garbage.stderr
    );
}

#[tokio::test]
async fn a_tenant_exported_with_mfa_keeps_its_totp_under_another_master_key() {
    use base64::Engine as _;
    use gatehouse_core::config::MasterKey;
    use gatehouse_core::secretbox::Keyring;
    use gatehouse_core::TenantId;
    use gatehouse_oidc::mfa;

    let p = unique_redis_prefix();
    let from = unique_slug("cli-exp-mfa");
    let to = unique_slug("cli-imp-mfa");
    assert!(
        cli(&p, &["tenant", "create", "--slug", &from, "--name", "Exp"])
            .await
            .ok
    );
    let made = cli_with_stdin(
        &p,
        &[
            "user",
            "create",
            "--tenant",
            &from,
            "--username",
            "olga",
            "--password-stdin",
            "--json",
        ],
        "a long and unusual passphrase\n",
    )
    .await;
    assert!(made.ok, "{}", made.stderr);
    let user: uuid::Uuid = made.json()["id"].as_str().unwrap().parse().unwrap();
    // The command line's master key ("primary") seals the factor here.
    let here = Keyring::new(
        Some(MasterKey::parse("primary", gatehouse_core::testing::TEST_MASTER_KEY).unwrap()),
        vec![],
    );
    let db = test_db().await;
    let tenant_of = |slug: String| {
        let db = db.clone();
        async move {
            let id: uuid::Uuid = sqlx::query_scalar("select id from tenants where slug = $1")
                .bind(slug)
                .fetch_one(db.registry())
                .await
                .unwrap();
            TenantId::from_uuid(id)
        }
    };
    let code = |secret: &str, at: i64| {
        totp_rs::Totp::from_url(format!(
            "otpauth://totp/Exp:olga?secret={secret}&issuer=Exp&algorithm=SHA1&digits=6&period=30"
        ))
        .unwrap()
        .generate(u64::try_from(at).unwrap())
        .to_string()
    };
    let mut tx = db.tenant_tx(tenant_of(from.clone()).await).await.unwrap();
    let secret = mfa::begin_totp(&mut tx, &here, user, "Exp", "olga")
        .await
        .unwrap()
        .secret_base32;
    let confirmed = time::OffsetDateTime::now_utc().unix_timestamp() - 60;
    let recovery = mfa::confirm_totp_at(
        &mut tx,
        &here,
        user,
        &code(&secret, confirmed),
        u64::try_from(confirmed).unwrap(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // --with-mfa needs --with-users; without --with-mfa, no secret.
    let refused = cli(&p, &["tenant", "export", &from, "--with-mfa"]).await;
    assert!(!refused.ok);
    assert!(
        refused.stderr.contains("--with-users"),
        "{}",
        refused.stderr
    );
    let lean = cli(&p, &["tenant", "export", &from, "--with-users"]).await;
    assert!(lean.ok, "{}", lean.stderr);
    assert!(!lean.stdout.contains(&secret));
    let exported = cli(
        &p,
        &["tenant", "export", &from, "--with-users", "--with-mfa"],
    )
    .await;
    assert!(exported.ok, "{}", exported.stderr);
    let doc = exported.json();
    assert_eq!(doc["users"][0]["totp"]["secret"], secret.as_str());
    let file = std::env::temp_dir().join(format!("{from}.json"));
    std::fs::write(&file, &exported.stdout).unwrap();

    // A deployment without a master key cannot seal the secret: refused,
    // nothing left behind.
    let nowhere = unique_slug("cli-imp-nokey");
    let out = gatehouse(&p)
        .env("GATEHOUSE_MASTER_KEY", "")
        .args([
            "tenant",
            "import",
            file.to_str().unwrap(),
            "--slug",
            &nowhere,
            "--json",
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"], "no_master_key", "{err}");
    assert_eq!(tenant_count(&[&nowhere]).await, 0);

    // Another deployment, another master key: the secret is sealed under
    // that one.
    let bytes: Vec<u8> = (0u8..32)
        .map(|b| b.wrapping_mul(7).wrapping_add(3))
        .collect();
    let other_key = base64::engine::general_purpose::STANDARD.encode(bytes);
    let out = gatehouse(&p)
        .env("GATEHOUSE_MASTER_KEY", &other_key)
        .env("GATEHOUSE_MASTER_KEY_ID", "elsewhere")
        .args([
            "tenant",
            "import",
            file.to_str().unwrap(),
            "--slug",
            &to,
            "--json",
        ])
        .output()
        .await
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let there = Keyring::new(
        Some(MasterKey::parse("elsewhere", &other_key).unwrap()),
        vec![],
    );
    let mut tx = db.tenant_tx(tenant_of(to.clone()).await).await.unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        mfa::verify_totp(&mut tx, &here, user, &code(&secret, now))
            .await
            .is_err(),
        "not sealed under the exporting deployment's key"
    );
    assert!(mfa::verify_totp(&mut tx, &there, user, &code(&secret, now))
        .await
        .unwrap());
    assert!(mfa::use_recovery_code(&mut tx, user, &recovery[2])
        .await
        .unwrap());
    tx.commit().await.unwrap();
}
