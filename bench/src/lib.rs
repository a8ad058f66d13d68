//! Benchmarks live in benches/; bench/oidc.sh's tools in src/bin/. What
//! they share is here.

use serde_json::{json, Value};

/// The claims of a typical RFC 9068 access token, as signed by the token
/// benchmarks (`benches/tokens.rs`, `sign-cost`).
pub fn access_token_claims() -> Value {
    json!({
        "iss": "https://id.example.com/t/acme", "sub": "5f0c9b1e-7f7b-4a44-9d43-0f6a2c1f4e21",
        "aud": "https://id.example.com/t/acme", "client_id": "3f2a6c0d9b8e4f1a8c7d6e5f4a3b2c1d",
        "scope": "openid profile email", "exp": 4_000_000_000u64, "iat": 1_800_000_000u64,
        "jti": "0b6e2f7c-1d3a-4e5b-8c9d-0a1b2c3d4e5f"
    })
}
