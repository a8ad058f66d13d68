//! `oidc-load`: HTTP load for the OpenID Connect exchanges that wrk cannot
//! drive, because each request depends on the answer to the previous one.
//! Used by `bench/oidc.sh`; 127.0.0.1 only in practice (it sends requests to
//! `--base` and nowhere else, never following a redirect).
//!
//! Scenarios (each of `--concurrency` workers loops until the deadline):
//!
//! | scenario | one operation |
//! |---|---|
//! | `refresh` | `POST /token` `grant_type=refresh_token`, rotating the worker's own refresh-token chain (each token is single-use: reusing one revokes the family) |
//! | `code-flow` | a whole browser login with a fresh cookie jar: `GET /authorize` (PKCE S256) → `GET /login` → `POST /login` (argon2id) → the redirect to the client with `code` (read, not followed) → `POST /token` `grant_type=authorization_code` |
//! | `code-exchange` | a logged-in browser (its session cookie kept): `GET /authorize` → the code at once → `POST /token`, without a password check |
//! | `authorize` | the first half of `code-exchange` alone: `GET /authorize` → the code, never redeemed (it expires) |
//! | `client-credentials` | `POST /token` `grant_type=client_credentials&scope=api` (no user) |
//! | `discovery` | `GET /.well-known/openid-configuration` (no client, no user) |
//!
//! With `--rate R`, operations start on a fixed schedule instead, R per
//! second whatever the server does (an open loop; `client-credentials`,
//! `discovery` and `code-flow`), at most `--concurrency` at a time, and
//! each one's latency counts from when it was due rather than from when it
//! was sent, so a server that stalls cannot hide it by slowing the
//! generator down (no coordinated omission). That is the load of a tenant
//! whose traffic does not grow to fill the machine: what `bench/oidc.sh`
//! sends to the other tenant during a login burst, and, with
//! `BENCH_BURST_RATE`, the burst itself (a login rate that stays the same
//! from run to run, whatever the machine's speed).
//!
//! The chains of `refresh` and the sessions of `code-exchange` and
//! `authorize` are set up
//! with one `code-flow` per worker before the clock starts. Then the workers
//! run `--warmup` seconds unmeasured and `--duration` seconds measured: an
//! operation counts when it starts and ends inside the measured window.
//!
//! Output: a human-readable report on standard error, and on standard output
//! one line in the format of `bench/wrk-report.lua`
//!
//! ```text
//! RESULT requests=N duration_us=D rps=R mean_us=M stdev_us=S p50_us=P p90_us=P p99_us=P
//!        max_us=X non2xx=E errors=F http_requests=H [cpu_us=C] [aux_cpu_us=A]
//! ```
//!
//! where `requests` counts operations (flows for `code-flow`),
//! `http_requests` the HTTP requests of those operations, `non2xx` the
//! operations that got an unexpected status and `errors` those that failed
//! in transport; then one `STEP name=... count=... mean_us=... p50_us=...
//! p99_us=...` line per HTTP step. With `--server-pid`, `cpu_us` is that
//! process's user + system CPU time over the measured window (from
//! `/proc/PID/stat`); `aux_cpu_us` the same summed over the processes that
//! match an `--aux-match` (those started during the window count whole).
//! Percentiles are exact (nearest rank over every sample).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use clap::{Parser, ValueEnum};
use rand::RngCore as _;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, COOKIE, LOCATION};
use reqwest::{Client, StatusCode};
use sha2::{Digest as _, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Refresh,
    CodeFlow,
    CodeExchange,
    Authorize,
    ClientCredentials,
    Discovery,
}

