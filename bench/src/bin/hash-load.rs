//! `hash-load`: the server's argon2id password checks, outside the server.
//! It verifies a password with `gatehouse_core::crypto::PasswordHasher`,
//! the hasher `gatehouse serve` uses (the same parameters, the same
//! dedicated threads at the same lower priority), `--rate` times a second
//! on a fixed schedule, for `--warmup` + `--duration` seconds.
//!
//! `bench/oidc.sh` runs it beside tenant beta's fixed-rate load at the
//! rate the login burst reached, with the server's number of hashing
//! threads. A login burst costs the machine its hashes and the rest of
//! each sign-in (the pages, the database, the token); this is the hashes
//! alone, in another process. If beta's latency suffers as much beside it
//! as beside the burst, what the burst costs other tenants is the hashing
//! work on the machine's cores, not the way the server runs it.
//!
//! At most `--concurrency` checks wait or run at once (the burst's
//! workers); one due while that many do is skipped and counted. Output,
//! one line on standard output:
//!
//! ```text
//! HASHES requests=N rps=R p50_us=P p99_us=P skipped=S cpu_us=C
//! ```
//!
//! where `requests` counts the checks that ended in the measured window,
//! the latencies run from when each was due, and `cpu_us` is this
//! process's user + system CPU time over the window.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use clap::Parser;
use gatehouse_core::crypto::{default_hash_threads, PasswordHasher};
use tokio::sync::Semaphore;

#[derive(Debug, Parser)]
#[command(
    name = "hash-load",
    about = "The server's argon2id password checks at a fixed rate, outside the server"
)]
struct Args {
    /// Checks started per second.
    #[arg(long)]
    rate: f64,
    /// Hashing threads; 0: the server's default for this machine's cores.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// The most checks waiting or running at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds run before the measured window.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// The kernel's clock ticks per second (`getconf CLK_TCK`), the unit of
    /// the CPU times in /proc.
    #[arg(long, default_value_t = 100)]
    clk_tck: u64,
}

#[allow(clippy::cast_precision_loss)]
async fn main_async(args: Args) -> anyhow::Result<()> {
    if !(args.rate.is_finite() && args.rate > 0.0 && args.rate <= 10_000.0) {
        bail!("--rate {}: checks per second, above 0", args.rate);
    }
    let threads = if args.threads == 0 {
        default_hash_threads(std::thread::available_parallelism().map_or(1, usize::from))
    } else {
        args.threads
    };
    let hasher = PasswordHasher::new(threads).map_err(|e| anyhow!("starting the hasher: {e}"))?;
    // A password of the bench's length, hashed once like a user's.
    let password = "hash-load-password-0123456789".to_owned();
    let phc = hasher
        .hash(password.clone())
        .await
        .map_err(|e| anyhow!("hashing: {e}"))?;
    eprintln!(
        "hash-load: {}/s on {threads} hashing threads, at most {} at a time",
        args.rate, args.concurrency
    );

    let first = Instant::now();
    let start = first + Duration::from_secs(args.warmup);
    let end = start + Duration::from_secs(args.duration.max(1));
    let slots = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Instant, bool)>();
    let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (mut skipped, mut cpu0) = (0u64, None);
    loop {
        let due = interval.tick().await.into_std();
        if due >= end {
            break;
        }
        if cpu0.is_none() && due >= start {
            cpu0 = Some(gatehouse_bench::cpu_us(std::process::id(), args.clk_tck)?);
        }
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            if due >= start {
                skipped += 1;
            }
            continue;
        };
        let (hasher, password, phc, tx) =
            (hasher.clone(), password.clone(), phc.clone(), tx.clone());
        tokio::spawn(async move {
            let ok = matches!(hasher.verify(password, phc).await, Ok(true));
            drop(slot);
            let _ = tx.send((due, Instant::now(), ok));
        });
    }
    tokio::time::sleep_until(end.into()).await;
    let cpu1 = gatehouse_bench::cpu_us(std::process::id(), args.clk_tck)?;
    drop(tx);
    let mut lat = Vec::new();
    let mut failed = 0u64;
    while let Some((due, done, ok)) = rx.recv().await {
        if !ok {
            failed += 1;
        }
        if done >= start && done < end {
            lat.push(u64::try_from(done.duration_since(due).as_micros()).unwrap_or(u64::MAX));
        }
    }
    if failed > 0 {
        bail!("{failed} password checks failed");
    }
    lat.sort_unstable();
    let n = lat.len();
    let rank = |p: usize| {
        lat.get((n * p).div_ceil(100).max(1) - 1)
            .copied()
            .unwrap_or(0)
    };
    let rps = n as f64 / args.duration.max(1) as f64;
    let cpu = cpu1.saturating_sub(cpu0.unwrap_or(cpu1));
    println!(
        "HASHES requests={n} rps={rps:.1} p50_us={} p99_us={} skipped={skipped} cpu_us={cpu}",
        rank(50),
        rank(99)
    );
    eprintln!(
        "hash-load: {n} checks in {} s: {rps:.1}/s, p50 {} us, p99 {} us, {skipped} skipped, {:.0} ms CPU/s",
        args.duration,
        rank(50),
        rank(99),
        cpu as f64 / 1000.0 / args.duration.max(1) as f64
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let limit = Duration::from_secs(args.warmup + args.duration + 120);
    // One thread for the schedule; the hashing runs on the hasher's own.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        tokio::time::timeout(limit, main_async(args))
            .await
            .map_err(|_| anyhow!("gave up after {} s", limit.as_secs()))?
    })
}
