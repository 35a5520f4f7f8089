//! Times one argon2id password verification at the server's parameters (median of N, default 20), so the
//! benchmark can state the sign-in ceiling: cores ÷ one verify's time.
//! Usage: `verify_time [N]`; prints `verify_ms MEDIAN`.

use authconform_reference_server::passwords::PasswordHasher;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args().nth(1).map_or(Ok(20), |n| n.parse())?;
    let hasher = PasswordHasher::new(1)?;
    let stored = hasher.digest("benchmark-password").await?;
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds.max(1) {
        let started = std::time::Instant::now();
        let matched = hasher.verify("benchmark-password", Some(&stored)).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        if !matched {
            return Err("the password did not verify".into());
        }
    }
    times.sort_by(f64::total_cmp);
    println!("verify_ms {:.2}", times[times.len() / 2]);
    Ok(())
}
