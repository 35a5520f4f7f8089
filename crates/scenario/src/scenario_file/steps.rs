//! The steps of a scenario: each a request (read by `requests`) or a wait (read by `waits`), with its name,
//! what it covers and requires, and whether the scenario goes on after it fails.

use super::requests::read_request_step;
use super::waits::read_wait;
use super::*;

pub(super) fn read_step(
    reader: &mut Reader,
    value: &Value<'_>,
    index: usize,
    scenario_covers: &[String],
    catalogue: &Catalogue,
    names: &mut Names,
) -> Option<Step> {
    let span = value.span();
    let table = reader.table(value, "each `[[scenario.step]]`")?;
    let errors_before = reader.diagnostics.len();
    reader.check_keys(table, STEP_FIELDS, "step");
    let name = get(table, "name")
        .and_then(|v| reader.string(v, "`name`"))
        .unwrap_or_else(|| format!("step {}", index + 1));
    let covers = match get(table, "covers") {
        Some(value) => {
            read_covers(reader, value, catalogue, Some(scenario_covers)).unwrap_or_default()
        }
        None => scenario_covers.to_vec(),
    };
    let requires = read_requires(reader, table);
    let continue_on_failure = match get(table, "continue_on_failure") {
        Some(value) => reader
            .boolean(value, "`continue_on_failure`")
            .unwrap_or(false),
        None => false,
    };
    let skip_after_clock_boundary = match get(table, "skip_after_clock_boundary") {
        Some(value) => reader
            .boolean(value, "`skip_after_clock_boundary`")
            .unwrap_or(false),
        None => false,
    };
    if skip_after_clock_boundary
        && get(table, "wait").is_none()
        && let Some((key, _)) = table.get_key_value("skip_after_clock_boundary")
    {
        reader.error(
            key.span(),
            "`skip_after_clock_boundary` belongs to a wait, not a request step",
            Some("only a wait can be left out when a sequence is repeated".into()),
        );
    }
    let action = match (get(table, "request"), get(table, "wait")) {
        (Some(request), Some(wait)) => {
            reader.error(
                wait.span(),
                "a step is a request or a wait, not both",
                Some(format!(
                    "move the wait into its own step (request at {})",
                    reader.file.line_col(request.span().start).0
                )),
            );
            None
        }
        (None, Some(wait)) => {
            for key in [
                "repeat",
                "concurrency",
                "expect",
                "capture",
                "capture_response",
                "within",
                "reading",
                "precondition",
                "blame",
            ] {
                if let Some((key_value, _)) = table.get_key_value(key) {
                    reader.error(
                        key_value.span(),
                        format!("`{key}` belongs to a request step, not a wait"),
                        None,
                    );
                }
            }
            if let Some((mark, value)) = table.get_key_value("mark") {
                let _ = value;
                reader.error(
                    mark.span(),
                    "`mark` belongs to a request step, not a wait",
                    None,
                );
            }
            read_wait(reader, wait, names).map(Action::Wait)
        }
        (Some(request), None) => read_request_step(reader, table, request, catalogue, names)
            .map(|step| Action::Request(Box::new(step))),
        (None, None) => {
            // A misspelt `request` or `wait` already has its diagnostic.
            if has_misspelt(table, STEP_FIELDS, &["request", "wait"]) {
                return None;
            }
            reader.error(
                reader.first_line(&span),
                "this step has neither `request` nor `wait`",
                Some("add `request.method` and `request.path`, or `wait.window`".into()),
            );
            None
        }
    };
    if reader.diagnostics.len() > errors_before {
        return None;
    }
    Some(Step {
        name,
        covers,
        requires,
        continue_on_failure,
        skip_after_clock_boundary,
        action: action?,
        origin: origin(reader, &span),
    })
}
