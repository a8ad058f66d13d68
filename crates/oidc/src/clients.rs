//! OAuth clients (relying parties) of a tenant, read and written only inside
//! the tenant's context. Client secrets are 256-bit random values returned
//! once at creation or rotation and stored as a SHA-256 hash, compared in
//! constant time (`gatehouse_core::crypto::secret_matches`).

use gatehouse_core::crypto::{random_token, secret_hash};
use gatehouse_core::TenantTx;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreError;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub public: bool,
    pub first_party: bool,
    pub auth_method: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub id_token_signed_response_alg: String,
    /// Scopes the client may request with client_credentials.
    pub scopes: Vec<String>,
    /// The client's public keys for private_key_jwt (a JWK Set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// Or the URL where the client publishes them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// A disabled client authenticates nowhere and its tokens stop
    /// verifying; the protocol's lookups ([`find`], [`find_record`]) do not
    /// see it. [`get`] and the lists do.
    pub disabled: bool,
}

#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub first_party: bool,
    /// Plain-http redirect URIs are accepted for any host (development).
    pub allow_http: bool,
    /// Token endpoint authentication method (OpenID Connect Dynamic Client
    /// Registration §2): client_secret_basic (default for confidential
    /// clients), client_secret_post, or none (public clients).
    pub auth_method: Option<String>,
    /// Grant types; empty means authorization_code and refresh_token.
    pub grant_types: Vec<String>,
    /// Scopes the client may request with client_credentials.
    pub scopes: Vec<String>,
    /// Public keys for private_key_jwt, as a JWK Set.
    pub jwks: Option<serde_json::Value>,
    /// Or the URL of the client's JWK Set (never both).
    pub jwks_uri: Option<String>,
}

/// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
pub fn valid_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

pub const AUTH_METHODS: [&str; 4] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
];

/// A JWK Set of public keys usable for client assertions: every key parses,
/// has a kty, and holds no private member (RFC 7517 §4, RFC 7518 §6).
pub fn check_jwks(jwks: &serde_json::Value) -> Result<(), StoreError> {
    // Stored as jsonb: a number beyond the exact range would come back
    // unreadable and make the client unusable.
    if let Some(at) = gatehouse_tenancy::sections::unsafe_number(jwks, "jwks") {
        return Err(StoreError::Invalid(format!(
            "{at} is a number outside ±(2^53 - 1), which a JWK Set has no use for"
        )));
    }
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone())
        .map_err(|e| StoreError::Invalid(format!("the JWK Set does not parse: {e}")))?;
    if set.keys.is_empty() {
        return Err(StoreError::Invalid("the JWK Set has no keys".into()));
    }
    let private = ["d", "p", "q", "dp", "dq", "qi", "k"];
    let raw = jwks
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    if raw
        .iter()
        .any(|k| private.iter().any(|m| k.get(*m).is_some()))
    {
        return Err(StoreError::Invalid(
            "the JWK Set contains private key material; register public keys only".into(),
        ));
    }
    Ok(())
}
pub const GRANT_TYPES: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