impl Scenario {
    /// Whether an operation needs a signed-in browser or a user's password.
    fn needs_user(self) -> bool {
        !matches!(self, Self::ClientCredentials | Self::Discovery)
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "oidc-load",
    about = "HTTP load of refresh rotation and authorization code flows"
)]
struct Args {
    #[arg(long, value_enum)]
    scenario: Scenario,
    /// The server's origin, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    base: String,
    /// The tenant's slug (path mode: the issuer is {base}/t/{tenant}).
    #[arg(long)]
    tenant: String,
    #[arg(long)]
    client_id: String,
    /// The client's secret (client_secret_basic).
    #[arg(long, env = "OIDC_LOAD_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
    /// A redirect URI registered for the client (never contacted).
    /// Required by the scenarios with a user.
    #[arg(long, default_value = "")]
    redirect_uri: String,
    /// Required by the scenarios with a user.
    #[arg(long, default_value = "")]
    username: String,
    #[arg(
        long,
        env = "OIDC_LOAD_PASSWORD",
        hide_env_values = true,
        default_value = ""
    )]
    password: String,
    /// The scope of the authorization requests.
    #[arg(long, default_value = "openid")]
    scope: String,
    /// Concurrent workers, each with its own connection and cookie jar;
    /// with `--rate`, the most operations in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Operations started per second, on a fixed schedule (an open loop),
    /// instead of workers that loop; `client-credentials`, `discovery` and
    /// `code-flow`.
    #[arg(long)]
    rate: Option<f64>,
    /// Seconds measured.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds run before the measured window.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Threads of the generator's own runtime.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// A process whose CPU time over the measured window is reported (the server).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Further processes whose CPU time is summed as aux_cpu_us: those whose
    /// command line contains one of these strings when the measured window
    /// opens (e.g. the database's backends, Redis).
    #[arg(long = "aux-match")]
    aux_matches: Vec<String>,
    /// Clock ticks per second of /proc/PID/stat (`getconf CLK_TCK`).
    #[arg(long, default_value_t = 100)]
    clk_tck: u64,
}

/// How an operation failed.
#[derive(Debug)]
enum Failure {
    /// An unexpected status or an unexpected answer (counted as non2xx).
    Answer(String),
    /// Connect, read, write or timeout (counted as errors).
    Transport(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Answer(s) => write!(f, "unexpected answer: {s}"),
            Failure::Transport(s) => write!(f, "transport error: {s}"),
        }
    }
}

fn answer(s: impl Into<String>) -> Failure {
    Failure::Answer(s.into())
}

fn transport(step: &str, e: reqwest::Error) -> Failure {
    Failure::Transport(format!("{step}: {e}"))
}

/// The HTTP steps, in the order of a flow.
const STEPS: [&str; 7] = [
    "authorize",
    "login_get",
    "login_post",
    "token_code",
    "token_refresh",
    "token_client",
    "discovery",
];
const AUTHORIZE: usize = 0;
const LOGIN_GET: usize = 1;
const LOGIN_POST: usize = 2;
const TOKEN_CODE: usize = 3;
const TOKEN_REFRESH: usize = 4;
const TOKEN_CLIENT: usize = 5;
const DISCOVERY: usize = 6;

/// One worker's samples, in microseconds.
#[derive(Debug, Default)]
struct Samples {
    ops: Vec<u64>,
    steps: [Vec<u64>; STEPS.len()],
    non2xx: u64,
    errors: u64,
    /// HTTP requests of the measured operations.
    http_requests: u64,
    /// The first few failures, to show.
    examples: Vec<String>,
}

impl Samples {
    fn merge(&mut self, other: Samples) {
        self.ops.extend(other.ops);
        for (a, b) in self.steps.iter_mut().zip(other.steps) {
            a.extend(b);
        }
        self.non2xx += other.non2xx;
        self.errors += other.errors;
        self.http_requests += other.http_requests;
        for e in other.examples {
            if self.examples.len() < 5 {
                self.examples.push(e);
            }
        }
    }

    /// One operation that started at `t0` (or was due then) and ended at `t1`.
    fn add<T>(
        &mut self,
        window: Window,
        t0: Instant,
        t1: Instant,
        result: &Result<T, Failure>,
        timings: Timings,
    ) {
        match result {
            Ok(_) => {
                if window.contains(t0, t1) {
                    self.ops.push(us(t1 - t0));
                    self.http_requests += timings.len() as u64;
                    for (i, t) in timings {
                        self.steps[i].push(t);
                    }
                }
            }
            Err(e) => {
                if t0 >= window.start && t0 < window.end {
                    self.fail(e);
                }
            }
        }
    }

