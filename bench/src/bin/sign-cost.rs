//! `sign-cost`: what a signature costs on this machine now, with the code
//! the server signs with (`gatehouse_oidc::jws::sign`, a key pair parsed
//! once) and the verification introspection does (jsonwebtoken's `decode`
//! with a key built once). `bench/oidc.sh` runs it before and after its
//! load, so that the bounds of its grants use costs from the same minutes:
//! on a virtual machine the speed drifts by tens of percent in an hour,
//! and a cost measured at another time moves every ratio with it.
//!
//! Each figure is the median over 15 batches of about 50 ms, after 200 ms
//! of warm-up, on one thread. Output, one line:
//!
//! ```text
//! SIGN rs256_us=R es256_us=E es256_verify_us=V
//! ```
//!
//! The claims are those of `benches/tokens.rs`
//! (`gatehouse_bench::access_token_claims`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use gatehouse_oidc::jws;
use gatehouse_oidc::keys::{Alg, SigningKey};
use serde_json::Value;

/// Microseconds per call of `f`: the median of 15 batches of about 50 ms.
fn cost(mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    let warm = Instant::now();
    let mut per_batch = 0u32;
    while warm.elapsed() < Duration::from_millis(200) {
        f()?;
        per_batch += 1;
    }
    // About 50 ms a batch, from the warm-up's rate.
    let per_batch = (per_batch / 4).max(1);
    let mut batches = Vec::with_capacity(15);
    for _ in 0..15 {
        let t = Instant::now();
        for _ in 0..per_batch {
            f()?;
        }
        batches.push(t.elapsed().as_secs_f64() * 1e6 / f64::from(per_batch));
    }
    batches.sort_by(f64::total_cmp);
    Ok(batches[batches.len() / 2])
}

fn main() -> anyhow::Result<()> {
    let claims = gatehouse_bench::access_token_claims();
    let sign = |alg| -> anyhow::Result<f64> {
        let (key, _) = SigningKey::generate(alg).context("generating a key")?;
        cost(|| {
            black_box(jws::sign(
                black_box(&key),
                Some("at+jwt"),
                black_box(&claims),
            )?);
            Ok(())
        })
    };
    let rs256 = sign(Alg::RS256)?;
    let es256 = sign(Alg::ES256)?;
    let (key, _) = SigningKey::generate(Alg::ES256).context("generating a key")?;
    let token = jws::sign(&key, Some("at+jwt"), &claims)?;
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.public_jwk())?;
    let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk)?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.validate_aud = false;
    let verify = cost(|| {
        black_box(jsonwebtoken::decode::<Value>(
            black_box(&token),
            &decoding,
            &validation,
        )?);
        Ok(())
    })?;
    println!("SIGN rs256_us={rs256:.1} es256_us={es256:.1} es256_verify_us={verify:.1}");
    Ok(())
}
