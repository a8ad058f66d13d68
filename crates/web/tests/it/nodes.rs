//! Whole server processes: two nodes sharing Postgres and Redis follow a
//! suspension made with the CLI within a second (pages and management-API
//! tokens alike), and the server refuses to start when isolation or
//! production settings are unsafe.

use std::time::{Duration, Instant};

use gatehouse_core::testing::{test_env, unique_redis_prefix, unique_slug};

use crate::support::{cli, gatehouse, Node};

/// Polls both nodes until each answers `want` for `GET path` (with
/// `token` as a bearer token, if any); returns how long it took.
async fn until_both(
    nodes: &[&Node],
    client: &reqwest::Client,
    path: &str,
    token: Option<&str>,
    want: u16,
) -> Duration {
    let start = Instant::now();
    loop {
        let mut all = true;
        for n in nodes {
            let mut req = client.get(format!("{}{path}", n.base));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let status = req.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
            all &= status == want;
        }
        if all {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "nodes never answered {want} for {path}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn suspending_with_the_cli_makes_both_nodes_answer_403_within_a_second() {
    let prefix = unique_redis_prefix();
    let slug = unique_slug("nodes");
    assert!(
        cli(
            &prefix,
            &["tenant", "create", "--slug", &slug, "--name", "Nodes"]
        )
        .await
        .ok
    );
    let a = Node::start(gatehouse(&prefix)).await;
    let b = Node::start(gatehouse(&prefix)).await;
    let client = reqwest::Client::new();
    let path = format!("/t/{slug}/tenant");
    // Warm both nodes: the tenant is cached and pooled on each.
    until_both(&[&a, &b], &client, &path, None, 200).await;
    assert_eq!(a.status(&client, &path).await, 200);

    let started = Instant::now();
    let out = cli(&prefix, &["tenant", "suspend", &slug]).await;
    assert!(out.ok, "{}", out.stderr);
    until_both(&[&a, &b], &client, &path, None, 403).await;
    let suspended_after = started.elapsed();

    let started = Instant::now();
    assert!(cli(&prefix, &["tenant", "activate", &slug]).await.ok);
    until_both(&[&a, &b], &client, &path, None, 200).await;
    let activated_after = started.elapsed();

    eprintln!("both nodes answered 403 {suspended_after:?} and 200 again {activated_after:?} after the CLI started");
    // The window includes starting the CLI process itself.
    assert!(
        suspended_after < Duration::from_secs(1),
        "suspension took {suspended_after:?}"
    );
    assert!(
        activated_after < Duration::from_secs(1),
        "activation took {activated_after:?}"
    );
}

#[tokio::test]
async fn a_suspended_tenants_api_tokens_are_refused_by_both_nodes_within_a_second() {
    let prefix = unique_redis_prefix();
    let slug = unique_slug("apinodes");
    assert!(
        cli(
            &prefix,
            &["tenant", "create", "--slug", &slug, "--name", "Api Nodes"]
        )
        .await
        .ok
    );
    let made = cli(
        &prefix,
        &[
            "client",
            "create",
            "--tenant",
            &slug,
            "--name",
            "automation",
            "--grant-type",
            "client_credentials",
            "--auth-method",
            "client_secret_post",
            "--scope",
            "gatehouse:users:read",
            "--json",
        ],
    )
    .await;
    assert!(made.ok, "{}", made.stderr);
    let made = made.json();
    let a = Node::start(gatehouse(&prefix)).await;
    let b = Node::start(gatehouse(&prefix)).await;
    let client = reqwest::Client::new();
    // A token from node a's token endpoint, used at both nodes.
    let answer: serde_json::Value = client
        .post(format!("{}/t/{slug}/token", a.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", made["client_id"].as_str().unwrap()),
            ("client_secret", made["client_secret"].as_str().unwrap()),
            ("scope", "gatehouse:users:read"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = answer["access_token"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tenants/{slug}/users");
    let nodes = [&a, &b];
    until_both(&nodes, &client, &path, Some(&token), 200).await;

    let started = Instant::now();
    assert!(cli(&prefix, &["tenant", "suspend", &slug]).await.ok);
    until_both(&nodes, &client, &path, Some(&token), 403).await;
    let refused_after = started.elapsed();
    let started = Instant::now();
    assert!(cli(&prefix, &["tenant", "activate", &slug]).await.ok);
    until_both(&nodes, &client, &path, Some(&token), 200).await;
    let back_after = started.elapsed();
    eprintln!("both nodes refused the token {refused_after:?} and took it again {back_after:?} after the CLI started");
    assert!(
        refused_after < Duration::from_secs(1),
        "refusal took {refused_after:?}"
    );
    assert!(back_after < Duration::from_secs(1), "took {back_after:?}");
}

#[tokio::test]
async fn a_node_without_redis_runs_alone_on_an_in_process_bus() {
    let mut cmd = gatehouse(&unique_redis_prefix());
    cmd.env("GATEHOUSE_REDIS_URL", "");
    let node = Node::start(cmd).await;
    let body: serde_json::Value = reqwest::get(format!("{}/_ops/readyz", node.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["checks"]["redis"], "not_configured");
    assert_eq!(body["status"], "ready");
}

async fn refuses(cmd: &mut tokio::process::Command) -> String {
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.arg("serve").output())
        .await
        .expect("the server should have refused to start")
        .unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn the_server_refuses_to_start_as_a_role_that_bypasses_row_level_security() {
    let mut cmd = gatehouse(&unique_redis_prefix());
    cmd.env("GATEHOUSE_DATABASE_URL", test_env().admin_url);
    let stderr = refuses(&mut cmd).await;
    assert!(stderr.contains("row-level security"), "{stderr}");
}

#[tokio::test]
async fn production_refuses_a_missing_or_weak_master_key_and_a_plain_http_public_url() {
    let mut cmd = gatehouse(&unique_redis_prefix());
    cmd.env("GATEHOUSE_ENVIRONMENT", "production")
        .env_remove("GATEHOUSE_MASTER_KEY");
    let stderr = refuses(&mut cmd).await;
    assert!(
        stderr.contains("GATEHOUSE_MASTER_KEY") && stderr.contains("https"),
        "{stderr}"
    );

    let mut cmd = gatehouse(&unique_redis_prefix());
    cmd.env("GATEHOUSE_ENVIRONMENT", "production")
        .env("GATEHOUSE_PUBLIC_URL", "https://id.example.com")
        .env(
            "GATEHOUSE_MASTER_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        );
    let stderr = refuses(&mut cmd).await;
    assert!(stderr.contains("weak"), "{stderr}");
}

#[tokio::test]
async fn an_invalid_setting_is_refused_with_its_name() {
    let mut cmd = gatehouse(&unique_redis_prefix());
    cmd.env("GATEHOUSE_TENANT_RESOLUTION", "path,cookie");
    let stderr = refuses(&mut cmd).await;
    assert!(stderr.contains("GATEHOUSE_TENANT_RESOLUTION"), "{stderr}");
}

async fn jwks_kids(client: &reqwest::Client, node: &Node, slug: &str) -> Vec<String> {
    let jwks: serde_json::Value = client
        .get(format!("{}/t/{slug}/.well-known/jwks.json", node.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    kids.sort();
    kids
}

#[tokio::test]
async fn both_nodes_serve_the_new_jwks_within_a_second_of_a_cli_rotation() {
    let prefix = unique_redis_prefix();
    let slug = unique_slug("rotate");
    assert!(
        cli(
            &prefix,
            &["tenant", "create", "--slug", &slug, "--name", "Rotate"]
        )
        .await
        .ok
    );
    let a = Node::start(gatehouse(&prefix)).await;
    let b = Node::start(gatehouse(&prefix)).await;
    let client = reqwest::Client::new();
    let before = jwks_kids(&client, &a, &slug).await;
    assert_eq!(before.len(), 6, "active and next key per algorithm");
    assert_eq!(jwks_kids(&client, &b, &slug).await, before);

    let started = Instant::now();
    let out = cli(&prefix, &["keys", "rotate", "--tenant", &slug, "--json"]).await;
    assert!(out.ok, "{}", out.stderr);
    let listed = out.json();
    let mut expected: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    assert_eq!(
        expected.len(),
        9,
        "new next keys, and the retired ones still published"
    );
    loop {
        let (ka, kb) = (
            jwks_kids(&client, &a, &slug).await,
            jwks_kids(&client, &b, &slug).await,
        );
        if ka == expected && kb == expected {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nodes never served the new JWKS"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = started.elapsed();
    eprintln!("both nodes served the rotated JWKS {elapsed:?} after the CLI started");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");

    // A token signed after the rotation (by node A, with the new key)
    // verifies on both nodes.
    let m2m = cli(
        &prefix,
        &[
            "client",
            "create",
            "--tenant",
            &slug,
            "--name",
            "M2M",
            "--grant-type",
            "client_credentials",
            "--scope",
            "api",
            "--json",
        ],
    )
    .await
    .json();
    let (id, secret) = (
        m2m["client_id"].as_str().unwrap(),
        m2m["client_secret"].as_str().unwrap(),
    );
    let token: serde_json::Value = client
        .post(format!("{}/t/{slug}/token", a.base))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().unwrap();
    let kid = access.split('.').next().map(|h| {
        use base64::Engine as _;
        let header: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .unwrap(),
        )
        .unwrap();
        header["kid"].as_str().unwrap().to_owned()
    });
    let active_es256 = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "ES256" && k["state"] == "active")
        .unwrap()["kid"]
        .as_str()
        .map(str::to_owned);
    assert_eq!(kid, active_es256, "signed with the newly activated key");
    for node in [&a, &b] {
        let intro: serde_json::Value = client
            .post(format!("{}/t/{slug}/introspect", node.base))
            .basic_auth(id, Some(secret))
            .form(&[("token", access)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(intro["active"], true, "{}", node.base);
    }
}
