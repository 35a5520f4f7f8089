//! Builders that read as one sentence: scenarios, steps and targets made by hand, and a run against them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use authconform::engine::{
    self, RequirementReport, RunPlan, RunReport, Selection, TargetPlan, Verdict,
};
use authconform::target::{ClockMode, TargetDescription};
use authconform_scenario::model::{
    Action, Body, Capability, Catalogue, Expectations, JsonTemplate, Level, Origin, Phase, Profile,
    RequestSpec, RequestStep, Requirement, Scenario, StatusPattern, StatusSet, Step, Suite, Wait,
};
use authconform_scenario::template::{Expr, Part, Template};

/// Whether every scenario covering `id` needs a target not declared to trust `X-Forwarded-For`: such a
/// requirement is skipped where the target trusts it (the mutation suite checks it where it does not).
pub(crate) fn needs_untrusted_forwarded_for(suite: &Suite, id: &str) -> bool {
    let untrusted = |requires: &[Capability]| requires.contains(&Capability::UntrustedForwardedFor);
    suite
        .scenarios
        .iter()
        .filter(|s| s.covers.iter().any(|c| c == id))
        .all(|s| {
            untrusted(&s.requires)
                || s.steps
                    .iter()
                    .filter(|step| matches!(step.action, Action::Request(_)))
                    .filter(|step| step.covers.iter().any(|c| c == id))
                    .all(|step| untrusted(&step.requires))
        })
}

pub const MUST: &str = "T-MUST-01";
pub const MUST_2: &str = "T-MUST-02";
pub const SHOULD: &str = "T-SHOULD-01";
pub const CLOUD_ONLY: &str = "T-CLOUD-01";

fn requirement(id: &str, level: Level, profiles: Vec<Profile>) -> Requirement {
    Requirement {
        id: id.into(),
        level,
        profiles,
        requirement: format!("{id} holds."),
        clause: format!("The clause of {id}."),
        source: "Test document".into(),
        accept: None,
    }
}

pub fn catalogue() -> Catalogue {
    Catalogue {
        requirements: vec![
            requirement(MUST, Level::Must, vec![Profile::Appmixer6]),
            requirement(MUST_2, Level::Must, vec![Profile::Appmixer6]),
            requirement(SHOULD, Level::Should, vec![Profile::Appmixer6]),
            requirement(CLOUD_ONLY, Level::Must, vec![Profile::AppmixerCloud]),
        ],
    }
}

pub fn lit(text: &str) -> Template {
    Template::literal(text)
}

/// A template that is exactly one expression.
pub fn expr(expr: Expr) -> Template {
    Template {
        source: format!("{{{{ {expr:?} }}}}"),
        parts: vec![Part::Expr(expr)],
    }
}

/// A template of literal text and expressions.
pub fn parts(parts: Vec<Part>) -> Template {
    Template {
        source: format!("{parts:?}"),
        parts,
    }
}

pub fn status(codes: &[u16]) -> StatusSet {
    StatusSet(codes.iter().map(|c| StatusPattern::Code(*c)).collect())
}

fn origin() -> Origin {
    Origin {
        file: PathBuf::from("scenarios/test.toml"),
        line: 1,
        column: 1,
    }
}

pub fn request(method: &str, path: &str) -> RequestStep {
    RequestStep {
        request: RequestSpec {
            method: method.into(),
            path: lit(path),
            headers: Vec::new(),
            body: Body::None,
            content_type: None,
        },
        repeat: None,
        concurrency: 1,
        expect: Expectations::default(),
        capture: BTreeMap::new(),
        capture_response: None,
        mark: None,
        within: None,
        reading: BTreeMap::new(),
        precondition: None,
        blame: Vec::new(),
    }
}

pub fn json_body(fields: Vec<(&str, JsonTemplate)>) -> Body {
    Body::Json(JsonTemplate::Object(
        fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    ))
}

/// A request step judging `covers` (empty: a setup step).
pub fn step(name: &str, covers: &[&str], request: RequestStep) -> Step {
    Step {
        name: name.into(),
        covers: covers.iter().map(|c| (*c).to_owned()).collect(),
        requires: Vec::new(),
        continue_on_failure: false,
        skip_after_clock_boundary: false,
        action: Action::Request(Box::new(request)),
        origin: origin(),
    }
}

