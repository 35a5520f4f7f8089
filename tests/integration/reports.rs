//! The reporters on a fixed report: human (no colour), JSON and JUnit snapshots, secrets redacted, and the
//! JSON report checked against `docs/report.schema.json`.

use std::sync::{Arc, Mutex};

use authconform::engine::{
    Check, EngineEvent, Exchange, FasterWith, Finding, Observation, ObservationKind, ReadingSeen,
    RecordedRequest, RecordedResponse, RequirementReport, RunReport, SampleExchange,
    ScenarioReport, Summary, TargetReport, Verdict,
};
use authconform::report::{HumanReporter, JsonReporter, JunitReporter, Reporter, ReporterSet};
use authconform::target::ClockMode;
use authconform_scenario::model::{Level, Profile};
use serde_json::Value;

/// A `Write` the test can read back after the reporter is done with it.
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

pub const PASSWORD: &str = "Pw-s3cretPassw0rd";
/// The token the passing sign-in of the fixed report got back.
pub const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJpZCI6IjEifQ.c2lnbmF0dXJl";

fn requirement(id: &str, level: Level, verdict: Verdict) -> RequirementReport {
    RequirementReport {
        id: id.into(),
        level,
        profiles: vec![Profile::AppmixerCloud],
        title: format!("{id} paraphrased."),
        clause: format!("The documented clause of {id}."),
        source: "Appmixer user API (cloud)".into(),
        accept: None,
        verdict,
        scenarios: vec!["a-scenario".into()],
        findings: Vec::new(),
        checks: Vec::new(),
        skip_reasons: Vec::new(),
        readings: Vec::new(),
        expectation: None,
    }
}

fn exchange() -> Exchange {
    Exchange {
        request: RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:8080/user".into(),
            headers: vec![
                (
                    "authorization".into(),
                    "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig".into(),
                ),
                ("content-type".into(), "application/json".into()),
            ],
            body: Some(format!(
                r#"{{"username":"alice.run1.1@example.com","email":"alice.run1.1@mail.example.com","password":"{PASSWORD}"}}"#
            )),
            body_bytes: 103,
        },
        response: Some(RecordedResponse {
            status: 200,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: format!("created with {PASSWORD}"),
            body_bytes: 30,
        }),
        error: None,
    }
}

fn finding(severity: Verdict, expected: &str, actual: &str, note: Option<&str>) -> Finding {
    Finding {
        severity,
        scenario: "signup-email-limit".into(),
        step_number: 3,
        step: "one attempt more is refused".into(),
        location: "scenarios/appmixer-signup-rate-limit.toml:31".into(),
        expected: Some(expected.into()),
        actual: Some(actual.into()),
        note: note.map(str::to_owned),
        blocked_by: None,
        exchange: Some(exchange()),
        curl: None,
    }
}

/// A passing sign-in, recorded as a check's sample exchange: the token in its answer is a secret.
fn passing_check() -> Check {
    Check {
        scenario: "appmixer-signin-valid".into(),
        step_number: 2,
        step: "sign in with the new account".into(),
        location: "scenarios/appmixer-signin.toml:12".into(),
        verdict: Verdict::Pass,
        requests: 1,
        exchanges: vec![SampleExchange {
            request_number: 1,
            exchange: Exchange {
                request: RecordedRequest {
                    method: "POST".into(),
                    url: "http://127.0.0.1:8080/user/auth".into(),
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: Some(format!(
                        r#"{{"email":"alice.run1.1@mail.example.com","password":"{PASSWORD}"}}"#
                    )),
                    body_bytes: 70,
                },
                response: Some(RecordedResponse {
                    status: 200,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: format!(
                        r#"{{"user":{{"id":"1","username":"alice"}},"token":"{TOKEN}"}}"#
                    ),
                    body_bytes: 90,
                }),
                error: None,
            },
            curl: None,
        }],
    }
}

