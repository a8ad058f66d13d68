//! The token endpoint's grants (RFC 6749 §4.1.3, §4.4, §6; OpenID Connect
//! Core §3.1.3), taking typed parameters and an authenticated client and
//! returning a typed response or an RFC error, so they are testable without
//! HTTP.

use gatehouse_core::kv::Kv;
use gatehouse_core::Db;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::clients::Client;
use crate::codes::{self, CodeGrant, Presented, Redeemed};
use crate::error::{invalid_request, OAuthError};
use crate::keys::Alg;
use crate::pkce;
use crate::provider::TenantProvider;
use crate::refresh::{self, Outcome, RefreshGrant};
use crate::tokens::{self, AccessGrant, IdClaims};

/// The token request's parameters (RFC 6749 §4.1.3, §4.4.2, §6).
#[derive(Debug, Clone, Default)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

/// RFC 6749 §5.1 (and OpenID Connect Core §3.1.3.3 for id_token).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

/// What the grants need from the request's surroundings.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub provider: &'a TenantProvider,
    pub db: &'a Db,
    pub kv: &'a Kv,
}

fn allows(client: &Client, grant: &str) -> bool {
    client.grant_types.iter().any(|g| g == grant)
}

fn scopes(s: &str) -> Vec<&str> {
    s.split(' ').filter(|x| !x.is_empty()).collect()
}

pub async fn exchange(
    ctx: Ctx<'_>,
    client: &Client,
    p: &TokenParams,
) -> Result<TokenResponse, OAuthError> {
    match p.grant_type.as_deref() {
        None => Err(invalid_request("grant_type is required")),
        Some("authorization_code") => authorization_code(ctx, client, p).await,
        Some("refresh_token") => refresh(ctx, client, p).await,
        Some("client_credentials") => client_credentials(ctx, client, p).await,
        Some(other) => Err(OAuthError::UnsupportedGrantType(format!(
            "{} is not supported",
            other.chars().take(64).collect::<String>()
        ))),
    }
}

/// What a user-bound issuance needs.
struct UserIssue<'a> {
    client: &'a Client,
    user_id: Uuid,
    scope: &'a str,
    nonce: Option<&'a str>,
    auth_time: i64,
    sid: Option<&'a str>,
    acr: Option<&'a str>,
    amr: &'a [String],
    refresh: Option<String>,
    /// The refresh family, which names the grant.
    grant_id: Uuid,
    /// The user's custom roles, read when `scope` has `roles`.
    roles: Option<Vec<String>>,
}

fn issue_for_user(ctx: Ctx<'_>, i: &UserIssue<'_>) -> Result<TokenResponse, OAuthError> {
    let p = ctx.provider;
    let subject = i.user_id.to_string();
    let (access_token, claims) = tokens::issue_access_token(
        p,
        &AccessGrant {
            subject: &subject,
            client_id: &i.client.client_id,
            scope: i.scope,
            auth_time: Some(i.auth_time),
            sid: i.sid,
            grant_id: Some(i.grant_id),
            roles: i.roles.as_deref(),
        },
    )?;
    let id_token = if scopes(i.scope).contains(&"openid") {
        let alg = Alg::parse(&i.client.id_token_signed_response_alg).unwrap_or(Alg::RS256);
        let iat = tokens::now();
        let claims = IdClaims {
            iss: p.issuer.clone(),
            sub: subject.clone(),
            aud: i.client.client_id.clone(),
            exp: iat + tokens::ttl(p, "id_token_ttl_secs", 300),
            iat,
            auth_time: i.auth_time,
            nonce: i.nonce.map(str::to_owned),
            azp: i.client.client_id.clone(),
            at_hash: Some(tokens::at_hash(&access_token, alg)),
            sid: i.sid.map(str::to_owned),
            acr: i.acr.map(str::to_owned),
            amr: i.amr.to_vec(),
            roles: i.roles.clone(),
        };
        Some(tokens::sign_id_token(p, alg, &claims)?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: claims.exp - claims.iat,
        refresh_token: i.refresh.clone(),
        id_token,
        scope: i.scope.to_owned(),
    })
}