    fn fail(&mut self, f: &Failure) {
        match f {
            Failure::Answer(_) => self.non2xx += 1,
            Failure::Transport(_) => self.errors += 1,
        }
        if self.examples.len() < 5 {
            self.examples.push(f.to_string());
        }
    }
}

/// Step timings of one operation: (step, microseconds), recorded only if the
/// operation falls inside the measured window.
type Timings = Vec<(usize, u64)>;

/// The measured window.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

impl Window {
    fn contains(&self, from: Instant, to: Instant) -> bool {
        from >= self.start && to <= self.end
    }
}

/// What every worker shares.
struct Ctx {
    args: Args,
    issuer: String,
    basic: HeaderValue,
}

/// A browser's cookies, by name (one tenant, one path: no scoping needed).
#[derive(Debug, Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn store(&mut self, headers: &HeaderMap) {
        for v in headers.get_all(reqwest::header::SET_COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            let mut parts = v.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.trim().split_once('=')) else {
                continue;
            };
            let expired = parts.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
            self.0.retain(|(n, _)| n != name);
            if !expired && !value.is_empty() {
                self.0.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn header(&self) -> Option<HeaderValue> {
        if self.0.is_empty() {
            return None;
        }
        let mut s = String::new();
        for (n, v) in &self.0 {
            if !s.is_empty() {
                s.push_str("; ");
            }
            let _ = write!(s, "{n}={v}");
        }
        HeaderValue::from_str(&s).ok()
    }
}

fn random_b64(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The path and query of a Location, on our own origin: the server names
/// its public URL, which need not carry the port it listens on.
fn location(headers: &HeaderMap) -> Result<url::Url, Failure> {
    let l = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| answer("redirect without a Location"))?;
    url::Url::parse(l).map_err(|e| answer(format!("bad Location {l:?}: {e}")))
}

fn on_base(ctx: &Ctx, url: &url::Url) -> String {
    match url.query() {
        Some(q) => format!("{}{}?{q}", ctx.args.base, url.path()),
        None => format!("{}{}", ctx.args.base, url.path()),
    }
}

fn query_param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The value of the hidden form field `name` in an HTML page.
fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let len = html[start..].find('"')?;
    Some(html[start..start + len].to_owned())
}

/// One HTTP step: sends `request`, reads the answer, and times both.
async fn step(
    timings: &mut Timings,
    index: usize,
    request: reqwest::RequestBuilder,
) -> Result<(StatusCode, HeaderMap, String), Failure> {
    let t = Instant::now();
    let response = request
        .send()
        .await
        .map_err(|e| transport(STEPS[index], e))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .text()
        .await
        .map_err(|e| transport(STEPS[index], e))?;
    timings.push((index, us(t.elapsed())));
    Ok((status, headers, body))
}

fn expect(status: StatusCode, want: StatusCode, what: &str, body: &str) -> Result<(), Failure> {
    if status == want {
        return Ok(());
    }
    let body: String = body.chars().take(200).collect();
    Err(answer(format!(
        "{what}: {status} (expected {want}): {body}"
    )))
}

