//! Compact JWS signing (RFC 7515 §7.1) with the provider's parsed keys.
//! jsonwebtoken's `encode` parses its key on every call; signing here uses
//! the aws-lc-rs key pairs kept in the provider. Verification of tokens uses
//! jsonwebtoken, pinned to the expected algorithm.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use serde::Serialize;

use crate::keys::{KeyError, SigningKey};

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    kid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    typ: Option<&'a str>,
}

/// `base64url(header) . base64url(claims) . base64url(signature)`, with
/// `typ` set when given (e.g. `at+jwt`, RFC 9068 §2.1).
pub fn sign<C: Serialize>(
    key: &SigningKey,
    typ: Option<&str>,
    claims: &C,
) -> Result<String, KeyError> {
    let header = serde_json::to_vec(&Header {
        alg: key.alg.as_str(),
        kid: &key.kid,
        typ,
    })
    .map_err(|_| KeyError::Crypto)?;
    let claims = serde_json::to_vec(claims).map_err(|_| KeyError::Crypto)?;
    let mut token = B64.encode(header);
    token.push('.');
    token.push_str(&B64.encode(claims));
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&B64.encode(signature));
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Alg;
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Claims {
        sub: String,
        exp: u64,
    }

    #[test]
    fn tokens_signed_with_each_algorithm_verify_with_the_published_jwk() {
        for (alg, jwt_alg) in [
            (Alg::RS256, Algorithm::RS256),
            (Alg::ES256, Algorithm::ES256),
            (Alg::EdDSA, Algorithm::EdDSA),
        ] {
            let (key, der) = SigningKey::generate(alg).unwrap();
            let claims = Claims {
                sub: "alice".into(),
                exp: 4_000_000_000,
            };
            let token = sign(&key, Some("at+jwt"), &claims).unwrap();

            let header = decode_header(&token).unwrap();
            assert_eq!(
                (header.alg, header.kid.as_deref(), header.typ.as_deref()),
                (jwt_alg, Some(key.kid.as_str()), Some("at+jwt"))
            );
            let jwk: Jwk = serde_json::from_value(key.public_jwk()).unwrap();
            let mut validation = Validation::new(jwt_alg);
            validation.validate_aud = false;
            let decoded =
                decode::<Claims>(&token, &DecodingKey::from_jwk(&jwk).unwrap(), &validation)
                    .unwrap();
            assert_eq!(decoded.claims, claims);

            // The stored PKCS#8 form parses back to the same key.
            let again = SigningKey::from_pkcs8(key.kid.clone(), alg, &der).unwrap();
            assert_eq!(again.public_jwk(), key.public_jwk());
            // A different key's JWK does not verify it.
            let (other, _) = SigningKey::generate(alg).unwrap();
            let other: Jwk = serde_json::from_value(other.public_jwk()).unwrap();
            assert!(
                decode::<Claims>(&token, &DecodingKey::from_jwk(&other).unwrap(), &validation)
                    .is_err()
            );
        }
    }
}