impl NewClient {
    /// The authentication method and grant types, checked against each
    /// other and against the client type.
    fn checked(&self) -> Result<(&str, Vec<String>), StoreError> {
        let method = match (&self.auth_method, self.public) {
            (None, true) => "none",
            (None, false) => "client_secret_basic",
            (Some(m), _) if !AUTH_METHODS.contains(&m.as_str()) => {
                return Err(StoreError::Invalid(format!(
                    "unsupported auth method {m:?}; use one of {}",
                    AUTH_METHODS.join(", ")
                )))
            }
            (Some(m), true) if m != "none" => {
                return Err(StoreError::Invalid(
                    "a public client authenticates with \"none\"".into(),
                ))
            }
            (Some(m), false) if m == "none" => {
                return Err(StoreError::Invalid(
                    "auth method \"none\" is for public clients (--public)".into(),
                ))
            }
            (Some(m), _) => m.as_str(),
        };
        let grants = if self.grant_types.is_empty() {
            vec!["authorization_code".to_owned(), "refresh_token".to_owned()]
        } else {
            self.grant_types.clone()
        };
        for g in &grants {
            if !GRANT_TYPES.contains(&g.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "unsupported grant type {g:?}; use one of {}",
                    GRANT_TYPES.join(", ")
                )));
            }
        }
        if self.public && grants.iter().any(|g| g == "client_credentials") {
            return Err(StoreError::Invalid(
                "a public client cannot use client_credentials".into(),
            ));
        }
        if grants.iter().any(|g| g == "authorization_code") && self.redirect_uris.is_empty() {
            return Err(StoreError::Invalid(
                "the authorization_code grant needs at least one redirect URI".into(),
            ));
        }
        match (method, &self.jwks, &self.jwks_uri) {
            (_, Some(_), Some(_)) => {
                return Err(StoreError::Invalid(
                    "register the keys inline (--jwks) or by URL (--jwks-uri), not both".into(),
                ))
            }
            ("private_key_jwt", None, None) => {
                return Err(StoreError::Invalid(
                    "private_key_jwt needs the client's public keys (--jwks or --jwks-uri)".into(),
                ))
            }
            (_, Some(jwks), None) => check_jwks(jwks)?,
            (_, None, Some(uri)) => {
                crate::client_keys::check_jwks_uri(uri, self.allow_http)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
            }
            _ => {}
        }
        if let Some(bad) = self.scopes.iter().find(|s| !valid_scope_token(s)) {
            return Err(StoreError::Invalid(format!("{bad:?} is not a valid scope")));
        }
        Ok((method, grants))
    }
}

/// A registered redirect URI: absolute, no fragment (RFC 6749 §3.1.2), and
/// https unless the host is a loopback address (RFC 8252 §7.3) or the
/// deployment is in development.
pub fn check_redirect_uri(raw: &str, allow_http: bool) -> Result<String, StoreError> {
    let url = url::Url::parse(raw)
        .map_err(|_| StoreError::Invalid(format!("redirect URI {raw:?} is not an absolute URL")))?;
    if url.fragment().is_some() {
        return Err(StoreError::Invalid(format!(
            "redirect URI {raw:?} must not contain a fragment"
        )));
    }
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    match url.scheme() {
        "https" => {}
        "http" if loopback || allow_http => {}
        "http" => {
            return Err(StoreError::Invalid(format!(
                "redirect URI {raw:?} uses plain http; only loopback hosts may (or a development deployment)"
            )))
        }
        // Private-use schemes of native apps (RFC 8252 §7.1) contain a dot.
        s if s.contains('.') => {}
        _ => return Err(StoreError::Invalid(format!("redirect URI {raw:?} has an unsupported scheme"))),
    }
    Ok(raw.to_owned())
}

/// Creates a client; returns it with its secret (confidential clients only),
/// which is not stored and cannot be shown again.
pub async fn create(
    tx: &mut TenantTx,
    new: NewClient,
) -> Result<(Client, Option<String>), StoreError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(StoreError::Invalid(
            "client name must be 1 to 200 characters".into(),
        ));
    }
    let redirect_uris = new
        .redirect_uris
        .iter()
        .map(|u| check_redirect_uri(u, new.allow_http))
        .collect::<Result<Vec<_>, _>>()?;
    let post_logout = new
        .post_logout_redirect_uris
        .iter()
        .map(|u| check_redirect_uri(u, new.allow_http))
        .collect::<Result<Vec<_>, _>>()?;
    let (auth_method, grant_types) = new.checked()?;
    let secret = (!new.public && auth_method != "private_key_jwt").then(random_token);
    let client = sqlx::query_as!(
        Client,
        "insert into clients (tenant_id, id, client_id, name, secret_hash, public, first_party, auth_method,
                              redirect_uris, post_logout_redirect_uris, grant_types, scopes, jwks, jwks_uri)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         returning client_id, name, public, first_party, auth_method, redirect_uris,
                   post_logout_redirect_uris, grant_types, id_token_signed_response_alg, scopes, jwks, jwks_uri, created_at,
                   disabled",
        tx.tenant().as_uuid(),
        Uuid::new_v4(),
        Uuid::new_v4().simple().to_string(),
        name,
        secret.as_deref().map(secret_hash),
        new.public,
        new.first_party,
        auth_method,
        &redirect_uris,
        &post_logout,
        &grant_types,
        &new.scopes,
        new.jwks.as_ref(),
        new.jwks_uri.as_deref(),
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok((client, secret))
}