/// RFC 6749 §4.1.3 with RFC 7636 §4.6 and RFC 9700 §4.2.
async fn authorization_code(
    ctx: Ctx<'_>,
    client: &Client,
    p: &TokenParams,
) -> Result<TokenResponse, OAuthError> {
    if !allows(client, "authorization_code") {
        return Err(OAuthError::UnauthorizedClient(
            "this client may not use the authorization_code grant".into(),
        ));
    }
    let code = p
        .code
        .as_deref()
        .ok_or_else(|| invalid_request("code is required"))?;
    let tenant = ctx.provider.tenant.id;
    let grant: CodeGrant = match codes::take(ctx.kv, tenant, code).await? {
        Presented::Fresh(g) => *g,
        Presented::Replayed(issued) => {
            if let Some(issued) = issued {
                revoke_issued(ctx, &issued).await?;
                tracing::warn!(tenant = %ctx.provider.tenant.slug, "authorization code replayed; tokens issued from it revoked");
            }
            return Err(OAuthError::InvalidGrant(
                "the authorization code is invalid, expired or already used".into(),
            ));
        }
    };
    if grant.client_id != client.client_id {
        return Err(OAuthError::InvalidGrant(
            "the authorization code was issued to another client".into(),
        ));
    }
    // RFC 6749 §4.1.3: redirect_uri must be present and identical when it
    // was in the authorization request (it always is here: OIDC requires it).
    if p.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return Err(OAuthError::InvalidGrant(
            "redirect_uri does not match the authorization request".into(),
        ));
    }
    match (&grant.code_challenge, &p.code_verifier) {
        (Some(challenge), Some(verifier)) if pkce::verify_s256(verifier, challenge) => {}
        (Some(_), _) => return Err(OAuthError::InvalidGrant("PKCE verification failed".into())),
        // RFC 9700 §4.8.2: a verifier without a challenge is a downgrade attempt.
        (None, Some(_)) => {
            return Err(OAuthError::InvalidGrant(
                "no code_challenge was sent for this code".into(),
            ))
        }
        (None, None) if client.public => {
            return Err(OAuthError::InvalidGrant("PKCE is required".into()))
        }
        (None, None) => {}
    }
    let inactive = || OAuthError::InvalidGrant("the user is no longer active".into());
    let rg = RefreshGrant {
        family_id: grant.family_id,
        client_id: client.client_id.clone(),
        user_id: grant.user_id,
        scope: grant.scope.clone(),
        sid: Some(grant.sid.clone()),
        auth_time: OffsetDateTime::from_unix_timestamp(grant.auth_time)
            .map_err(OAuthError::internal)?,
        acr: grant.acr.clone(),
        amr: grant.amr.clone(),
    };
    let ttl = tokens::ttl(ctx.provider, "refresh_token_ttl_secs", 2_592_000);
    // One round trip: the user still active, the first refresh token of
    // the family (issued only then), the roles if the scope asks for them.
    let user = refresh::for_user(
        ctx.db,
        tenant,
        grant.user_id,
        scopes(&grant.scope).contains(&"roles"),
        allows(client, "refresh_token").then_some((&rg, ttl)),
    )
    .await?;
    if !user.active {
        return Err(inactive());
    }
    let response = issue_for_user(
        ctx,
        &UserIssue {
            client,
            user_id: grant.user_id,
            scope: &grant.scope,
            nonce: grant.nonce.as_deref(),
            auth_time: grant.auth_time,
            sid: Some(&grant.sid),
            acr: grant.acr.as_deref(),
            amr: &grant.amr,
            refresh: user.token,
            grant_id: grant.family_id,
            roles: user.roles,
        },
    )?;
    Ok(response)
}

/// Revokes the refresh family and access tokens issued from a replayed code.
async fn revoke_issued(ctx: Ctx<'_>, issued: &Redeemed) -> Result<(), OAuthError> {
    let mut tx = ctx
        .db
        .tenant_tx(ctx.provider.tenant.id)
        .await
        .map_err(OAuthError::internal)?;
    refresh::revoke_family(&mut tx, issued.family_id).await?;
    tx.commit().await.map_err(OAuthError::internal)?;
    // Every access token of the grant, the first and any refreshed since.
    tokens::revoke_grant(ctx.kv, ctx.provider, issued.family_id).await
}

