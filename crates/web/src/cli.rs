//! The `gatehouse` command line. Every command takes `--json` for scripts;
//! bad input gets a clear message on standard error and a non-zero exit
//! status, and changes nothing.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use gatehouse_core::config::Config;
use gatehouse_core::crypto::{random_token, PasswordHasher};
use gatehouse_core::db::migrate;
use gatehouse_core::Db;
use gatehouse_oidc::{clients, users};
use gatehouse_tenancy::{TenantError, TenantRecord, TenantStatus, Tenants};
use serde_json::json;

use crate::commands::{self, ClientCommand, KeysCommand, UserCommand};
use crate::server::{event_bus, serve};
use crate::state::AppState;

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Gatehouse: a multi-tenant OpenID Connect provider"
)]
pub struct Cli {
    /// Settings file (default: $GATEHOUSE_CONFIG, else config/gatehouse.toml).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve HTTP on GATEHOUSE_LISTEN.
    Serve,
    /// Create or update the schema and the server's database role (as the owner, GATEHOUSE_DATABASE_ADMIN_URL).
    Migrate(JsonFlag),
    /// Create (or refresh) the demo tenant `demo` with one client and one user, and print how to reach them.
    Demo(JsonFlag),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// A tenant's signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// A tenant's OAuth clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// A tenant's users.
    #[command(subcommand)]
    User(UserCommand),
    /// Print the management API's OpenAPI 3.1 document (needs no database).
    Openapi {
        /// Print the Markdown reference (docs/management-api.md) instead.
        #[arg(long)]
        markdown: bool,
    },
}

