//! Client authentication at the token, introspection and revocation
//! endpoints (RFC 6749 §2.3, OpenID Connect Core §9):
//! `client_secret_basic` (HTTP Basic, the id and secret form-urlencoded
//! before base64, RFC 6749 §2.3.1), `client_secret_post` (form body), and
//! `none` for public clients, which identify themselves by `client_id` and
//! prove possession with PKCE. A client must use the method it registered,
//! and a request may use only one method (RFC 6749 §2.3). Every failure is
//! `invalid_client` without saying which part was wrong.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use gatehouse_core::crypto::secret_matches;
use gatehouse_core::TenantTx;

use crate::clients::{self, Client};
use crate::error::OAuthError;

/// The credentials a request presented.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presented {
    pub basic: Option<(String, String)>,
    pub form_client_id: Option<String>,
    pub form_client_secret: Option<String>,
    pub assertion: bool,
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
        assertion: bool,
    ) -> Result<Self, OAuthError> {
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

    /// The client the request claims to be, if any.
    pub fn client_id(&self) -> Option<&str> {
        self.basic
            .as_ref()
            .map(|(id, _)| id.as_str())
            .or(self.form_client_id.as_deref())
    }
}

/// Authenticates the client inside its tenant. Unknown clients and wrong
/// secrets are indistinguishable to the caller.
pub async fn authenticate(tx: &mut TenantTx, presented: &Presented) -> Result<Client, OAuthError> {
    if presented.assertion {
        return Err(OAuthError::InvalidClient(
            "client assertions (private_key_jwt) are not supported".into(),
        ));
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
    let client_id = presented.client_id().ok_or_else(invalid)?;
    let client = clients::find(tx, client_id)
        .await
        .map_err(OAuthError::internal)?;
    let stored = clients::secret_hash_of(tx, client_id)
        .await
        .map_err(OAuthError::internal)?;
    let Some(client) = client else {
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
        ("none", None, _) if client.public => Ok(client),
        (registered, Some((used, s)), Some(hash))
            if registered == used && secret_matches(s, &hash) =>
        {
            Ok(client)
        }
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded_after_base64() {
        // "a b%3Ac" : "p+w%25" → id "a b:c", secret "p w%"
        let header = format!("Basic {}", STANDARD.encode("a+b%3Ac:p+w%25"));
        let p = Presented::from_request(Some(&header), None, None, false).unwrap();
        assert_eq!(p.basic, Some(("a b:c".into(), "p w%".into())));
        assert!(Presented::from_request(Some("Bearer x"), None, None, false).is_err());
        assert!(Presented::from_request(Some("Basic !!!"), None, None, false).is_err());
    }
}