pub fn report() -> RunReport {
    let mut pass = requirement("AM-SIGNUP-01", Level::Must, Verdict::Pass);
    pass.checks.push(passing_check());
    let mut fail = requirement("AM-SIGNUP-RL-01", Level::Must, Verdict::Fail);
    fail.findings
        .push(finding(Verdict::Fail, "status 429", "status 200", None));
    fail.readings.push(ReadingSeen {
        scenario: "signup-email-limit".into(),
        step: "one attempt more is refused".into(),
        status: 200,
        reading: "no limit at all".into(),
    });
    let mut warn = requirement("AM-SIGNUP-RL-06", Level::Should, Verdict::Warn);
    warn.findings.push(Finding {
        exchange: None,
        ..finding(
            Verdict::Warn,
            "message \"Too many\" as `message` in a JSON body",
            "a plain-text body (content-type text/plain)",
            None,
        )
    });
    let mut inconclusive = requirement("AM-SIGNUP-RL-03", Level::Must, Verdict::Inconclusive);
    inconclusive.findings.push(Finding {
        expected: None,
        actual: None,
        exchange: None,
        note: Some("not reached: step 3 `one attempt more is refused` failed".into()),
        blocked_by: Some("AM-SIGNUP-RL-01".into()),
        ..finding(Verdict::Inconclusive, "", "", None)
    });
    let mut skip = requirement("AM-SIGNUP-06", Level::Must, Verdict::Skip);
    skip.scenarios.clear();
    skip.skip_reasons
        .push("signup-create-scope: needs create-scope; no user_create_scope is configured".into());

    let mut summary = Summary::default();
    for verdict in [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Warn,
        Verdict::Inconclusive,
        Verdict::Skip,
    ] {
        summary.count(verdict);
    }
    let target = TargetReport {
        name: "staging".into(),
        base_url: "http://127.0.0.1:8080/".into(),
        other_base_urls: Vec::new(),
        profiles: vec![Profile::AppmixerCloud],
        clock: ClockMode::Control,
        only_requiring: None,
        duration_ms: 1200,
        summary,
        requirements: vec![pass, fail, warn, inconclusive, skip],
        scenarios: vec![ScenarioReport {
            name: "signup-email-limit".into(),
            title: "Attempt limit + 1 gets 429".into(),
            location: "scenarios/appmixer-signup-rate-limit.toml:7".into(),
            covers: vec!["AM-SIGNUP-RL-01".into()],
            verdict: Verdict::Fail,
            skip_reason: None,
            steps_run: 3,
            requests: 12,
            duration_ms: 80,
            start_ms: 0,
            end_ms: 3_700_000,
            waits: vec![authconform::engine::WaitSpan {
                step: "wait out the window".into(),
                start_ms: 100,
                end_ms: 3_601_100,
            }],
        }],
        observations: vec![Observation {
            scenario: "appmixer-token-is-a-jwt".into(),
            step: "sign in".into(),
            requirements: vec!["AM-TOKEN-01".into()],
            kind: ObservationKind::Jwt,
            detail: "`token`: alg HS256, kid (none), claims id, scope, iat, exp, lifetime 2592000 s (exp − iat)".into(),
        }],
        load: None,
        sent_signups: Vec::new(),
        request_costs: Default::default(),
        secrets: vec![PASSWORD.into()],
    };
    let targets = vec![target];
    RunReport {
        schema_version: 3,
        tool_version: "0.1.0".into(),
        run_id: "abcd1234".into(),
        strict: false,
        duration_ms: 1234,
        requirements: Summary::by_requirement(&targets),
        targets,
        summary,
        expectation_problems: Vec::new(),
    }
}

/// Sends a target's and the run's final events through a reporter set (which redacts), returning the output.
pub fn render(
    make: impl FnOnce(Box<dyn std::io::Write + Send>) -> Box<dyn Reporter>,
    show_secrets: bool,
) -> String {
    let captured = Captured::default();
    let mut set = ReporterSet::new(show_secrets);
    set.add(make(Box::new(captured.clone())));
    let report = report();
    set.handle(&EngineEvent::TargetFinished(&report.targets[0]));
    set.handle(&EngineEvent::RunFinished(&report));
    set.finish().unwrap();
    captured.text()
}

#[test]
fn human_report() {
    let text = render(
        |out| Box::new(HumanReporter::new(out, false, false).verbose(true)),
        false,
    );
    assert!(!text.contains(PASSWORD), "the password is redacted");
    assert!(text.contains("Bearer ***"));
    insta::assert_snapshot!(text);
}

#[test]
fn human_report_shows_secrets_when_asked() {
    let text = render(|out| Box::new(HumanReporter::new(out, false, false)), true);
    assert!(text.contains(PASSWORD));
}

#[test]
fn json_report() {
    let text = render(|out| Box::new(JsonReporter::new(out)), false);
    let value: Value = serde_json::from_str(&text).unwrap();
    assert!(!text.contains(PASSWORD));
    insta::assert_json_snapshot!(value, { ".run_id" => "[run-id]", ".duration_ms" => "[ms]", ".targets[].duration_ms" => "[ms]" });
}

