//! Cost of signing and verifying a token with each of a tenant's
//! algorithms: `sign/*` is `gatehouse_oidc::jws::sign` with a key pair parsed
//! once (as the provider keeps it), `verify/*` is jsonwebtoken's `decode`
//! with a decoding key built once from the published JWK (as the provider
//! keeps it). The claims are those of a typical RFC 9068 access token.
//!
//! Run: `SQLX_OFFLINE=true cargo bench -p gatehouse-bench --bench tokens`.

// A benchmark has no caller to report an error to: a failed set-up aborts it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use gatehouse_oidc::jws;
use gatehouse_oidc::keys::{Alg, SigningKey};
use serde_json::Value;

fn tokens(c: &mut Criterion) {
    let claims = gatehouse_bench::access_token_claims();
    for (alg, jwt_alg) in [
        (Alg::RS256, jsonwebtoken::Algorithm::RS256),
        (Alg::ES256, jsonwebtoken::Algorithm::ES256),
        (Alg::EdDSA, jsonwebtoken::Algorithm::EdDSA),
    ] {
        let (key, _) = SigningKey::generate(alg).unwrap();
        c.bench_function(&format!("sign/{}", alg.as_str()), |b| {
            b.iter(|| jws::sign(black_box(&key), Some("at+jwt"), black_box(&claims)).unwrap())
        });
        let token = jws::sign(&key, Some("at+jwt"), &claims).unwrap();
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.public_jwk()).unwrap();
        let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jwt_alg);
        validation.validate_aud = false;
        c.bench_function(&format!("verify/{}", alg.as_str()), |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Value>(black_box(&token), &decoding, &validation).unwrap()
            })
        });
    }
}

criterion_group!(benches, tokens);
criterion_main!(benches);