#[derive(Debug, Args)]
struct JsonFlag {
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create a tenant.
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// List tenants in slug order (keyset pagination).
    List {
        /// Start after this slug.
        #[arg(long)]
        after: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Suspend a tenant: every endpoint of it answers 403 on every node.
    Suspend {
        slug: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Archive a tenant: it stops serving (403, like suspended) and keeps
    /// its data and slug; `tenant activate` restores it.
    Archive {
        slug: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Activate a suspended or archived (inactive) tenant.
    Activate {
        slug: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Print a tenant as one JSON document: settings, custom roles and
    /// clients, with --with-users its users (with password hashes), and
    /// with --with-mfa as well their second factors.
    Export {
        slug: String,
        /// Include the users, their password hashes and roles.
        #[arg(long)]
        with_users: bool,
        /// With --with-users: also their second factors (authenticator-app
        /// secrets in the clear, recovery-code hashes, passkeys). Keep such
        /// a document as you would the factors themselves.
        #[arg(long)]
        with_mfa: bool,
    },
    /// Create a tenant from an export document (FILE, or - for standard input).
    Import {
        file: std::path::PathBuf,
        /// Create it under this slug instead of the document's.
        #[arg(long)]
        slug: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Delete a tenant and everything it owns. Cannot be undone.
    Delete {
        slug: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        out: JsonFlag,
    },
}

fn transfer_failure(e: gatehouse_admin::transfer::TransferError) -> Failure {
    use gatehouse_admin::transfer::TransferError;
    match e {
        TransferError::Invalid(m) => Failure::new("invalid_input", m),
        TransferError::Tenant(e) => e.into(),
        TransferError::Settings(e) => Failure::new("invalid_input", e.to_string()),
        TransferError::Seal(e @ gatehouse_core::secretbox::SealError::NoKey) => {
            Failure::new("no_master_key", e.to_string())
        }
        TransferError::Seal(e) => Failure::new("key_error", e.to_string()),
        TransferError::Store(e) => Failure::new("database_error", e.to_string()),
    }
}

/// A failed command: what to tell the user, and a stable code for `--json`.
#[derive(Debug)]
pub struct Failure {
    code: &'static str,
    message: String,
}

impl Failure {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<TenantError> for Failure {
    fn from(e: TenantError) -> Self {
        let code = match &e {
            TenantError::Slug(gatehouse_core::SlugError::Reserved) => "reserved_tenant",
            TenantError::Slug(_) => "invalid_slug",
            TenantError::DisplayName => "invalid_name",
            TenantError::Duplicate => "duplicate_slug",
            TenantError::NotFound => "unknown_tenant",
            TenantError::Reserved(_) => "reserved_tenant",
            TenantError::Db(_) => "database_error",
        };
        Self::new(code, e.to_string())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self::new("error", format!("{e:#}"))
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.command.json();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(json, Failure::new("invalid_configuration", e.to_string())),
    };
    crate::telemetry::init(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(json, Failure::new("error", e.to_string())),
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => fail(json, f),
    }
}

fn fail(json: bool, f: Failure) -> ExitCode {
    if json {
        println!("{}", json!({ "error": f.code, "message": f.message }));
    }
    eprintln!("error: {}", f.message);
    ExitCode::FAILURE
}

impl Command {
    fn json(&self) -> bool {
        match self {
            Command::Serve | Command::Openapi { .. } => false,
            Command::Migrate(o) | Command::Demo(o) => o.json,
            Command::Tenant(t) => match t {
                TenantCommand::Create { out, .. }
                | TenantCommand::List { out, .. }
                | TenantCommand::Suspend { out, .. }
                | TenantCommand::Activate { out, .. }
                | TenantCommand::Archive { out, .. }
                | TenantCommand::Import { out, .. }
                | TenantCommand::Delete { out, .. } => out.json,
                // Its output is the document itself (JSON); errors too.
                TenantCommand::Export { .. } => true,
            },
            Command::Keys(KeysCommand::List(a) | KeysCommand::Rotate(a)) => a.json,
            Command::Keys(KeysCommand::Reseal { json }) => *json,
            Command::Client(ClientCommand::Create(c)) => c.tenant.json,
            Command::Client(ClientCommand::List(a) | ClientCommand::Delete { tenant: a, .. }) => {
                a.json
            }
            Command::User(UserCommand::Create(u)) => u.tenant.json,
        }
    }
}

async fn run(command: Command, config: Config) -> Result<(), Failure> {
    match command {
        Command::Serve => Ok(serve(config).await?),
        Command::Openapi { markdown } => {
            let doc = gatehouse_admin::api::openapi_json();
            if markdown {
                let value: serde_json::Value =
                    serde_json::from_str(&doc).map_err(|e| Failure::new("error", e.to_string()))?;
                print!("{}", gatehouse_admin::api::reference::markdown(&value));
            } else {
                println!("{doc}");
            }
            Ok(())
        }
        Command::Migrate(out) => {
            let report = migrate(&config.database_admin_url, &config.database_url)
                .await
                .map_err(|e| Failure::new("migration_failed", e.to_string()))?;
            if out.json {
                println!("{}", json!(report));
            } else {
                println!(
                    "migrated: {} migration(s) applied; server role {:?}{}; _platforms tenant {}",
                    report.applied.len(),
                    report.server_role,
                    if report.server_role_created {
                        " created"
                    } else {
                        " up to date"
                    },
                    if report.platforms_tenant_created {
                        "created"
                    } else {
                        "present"
                    },
                );
            }
            Ok(())
        }
        Command::Demo(out) => demo(config, out.json).await,
        Command::Tenant(cmd) => tenant(cmd, config).await,
        Command::Keys(cmd) => commands::keys(&app_state(config)?, cmd).await,
        Command::Client(cmd) => commands::client(&app_state(config)?, cmd).await,
        Command::User(cmd) => commands::user(&app_state(config)?, cmd).await,
    }
}

/// The application state for a command: the server's database role and
/// the configured event bus (so key rotations reach running nodes).
fn app_state(config: Config) -> Result<AppState, Failure> {
    let db = Db::connect_lazy(&config.database_url, 2)
        .map_err(|e| Failure::new("database_error", e.to_string()))?;
    let bus = event_bus(&config)?;
    AppState::new(config, db, bus).map_err(|e| Failure::new("invalid_configuration", e))
}

async fn tenants(config: &Config) -> Result<Tenants, Failure> {
    let db = Db::connect_lazy(&config.database_url, 2)
        .map_err(|e| Failure::new("database_error", e.to_string()))?;
    let bus = event_bus(config)?;
    Ok(Tenants::new(db, bus))
}

fn print_tenant(t: &TenantRecord, json: bool, verb: &str) {
    if json {
        println!("{}", json!(t));
    } else {
        println!(
            "{verb} tenant {} ({}) id={} status={}",
            t.slug,
            t.display_name,
            t.id,
            t.status.as_str()
        );
    }
}

async fn tenant(cmd: TenantCommand, config: Config) -> Result<(), Failure> {
    let tenants = tenants(&config).await?;
    match cmd {
        TenantCommand::Create { slug, name, out } => {
            let t = tenants.create(&slug, &name).await?;
            // Its signing keys are made now (building its provider creates
            // them), so the tenant is complete before its first request.
            let state = app_state(config.clone())?;
            if state.keyring.has_current() {
                state
                    .tenancy
                    .pool
                    .get(std::sync::Arc::new(t.clone()))
                    .await
                    .map_err(|e| Failure::new("key_error", e.to_string()))?;
            } else {
                eprintln!("warning: GATEHOUSE_MASTER_KEY is not set; the tenant's signing keys will be created by the first server that serves it");
            }
            print_tenant(&t, out.json, "created");
        }
        TenantCommand::List { after, limit, out } => {
            if !(1..=1000).contains(&limit) {
                return Err(Failure::new(
                    "invalid_limit",
                    "--limit must be between 1 and 1000",
                ));
            }
            let list = tenants.list(after.as_deref(), limit).await?;
            if out.json {
                println!("{}", json!(list));
            } else {
                println!("{:<40} {:<10} NAME", "SLUG", "STATUS");
                for t in &list {
                    println!(
                        "{:<40} {:<10} {}",
                        t.slug.as_str(),
                        t.status.as_str(),
                        t.display_name
                    );
                }
            }
        }
        TenantCommand::Suspend { slug, out } => {
            let t = tenants.set_status(&slug, TenantStatus::Suspended).await?;
            print_tenant(&t, out.json, "suspended");
        }
        TenantCommand::Export {
            slug,
            with_users,
            with_mfa,
        } => {
            if with_mfa && !with_users {
                return Err(Failure::new(
                    "invalid_input",
                    "--with-mfa needs --with-users: second factors travel with their users",
                ));
            }
            let state = app_state(config.clone())?;
            let record = tenants.get(&slug).await?;
            let include = gatehouse_admin::transfer::Include {
                users: with_users,
                mfa: with_mfa,
            };
            let doc = gatehouse_admin::transfer::export(
                &state.db,
                &state.keyring,
                &record,
                include,
                gatehouse_core::audit::Actor::system(),
            )
            .await
            .map_err(transfer_failure)?;
            let text = serde_json::to_string_pretty(&doc)
                .map_err(|e| Failure::new("error", e.to_string()))?;
            println!("{text}");
        }
        TenantCommand::Import { file, slug, out } => {
            let raw = if file.as_os_str() == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| Failure::new("invalid_input", format!("standard input: {e}")))?;
                s
            } else {
                std::fs::read_to_string(&file).map_err(|e| {
                    Failure::new("invalid_input", format!("{}: {e}", file.display()))
                })?
            };
            let doc: gatehouse_admin::transfer::TenantDocument = serde_json::from_str(&raw)
                .map_err(|e| {
                    Failure::new("invalid_input", format!("not a tenant document: {e}"))
                })?;
            let state = app_state(config.clone())?;
            let platform =
                gatehouse_tenancy::settings::EffectiveSettings::platform(&config.settings);
            let importer = gatehouse_admin::transfer::Importer {
                db: &state.db,
                bus: &state.bus,
                keyring: &state.keyring,
                platform: &platform,
                tenants: &state.tenancy.tenants,
                actor: gatehouse_core::audit::Actor::system(),
                allow_http: config.environment == gatehouse_core::config::Environment::Development,
            };
            let t = gatehouse_admin::transfer::import(&importer, &doc, slug.as_deref())
                .await
                .map_err(transfer_failure)?;
            print_tenant(&t, out.json, "imported");
        }
        TenantCommand::Archive { slug, out } => {
            let t = tenants.set_status(&slug, TenantStatus::Inactive).await?;
            print_tenant(&t, out.json, "archived");
        }
        TenantCommand::Activate { slug, out } => {
            let t = tenants.set_status(&slug, TenantStatus::Active).await?;
            print_tenant(&t, out.json, "activated");
        }
        TenantCommand::Delete { slug, yes, out } => {
            if !yes {
                return Err(Failure::new(
                    "confirmation_required",
                    format!("deleting tenant {slug:?} removes everything it owns and cannot be undone; add --yes"),
                ));
            }
            let t = tenants.delete(&slug).await?;
            // Its rows went with it (by cascade); its short-lived entries in
            // Redis go now. A failure here leaves only entries that expire.
            let kv = app_state(config.clone())?.kv;
            if let Err(e) = kv.purge_tenant(t.id).await {
                eprintln!("warning: the tenant's entries in Redis were not all removed ({e}); they expire on their own");
            }
            print_tenant(&t, out.json, "deleted");
        }
    }
    Ok(())
}

const DEMO_SLUG: &str = "demo";
const DEMO_USER: &str = "demo";
const DEMO_CLIENT: &str = "Demo application";
const DEMO_REDIRECT: &str = "http://127.0.0.1:8090/callback";

/// Idempotent: creates what is missing and gives the user and the client
/// fresh secrets every run, so the printed credentials are always valid.
async fn demo(config: Config, json_out: bool) -> Result<(), Failure> {
    let tenants = tenants(&config).await?;
    let tenant = match tenants.create(DEMO_SLUG, "Demo").await {
        Ok(t) => t,
        // An existing demo tenant is made active again.
        Err(TenantError::Duplicate) => tenants.set_status(DEMO_SLUG, TenantStatus::Active).await?,
        Err(e) => return Err(e.into()),
    };
    let db = Db::connect_lazy(&config.database_url, 2)
        .map_err(|e| Failure::new("database_error", e.to_string()))?;
    let password: String = random_token().chars().take(20).collect();
    let hasher = PasswordHasher::new(1).map_err(|e| Failure::new("error", e.to_string()))?;
    let hash = hasher
        .hash(password.clone())
        .await
        .map_err(|e| Failure::new("error", e.to_string()))?;
    let store = |e: gatehouse_oidc::StoreError| Failure::new("database_error", e.to_string());

    let mut tx = db
        .tenant_tx(tenant.id)
        .await
        .map_err(|e| Failure::new("database_error", e.to_string()))?;
    match users::find_by_username(&mut tx, DEMO_USER)
        .await
        .map_err(store)?
    {
        Some(u) => users::set_password_hash(&mut tx, u.id, &hash)
            .await
            .map_err(store)?,
        None => {
            let new = users::NewUser {
                username: DEMO_USER.into(),
                email: Some("demo@example.com".into()),
                name: Some("Demo User".into()),
                password_hash: Some(hash),
            };
            users::create(&mut tx, new).await.map_err(store)?;
        }
    }
    let (client_id, secret) = match clients::find_by_name(&mut tx, DEMO_CLIENT)
        .await
        .map_err(store)?
    {
        Some(c) => {
            let secret = clients::rotate_secret(&mut tx, &c.client_id)
                .await
                .map_err(store)?;
            (c.client_id, secret)
        }
        None => {
            let new = clients::NewClient {
                name: DEMO_CLIENT.into(),
                redirect_uris: vec![DEMO_REDIRECT.into()],
                post_logout_redirect_uris: vec!["http://127.0.0.1:8090/".into()],
                public: false,
                first_party: false,
                allow_http: false,
                auth_method: None,
                grant_types: vec![],
                scopes: vec![],
                jwks: None,
                jwks_uri: None,
            };
            let (c, secret) = clients::create(&mut tx, new).await.map_err(store)?;
            (c.client_id, secret.unwrap_or_default())
        }
    };
    tx.commit()
        .await
        .map_err(|e| Failure::new("database_error", e.to_string()))?;

    let state = AppState::new(
        config.clone(),
        db,
        gatehouse_core::events::EventBus::local(),
    )
    .map_err(|e| Failure::new("invalid_configuration", e))?;
    let provider = state
        .tenancy
        .pool
        .get(std::sync::Arc::new(tenant.clone()))
        .await
        .map_err(|e| Failure::new("database_error", e.to_string()))?;
    let base = &config.public_url;
    if json_out {
        println!(
            "{}",
            json!({
                "tenant": tenant.slug, "issuer": provider.issuer,
                "tenant_info": format!("{}/tenant", provider.issuer),
                "discovery": format!("{}/.well-known/openid-configuration", provider.issuer),
                "user": { "username": DEMO_USER, "password": password },
                "client": { "client_id": client_id, "client_secret": secret, "redirect_uri": DEMO_REDIRECT },
            })
        );
    } else {
        println!("Demo tenant ready.");
        println!("  issuer           {}", provider.issuer);
        println!(
            "  discovery        {}/.well-known/openid-configuration",
            provider.issuer
        );
        println!("  tenant info      {}/tenant", provider.issuer);
        println!("  health           {base}/_ops/healthz   readiness {base}/_ops/readyz   metrics {base}/_ops/metrics");
        println!("  demo user        {DEMO_USER} / {password}");
        println!("  demo client      client_id {client_id}");
        println!("                   client_secret {secret}");
        println!("                   redirect_uri {DEMO_REDIRECT}");
        println!("(the user's password and the client secret are new on every run)");
    }
    Ok(())
}
