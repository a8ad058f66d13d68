//! CLI commands that act inside one tenant: signing keys, clients, users.
//! Each opens the tenant's row-level-security context; secrets are printed
//! once and never logged.

use std::io::BufRead as _;

use clap::{Args, Subcommand};
use gatehouse_core::config::Environment;
use gatehouse_core::crypto::PasswordHasher;
use gatehouse_core::events::Change;
use gatehouse_oidc::{clients, keys, users, StoreError};
use gatehouse_tenancy::TenantRecord;
use serde_json::json;

use crate::cli::Failure;
use crate::state::AppState;

#[derive(Debug, Args)]
pub struct TenantArg {
    /// The tenant's slug.
    #[arg(long = "tenant", value_name = "SLUG")]
    pub slug: String,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List the tenant's signing keys and their states.
    List(TenantArg),
    /// Rotate now: retire the active keys, activate the next ones, create new next keys.
    Rotate(TenantArg),
    /// Re-seal every tenant's private keys under the current master key (after
    /// a master-key rotation), so the previous master key can be removed.
    Reseal {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its client_id and, once, its client_secret.
    Create(ClientCreate),
    /// List the tenant's clients.
    List(TenantArg),
    /// Delete a client.
    Delete {
        #[command(flatten)]
        tenant: TenantArg,
        /// The client_id to delete.
        client_id: String,
    },
}

#[derive(Debug, Args)]
pub struct ClientCreate {
    #[command(flatten)]
    pub tenant: TenantArg,
    #[arg(long)]
    pub name: String,
    /// A redirect URI (repeatable). https, or http on a loopback host (any host in development).
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Vec<String>,
    /// A post-logout redirect URI (repeatable).
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client (no secret; PKCE required).
    #[arg(long)]
    pub public: bool,
    /// client_secret_basic (default), client_secret_post, or none (public clients).
    #[arg(long = "auth-method")]
    pub auth_method: Option<String>,
    /// authorization_code, refresh_token, client_credentials (repeatable; default: the first two).
    #[arg(long = "grant-type", value_name = "GRANT")]
    pub grant_types: Vec<String>,
    /// A scope the client may request with client_credentials (repeatable, or space-separated).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// A file holding the client's public keys as a JWK Set (for --auth-method private_key_jwt).
    #[arg(long = "jwks", value_name = "FILE", conflicts_with = "jwks_uri")]
    pub jwks: Option<std::path::PathBuf>,
    /// Or the https URL where the client publishes its JWK Set (fetched and cached).
    #[arg(long = "jwks-uri", value_name = "URI")]
    pub jwks_uri: Option<String>,
    /// The algorithm of the client's ID tokens: RS256 (default), ES256 or EdDSA.
    #[arg(long = "id-token-alg", value_name = "ALG")]
    pub id_token_alg: Option<String>,
    /// A first-party client: users are not asked for consent.
    #[arg(long = "first-party")]
    pub first_party: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from the first line of standard input.
    Create(UserCreate),
}

#[derive(Debug, Args)]
pub struct UserCreate {
    #[command(flatten)]
    pub tenant: TenantArg,
    #[arg(long)]
    pub username: String,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub name: Option<String>,
    /// Read the password from standard input (required: passwords never go in arguments).
    #[arg(long = "password-stdin", required = true)]
    pub password_stdin: bool,
    /// Give the user a role (repeatable): owner, admin, member or readonly,
    /// platform_admin or platform_viewer at _platforms, or one of the
    /// tenant's custom roles. How a tenant gets its first owner.
    #[arg(long = "role", value_name = "ROLE")]
    pub roles: Vec<String>,
}

fn store(e: StoreError) -> Failure {
    match e {
        StoreError::Invalid(m) => Failure::new("invalid_input", m),
        StoreError::Duplicate => Failure::new("duplicate", "already exists in this tenant"),
        StoreError::NotFound => Failure::new("not_found", "no such item in this tenant"),
        StoreError::Db(e) => Failure::new("database_error", e.to_string()),
    }
}

fn db(e: impl std::fmt::Display) -> Failure {
    Failure::new("database_error", e.to_string())
}

async fn tenant(state: &AppState, slug: &str) -> Result<TenantRecord, Failure> {
    Ok(state.tenancy.tenants.get(slug).await?)
}

/// `keys reseal`: every tenant, a page of slugs at a time, one transaction
/// per tenant (a failure leaves the tenants before it done; run it again).
async fn reseal(state: &AppState, json: bool) -> Result<(), Failure> {
    if !state.keyring.has_current() {
        return Err(Failure::new(
            "no_master_key",
            "GATEHOUSE_MASTER_KEY must be set to re-seal keys",
        ));
    }
    let (mut tenants, mut resealed, mut after) = (0u64, 0u64, None::<String>);
    loop {
        let page = state
            .tenancy
            .tenants
            .list(after.as_deref(), 500)
            .await
            .map_err(|e| Failure::new("database_error", e.to_string()))?;
        let Some(last) = page.last() else { break };
        after = Some(last.slug.to_string());
        for record in &page {
            let mut tx = state.db.tenant_tx(record.id).await.map_err(db)?;
            let n = keys::reseal(&mut tx, &state.keyring)
                .await
                .map_err(|e| Failure::new("key_error", format!("tenant {}: {e}", record.slug)))?;
            tx.commit().await.map_err(db)?;
            tenants += 1;
            resealed += n;
        }
    }
    let current = state.keyring.current_id().unwrap_or_default();
    if json {
        println!(
            "{}",
            json!({ "tenants": tenants, "resealed": resealed, "master_key_id": current })
        );
    } else {
        println!("re-sealed {resealed} key(s) of {tenants} tenant(s) under master key {current:?}");
    }
    Ok(())
}

pub async fn keys(state: &AppState, cmd: KeysCommand) -> Result<(), Failure> {
    let (arg, rotate) = match &cmd {
        KeysCommand::List(a) => (a, false),
        KeysCommand::Rotate(a) => (a, true),
        KeysCommand::Reseal { json } => return reseal(state, *json).await,
    };
    let record = tenant(state, &arg.slug).await?;
    if rotate {
        if !state.keyring.has_current() {
            return Err(Failure::new(
                "no_master_key",
                "GATEHOUSE_MASTER_KEY must be set to create keys",
            ));
        }
        state
            .rotator()
            .rotate(&record)
            .await
            .map_err(|e| Failure::new("key_error", e.to_string()))?;
    }
    let mut tx = state.db.tenant_tx(record.id).await.map_err(db)?;
    let list = keys::list(&mut tx)
        .await
        .map_err(|e| Failure::new("key_error", e.to_string()))?;
    tx.commit().await.map_err(db)?;
    if arg.json {
        println!("{}", json!(list));
    } else {
        if rotate {
            println!("rotated the signing keys of tenant {}", record.slug);
        }
        println!("{:<45} {:<6} {:<8} CREATED", "KID", "ALG", "STATE");
        for k in &list {
            let state = serde_json::to_value(k.state).unwrap_or_default();
            println!(
                "{:<45} {:<6} {:<8} {}",
                k.kid,
                k.alg,
                state.as_str().unwrap_or(""),
                k.created_at
            );
        }
        if list.is_empty() {
            println!(
                "(no keys yet: they are created with the tenant's first request or `keys rotate`)"
            );
        }
    }
    Ok(())
}

/// A tenant's password policy (never weaker than the platform's), as the
/// sign-up and reset pages apply it.
pub(crate) async fn password_policy(
    state: &AppState,
    tenant: gatehouse_core::TenantId,
) -> Result<gatehouse_core::password_policy::PasswordPolicy, gatehouse_core::DbError> {
    let platform = gatehouse_tenancy::settings::EffectiveSettings::platform(&state.config.settings);
    gatehouse_tenancy::settings::password_policy(&state.db, &platform, tenant).await
}

async fn check_password_policy(
    state: &AppState,
    record: &TenantRecord,
    password: &str,
    context: &[&str],
) -> Result<(), Failure> {
    let policy = password_policy(state, record.id).await.map_err(db)?;
    let Err(violations) = policy.check(password, context) else {
        return Ok(());
    };
    let problems: Vec<String> = violations.iter().map(ToString::to_string).collect();
    Err(Failure::new(
        "weak_password",
        format!(
            "the password does not meet the tenant's password policy: {}",
            problems.join("; ")
        ),
    ))
}

pub async fn client(state: &AppState, cmd: ClientCommand) -> Result<(), Failure> {
    match cmd {
        ClientCommand::Create(c) => {
            let record = tenant(state, &c.tenant.slug).await?;
            let jwks = match &c.jwks {
                Some(path) => {
                    let text = std::fs::read_to_string(path).map_err(|e| {
                        Failure::new(
                            "invalid_input",
                            format!("cannot read {}: {e}", path.display()),
                        )
                    })?;
                    Some(serde_json::from_str(&text).map_err(|e| {
                        Failure::new(
                            "invalid_input",
                            format!("{} is not JSON: {e}", path.display()),
                        )
                    })?)
                }
                None => None,
            };
            let new = clients::NewClient {
                name: c.name,
                redirect_uris: c.redirect_uris,
                post_logout_redirect_uris: c.post_logout_redirect_uris,
                public: c.public,
                first_party: c.first_party,
                allow_http: state.config.environment == Environment::Development,
                auth_method: c.auth_method,
                grant_types: c.grant_types,
                scopes: c
                    .scopes
                    .iter()
                    .flat_map(|s| s.split_whitespace())
                    .map(str::to_owned)
                    .collect(),
                jwks,
                jwks_uri: c.jwks_uri,
            };
            let mut tx = state.db.tenant_tx(record.id).await.map_err(db)?;
            let (mut client, secret) = clients::create(&mut tx, new).await.map_err(store)?;
            if let Some(alg) = &c.id_token_alg {
                clients::set_id_token_alg(&mut tx, &client.client_id, alg)
                    .await
                    .map_err(store)?;
                client.id_token_signed_response_alg = alg.clone();
            }
            tx.commit().await.map_err(db)?;
            if c.tenant.json {
                let mut out = json!(client);
                if let (Some(secret), Some(obj)) = (&secret, out.as_object_mut()) {
                    obj.insert("client_secret".into(), json!(secret));
                }
                println!("{out}");
            } else {
                println!("created client {:?} in tenant {}", client.name, record.slug);
                println!("  client_id      {}", client.client_id);
                if let Some(secret) = secret {
                    println!("  client_secret  {secret}   (shown once; only its hash is stored)");
                }
            }
        }
        ClientCommand::List(arg) => {
            let record = tenant(state, &arg.slug).await?;
            let mut tx = state.db.tenant_tx(record.id).await.map_err(db)?;
            let list = clients::list(&mut tx).await.map_err(store)?;
            tx.commit().await.map_err(db)?;
            if arg.json {
                println!("{}", json!(list));
            } else {
                println!(
                    "{:<34} {:<20} {:<12} REDIRECT URIS",
                    "CLIENT ID", "AUTH METHOD", "TYPE"
                );
                for c in &list {
                    let kind = if c.public { "public" } else { "confidential" };
                    println!(
                        "{:<34} {:<20} {:<12} {}",
                        c.client_id,
                        c.auth_method,
                        kind,
                        c.redirect_uris.join(" ")
                    );
                }
            }
        }
        ClientCommand::Delete {
            tenant: arg,
            client_id,
        } => {
            let record = tenant(state, &arg.slug).await?;
            let mut tx = state.db.tenant_tx(record.id).await.map_err(db)?;
            clients::delete(&mut tx, &client_id).await.map_err(store)?;
            tx.commit().await.map_err(db)?;
            // Running nodes drop their cached copy of the client.
            state
                .tenancy
                .tenants
                .announce(&record, Change::Clients)
                .await;
            if arg.json {
                println!("{}", json!({ "deleted": client_id }));
            } else {
                println!("deleted client {client_id} from tenant {}", record.slug);
            }
        }
    }
    Ok(())
}

/// The password: the first line of standard input, without its line ending.
fn read_password() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        Failure::new(
            "invalid_input",
            format!("cannot read the password from standard input: {e}"),
        )
    })?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err(Failure::new(
            "invalid_input",
            "the password on standard input is empty",
        ));
    }
    if password.len() > 1024 {
        return Err(Failure::new(
            "invalid_input",
            "the password is longer than 1024 bytes",
        ));
    }
    Ok(password)
}