pub fn wait_step(name: &str, wait: Wait) -> Step {
    Step {
        name: name.into(),
        covers: Vec::new(),
        requires: Vec::new(),
        continue_on_failure: false,
        skip_after_clock_boundary: false,
        action: Action::Wait(wait),
        origin: origin(),
    }
}

pub fn scenario(name: &str, covers: &[&str], steps: Vec<Step>) -> Scenario {
    Scenario {
        name: name.into(),
        title: format!("{name} title"),
        covers: covers.iter().map(|c| (*c).to_owned()).collect(),
        profiles: vec![Profile::Appmixer6, Profile::AppmixerCloud],
        tags: Vec::new(),
        requires: Vec::new(),
        phase: Phase::Normal,
        holds: Vec::new(),
        steps,
        origin: origin(),
    }
}

pub fn suite(scenarios: Vec<Scenario>) -> Suite {
    Suite {
        catalogue: catalogue(),
        scenarios,
    }
}

pub fn target(uri: &str, clock: ClockMode) -> TargetDescription {
    let mut target = TargetDescription::new(
        uri.parse().expect("mock server URI"),
        vec![Profile::Appmixer6],
    );
    target.clock = clock;
    target.timeout_ms = 5_000;
    target
}

pub async fn run(suite: &Suite, target: TargetDescription) -> RunReport {
    run_plan(suite, target, false).await
}

pub async fn run_plan(suite: &Suite, target: TargetDescription, strict: bool) -> RunReport {
    let plan = RunPlan {
        targets: vec![TargetPlan::new(target)],
        selection: Selection::all(),
        strict,
        jobs: authconform::engine::DEFAULT_JOBS,
    };
    engine::run(suite, &plan, &mut |_| {})
        .await
        .expect("the run completes")
}

pub fn requirement_report<'r>(report: &'r RunReport, id: &str) -> &'r RequirementReport {
    report.targets[0]
        .requirements
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("{id} is in the report"))
}

pub fn verdict(report: &RunReport, id: &str) -> Verdict {
    requirement_report(report, id).verdict
}

/// A reference server on 127.0.0.1 with a free port (seeding hashes passwords: off the runtime).
/// `command` (given the base URL, run off the runtime, as the CLI is) beside a reference server started
/// with `config`, which is shut down after it.
pub async fn beside_reference<T: Send + 'static>(
    config: authconform_reference_server::Config,
    command: impl FnOnce(String) -> T + Send + 'static,
) -> T {
    let server = start_reference(config).await;
    let url = server.base_url();
    let result = tokio::task::spawn_blocking(move || command(url))
        .await
        .unwrap();
    server.shutdown().await.unwrap();
    result
}

pub async fn start_reference(
    config: authconform_reference_server::Config,
) -> authconform_reference_server::RunningServer {
    let state =
        tokio::task::spawn_blocking(move || authconform_reference_server::AppState::new(config))
            .await
            .expect("the state task completes")
            .expect("the reference server's state builds");
    authconform_reference_server::RunningServer::start(([127, 0, 0, 1], 0).into(), state)
        .await
        .expect("the reference server binds")
}

/// The runner's view of an account the reference server was seeded with.
pub fn runner_account(
    seed: &authconform_reference_server::SeedAccount,
) -> authconform::target::Account {
    authconform::target::Account {
        username: seed.username.clone(),
        email: seed.email.clone(),
        password: seed.password.clone(),
    }
}

/// Whether `tool --version` runs and succeeds (tests that need an outside program skip without it).
pub fn installed(tool: &str) -> bool {
    std::process::Command::new(tool)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// One finding on a line, for a test's failure message: its verdict, where, what was expected and seen, and
/// what blocked it.
pub fn describe_finding(f: &authconform::engine::Finding) -> String {
    format!(
        "{} {} step {} `{}`: expected {:?}, actual {:?}, note {:?}, blocked by {:?}",
        f.severity, f.scenario, f.step_number, f.step, f.expected, f.actual, f.note, f.blocked_by
    )
}
