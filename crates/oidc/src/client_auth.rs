//! Client authentication at the token, introspection and revocation
//! endpoints (RFC 6749 §2.3, OpenID Connect Core §9):
//! `client_secret_basic` (HTTP Basic, the id and secret form-urlencoded
//! before base64, RFC 6749 §2.3.1), `client_secret_post` (form body),
//! `private_key_jwt` (a JWT signed with one of the client's registered
//! keys, inline or fetched from its `jwks_uri` ([`crate::client_keys`]),
//! RFC 7523 §2.2 and §3, with its `jti` remembered until it expires so
//! it cannot be replayed), and `none` for public clients, which identify themselves by `client_id` and
//! prove possession with PKCE. A client must use the method it registered,
//! and a request may use only one method (RFC 6749 §2.3). Every failure is
//! `invalid_client` without saying which part was wrong.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use gatehouse_core::crypto::secret_matches;
use gatehouse_core::ids::TenantId;

use crate::clients::{Client, ClientRecord};
use crate::error::OAuthError;

/// The credentials a request presented.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presented {
    pub basic: Option<(String, String)>,
    pub form_client_id: Option<String>,
    pub form_client_secret: Option<String>,
    /// `client_assertion`, when `client_assertion_type` is jwt-bearer.
    pub assertion: Option<String>,
}

/// RFC 7523 §2.2.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What checking a client assertion needs: the audiences it may name (the
/// issuer and the endpoint's URL, OpenID Connect Core §9) and the store
/// that remembers used `jti`s.
pub struct AssertionCheck<'a> {
    /// The tenant whose replay cache the `jti` goes in.
    pub tenant: TenantId,
    pub audiences: Vec<String>,
    pub kv: &'a gatehouse_core::kv::Kv,
    /// Fetches the keys of clients registered with a `jwks_uri`.
    pub client_keys: &'a crate::client_keys::ClientKeys,
}

fn invalid() -> OAuthError {
    OAuthError::InvalidClient("client authentication failed".into())
}

