//! Benchmarks live in benches/; bench/oidc.sh's tools in src/bin/. What
//! they share is here.

use anyhow::{anyhow, Context as _};
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

/// User + system CPU time of a process, in microseconds, from
/// `/proc/PID/stat`; `clk_tck` is the unit of its times (`getconf CLK_TCK`).
pub fn cpu_us(pid: u32, clk_tck: u64) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // The fields after the command name, which may hold spaces: state is
    // field 3, utime and stime are fields 14 and 15.
    let rest = stat
        .rsplit_once(") ")
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow!("unreadable /proc/{pid}/stat"))?;
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        fields
            .get(i - 3)
            .ok_or_else(|| anyhow!("short /proc/{pid}/stat"))?
            .parse::<u64>()
            .with_context(|| format!("field {i} of /proc/{pid}/stat"))
    };
    Ok((ticks(14)? + ticks(15)?) * 1_000_000 / clk_tck.max(1))
}
