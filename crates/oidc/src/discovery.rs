//! The OpenID Provider metadata (OpenID Connect Discovery 1.0 §3, RFC 8414
//! §2), rendered once per provider. It advertises exactly what this server
//! implements.

use gatehouse_tenancy::settings::EffectiveSettings;
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

/// The languages the end-user pages have message catalogues for (BCP 47).
pub const UI_LOCALES: [&str; 3] = ["en", "de", "fr"];

/// The catalogue tag of a language that `tag` names (its primary subtag).
pub fn ui_locale(tag: &str) -> Option<&'static str> {
    let primary = tag.trim().split(['-', '_']).next().unwrap_or(tag);
    UI_LOCALES
        .iter()
        .copied()
        .find(|t| t.eq_ignore_ascii_case(primary))
}

/// The languages a tenant offers and its default: `application.locales`
/// that have a catalogue, in their order, with `application.default_locale`
/// first when it is not listed; English when nothing usable is set.
pub fn offered_locales(settings: &EffectiveSettings) -> (Vec<&'static str>, &'static str) {
    let mut tags: Vec<&'static str> = Vec::new();
    let listed = settings
        .get("application", "locales")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(ui_locale);
    for t in listed {
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let default = settings
        .get("application", "default_locale")
        .and_then(Value::as_str)
        .and_then(ui_locale);
    if let Some(d) = default.filter(|d| !tags.contains(d)) {
        tags.insert(0, d);
    }
    if tags.is_empty() {
        tags.push("en");
    }
    let default = default.unwrap_or(tags[0]);
    (tags, default)
}

pub fn document(issuer: &str, ui_locales: &[&str]) -> Value {
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
            "email", "email_verified", "phone_number", "phone_number_verified", "address", "roles"
        ],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "ui_locales_supported": ui_locales,
    })
}