#[test]
fn junit_report() {
    let text = render(|out| Box::new(JunitReporter::new(out)), false);
    assert!(!text.contains(PASSWORD));
    let text = regex::Regex::new(r#"time="[0-9.]+""#)
        .unwrap()
        .replace_all(&text, r#"time="[t]""#);
    insta::assert_snapshot!(text);
}

#[test]
fn the_json_report_matches_its_schema() {
    let schema: Value = serde_json::from_str(include_str!("../../docs/report.schema.json"))
        .expect("the schema is JSON");
    let report: Value =
        serde_json::from_str(&render(|out| Box::new(JsonReporter::new(out)), false)).unwrap();
    let mut problems = Vec::new();
    validate(&schema, &schema, &report, "$", &mut problems);
    assert!(problems.is_empty(), "{problems:#?}");

    // And the check can fail: a report missing a required key is caught.
    let mut broken = report.clone();
    broken["targets"][0]["requirements"][0]
        .as_object_mut()
        .unwrap()
        .remove("verdict");
    let mut problems = Vec::new();
    validate(&schema, &schema, &broken, "$", &mut problems);
    assert_eq!(
        problems,
        vec!["$.targets[0].requirements[0]: missing `verdict`".to_owned()]
    );
}

/// The subset of JSON Schema the report schema uses: `$ref`, `type`, `required`, `properties`,
/// `additionalProperties: false`, `items`, `enum`, `const`, `anyOf`.
pub(crate) fn validate(
    root: &Value,
    schema: &Value,
    value: &Value,
    at: &str,
    problems: &mut Vec<String>,
) {
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
        let fits = branches.iter().any(|branch| {
            let mut branch_problems = Vec::new();
            validate(root, branch, value, at, &mut branch_problems);
            branch_problems.is_empty()
        });
        if !fits {
            problems.push(format!("{at}: fits none of anyOf"));
        }
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let pointer = reference.trim_start_matches('#');
        match root.pointer(pointer) {
            Some(target) => validate(root, target, value, at, problems),
            None => problems.push(format!("{at}: unresolved $ref {reference}")),
        }
        return;
    }
    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = allowed
            .iter()
            .any(|t| *t == actual || (*t == "number" && actual == "integer"));
        if !ok {
            problems.push(format!("{at}: {actual}, not {allowed:?}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        problems.push(format!("{at}: {value} is not one of {options:?}"));
    }
    if let Some(constant) = schema.get("const")
        && constant != value
    {
        problems.push(format!("{at}: {value} is not {constant}"));
    }
    if let Value::Object(map) = value {
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(key) = key.as_str()
                && !map.contains_key(key)
            {
                problems.push(format!("{at}: missing `{key}`"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, field) in map {
            match properties.and_then(|p| p.get(key)) {
                Some(field_schema) => {
                    validate(root, field_schema, field, &format!("{at}.{key}"), problems)
                }
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    problems.push(format!("{at}: unexpected `{key}`"));
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            validate(root, item_schema, item, &format!("{at}[{i}]"), problems);
        }
    }
}

#[test]
fn the_start_of_a_run_names_each_warning_of_the_plan_and_its_time_with_a_boundary_repeat() {
    let out = Captured::default();
    let mut reporter = HumanReporter::new(Box::new(out.clone()), false, false);
    let warnings = ["staging: signup-email-limit sends up to 21 signups".to_owned()];
    reporter
        .handle(&EngineEvent::RunStarted {
            run_id: "r",
            targets: 1,
            scenarios: 2,
            projected_ms: 1_500,
            with_boundary_repeat_ms: Some(12_600),
            warnings: &warnings,
            sooner: &[(
                "staging",
                FasterWith {
                    signup_ip: 44,
                    projected_ms: 53_600,
                },
            )],
        })
        .unwrap();
    assert_eq!(
        out.text().lines().collect::<Vec<_>>(),
        [
            "2 scenarios on 1 target(s), projected 1.5 s, up to about 12.6 s on windows aligned to the clock (`authconform plan` shows the schedule)",
            "warning: staging: signup-email-limit sends up to 21 signups",
            "note: staging: its IP limit spreads this run's signups over several windows; with signup_ip = 44 or more it would take about 53.6 s (`authconform plan` says more)"
        ]
    );
}