/// `GET /authorize`; returns the Location it redirects to and the PKCE verifier.
async fn authorize(
    ctx: &Ctx,
    http: &Client,
    jar: &mut Jar,
    timings: &mut Timings,
    state: &str,
) -> Result<(url::Url, String), Failure> {
    let verifier = random_b64(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let nonce = random_b64(16);
    let a = &ctx.args;
    let query = form(&[
        ("response_type", "code"),
        ("client_id", &a.client_id),
        ("redirect_uri", &a.redirect_uri),
        ("scope", &a.scope),
        ("state", state),
        ("nonce", &nonce),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let mut req = http.get(format!("{}/authorize?{query}", ctx.issuer));
    if let Some(c) = jar.header() {
        req = req.header(COOKIE, c);
    }
    let (status, headers, body) = step(timings, AUTHORIZE, req).await?;
    expect(status, StatusCode::SEE_OTHER, "authorize", &body)?;
    jar.store(&headers);
    Ok((location(&headers)?, verifier))
}

/// The code in a redirect to the client, after checking `state`.
fn code_of(ctx: &Ctx, to: &url::Url, state: &str) -> Result<String, Failure> {
    if !to.as_str().starts_with(&ctx.args.redirect_uri) {
        return Err(answer(format!("redirected to {to}, not to the client")));
    }
    if let Some(e) = query_param(to, "error") {
        return Err(answer(format!("authorization error {e}")));
    }
    if query_param(to, "state").as_deref() != Some(state) {
        return Err(answer("state does not match"));
    }
    query_param(to, "code").ok_or_else(|| answer("no code in the redirect"))
}

/// `POST /token` with the client's Basic credentials; the refresh token of
/// a 200 answer.
async fn token(
    ctx: &Ctx,
    http: &Client,
    timings: &mut Timings,
    index: usize,
    body: String,
) -> Result<String, Failure> {
    let req = http
        .post(format!("{}/token", ctx.issuer))
        .header(AUTHORIZATION, ctx.basic.clone())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body);
    let (status, _, body) = step(timings, index, req).await?;
    expect(status, StatusCode::OK, STEPS[index], &body)?;
    let json: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| answer(format!("token answer: {e}")))?;
    if json.get("access_token").and_then(|v| v.as_str()).is_none() {
        return Err(answer("token answer without access_token"));
    }
    if ctx.args.scope.split(' ').any(|s| s == "openid")
        && json.get("id_token").and_then(|v| v.as_str()).is_none()
    {
        return Err(answer("token answer without id_token"));
    }
    json.get("refresh_token")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| answer("token answer without refresh_token"))
}

async fn exchange(
    ctx: &Ctx,
    http: &Client,
    timings: &mut Timings,
    code: &str,
    verifier: &str,
) -> Result<String, Failure> {
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &ctx.args.redirect_uri),
        ("code_verifier", verifier),
    ]);
    token(ctx, http, timings, TOKEN_CODE, body).await
}

/// A whole login in `jar` (empty for a new browser); returns the refresh token.
async fn code_flow(
    ctx: &Ctx,
    http: &Client,
    jar: &mut Jar,
    timings: &mut Timings,
) -> Result<String, Failure> {
    let state = random_b64(12);
    let (login, verifier) = authorize(ctx, http, jar, timings, &state).await?;
    if !login.path().ends_with("/login") {
        return Err(answer(format!(
            "authorize redirected to {login}, not to the login page"
        )));
    }
    let req_id = query_param(&login, "req").ok_or_else(|| answer("no req in the login URL"))?;

    let mut get = http.get(on_base(ctx, &login));
    if let Some(c) = jar.header() {
        get = get.header(COOKIE, c);
    }
    let (status, headers, page) = step(timings, LOGIN_GET, get).await?;
    expect(status, StatusCode::OK, "login page", &page)?;
    jar.store(&headers);
    let csrf =
        hidden_field(&page, "csrf").ok_or_else(|| answer("no csrf field on the login page"))?;
    if jar.get("gatehouse_csrf") != Some(csrf.as_str()) {
        return Err(answer(
            "the csrf field differs from the gatehouse_csrf cookie",
        ));
    }

    let a = &ctx.args;
    let mut post = http
        .post(format!("{}/login", ctx.issuer))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[
            ("req", &req_id),
            ("csrf", &csrf),
            ("username", &a.username),
            ("password", &a.password),
        ]));
    if let Some(c) = jar.header() {
        post = post.header(COOKIE, c);
    }
    let (status, headers, body) = step(timings, LOGIN_POST, post).await?;
    expect(status, StatusCode::SEE_OTHER, "login", &body)?;
    jar.store(&headers);
    if jar.get("gatehouse_session").is_none() {
        return Err(answer("login set no session cookie"));
    }
    let code = code_of(ctx, &location(&headers)?, &state)?;
    exchange(ctx, http, timings, &code, &verifier).await
}