/// A client and its stored secret hash: what client authentication needs,
/// read in one select. Kept in the tenant's provider
/// ([`crate::provider::TenantProvider::client`]).
#[derive(Debug, Clone)]
pub struct ClientRecord {
    pub client: Client,
    /// SHA-256 of the secret; None for public and private_key_jwt clients.
    pub secret_hash: Option<String>,
}

pub async fn find_record(
    tx: &mut TenantTx,
    client_id: &str,
) -> Result<Option<ClientRecord>, StoreError> {
    let row = sqlx::query!(
        "select client_id, name, public, first_party, auth_method, redirect_uris,
                post_logout_redirect_uris, grant_types, id_token_signed_response_alg, scopes, jwks, jwks_uri,
                created_at, secret_hash
         from clients where client_id = $1 and not disabled",
        client_id,
    )
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| ClientRecord {
        client: Client {
            client_id: r.client_id,
            name: r.name,
            public: r.public,
            first_party: r.first_party,
            auth_method: r.auth_method,
            redirect_uris: r.redirect_uris,
            post_logout_redirect_uris: r.post_logout_redirect_uris,
            grant_types: r.grant_types,
            id_token_signed_response_alg: r.id_token_signed_response_alg,
            scopes: r.scopes,
            jwks: r.jwks,
            jwks_uri: r.jwks_uri,
            created_at: r.created_at,
            disabled: false,
        },
        secret_hash: r.secret_hash,
    }))
}

/// An enabled client, for the protocol (a disabled one is not found).
pub async fn find(tx: &mut TenantTx, client_id: &str) -> Result<Option<Client>, StoreError> {
    Ok(find_record(tx, client_id).await?.map(|r| r.client))
}

