//! The OpenID Provider metadata (OpenID Connect Discovery 1.0 §3, RFC 8414
//! §2), rendered once per provider. It advertises exactly what this server
//! implements.

use serde_json::{json, Value};

// The values the authorization endpoint accepts, advertised from the one
// place that checks them.
use crate::authorize::{SUPPORTED_PROMPTS, SUPPORTED_RESPONSE_MODES, SUPPORTED_SCOPES};
use crate::tokens::ACR_VALUES;

/// Endpoint paths, relative to the issuer.
pub mod paths {
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const JWKS: &str = "/.well-known/jwks.json";
    pub const AUTHORIZE: &str = "/authorize";
    pub const TOKEN: &str = "/token";
    pub const USERINFO: &str = "/userinfo";
    pub const INTROSPECT: &str = "/introspect";
    pub const REVOKE: &str = "/revoke";
    pub const LOGOUT: &str = "/logout";
}

/// Algorithms accepted for private_key_jwt client assertions (asymmetric only).
pub const ASSERTION_ALGS: [&str; 7] = [
    "RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA",
];

pub fn document(issuer: &str) -> Value {
    let url = |p: &str| format!("{issuer}{p}");
    json!({
        "issuer": issuer,
        "authorization_endpoint": url(paths::AUTHORIZE),
        "token_endpoint": url(paths::TOKEN),
        "userinfo_endpoint": url(paths::USERINFO),
        "jwks_uri": url(paths::JWKS),
        "end_session_endpoint": url(paths::LOGOUT),
        "introspection_endpoint": url(paths::INTROSPECT),
        "revocation_endpoint": url(paths::REVOKE),
        "scopes_supported": SUPPORTED_SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": SUPPORTED_RESPONSE_MODES,
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": SUPPORTED_PROMPTS,
        "acr_values_supported": ACR_VALUES,
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "sid", "acr", "amr",
            "name", "given_name", "family_name", "preferred_username", "locale", "updated_at",
            "email", "email_verified", "phone_number", "phone_number_verified", "address"
        ],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    })
}
