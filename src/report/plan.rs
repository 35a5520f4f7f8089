//! `authconform plan` as text: per target, the projected wall time, the schedule in virtual time with what
//! each scenario holds, the requests per endpoint and what will be locked out.

use std::io::{self, Write};

use crate::engine::{PROJECTED_REQUEST_MS, Plan, PlannedScenario, TargetSchedule};
use crate::target::ClockMode;

/// Writes the plan for a person to read.
pub fn write_plan(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    let side_by_side = match (plan.jobs, plan.targets.len()) {
        (1, _) => "one scenario at a time, one target after another".to_owned(),
        (jobs, 1) => format!("up to {jobs} scenarios at once"),
        (jobs, _) => format!("targets side by side, up to {jobs} scenarios each at once"),
    };
    writeln!(
        out,
        "plan: {} target(s), {side_by_side}; projected wall time {}",
        plan.targets.len(),
        duration(plan.projected_ms)
    )?;
    for target in &plan.targets {
        writeln!(out)?;
        write_target(out, target)?;
    }
    Ok(())
}

fn write_target(out: &mut dyn Write, target: &TargetSchedule) -> io::Result<()> {
    let (clock, how) = match target.clock {
        ClockMode::Control => ("control", "test clock: a wait costs one advance"),
        ClockMode::Real => ("real", "real clock: every wait really passes"),
    };
    let trusted = if target.forwarded_for {
        "X-Forwarded-For trusted: one client address per scenario"
    } else {
        "X-Forwarded-For not trusted: one client address for all"
    };
    writeln!(out, "{} (clock {clock}; {trusted})", target.name)?;
    writeln!(
        out,
        "  projected {} ({how}); floor {} with unlimited jobs; {} one by one; {} of virtual time",
        duration(target.projected_ms),
        duration(target.floor_ms),
        duration(target.one_by_one_ms),
        duration(target.span_ms)
    )?;
    if let Some(faster) = target.faster_with {
        writeln!(
            out,
            "  sooner: the checks besides the IP check send up to {} signups from this one address, more than its IP limit lets through in a window; with signup_ip = {} or more (Appmixer's USER_SIGNUP_RATE_LIMIT_IP, then --limit signup_ip=...), the run would take about {}",
            faster.signup_ip,
            faster.signup_ip,
            duration(faster.projected_ms)
        )?;
    }
    if let Some(repeat) = &target.with_boundary_repeat {
        writeln!(
            out,
            "  up to about {} on windows aligned to the clock, when a boundary falls inside a limit sequence: {} then repeats it once from the wait before it (its sequence spans about {} % of its window, so about that share of runs meet one)",
            duration(repeat.projected_ms),
            repeat.scenario,
            repeat.chance_percent
        )?;
    }
    if let Some(carried) = target.carried_over.filter(|c| c.measured_requests > 0) {
        writeln!(
            out,
            "  request costs measured by an earlier run (state file) for {} of its requests; the others at {PROJECTED_REQUEST_MS} ms a round",
            carried.measured_requests
        )?;
    }
    match (&target.carried_over, target.clock) {
        (Some(carried), _) if carried.signups == 0 && carried.busy_addresses == 0 => writeln!(
            out,
            "  carried over from earlier runs (state file): nothing still counts"
        )?,
        (Some(carried), _) => {
            let own = if target.forwarded_for || carried.signups == 0 {
                "no signups from this address still count".to_owned()
            } else {
                let counted = if carried.window_read {
                    "the target told the last run how many count, and this run reads that again to count them in, however each counted".to_owned()
                } else if carried.unknown_counting > 0 {
                    format!(
                        "the schedule counts them; {} of them may or may not count (refused, or invalid) and are waited out before the IP check: a target that sends `RateLimit` for its IP policy would let the run count them in",
                        carried.unknown_counting
                    )
                } else {
                    "the schedule counts them".to_owned()
                };
                format!(
                    "{} signup(s) from this address still count toward the IP window, the last for {} more ({counted})",
                    carried.signups,
                    duration(carried.counting_ms)
                )
            };
            let forged = match carried.busy_addresses {
                0 => String::new(),
                busy => format!(
                    "; {busy} forged address(es) with signups still counting are handed out last"
                ),
            };
            writeln!(
                out,
                "  carried over from earlier runs (state file): {own}{forged}"
            )?;
        }
        (None, ClockMode::Real) if !target.forwarded_for => writeln!(
            out,
            "  signups share the IP limit: the schedule counts only this run's (no state file); after an earlier run against this server, wait one signup_ip_window first"
        )?,
        (None, _) => {}
    }
    writeln!(out, "  schedule (virtual time from the target's start):")?;
    let width = target
        .scenarios
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(0);
    let mut running: Vec<&PlannedScenario> = target
        .scenarios
        .iter()
        .filter(|s| s.skipped.is_none())
        .collect();
    running.sort_by_key(|s| (s.start_ms, s.end_ms));
    for scenario in running {
        let waits = if scenario.wait_ms > 0 {
            format!(", waits {}", duration(scenario.wait_ms))
        } else {
            String::new()
        };
        writeln!(
            out,
            "    {:>9} – {:<9} {:<width$}  {} request(s){waits}; holds {}",
            clock_time(scenario.start_ms),
            clock_time(scenario.end_ms),
            scenario.name,
            scenario.requests,
            scenario.holds,
        )?;
    }
    for scenario in &target.scenarios {
        if let Some(reason) = &scenario.skipped {
            writeln!(out, "    skipped  {}: {reason}", scenario.name)?;
        }
    }
    writeln!(out, "  requests per endpoint:")?;
    for (endpoint, count) in &target.requests {
        writeln!(out, "    {count:>7}  {endpoint}")?;
    }
    if target.lockouts.is_empty() {
        writeln!(out, "  lockouts: none")?;
    }
    for lockout in &target.lockouts {
        writeln!(
            out,
            "  lockout: {} is locked out by {} from about {} for {} (a full cs_overall_window). A lockout \
             keyed on the whole endpoint refuses every client of this server meanwhile, not only this run: \
             do not point this at a server others use",
            lockout.endpoint,
            lockout.scenario,
            clock_time(lockout.from_ms),
            duration(lockout.for_ms)
        )?;
    }
    for warning in &target.warnings {
        writeln!(out, "  warning: {warning}")?;
    }
    Ok(())
}

/// `850 ms`, `2.5 s`, `4 min 05 s`, `1 h 02 min`.
pub(crate) fn duration(ms: u64) -> String {
    let s = ms / 1000;
    if ms < 1000 {
        format!("{ms} ms")
    } else if s < 60 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if s < 3600 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    }
}

/// `h:mm:ss` on the schedule's axis.
fn clock_time(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(2_500), "2.5 s");
        assert_eq!(duration(245_000), "4 min 05 s");
        assert_eq!(duration(3_720_000), "1 h 02 min");
        assert_eq!(clock_time(3_723_000), "1:02:03");
    }
}