pub async fn user(state: &AppState, cmd: UserCommand) -> Result<(), Failure> {
    let UserCommand::Create(u) = cmd;
    let record = tenant(state, &u.tenant.slug).await?;
    let password = read_password()?;
    check_password_policy(
        state,
        &record,
        &password,
        &[&u.username, u.email.as_deref().unwrap_or_default()],
    )
    .await?;
    let hasher = PasswordHasher::new(1).map_err(|e| Failure::new("error", e.to_string()))?;
    let hash = hasher
        .hash(password)
        .await
        .map_err(|e| Failure::new("error", e.to_string()))?;
    let new = users::NewUser {
        username: u.username,
        email: u.email,
        name: u.name,
        password_hash: Some(hash),
    };
    let platforms = record.slug.as_str() == gatehouse_core::ids::PLATFORMS_SLUG;
    let mut tx = state.db.tenant_tx(record.id).await.map_err(db)?;
    let user = users::create(&mut tx, new).await.map_err(store)?;
    gatehouse_core::audit::record(
        &mut tx,
        &gatehouse_core::audit::Entry::new(
            gatehouse_core::audit::Actor::system(),
            gatehouse_core::audit::action::USER_CREATED,
        )
        .target("user", user.id)
        .details(json!({ "username": user.username, "by": "command line" })),
    )
    .await
    .map_err(db)?;
    for role in &u.roles {
        gatehouse_admin::roles::assign(&mut tx, platforms, user.id, role)
            .await
            .map_err(store)?;
        gatehouse_core::audit::record(
            &mut tx,
            &gatehouse_core::audit::Entry::new(
                gatehouse_core::audit::Actor::system(),
                gatehouse_core::audit::action::ROLE_ASSIGNED,
            )
            .target("user", user.id)
            .details(json!({ "role": role, "by": "command line" })),
        )
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    if u.tenant.json {
        println!("{}", json!(user));
    } else {
        println!(
            "created user {} ({}) in tenant {}",
            user.username, user.id, record.slug
        );
    }
    Ok(())
}