/// A client whether enabled or not, for administration.
pub async fn get(tx: &mut TenantTx, client_id: &str) -> Result<Option<Client>, StoreError> {
    Ok(sqlx::query_as!(
        Client,
        "select client_id, name, public, first_party, auth_method, redirect_uris,
                post_logout_redirect_uris, grant_types, id_token_signed_response_alg, scopes, jwks, jwks_uri,
                created_at, disabled
         from clients where client_id = $1",
        client_id,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// Disables or enables a client. Callers announce the change
/// (`Change::Clients`) so every node drops its cached copy; a disabled
/// client's refresh tokens are kept (enabling it restores its grants) but
/// cannot be redeemed, since the client cannot authenticate.
pub async fn set_disabled(
    tx: &mut TenantTx,
    client_id: &str,
    disabled: bool,
) -> Result<(), StoreError> {
    let n = sqlx::query!(
        "update clients set disabled = $2, updated_at = now() where client_id = $1",
        client_id,
        disabled,
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    tx.bump_tenant_version().await?;
    Ok(())
}

pub async fn find_by_name(tx: &mut TenantTx, name: &str) -> Result<Option<Client>, StoreError> {
    Ok(sqlx::query_as!(
        Client,
        "select client_id, name, public, first_party, auth_method, redirect_uris,
                post_logout_redirect_uris, grant_types, id_token_signed_response_alg, scopes, jwks, jwks_uri, created_at, disabled
         from clients where name = $1 order by created_at limit 1",
        name,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// A client as a tenant export carries it: its registration and its secret
/// hash (SHA-256 of a 256-bit random secret: the client keeps working
/// after an import, and the hash reveals nothing usable).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortableClient {
    pub client_id: String,
    pub name: String,
    pub public: bool,
    pub first_party: bool,
    pub auth_method: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub id_token_signed_response_alg: String,
    pub jwks: Option<serde_json::Value>,
    pub jwks_uri: Option<String>,
    pub secret_hash: Option<String>,
    /// Documents from before clients could be disabled carry no field.
    #[serde(default)]
    pub disabled: bool,
}

/// Every client of the tenant, as [`PortableClient`]s, by client_id.
pub async fn export_all(tx: &mut TenantTx) -> Result<Vec<PortableClient>, StoreError> {
    Ok(sqlx::query_as!(
        PortableClient,
        "select client_id, name, public, first_party, auth_method, redirect_uris,
                post_logout_redirect_uris, grant_types, scopes, id_token_signed_response_alg,
                jwks, jwks_uri, secret_hash, disabled
         from clients order by client_id",
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// Registers an exported client under its own client_id, after the checks
/// of [`create`] (name, redirect URIs, method, grants, keys, scopes, ID
/// token algorithm) and of its secret hash (64 hex digits, present exactly
/// when the client authenticates with a secret).
pub async fn import(
    tx: &mut TenantTx,
    c: &PortableClient,
    allow_http: bool,
) -> Result<(), StoreError> {
    let id_ok = !c.client_id.is_empty()
        && c.client_id.len() <= 128
        && c.client_id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.' | '~'));
    if !id_ok {
        return Err(StoreError::Invalid(format!(
            "client_id {:?} must be 1 to 128 of A-Z a-z 0-9 - _ . ~",
            c.client_id
        )));
    }
    let new = NewClient {
        name: c.name.clone(),
        redirect_uris: c.redirect_uris.clone(),
        post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        public: c.public,
        first_party: c.first_party,
        allow_http,
        auth_method: Some(c.auth_method.clone()),
        grant_types: c.grant_types.clone(),
        scopes: c.scopes.clone(),
        jwks: c.jwks.clone(),
        jwks_uri: c.jwks_uri.clone(),
    };
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(StoreError::Invalid(
            "client name must be 1 to 200 characters".into(),
        ));
    }
    for u in new
        .redirect_uris
        .iter()
        .chain(&new.post_logout_redirect_uris)
    {
        check_redirect_uri(u, allow_http)?;
    }
    let (auth_method, grant_types) = new.checked()?;
    if crate::keys::Alg::parse(&c.id_token_signed_response_alg).is_none() {
        return Err(StoreError::Invalid(format!(
            "unsupported ID token algorithm {:?}",
            c.id_token_signed_response_alg
        )));
    }
    let needs_secret = !c.public && auth_method != "private_key_jwt";
    let hash_ok = match &c.secret_hash {
        Some(h) => {
            needs_secret && h.len() == 64 && h.chars().all(|ch| matches!(ch, '0'..='9' | 'a'..='f'))
        }
        None => !needs_secret,
    };
    if !hash_ok {
        return Err(StoreError::Invalid(format!(
            "client {:?}: secret_hash must be 64 lower-case hex digits exactly when the client authenticates with a secret",
            c.client_id
        )));
    }
    sqlx::query!(
        "insert into clients (tenant_id, id, client_id, name, secret_hash, public, first_party, auth_method,
                              redirect_uris, post_logout_redirect_uris, grant_types, scopes, jwks, jwks_uri,
                              id_token_signed_response_alg, disabled)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        tx.tenant().as_uuid(),
        Uuid::new_v4(),
        c.client_id,
        name,
        c.secret_hash.as_deref(),
        c.public,
        c.first_party,
        auth_method,
        &new.redirect_uris,
        &new.post_logout_redirect_uris,
        &grant_types,
        &new.scopes,
        new.jwks.as_ref(),
        new.jwks_uri.as_deref(),
        c.id_token_signed_response_alg,
        c.disabled,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces the client's redirect URIs and post-logout redirect URIs, each
/// checked as at registration ([`check_redirect_uri`]); at least one
/// redirect URI when the client uses the authorization code grant.
pub async fn set_redirect_uris(
    tx: &mut TenantTx,
    client_id: &str,
    redirect_uris: &[String],
    post_logout_redirect_uris: &[String],
    allow_http: bool,
) -> Result<(), StoreError> {
    let check = |uris: &[String]| {
        let mut out: Vec<String> = Vec::new();
        for u in uris {
            let u = check_redirect_uri(u, allow_http)?;
            if !out.contains(&u) {
                out.push(u);
            }
        }
        Ok::<_, StoreError>(out)
    };
    let redirect = check(redirect_uris)?;
    let post_logout = check(post_logout_redirect_uris)?;
    let n = sqlx::query!(
        "update clients set redirect_uris = $2, post_logout_redirect_uris = $3, updated_at = now()
         where client_id = $1
           and (cardinality($2::text[]) > 0 or not ('authorization_code' = any(grant_types)))",
        client_id,
        &redirect,
        &post_logout,
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return match get(tx, client_id).await? {
            None => Err(StoreError::NotFound),
            Some(_) => Err(StoreError::Invalid(
                "a client of the authorization code grant needs at least one redirect URI".into(),
            )),
        };
    }
    tx.bump_tenant_version().await?;
    Ok(())
}

/// Replaces a confidential client's secret; returns the new one, once.
pub async fn rotate_secret(tx: &mut TenantTx, client_id: &str) -> Result<String, StoreError> {
    let secret = random_token();
    let n = sqlx::query!(
        "update clients set secret_hash = $2, updated_at = now() where client_id = $1 and not public",
        client_id,
        secret_hash(&secret),
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    tx.bump_tenant_version().await?;
    Ok(secret)
}

/// The stored secret hash of a confidential client.
pub async fn secret_hash_of(
    tx: &mut TenantTx,
    client_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar!(
        "select secret_hash from clients where client_id = $1",
        client_id
    )
    .fetch_optional(&mut **tx)
    .await?
    .flatten())
}

pub async fn list(tx: &mut TenantTx) -> Result<Vec<Client>, StoreError> {
    Ok(sqlx::query_as!(
        Client,
        "select client_id, name, public, first_party, auth_method, redirect_uris,
                post_logout_redirect_uris, grant_types, id_token_signed_response_alg, scopes, jwks, jwks_uri, created_at, disabled
         from clients order by created_at, client_id",
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// Clients by client_id after `after`: keyset pages.
pub async fn list_after(
    tx: &mut TenantTx,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Client>, StoreError> {
    Ok(sqlx::query_as!(
        Client,
        "select client_id, name, public, first_party, auth_method, redirect_uris,
                post_logout_redirect_uris, grant_types, id_token_signed_response_alg, scopes, jwks, jwks_uri, created_at, disabled
         from clients where client_id > $1 order by client_id limit $2",
        after.unwrap_or(""),
        limit.clamp(1, 1000),
    )
    .fetch_all(&mut **tx)
    .await?)
}

pub async fn delete(tx: &mut TenantTx, client_id: &str) -> Result<(), StoreError> {
    let n = sqlx::query!("delete from clients where client_id = $1", client_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    tx.bump_tenant_version().await?;
    Ok(())
}

/// Sets the algorithm of the client's ID tokens (OpenID Connect Dynamic
/// Client Registration §2 `id_token_signed_response_alg`): RS256, ES256 or
/// EdDSA, the algorithms every tenant has keys for.
pub async fn set_id_token_alg(
    tx: &mut TenantTx,
    client_id: &str,
    alg: &str,
) -> Result<(), StoreError> {
    if crate::keys::Alg::parse(alg).is_none() {
        return Err(StoreError::Invalid(format!(
            "unsupported ID token algorithm {alg:?}; use RS256, ES256 or EdDSA"
        )));
    }
    let n = sqlx::query!(
        "update clients set id_token_signed_response_alg = $2, updated_at = now() where client_id = $1",
        client_id,
        alg,
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    tx.bump_tenant_version().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_rfc_6749_and_8252() {
        assert!(check_redirect_uri("https://app.example.com/cb", false).is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:8081/cb", false).is_ok());
        assert!(check_redirect_uri("http://localhost/cb", false).is_ok());
        assert!(check_redirect_uri("com.example.app:/cb", false).is_ok());
        assert!(check_redirect_uri("http://app.example.com/cb", false).is_err());
        assert!(check_redirect_uri("http://app.example.com/cb", true).is_ok());
        assert!(check_redirect_uri("https://app.example.com/cb#x", false).is_err());
        assert!(check_redirect_uri("/relative", false).is_err());
        assert!(check_redirect_uri("javascript:alert(1)", false).is_err());
    }

    #[test]
    fn a_jwk_set_with_a_number_beyond_the_exact_range_is_refused() {
        let key = serde_json::json!({
            "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        });
        assert!(check_jwks(&serde_json::json!({ "keys": [key.clone()] })).is_ok());
        let mut huge = key;
        huge["exp"] = serde_json::json!(1.797_693_134_862_315_7e308);
        let e = check_jwks(&serde_json::json!({ "keys": [huge] })).unwrap_err();
        assert!(e.to_string().contains("jwks.keys[0].exp"), "{e}");
    }
}