/// RFC 6749 §6, rotated per RFC 9700 §4.14.2.
async fn refresh(
    ctx: Ctx<'_>,
    client: &Client,
    p: &TokenParams,
) -> Result<TokenResponse, OAuthError> {
    if !allows(client, "refresh_token") {
        return Err(OAuthError::UnauthorizedClient(
            "this client may not use the refresh_token grant".into(),
        ));
    }
    let presented = p
        .refresh_token
        .as_deref()
        .ok_or_else(|| invalid_request("refresh_token is required"))?;
    let invalid =
        || OAuthError::InvalidGrant("the refresh token is invalid, expired or revoked".into());
    // RFC 6749 §6: the scope may narrow, never widen (checked against the
    // grant in the database, with the rotation).
    let requested: Option<Vec<String>> = match p.scope.as_deref() {
        None => None,
        Some(r) => {
            let r: Vec<String> = scopes(r).into_iter().map(str::to_owned).collect();
            if r.is_empty() {
                return Err(OAuthError::InvalidScope(
                    "the requested scope is empty".into(),
                ));
            }
            Some(r)
        }
    };
    let ttl = tokens::ttl(ctx.provider, "refresh_token_ttl_secs", 2_592_000);
    let rotation = refresh::rotate(
        ctx.db,
        ctx.provider.tenant.id,
        presented,
        &client.client_id,
        requested.as_deref(),
        ttl,
    )
    .await?
    .ok_or_else(invalid)?;
    let found = &rotation.grant;
    match rotation.outcome {
        Outcome::Rotated => {}
        Outcome::Replayed => {
            // A rotated token came back: someone holds a copy. Its family's
            // refresh tokens are revoked; now the access tokens.
            tokens::revoke_grant(ctx.kv, ctx.provider, found.family_id).await?;
            tracing::warn!(tenant = %ctx.provider.tenant.slug, "rotated refresh token reused; family revoked");
            return Err(invalid());
        }
        Outcome::InvalidScope => {
            return Err(OAuthError::InvalidScope(
                "the requested scope exceeds the original grant".into(),
            ))
        }
        Outcome::WrongClient | Outcome::Inactive | Outcome::InactiveUser => return Err(invalid()),
    }
    let scope = requested.map_or_else(|| found.scope.clone(), |r| r.join(" "));
    issue_for_user(
        ctx,
        &UserIssue {
            client,
            user_id: found.user_id,
            scope: &scope,
            nonce: None,
            auth_time: found.auth_time.unix_timestamp(),
            sid: found.sid.as_deref(),
            acr: found.acr.as_deref(),
            amr: &found.amr,
            refresh: rotation.next.clone(),
            grant_id: found.family_id,
            roles: rotation.roles.clone(),
        },
    )
}

/// RFC 6749 §4.4: confidential clients only, scopes within what the client
/// was registered for; no refresh token (§4.4.3), no ID token.
async fn client_credentials(
    ctx: Ctx<'_>,
    client: &Client,
    p: &TokenParams,
) -> Result<TokenResponse, OAuthError> {
    if client.public || !allows(client, "client_credentials") {
        return Err(OAuthError::UnauthorizedClient(
            "this client may not use the client_credentials grant".into(),
        ));
    }
    let scope = match p.scope.as_deref() {
        None => client.scopes.join(" "),
        Some(requested) => {
            let requested = scopes(requested);
            if let Some(bad) = requested
                .iter()
                .find(|s| !client.scopes.iter().any(|c| c == *s))
            {
                return Err(OAuthError::InvalidScope(format!(
                    "{bad} is not allowed for this client"
                )));
            }
            requested.join(" ")
        }
    };
    // RFC 9068 §2.2: without a resource owner, sub is the client.
    let (access_token, claims) = tokens::issue_access_token(
        ctx.provider,
        &AccessGrant {
            subject: &client.client_id,
            client_id: &client.client_id,
            scope: &scope,
            auth_time: None,
            sid: None,
            grant_id: None,
            roles: None,
        },
    )?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: claims.exp - claims.iat,
        refresh_token: None,
        id_token: None,
        scope,
    })
}
