//! Times argon2id password verification at the server's default (OWASP) parameters: the median of N single verifies
//! (default 20), and the mean time per verify when one verifier runs on every core at once (what the
//! sign-in path can really sustain: cores compete for memory bandwidth).
//! Usage: `verify_time [N]`; prints `verify_ms MEDIAN` and `parallel_verify_ms MEAN`.

use std::time::{Duration, Instant};

use passwords::{PasswordCost, PasswordHasher};

// The server's own hasher, compiled in: the library does not export it.
#[path = "../src/passwords.rs"]
#[expect(dead_code, reason = "the benchmark times only hashing and verifying")]
mod passwords;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args().nth(1).map_or(Ok(20), |n| n.parse())?;
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let hasher =
        PasswordHasher::with_max_wait(cores, PasswordCost::Owasp, Duration::from_secs(60))?;
    let stored = hasher.digest("benchmark-password").await?;
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        if !hasher.verify("benchmark-password", Some(&stored)).await? {
            return Err("the password did not verify".into());
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!("verify_ms {:.2}", times[times.len() / 2]);

    let started = Instant::now();
    let mut verifiers = Vec::new();
    for _ in 0..cores {
        let (hasher, stored) = (hasher.clone(), stored.clone());
        verifiers.push(tokio::spawn(async move {
            for _ in 0..rounds.max(1) {
                let _ = hasher.verify("benchmark-password", Some(&stored)).await;
            }
        }));
    }
    for verifier in verifiers {
        verifier.await?;
    }
    let per_verify_ms = started.elapsed().as_secs_f64() * 1000.0 / rounds.max(1) as f64;
    println!("parallel_verify_ms {per_verify_ms:.2}");
    Ok(())
}
