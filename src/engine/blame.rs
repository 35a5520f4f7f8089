//! A failed step's `blame`: its probe sent (or the step's own answers looked at again) and judged, to put
//! the failure on the requirement that broke it, read from the answer rather than from counts alone.

use std::sync::Arc;

use authconform_scenario::model::Blame;
use reqwest::header::{HeaderName, HeaderValue};

use super::collect::{Collector, StepResult, tally_mismatches};
use super::expect::RenderedExpectations;
use super::render::{Scope, prepare};
use crate::target::TargetClient;

/// Decides one of a failed step's `blame`s: its probe is sent (`repeat` times, default once) and the
/// expectations judge every answer and tally them; without a probe, the tallies count the step's own
/// answers and the other expectations judge its first failing one. When they hold, the failure is put on
/// the blame's requirement (the id and why). A probe that cannot be sent or does not hold leaves the
/// failure standing. `sent` counts the probes sent.
pub(super) async fn probe_blame(
    client: &TargetClient,
    blame: &Blame,
    step: &StepResult,
    scope: &mut Scope<'_>,
    forwarded_for: Option<&(HeaderName, HeaderValue)>,
    sent: &mut u64,
) -> Option<(String, String)> {
    let mut expect = RenderedExpectations::render(&blame.expect, scope).ok()?;
    let what = match &blame.request {
        Some(spec) => {
            let repeat = match &blame.repeat {
                Some(t) => u64::try_from(scope.render_integer(t).ok()?.max(0)).unwrap_or(0),
                None => 1,
            };
            let mut collector = Collector::new(&expect, None, None);
            let mut statuses = Vec::new();
            for index in 0..repeat {
                scope.repeat_index = index;
                let request = Arc::new(prepare(client, spec, scope, forwarded_for).ok()?);
                let outcome = client.send(&request).await;
                *sent += 1;
                if let Ok(response) = &outcome {
                    statuses.push(response.status.to_string());
                }
                collector.add(client, index, request, outcome);
            }
            let (result, _) = collector.finish(client);
            if repeat == 0 || result.must_failed() {
                return None;
            }
            format!(
                "a probe ({} {}, {repeat} time(s)) answered {}",
                spec.method,
                scope.render_string(&spec.path).unwrap_or_default(),
                statuses.join(", ")
            )
        }
        None => {
            let tally = std::mem::take(&mut expect.tally);
            let mut mismatches = tally_mismatches(&tally, step);
            let per_answer = expect;
            let what = match &step.first_failure {
                Some(response) => {
                    per_answer.check(response, &mut mismatches, &mut |_, _| {});
                    format!("the failing answer ({})", response.status)
                }
                None if per_answer.is_empty() => format!("the step's {} answers", step.total),
                None => return None,
            };
            if !mismatches.is_empty() {
                return None;
            }
            what
        }
    };
    Some((
        blame.requirement.clone(),
        format!("{what}: that puts the failure on {}", blame.requirement),
    ))
}
