use std::process::Stdio;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response};
use gatehouse_core::config::Config;
use gatehouse_core::events::EventBus;
use gatehouse_core::testing::{test_db, test_env, unique_redis_prefix};
use gatehouse_web::server::service;
use gatehouse_web::AppState;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tower::ServiceExt as _;

/// Configuration pointing at the test services.
pub fn test_config() -> Config {
    let env = test_env();
    Config {
        database_url: env.database_url,
        database_admin_url: env.admin_url,
        redis_url: env.redis_url,
        redis_prefix: unique_redis_prefix(),
        master_key: gatehouse_core::testing::TEST_MASTER_KEY.into(),
        ..Config::default()
    }
}

/// The application in-process, on a local bus whose events it applies.
pub async fn app_with(config: Config) -> (axum::Router, AppState) {
    let db = test_db().await;
    let bus = EventBus::local();
    let state = AppState::new(config, db, bus.clone()).unwrap();
    state.tenancy.spawn_event_listener(&bus);
    (service(state.clone()), state)
}

pub async fn app() -> (axum::Router, AppState) {
    app_with(test_config()).await
}

pub async fn send(app: &axum::Router, req: Request<Body>) -> (u16, String, Response<Body>) {
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status().as_u16();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    (
        status,
        String::from_utf8_lossy(&bytes).into_owned(),
        Response::from_parts(parts, Body::empty()),
    )
}

pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

pub fn get_with(uri: &str, headers: &[(&str, &[u8])]) -> Request<Body> {
    let mut b = Request::get(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::empty()).unwrap()
}

/// The `gatehouse` binary with the test services in its environment and
/// no settings file.
pub fn gatehouse(redis_prefix: &str) -> Command {
    let env = test_env();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GATEHOUSE_CONFIG", "/nonexistent/gatehouse.toml")
        .env("GATEHOUSE_DATABASE_URL", &env.database_url)
        .env("GATEHOUSE_DATABASE_ADMIN_URL", &env.admin_url)
        .env("GATEHOUSE_REDIS_URL", &env.redis_url)
        .env("GATEHOUSE_REDIS_PREFIX", redis_prefix)
        .env("GATEHOUSE_LISTEN", "127.0.0.1:0")
        .env("GATEHOUSE_LOG", "warn")
        .env(
            "GATEHOUSE_MASTER_KEY",
            gatehouse_core::testing::TEST_MASTER_KEY,
        )
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

pub struct CliOutput {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

pub async fn cli(prefix: &str, args: &[&str]) -> CliOutput {
    let out = gatehouse(prefix).args(args).output().await.unwrap();
    CliOutput {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A running `gatehouse serve` process.
pub struct Node {
    pub base: String,
    _child: Child,
}

impl Node {
    pub async fn start(mut cmd: Command) -> Node {
        cmd.arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("gatehouse listening on ") {
                    return url.to_owned();
                }
            }
            panic!("the server exited before listening");
        })
        .await
        .expect("the server did not start within 30 s");
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Node {
            base,
            _child: child,
        }
    }

    pub async fn status(&self, client: &reqwest::Client, path: &str) -> u16 {
        client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }
}

/// Runs the CLI with `stdin` on its standard input.
pub async fn cli_with_stdin(prefix: &str, args: &[&str], stdin: &str) -> CliOutput {
    use tokio::io::AsyncWriteExt as _;
    let mut child = gatehouse(prefix)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    CliOutput {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