/// A logged-in browser's authorization: the code at once, then (with
/// `redeem`) the exchange, whose refresh token it returns.
async fn code_exchange(
    ctx: &Ctx,
    http: &Client,
    jar: &mut Jar,
    timings: &mut Timings,
    redeem: bool,
) -> Result<Option<String>, Failure> {
    let state = random_b64(12);
    let (to, verifier) = authorize(ctx, http, jar, timings, &state).await?;
    let code = code_of(ctx, &to, &state)?;
    if !redeem {
        return Ok(None);
    }
    exchange(ctx, http, timings, &code, &verifier)
        .await
        .map(Some)
}

async fn refresh(
    ctx: &Ctx,
    http: &Client,
    timings: &mut Timings,
    refresh_token: &str,
) -> Result<String, Failure> {
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ]);
    token(ctx, http, timings, TOKEN_REFRESH, body).await
}

/// `POST /token` `grant_type=client_credentials`: an access token, no
/// refresh token, no ID token (RFC 6749 §4.4.3).
async fn client_credentials(
    ctx: &Ctx,
    http: &Client,
    timings: &mut Timings,
) -> Result<(), Failure> {
    let req = http
        .post(format!("{}/token", ctx.issuer))
        .header(AUTHORIZATION, ctx.basic.clone())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "client_credentials"),
            ("scope", "api"),
        ]));
    let (status, _, body) = step(timings, TOKEN_CLIENT, req).await?;
    expect(status, StatusCode::OK, STEPS[TOKEN_CLIENT], &body)?;
    if !body.contains("\"access_token\"") {
        return Err(answer("token answer without access_token"));
    }
    Ok(())
}

/// `GET {issuer}/.well-known/openid-configuration`, which names the issuer.
async fn discovery(ctx: &Ctx, http: &Client, timings: &mut Timings) -> Result<(), Failure> {
    let req = http.get(format!("{}/.well-known/openid-configuration", ctx.issuer));
    let (status, _, body) = step(timings, DISCOVERY, req).await?;
    expect(status, StatusCode::OK, STEPS[DISCOVERY], &body)?;
    if !body.contains("\"issuer\"") {
        return Err(answer("discovery document without issuer"));
    }
    Ok(())
}

/// A worker's state between operations.
struct Worker {
    http: Client,
    jar: Jar,
    refresh_token: String,
}

/// A client keeping at most `connections` idle connections open.
fn http_client(connections: usize) -> anyhow::Result<Client> {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(connections.max(1))
        .build()
        .context("building the HTTP client")
}