fn form_decode(s: &str) -> Option<String> {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

impl Presented {
    /// From the Authorization header and the form parameters.
    pub fn from_request(
        authorization: Option<&str>,
        client_id: Option<&str>,
        client_secret: Option<&str>,
        assertion: (Option<&str>, Option<&str>),
    ) -> Result<Self, OAuthError> {
        let assertion = match assertion {
            (None, None) => None,
            (Some(JWT_BEARER), Some(jwt)) => Some(jwt.to_owned()),
            _ => {
                return Err(OAuthError::InvalidClient(
                    "client_assertion_type must be jwt-bearer (RFC 7523)".into(),
                ))
            }
        };
        let basic = match authorization {
            Some(h) => {
                let (scheme, value) = h.split_once(' ').ok_or_else(invalid)?;
                if !scheme.eq_ignore_ascii_case("basic") {
                    return Err(invalid());
                }
                let decoded = STANDARD.decode(value.trim()).map_err(|_| invalid())?;
                let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
                let (id, secret) = decoded.split_once(':').ok_or_else(invalid)?;
                Some((
                    form_decode(id).ok_or_else(invalid)?,
                    form_decode(secret).ok_or_else(invalid)?,
                ))
            }
            None => None,
        };
        Ok(Self {
            basic,
            form_client_id: client_id.map(str::to_owned),
            form_client_secret: client_secret.map(str::to_owned),
            assertion,
        })
    }

    /// The client the request claims to be, if any: Basic, the form's
    /// client_id, or the assertion's issuer.
    pub fn client_id(&self) -> Option<String> {
        self.basic
            .as_ref()
            .map(|(id, _)| id.clone())
            .or_else(|| self.form_client_id.clone())
            .or_else(|| self.assertion.as_deref().and_then(unverified_issuer))
    }
}

/// Authenticates the client the request names ([`Presented::client_id`]),
/// given its record as the tenant stores it (None: no such client). Unknown
/// clients and wrong secrets are indistinguishable to the caller.
pub async fn authenticate(
    found: Option<&ClientRecord>,
    presented: &Presented,
    check: &AssertionCheck<'_>,
) -> Result<Client, OAuthError> {
    if let Some(jwt) = &presented.assertion {
        if presented.basic.is_some() || presented.form_client_secret.is_some() {
            return Err(OAuthError::InvalidRequest(
                "use exactly one client authentication method".into(),
            ));
        }
        let client = &found.ok_or_else(invalid)?.client;
        return assertion(client, jwt, check).await;
    }
    // RFC 6749 §2.3: one method per request. A form client_id that repeats the
    // Basic one is tolerated; a form secret alongside Basic is not.
    if let Some((id, _)) = &presented.basic {
        if presented.form_client_secret.is_some()
            || presented.form_client_id.as_deref().is_some_and(|f| f != id)
        {
            return Err(OAuthError::InvalidRequest(
                "use exactly one client authentication method".into(),
            ));
        }
    }
    presented.client_id().ok_or_else(invalid)?;
    let Some(ClientRecord {
        client,
        secret_hash: stored,
    }) = found
    else {
        // Same work as a real check, so timing does not reveal the client.
        let _ = secret_matches(presented.form_client_secret.as_deref().unwrap_or(""), "");
        return Err(invalid());
    };
    let secret = match (&presented.basic, &presented.form_client_secret) {
        (Some((_, s)), None) => Some(("client_secret_basic", s.as_str())),
        (None, Some(s)) => Some(("client_secret_post", s.as_str())),
        (None, None) => None,
        (Some(_), Some(_)) => return Err(invalid()),
    };
    match (client.auth_method.as_str(), secret, stored) {
        ("none", None, _) if client.public => Ok(client.clone()),
        (registered, Some((used, s)), Some(hash))
            if registered == used && secret_matches(s, hash) =>
        {
            Ok(client.clone())
        }
        _ => Err(invalid()),
    }
}

/// The `iss` of a JWT, read without verification: only to find which
/// client's keys to verify it with.
fn unverified_issuer(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

#[derive(serde::Deserialize)]
struct AssertionClaims {
    sub: String,
    jti: String,
    exp: i64,
}

/// Asymmetric algorithms only: a client assertion signed with a shared
/// secret (HS*) would need the secret we do not keep.
const ASSERTION_ALGS: [jsonwebtoken::Algorithm; 7] = [
    jsonwebtoken::Algorithm::RS256,
    jsonwebtoken::Algorithm::RS384,
    jsonwebtoken::Algorithm::RS512,
    jsonwebtoken::Algorithm::PS256,
    jsonwebtoken::Algorithm::ES256,
    jsonwebtoken::Algorithm::ES384,
    jsonwebtoken::Algorithm::EdDSA,
];

/// RFC 7523 §3: iss and sub are the client_id, aud names this server, exp
/// is in the future, and (OpenID Connect Core §9) jti is not reused.
async fn assertion(
    client: &Client,
    jwt: &str,
    check: &AssertionCheck<'_>,
) -> Result<Client, OAuthError> {
    if client.auth_method != "private_key_jwt" {
        return Err(invalid());
    }
    let header = jsonwebtoken::decode_header(jwt).map_err(|_| invalid())?;
    if !ASSERTION_ALGS.contains(&header.alg) {
        return Err(invalid());
    }
    let set: std::sync::Arc<jsonwebtoken::jwk::JwkSet> = match (&client.jwks, &client.jwks_uri) {
        (Some(inline), _) => serde_json::from_value(inline.clone())
            .map(std::sync::Arc::new)
            .map_err(|_| invalid())?,
        (None, Some(uri)) => check
            .client_keys
            .get(uri, header.kid.as_deref())
            .await
            .map_err(|e| {
                tracing::warn!(client = %client.client_id, error = %e, "client JWK Set unavailable");
                invalid()
            })?,
        (None, None) => return Err(invalid()),
    };
    let candidates: Vec<&jsonwebtoken::jwk::Jwk> = match &header.kid {
        Some(kid) => set.find(kid).into_iter().collect(),
        None => set.keys.iter().collect(),
    };
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_issuer(&[&client.client_id]);
    validation.set_audience(&check.audiences);
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp", "jti"]);
    validation.leeway = 30;
    let claims = candidates
        .into_iter()
        .filter_map(|jwk| jsonwebtoken::DecodingKey::from_jwk(jwk).ok())
        .find_map(|key| jsonwebtoken::decode::<AssertionClaims>(jwt, &key, &validation).ok())
        .ok_or_else(invalid)?
        .claims;
    if claims.sub != client.client_id || claims.jti.is_empty() {
        return Err(invalid());
    }
    let remaining = (claims.exp - time::OffsetDateTime::now_utc().unix_timestamp()).max(0) + 60;
    let marker = format!(
        "assertion-jti:{}",
        gatehouse_core::crypto::secret_hash(&format!("{}/{}", client.client_id, claims.jti))
    );
    let fresh = check
        .kv
        .set_nx(
            check.tenant,
            &marker,
            b"1",
            std::time::Duration::from_secs(remaining.unsigned_abs()),
        )
        .await
        .map_err(OAuthError::internal)?;
    if !fresh {
        return Err(OAuthError::InvalidClient(
            "the client assertion was already used".into(),
        ));
    }
    Ok(client.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded_after_base64() {
        // "a b%3Ac" : "p+w%25" → id "a b:c", secret "p w%"
        let header = format!("Basic {}", STANDARD.encode("a+b%3Ac:p+w%25"));
        let p = Presented::from_request(Some(&header), None, None, (None, None)).unwrap();
        assert_eq!(p.basic, Some(("a b:c".into(), "p w%".into())));
        assert!(Presented::from_request(Some("Bearer x"), None, None, (None, None)).is_err());
        assert!(Presented::from_request(Some("Basic !!!"), None, None, (None, None)).is_err());
        assert!(Presented::from_request(None, None, None, (Some("urn:other"), Some("x"))).is_err());
    }
}