/// A worker ready to run: for `refresh` and `code-exchange`, one login first.
async fn prepare(ctx: &Ctx) -> anyhow::Result<Worker> {
    let http = http_client(1)?;
    let mut jar = Jar::default();
    let mut refresh_token = String::new();
    if ctx.args.scenario.needs_user() && ctx.args.scenario != Scenario::CodeFlow {
        let mut last = None;
        for _ in 0..3 {
            jar = Jar::default();
            match code_flow(ctx, &http, &mut jar, &mut Vec::new()).await {
                Ok(rt) => {
                    last = None;
                    refresh_token = rt;
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        if let Some(e) = last {
            bail!("setting up a worker: {e}");
        }
    }
    Ok(Worker {
        http,
        jar,
        refresh_token,
    })
}

/// Runs one worker until the end of the window; a broken chain or session
/// is set up again with a new login (outside the samples).
async fn run(ctx: Arc<Ctx>, mut w: Worker, window: Window) -> Samples {
    let mut samples = Samples::default();
    let mut consecutive_failures = 0u32;
    while Instant::now() < window.end {
        let mut timings = Timings::new();
        let t0 = Instant::now();
        let result = match ctx.args.scenario {
            Scenario::CodeFlow => {
                w.jar = Jar::default();
                code_flow(&ctx, &w.http, &mut w.jar, &mut timings)
                    .await
                    .map(Some)
            }
            Scenario::CodeExchange | Scenario::Authorize => {
                let redeem = ctx.args.scenario == Scenario::CodeExchange;
                let (http, jar) = (&w.http, &mut w.jar);
                code_exchange(&ctx, http, jar, &mut timings, redeem).await
            }
            Scenario::Refresh => refresh(&ctx, &w.http, &mut timings, &w.refresh_token)
                .await
                .map(Some),
            Scenario::ClientCredentials => client_credentials(&ctx, &w.http, &mut timings)
                .await
                .map(|()| None),
            Scenario::Discovery => discovery(&ctx, &w.http, &mut timings).await.map(|()| None),
        };
        let t1 = Instant::now();
        samples.add(window, t0, t1, &result, timings);
        match result {
            Ok(rt) => {
                consecutive_failures = 0;
                if let Some(rt) = rt {
                    w.refresh_token = rt;
                }
            }
            Err(_) => {
                consecutive_failures += 1;
                if consecutive_failures >= 20 {
                    // Bounded: a server that keeps failing ends this worker.
                    break;
                }
                if ctx.args.scenario.needs_user() && ctx.args.scenario != Scenario::CodeFlow {
                    if let Ok(fresh) = prepare(&ctx).await {
                        w = fresh;
                    }
                }
            }
        }
    }
    samples
}

/// One operation of the open loop: `client-credentials`, `discovery`, or a
/// whole `code-flow` with a cookie jar of its own (a new browser).
async fn one(ctx: &Ctx, http: &Client, timings: &mut Timings) -> Result<(), Failure> {
    match ctx.args.scenario {
        Scenario::ClientCredentials => client_credentials(ctx, http, timings).await,
        Scenario::Discovery => discovery(ctx, http, timings).await,
        Scenario::CodeFlow => code_flow(ctx, http, &mut Jar::default(), timings)
            .await
            .map(|_| ()),
        other => Err(answer(format!("{other:?} cannot run at a fixed rate"))),
    }
}

/// Whether `--rate` can drive a scenario: each operation stands alone (no
/// worker's chain or session carried from one to the next).
fn runs_at_rate(scenario: Scenario) -> bool {
    matches!(
        scenario,
        Scenario::ClientCredentials | Scenario::Discovery | Scenario::CodeFlow
    )
}

/// What one operation of the open loop reports: when it was due, when it
/// ended, how, and its step.
type Done = (Instant, Instant, Result<(), Failure>, Timings);

/// The open loop: operation `i` is due at `first + i / rate`, from the
/// warm-up to the end of the window, and its latency counts from then. A
/// thread of its own keeps the schedule (tokio's timer ticks in whole
/// milliseconds, which would add up to 1 ms to every latency); the
/// requests run on the runtime. At most `concurrency` are in flight; when
/// that many are, the next waits for one to finish, and its wait counts in
/// its latency.
async fn run_at_rate(ctx: Arc<Ctx>, rate: f64, first: Instant, window: Window) -> Samples {
    let mut samples = Samples::default();
    let http = match http_client(ctx.args.concurrency) {
        Ok(h) => h,
        Err(e) => {
            samples.fail(&Failure::Transport(e.to_string()));
            return samples;
        }
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Done>();
    let runtime = tokio::runtime::Handle::current();
    let limit = ctx.args.concurrency.max(1);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let interval = Duration::from_secs_f64(1.0 / rate);
    let scheduler = std::thread::Builder::new()
        .name("oidc-load-schedule".into())
        .spawn(move || {
            let mut due = first;
            while due < window.end {
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                while in_flight.load(Ordering::Acquire) >= limit {
                    std::thread::sleep(Duration::from_micros(100));
                }
                in_flight.fetch_add(1, Ordering::AcqRel);
                let (ctx, http, tx) = (ctx.clone(), http.clone(), tx.clone());
                let in_flight = in_flight.clone();
                runtime.spawn(async move {
                    let mut timings = Timings::new();
                    let result = one(&ctx, &http, &mut timings).await;
                    in_flight.fetch_sub(1, Ordering::AcqRel);
                    let _ = tx.send((due, Instant::now(), result, timings));
                });
                due += interval;
            }
        });
    if let Err(e) = scheduler {
        samples.fail(&Failure::Transport(format!("starting the scheduler: {e}")));
        return samples;
    }
    // The channel closes when the scheduler and every request are done.
    while let Some((t0, t1, result, timings)) = rx.recv().await {
        samples.add(window, t0, t1, &result, timings);
    }
    samples
}

/// The processes whose command line (`/proc/PID/cmdline`, arguments joined
/// by spaces) contains one of `matches`.
fn matching_pids(matches: &[String]) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let line = String::from_utf8_lossy(&c).replace('\0', " ");
                // Not this generator, nor a wrapper, whose arguments hold the strings.
                !line.contains("--aux-match") && matches.iter().any(|m| line.contains(m.as_str()))
            })
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// CPU microseconds of some processes, by pid.
type ProcessTimes = Vec<(u32, u64)>;

/// CPU microseconds now: the server's, and that of each process matching
/// `--aux-match`.
fn cpu_now(args: &Args) -> anyhow::Result<(Option<u64>, ProcessTimes)> {
    let server = args
        .server_pid
        .map(|p| gatehouse_bench::cpu_us(p, args.clk_tck))
        .transpose()?;
    let aux = if args.aux_matches.is_empty() {
        Vec::new()
    } else {
        matching_pids(&args.aux_matches)
            .into_iter()
            .filter_map(|p| Some((p, gatehouse_bench::cpu_us(p, args.clk_tck).ok()?)))
            .collect()
    };
    Ok((server, aux))
}

/// The aux CPU spent between two readings: for each process alive at the
/// second, its time since the first, or all of it if it started in between
/// (a database connection opened during the run). A process that ended in
/// between is lost: its time since the first reading is not counted.
fn aux_delta(before: &[(u32, u64)], after: &[(u32, u64)]) -> u64 {
    after
        .iter()
        .map(|(pid, t)| {
            let t0 = before
                .iter()
                .find(|(p, _)| p == pid)
                .map_or(0, |(_, t0)| *t0);
            t.saturating_sub(t0)
        })
        .sum()
}

/// (count, mean, stdev, p50, p90, p99, max) of sorted samples.
fn stats(sorted: &[u64]) -> (usize, f64, f64, u64, u64, u64, u64) {
    let n = sorted.len();
    if n == 0 {
        return (0, 0.0, 0.0, 0, 0, 0, 0);
    }
    // Exact to far beyond what is measured: at most ~10^7 samples of
    // microseconds.
    #[allow(clippy::cast_precision_loss)]
    let nf = n as f64;
    #[allow(clippy::cast_precision_loss)]
    let mean = sorted.iter().map(|&v| v as f64).sum::<f64>() / nf;
    #[allow(clippy::cast_precision_loss)]
    let var = sorted
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / nf;
    let rank = |p: usize| {
        // Nearest rank: the smallest value with at least p % of the samples
        // at or below it.
        let r = (p * n).div_ceil(100).max(1);
        sorted[r - 1]
    };
    (
        n,
        mean,
        var.sqrt(),
        rank(50),
        rank(90),
        rank(99),
        sorted[n - 1],
    )
}

async fn main_async(args: Args) -> anyhow::Result<()> {
    let issuer = format!("{}/t/{}", args.base.trim_end_matches('/'), args.tenant);
    let userpass = format!(
        "{}:{}",
        form_component(&args.client_id),
        form_component(&args.client_secret)
    );
    let basic = HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(userpass)))
        .context("client credentials")?;
    let concurrency = args.concurrency.max(1);
    let (warmup, duration) = (args.warmup, args.duration.max(1));
    if args.scenario.needs_user()
        && (args.username.is_empty() || args.password.is_empty() || args.redirect_uri.is_empty())
    {
        bail!(
            "{:?} needs --username, --password (or OIDC_LOAD_PASSWORD) and --redirect-uri",
            args.scenario
        );
    }
    let rate = match args.rate {
        None => None,
        Some(r) if r.is_finite() && r > 0.0 && r <= 1e6 && runs_at_rate(args.scenario) => Some(r),
        Some(_) if !runs_at_rate(args.scenario) => {
            bail!("--rate is for client-credentials, discovery and code-flow")
        }
        Some(r) => bail!("--rate {r}: a number of operations per second, above 0"),
    };
    let ctx = Arc::new(Ctx {
        args,
        issuer,
        basic,
    });

    let mut tasks = Vec::with_capacity(concurrency);
    let window = if let Some(rate) = rate {
        eprintln!(
            "oidc-load: {:?}, {rate}/s, at most {concurrency} at a time",
            ctx.args.scenario
        );
        let first = Instant::now();
        let start = first + Duration::from_secs(warmup);
        let window = Window {
            start,
            end: start + Duration::from_secs(duration),
        };
        tasks.push(tokio::spawn(run_at_rate(ctx.clone(), rate, first, window)));
        window
    } else {
        eprintln!(
            "oidc-load: {:?}, {concurrency} workers, setting up",
            ctx.args.scenario
        );
        let mut setups = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            let ctx = ctx.clone();
            setups.push(tokio::spawn(async move { prepare(&ctx).await }));
        }
        let mut workers = Vec::with_capacity(concurrency);
        for s in setups {
            workers.push(s.await.context("a set-up task failed")??);
        }
        let start = Instant::now() + Duration::from_secs(warmup);
        let window = Window {
            start,
            end: start + Duration::from_secs(duration),
        };
        for w in workers {
            tasks.push(tokio::spawn(run(ctx.clone(), w, window)));
        }
        window
    };
    eprintln!("oidc-load: {warmup} s warm-up, then {duration} s measured");
    tokio::time::sleep_until(window.start.into()).await;
    let cpu0 = cpu_now(&ctx.args)?;
    tokio::time::sleep_until(window.end.into()).await;
    let cpu1 = cpu_now(&ctx.args)?;

    let mut all = Samples::default();
    for t in tasks {
        all.merge(t.await.context("a worker task failed")?);
    }
    all.ops.sort_unstable();
    let (n, mean, stdev, p50, p90, p99, max) = stats(&all.ops);
    let duration_us = duration * 1_000_000;
    #[allow(clippy::cast_precision_loss)]
    let rps = n as f64 / duration as f64;
    let mut line = format!(
        "RESULT requests={n} duration_us={duration_us} rps={rps:.1} mean_us={mean:.1} \
         stdev_us={stdev:.1} p50_us={p50} p90_us={p90} p99_us={p99} max_us={max} \
         non2xx={} errors={} http_requests={}",
        all.non2xx, all.errors, all.http_requests
    );
    if let (Some(a), Some(b)) = (cpu0.0, cpu1.0) {
        let _ = write!(line, " cpu_us={}", b.saturating_sub(a));
    }
    if !ctx.args.aux_matches.is_empty() {
        let _ = write!(line, " aux_cpu_us={}", aux_delta(&cpu0.1, &cpu1.1));
    }
    println!("{line}");
    eprintln!(
        "oidc-load: {n} {} in {duration} s: {rps:.1}/s, mean {mean:.0} us, p50 {p50} us, \
         p99 {p99} us, max {max} us; {} unexpected answers, {} transport errors",
        if ctx.args.scenario == Scenario::CodeFlow {
            "flows"
        } else {
            "operations"
        },
        all.non2xx,
        all.errors
    );
    for (i, name) in STEPS.iter().enumerate() {
        let s = &mut all.steps[i];
        if s.is_empty() {
            continue;
        }
        s.sort_unstable();
        let (n, mean, _, p50, _, p99, _) = stats(s);
        println!("STEP name={name} count={n} mean_us={mean:.1} p50_us={p50} p99_us={p99}");
        eprintln!("  {name:<14} {n:>7} mean {mean:>9.0} us  p50 {p50:>7} us  p99 {p99:>7} us");
    }
    for e in &all.examples {
        eprintln!("  failure: {e}");
    }
    Ok(())
}

/// RFC 6749 §2.3.1: the client id and secret are form-urlencoded before
/// they are joined for HTTP Basic.
fn form_component(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let limit = Duration::from_secs(args.warmup + args.duration + 120);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .context("starting the runtime")?;
    // Bounded in time whatever the server does: set-up, run and reports.
    runtime.block_on(async {
        tokio::time::timeout(limit, main_async(args))
            .await
            .map_err(|_| anyhow!("gave up after {} s", limit.as_secs()))?
    })
}
