//! The engine against wiremock targets: every expectation kind passes on a conforming answer and fails on a
//! broken one, citing the right requirement.

use authconform::engine::{self, EngineError, RunPlan, Selection, TargetPlan, Verdict};
use authconform::target::ClockMode;
use authconform_scenario::model::{
    Capability, JsonTemplate, JsonType, JwtExpectation, Matcher, StatusPattern, StatusSet, Tally,
    Wait, WindowName, Within,
};
use authconform_scenario::template::{Expr, LimitName, Part, UserField};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// A target answering every request with `status`.
async fn answering_everything(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

async fn answering(status: u16, body: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/user/auth"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    server
}

fn sign_in(covers: &[&str]) -> authconform_scenario::model::RequestStep {
    let mut request = request("POST", "/user/auth");
    request.request.body = json_body(vec![
        (
            "username",
            JsonTemplate::String(expr(user("alice", UserField::Username))),
        ),
        (
            "password",
            JsonTemplate::String(expr(user("alice", UserField::Password))),
        ),
    ]);
    let _ = covers;
    request
}

fn user(name: &str, field: UserField) -> Expr {
    Expr::User {
        name: name.into(),
        field,
    }
}

fn one_step(
    name: &str,
    covers: &[&str],
    request: authconform_scenario::model::RequestStep,
) -> authconform_scenario::model::Suite {
    suite(vec![scenario(
        name,
        covers,
        vec![step("the step", covers, request)],
    )])
}

#[tokio::test]
async fn status_passes_and_fails_with_the_requirement_id() {
    let mut expecting_200 = sign_in(&[MUST]);
    expecting_200.expect.status = Some(status(&[200]));
    let suite = one_step("signin", &[MUST], expecting_200);

    let good = answering(200, json!({ "token": "t" })).await;
    let report = run(&suite, target(&good.uri(), ClockMode::Real)).await;
    assert_eq!(verdict(&report, MUST), Verdict::Pass);
    assert!(report.passed());

    let bad = answering(500, json!({ "error": "boom" })).await;
    let report = run(&suite, target(&bad.uri(), ClockMode::Real)).await;
    let requirement = requirement_report(&report, MUST);
    assert_eq!(requirement.verdict, Verdict::Fail);
    assert!(!report.passed());
    let finding = &requirement.findings[0];
    assert_eq!(finding.expected.as_deref(), Some("status 200"));
    assert!(
        finding.actual.as_deref().unwrap().starts_with("status 500"),
        "{finding:?}"
    );
    let exchange = finding
        .exchange
        .as_ref()
        .expect("the failing exchange is recorded");
    assert_eq!(exchange.request.method, "POST");
    assert!(exchange.request.url.ends_with("/user/auth"));
    assert_eq!(exchange.response.as_ref().unwrap().status, 500);
}

#[tokio::test]
async fn json_matchers_check_types_and_values() {
    let mut step = sign_in(&[MUST]);
    step.expect.json = vec![
        (
            "token".into(),
            Matcher {
                types: vec![JsonType::String],
                ..Matcher::default()
            },
        ),
        (
            "user.scope".into(),
            Matcher {
                types: vec![JsonType::Array],
                contains: Some(JsonTemplate::String(lit("user"))),
                ..Matcher::default()
            },
        ),
    ];
    let suite = one_step("json", &[MUST], step);

    let good = answering(200, json!({ "token": "t", "user": { "scope": ["user"] } })).await;
    assert_eq!(
        verdict(
            &run(&suite, target(&good.uri(), ClockMode::Real)).await,
            MUST
        ),
        Verdict::Pass
    );

    let bad = answering(200, json!({ "token": 5, "user": { "scope": ["admin"] } })).await;
    let report = run(&suite, target(&bad.uri(), ClockMode::Real)).await;
    let requirement = requirement_report(&report, MUST);
    assert_eq!(requirement.verdict, Verdict::Fail);
    let actual: Vec<&str> = requirement
        .findings
        .iter()
        .filter_map(|f| f.actual.as_deref())
        .collect();
    assert_eq!(
        actual,
        vec!["`token` is number 5", "`user.scope` is array [\"admin\"]"]
    );
}

#[tokio::test]
async fn a_message_passes_as_json_or_plain_text_and_its_shape_is_observed() {
    let message = "Too many signup attempts for this email address. Please try again later.";
    let mut step = sign_in(&[MUST]);
    step.expect.message = Some(lit(message));
    let suite = one_step("message", &[MUST], step);

    let json_server = answering(
        429,
        json!({ "statusCode": 429, "error": "Too Many Requests", "message": message }),
    )
    .await;
    let report = run(&suite, target(&json_server.uri(), ClockMode::Real)).await;
    assert_eq!(verdict(&report, MUST), Verdict::Pass);
    assert!(
        report.targets[0]
            .observations
            .iter()
            .any(|o| o.detail.contains("JSON body"))
    );

    let text_server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).set_body_string(message))
        .mount(&text_server)
        .await;
    // Whether the message belongs in JSON is judged on its own (AM-SIGNUP-RL-06), not with its text.
    let strict = run_plan(&suite, target(&text_server.uri(), ClockMode::Real), true).await;
    assert_eq!(verdict(&strict, MUST), Verdict::Pass);
    assert!(
        strict.targets[0]
            .observations
            .iter()
            .any(|o| o.detail.contains("plain-text body"))
    );

    let wrong = answering(429, json!({ "message": "slow down" })).await;
    let report = run(&suite, target(&wrong.uri(), ClockMode::Real)).await;
    assert_eq!(verdict(&report, MUST), Verdict::Fail);
}

#[tokio::test]
async fn headers_are_matched_case_insensitively() {
    let mut step = sign_in(&[MUST]);
    step.expect.headers = vec![(
        "retry-after".into(),
        Matcher {
            integer_range: Some((0, 86400)),
            ..Matcher::default()
        },
    )];
    let suite = one_step("headers", &[MUST], step);

    let good = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "60"))
        .mount(&good)
        .await;
    assert_eq!(
        verdict(
            &run(&suite, target(&good.uri(), ClockMode::Real)).await,
            MUST
        ),
        Verdict::Pass
    );

    let bad = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"),
        )
        .mount(&bad)
        .await;
    let report = run(&suite, target(&bad.uri(), ClockMode::Real)).await;
    assert_eq!(verdict(&report, MUST), Verdict::Fail);
    let finding = &requirement_report(&report, MUST).findings[0];
    assert_eq!(
        finding.expected.as_deref(),
        Some("header `retry-after`: an integer in [0, 86400]")
    );
}

#[tokio::test]
async fn body_excludes_catches_an_echoed_password() {
    let mut step = sign_in(&[SHOULD]);
    step.expect.body_excludes = vec![expr(user("alice", UserField::Password))];
    let suite = one_step("no-echo", &[SHOULD], step);

    let good = answering(401, json!({ "message": "Invalid credentials" })).await;
    assert_eq!(
        verdict(
            &run(&suite, target(&good.uri(), ClockMode::Real)).await,
            SHOULD
        ),
        Verdict::Pass
    );

    // Echo the request body back, password and all.
    let echo = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|request: &wiremock::Request| {
            ResponseTemplate::new(400).set_body_bytes(request.body.clone())
        })
        .mount(&echo)
        .await;
    let report = run(&suite, target(&echo.uri(), ClockMode::Real)).await;
    // A failed `expect` on a SHOULD requirement is a warning.
    assert_eq!(verdict(&report, SHOULD), Verdict::Warn);
}

#[tokio::test]
async fn same_as_compares_status_and_body() {
    let mut first = request("POST", "/user/auth");
    first.capture_response = Some("wrong_password".into());
    let mut second = request("POST", "/other");
    second.expect.same_as = Some("wrong_password".into());
    let suite = suite(vec![scenario(
        "same",
        &[SHOULD],
        vec![step("first", &[], first), step("second", &[SHOULD], second)],
    )]);

    let same = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({ "message": "no" })))
        .mount(&same)
        .await;
    assert_eq!(
        verdict(
            &run(&suite, target(&same.uri(), ClockMode::Real)).await,
            SHOULD
        ),
        Verdict::Pass
    );

    let different = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/user/auth"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({ "message": "wrong password" })),
        )
        .mount(&different)
        .await;
    Mock::given(method("POST"))
        .and(path("/other"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({ "message": "no such user" })),
        )
        .mount(&different)
        .await;
    assert_eq!(
        verdict(
            &run(&suite, target(&different.uri(), ClockMode::Real)).await,
            SHOULD
        ),
        Verdict::Warn
    );
}

#[tokio::test]
async fn jwt_expectations_decode_the_token_and_report_its_lifetime() {
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({ "id": "u1", "scope": ["user"], "iat": 1000, "exp": 4600 }),
        &jsonwebtoken::EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    let expectation = |alg: &str| {
        let mut step = sign_in(&[SHOULD]);
        step.expect.jwt = Some(JwtExpectation {
            field: "token".into(),
            alg: vec![alg.into()],
            claims: vec!["id".into(), "iat".into(), "exp".into()],
            header: vec![],
        });
        one_step("jwt", &[SHOULD], step)
    };
    let server = answering(200, json!({ "token": token })).await;

    let report = run(
        &expectation("HS256"),
        target(&server.uri(), ClockMode::Real),
    )
    .await;
    assert_eq!(verdict(&report, SHOULD), Verdict::Pass);
    let observation = &report.targets[0].observations[0];
    assert!(
        observation.detail.contains("lifetime 3600 s (exp − iat)"),
        "{observation:?}"
    );

    let report = run(
        &expectation("RS256"),
        target(&server.uri(), ClockMode::Real),
    )
    .await;
    let finding = &requirement_report(&report, SHOULD).findings[0];
    assert_eq!(finding.actual.as_deref(), Some("alg HS256"));
}

#[tokio::test]
async fn tallies_count_statuses_across_concurrent_repeats() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(30)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429))
        .mount(&server)
        .await;
    let tally_of = |count: i64| {
        let mut step = sign_in(&[MUST]);
        step.repeat = Some(lit("40"));
        step.concurrency = 8;
        step.expect.status = Some(status(&[401, 429]));
        step.expect.tally = vec![Tally {
            message: None,
            policy: None,
            status: status(&[401]),
            count: expr(Expr::Integer(count)),
            at_most: false,
            at_least: false,
        }];
        one_step("tally", &[MUST], step)
    };
    let report = run(&tally_of(30), target(&server.uri(), ClockMode::Real)).await;
    assert_eq!(verdict(&report, MUST), Verdict::Pass);
    assert_eq!(report.targets[0].scenarios[0].requests, 40);

    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(31)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429))
        .mount(&server)
        .await;
    let report = run(&tally_of(30), target(&server.uri(), ClockMode::Real)).await;
    let finding = &requirement_report(&report, MUST).findings[0];
    assert_eq!(
        finding.actual.as_deref(),
        Some("31 of 40 responses had status 401")
    );
}

#[tokio::test]
async fn a_should_tier_mismatch_is_a_warning_and_the_scenario_goes_on() {
    let mut first = sign_in(&[MUST]);
    first.expect.status = Some(StatusSet(vec![StatusPattern::Class(4)]));
    first.expect.should = Some(Box::new(authconform_scenario::model::Expectations {
        status: Some(status(&[400])),
        ..Default::default()
    }));
    let mut second = request("GET", "/user");
    second.expect.status = Some(status(&[401]));
    let suite = suite(vec![scenario(
        "tiers",
        &[MUST, MUST_2],
        vec![
            step("first", &[MUST], first),
            step("second", &[MUST_2], second),
        ],
    )]);
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(422))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let report = run(&suite, target(&server.uri(), ClockMode::Real)).await;
    assert_eq!(verdict(&report, MUST), Verdict::Warn);
    assert_eq!(verdict(&report, MUST_2), Verdict::Pass);
}

#[tokio::test]
async fn a_must_failure_stops_the_scenario_and_later_requirements_are_not_reached() {
    let mut first = sign_in(&[MUST]);
    first.expect.status = Some(status(&[200]));
    let mut second = request("GET", "/user");
    second.expect.status = Some(status(&[200]));
    let suite = suite(vec![scenario(
        "stops",
        &[MUST, MUST_2],
        vec![
            step("first", &[MUST], first),
            step("second", &[MUST_2], second),
        ],
    )]);
    let server = answering(500, json!({})).await;
    let get_user = Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0);
    server.register(get_user).await;
    let report = run(&suite, target(&server.uri(), ClockMode::Real)).await;
    assert_eq!(verdict(&report, MUST), Verdict::Fail);
    let later = requirement_report(&report, MUST_2);
    assert_eq!(later.verdict, Verdict::Inconclusive);
    assert_eq!(
        later.findings[0].note.as_deref(),
        Some("not reached: step 1 `first` failed")
    );
}

#[tokio::test]
async fn a_failed_setup_step_makes_the_scenario_inconclusive() {
    let mut setup = request("POST", "/user");
    setup.expect.status = Some(status(&[200]));
    let mut check = sign_in(&[MUST]);
    check.expect.status = Some(status(&[200]));
    let suite = suite(vec![scenario(
        "setup",
        &[MUST],
        vec![
            step("create the user", &[], setup),
            step("sign in", &[MUST], check),
        ],
    )]);
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let report = run(&suite, target(&server.uri(), ClockMode::Real)).await;
    let requirement = requirement_report(&report, MUST);
    assert_eq!(requirement.verdict, Verdict::Inconclusive);
    assert!(
        requirement.findings[0]
            .note
            .as_deref()
            .unwrap()
            .starts_with("setup step 1 `create the user` failed")
    );
    assert!(
        !report.passed(),
        "an inconclusive check does not pass the gate"
    );
}

#[tokio::test]
async fn captures_feed_later_templates() {
    let mut sign = sign_in(&[]);
    sign.capture.insert("token".into(), "token".into());
    let mut me = request("GET", "/user");
    me.request.headers = vec![(
        "Authorization".into(),
        parts(vec![
            Part::Literal("Bearer ".into()),
            Part::Expr(Expr::Captured("token".into())),
        ]),
    )];
    me.expect.status = Some(status(&[200]));
    let suite = suite(vec![scenario(
        "capture",
        &[MUST],
        vec![step("sign in", &[], sign), step("me", &[MUST], me)],
    )]);
    let server = answering(200, json!({ "token": "abc.def.ghi" })).await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .and(header("authorization", "Bearer abc.def.ghi"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        verdict(
            &run(&suite, target(&server.uri(), ClockMode::Real)).await,
            MUST
        ),
        Verdict::Pass
    );
}

/// An advance of the test clock that lands the target at `wake_ms` from the run's start: virtual time counts
/// the real time since then too, so the advance is that much shorter (a second at most here).
fn advancing_to(wake_ms: u64) -> impl Fn(&wiremock::Request) -> bool {
    move |request: &wiremock::Request| {
        serde_json::from_slice::<serde_json::Value>(&request.body)
            .ok()
            .and_then(|body| body.get("advance_ms")?.as_u64())
            .is_some_and(|advance| advance <= wake_ms && advance + 1_000 > wake_ms)
    }
}

fn windowed_suite(minus_slack: bool) -> authconform_scenario::model::Suite {
    let mut first = sign_in(&[MUST]);
    first.mark = Some("first".into());
    first.repeat = Some(expr(Expr::Limit(LimitName::CsIdenticalInvalid)));
    first.expect.status = Some(status(&[401]));
    let mut last = sign_in(&[MUST]);
    last.within = Some(Within {
        since: "first".into(),
        window: WindowName::CsInvalidWindow,
    });
    last.expect.status = Some(status(&[429]));
    suite(vec![scenario(
        "window",
        &[MUST],
        vec![
            step("five", &[MUST], first),
            wait_step(
                "wait",
                Wait::Window {
                    window: WindowName::CsInvalidWindow,
                    offset_ms: 1000,
                    minus_slack,
                    since: None,
                    percent: None,
                },
            ),
            step("sixth", &[MUST], last),
        ],
    )])
}

#[tokio::test]
async fn control_clock_waits_advance_the_target_clock() {
    let server = answering(401, json!({})).await;
    Mock::given(method("GET"))
        .and(path("/_authconform/clock"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "now_ms": 1, "offset_ms": 0 })),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/_authconform/clock"))
        .and(advancing_to(118_000))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "now_ms": 2, "offset_ms": 118_000 })),
        )
        .expect(1)
        .mount(&server)
        .await;
    // Waiting to just before the window's end (less twice the slack) and then failing is a real failure...
    let report = run(
        &windowed_suite(true),
        target(&server.uri(), ClockMode::Control),
    )
    .await;
    let requirement = requirement_report(&report, MUST);
    assert!(
        matches!(requirement.verdict, Verdict::Fail | Verdict::Inconclusive),
        "{requirement:?}"
    );
}

#[tokio::test]
async fn a_failure_after_the_window_has_passed_is_inconclusive() {
    let server = answering(401, json!({})).await;
    Mock::given(method("GET"))
        .and(path("/_authconform/clock"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "now_ms": 1, "offset_ms": 0 })),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/_authconform/clock"))
        .and(advancing_to(121_000))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "now_ms": 2, "offset_ms": 121_000 })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let report = run(
        &windowed_suite(false),
        target(&server.uri(), ClockMode::Control),
    )
    .await;
    let requirement = requirement_report(&report, MUST);
    assert_eq!(requirement.verdict, Verdict::Inconclusive);
    let note = requirement.findings[0].note.as_deref().unwrap();
    assert!(
        note.contains("since mark `first`") && note.contains("too late to tell"),
        "{note}"
    );
}

#[tokio::test]
async fn real_waits_sleep_and_report_progress() {
    let mut check = request("GET", "/user");
    check.expect.status = Some(status(&[401]));
    let suite = suite(vec![scenario(
        "real-wait",
        &[MUST],
        vec![
            wait_step("a short wait", Wait::Millis(30)),
            step("check", &[MUST], check),
        ],
    )]);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let plan = RunPlan {
        targets: vec![TargetPlan::new(target(&server.uri(), ClockMode::Real))],
        selection: Selection::all(),
        strict: false,
        jobs: authconform::engine::DEFAULT_JOBS,
    };
    let mut waits = Vec::new();
    let report = engine::run(&suite, &plan, &mut |event| {
        if let engine::EngineEvent::WaitStarted { total_ms, .. } = event {
            waits.push(*total_ms);
        }
    })
    .await
    .unwrap();
    assert_eq!(waits, vec![30]);
    assert_eq!(verdict(&report, MUST), Verdict::Pass);
}

#[tokio::test]
async fn unmet_capabilities_and_other_profiles_are_skipped_with_reasons() {
    let mut clocked = scenario(
        "needs-clock",
        &[MUST],
        vec![step("s", &[MUST], request("GET", "/"))],
    );
    clocked.requires = vec![Capability::ClockControl];
    let suite = suite(vec![clocked]);
    let server = MockServer::start().await;
    let report = run(&suite, target(&server.uri(), ClockMode::Real)).await;
    let must = requirement_report(&report, MUST);
    assert_eq!(must.verdict, Verdict::Skip);
    assert_eq!(
        must.skip_reasons,
        vec!["needs-clock: needs clock-control; the target's clock is real".to_owned()]
    );
    let cloud = requirement_report(&report, CLOUD_ONLY);
    assert_eq!(
        cloud.skip_reasons,
        vec!["not applicable to appmixer-6".to_owned()]
    );
}

#[tokio::test]
async fn an_unreachable_target_is_an_error_not_a_verdict() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let plan = RunPlan {
        targets: vec![TargetPlan::new(target(
            &format!("http://{address}"),
            ClockMode::Real,
        ))],
        selection: Selection::all(),
        strict: false,
        jobs: authconform::engine::DEFAULT_JOBS,
    };
    let err = engine::run(&suite(vec![]), &plan, &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("connection refused"), "{err}");
}

#[tokio::test]
async fn a_control_clock_target_without_the_protocol_is_a_description_error() {
    let server = MockServer::start().await;
    let plan = RunPlan {
        targets: vec![TargetPlan::new(target(&server.uri(), ClockMode::Control))],
        selection: Selection::all(),
        strict: false,
        jobs: authconform::engine::DEFAULT_JOBS,
    };
    let err = engine::run(&suite(vec![]), &plan, &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::ClockProtocol { .. }), "{err}");
}

#[tokio::test]
async fn a_dropped_connection_mid_scenario_fails_the_requirement() {
    // Answers the probe, then closes every later connection without a response.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut answered = false;
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            if !answered {
                answered = true;
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await;
            }
        }
    });
    let mut step = sign_in(&[MUST]);
    step.expect.status = Some(status(&[401]));
    let suite = one_step("dropped", &[MUST], step);
    let report = run(
        &suite,
        target(&format!("http://{address}"), ClockMode::Real),
    )
    .await;
    let requirement = requirement_report(&report, MUST);
    assert_eq!(requirement.verdict, Verdict::Fail);
    assert!(
        requirement.findings[0]
            .actual
            .as_deref()
            .unwrap()
            .starts_with("no response"),
        "{:?}",
        requirement.findings[0]
    );
}

#[tokio::test]
async fn forwarded_for_gives_each_scenario_its_own_address() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("x-forwarded-for", "203.0.113.1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("x-forwarded-for", "203.0.113.2"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let mut check = request("GET", "/user");
    check.expect.status = Some(status(&[200]));
    let suite = suite(vec![
        scenario("one", &[MUST], vec![step("s", &[MUST], check.clone())]),
        scenario("two", &[MUST_2], vec![step("s", &[MUST_2], check)]),
    ]);
    let mut description = target(&server.uri(), ClockMode::Real);
    description.forwarded_for = true;
    let report = run(&suite, description).await;
    assert_eq!(verdict(&report, MUST), Verdict::Pass);
    assert_eq!(verdict(&report, MUST_2), Verdict::Pass);
}

#[tokio::test]
async fn a_passing_step_keeps_its_first_and_last_exchange_as_evidence() {
    let mut repeated = sign_in(&[MUST]);
    repeated.expect.status = Some(status(&[200]));
    repeated.repeat = Some(lit("3"));
    let suite = one_step("signin", &[MUST], repeated);

    let good = answering(200, json!({ "token": "t" })).await;
    let report = run(&suite, target(&good.uri(), ClockMode::Real)).await;
    let requirement = requirement_report(&report, MUST);
    assert_eq!(requirement.verdict, Verdict::Pass);
    assert!(requirement.findings.is_empty());
    let [check] = requirement.checks.as_slice() else {
        panic!("one check: {:#?}", requirement.checks);
    };
    assert_eq!(
        (check.verdict, check.requests, check.step_number),
        (Verdict::Pass, 3, 1)
    );
    let numbers: Vec<u64> = check.exchanges.iter().map(|s| s.request_number).collect();
    assert_eq!(numbers, vec![1, 3], "the first and the last request");
    let exchange = &check.exchanges[0].exchange;
    assert_eq!(exchange.request.method, "POST");
    assert_eq!(exchange.response.as_ref().map(|r| r.status), Some(200));

    // A failing step is a check too, with the verdict of its findings.
    let bad = answering(500, json!({ "error": "boom" })).await;
    let report = run(&suite, target(&bad.uri(), ClockMode::Real)).await;
    let check = &requirement_report(&report, MUST).checks[0];
    assert_eq!(check.verdict, Verdict::Fail);
    assert_eq!(check.exchanges.len(), 2);
}

#[tokio::test]
async fn a_check_that_may_continue_after_failing_lets_later_checks_be_judged() {
    let mut first = request("GET", "/user");
    first.expect.status = Some(status(&[200]));
    let mut second = request("GET", "/user");
    second.expect.status = Some(status(&[401]));
    let mut first_step = step("first", &[MUST], first);
    first_step.continue_on_failure = true;
    let suite = suite(vec![scenario(
        "goes-on",
        &[MUST, MUST_2],
        vec![first_step, step("second", &[MUST_2], second)],
    )]);
    let server = answering_everything(401).await;
    let report = run(&suite, target(&server.uri(), ClockMode::Real)).await;
    assert_eq!(verdict(&report, MUST), Verdict::Fail);
    assert_eq!(verdict(&report, MUST_2), Verdict::Pass);
}

#[tokio::test]
async fn a_step_the_target_cannot_run_is_left_out_and_its_requirement_skipped_with_the_reason() {
    let mut forged = request("GET", "/user");
    forged.expect.status = Some(status(&[200]));
    let mut other = request("GET", "/user");
    other.expect.status = Some(status(&[401]));
    let mut forged_step = step("forged", &[MUST], forged);
    forged_step.requires = vec![Capability::UntrustedForwardedFor];
    let suite = suite(vec![scenario(
        "partly",
        &[MUST, MUST_2],
        vec![forged_step, step("other", &[MUST_2], other)],
    )]);
    let server = answering_everything(401).await;
    let mut trusting = target(&server.uri(), ClockMode::Real);
    trusting.forwarded_for = true;
    let report = run(&suite, trusting).await;
    let skipped = requirement_report(&report, MUST);
    assert_eq!(skipped.verdict, Verdict::Skip);
    assert!(
        skipped.skip_reasons[0].contains("needs untrusted-forwarded-for"),
        "{:?}",
        skipped.skip_reasons
    );
    assert_eq!(verdict(&report, MUST_2), Verdict::Pass);
}

/// On one client address, a check that needs an empty IP window waits until the last signup of the run is a
/// window old: after another scenario's signup it waits, with no signup before it it does not, and with an
/// address of its own (the target trusts `X-Forwarded-For`) it never does. A signup whose counting is not
/// known is counted in when the target said how many its window held after it.
#[tokio::test]
async fn an_empty_window_wait_lasts_until_the_last_signup_is_a_window_old() {
    use authconform::target::state::{self, SentSignups, TargetState, WindowRead};
    let signup = || {
        let mut signup = request("POST", "/user");
        signup.expect.status = Some(status(&[200]));
        signup
    };
    let signs_up = scenario("signs-up", &[MUST], vec![step("signup", &[MUST], signup())]);
    let counts_the_ip = scenario(
        "counts-the-ip",
        &[MUST_2],
        vec![
            wait_step(
                "start from an empty IP window",
                Wait::EmptyWindow(WindowName::SignupIpWindow),
            ),
            step("signup", &[MUST_2], signup()),
        ],
    );
    let server = answering_everything(200).await;
    let mut description = target(&server.uri(), ClockMode::Real);
    // A signup sent from the runner's address just before the run: known to count or not, and what the
    // target then said its IP window held, if it did.
    let sent_just_now = |(counted, held): (bool, Option<u64>)| {
        let mut earlier = TargetState::new(description.base_url.as_str());
        let now = state::now_unix_ms();
        earlier.signups.push(SentSignups {
            address: state::DIRECT.to_owned(),
            at_unix_ms: now,
            count: 1,
            counted,
        });
        earlier.ip_window_read = held.map(|held| WindowRead {
            at_unix_ms: now,
            held,
        });
        Some(earlier)
    };
    // (scenarios, forwarded-for, a signup sent just before (known to count?, held by the target's count),
    // whether the run knows every signup of its address, the IP window, waits)
    let both = vec![signs_up.clone(), counts_the_ip.clone()];
    let cases = [
        // The IP check goes first, from an empty window; the other signup after it.
        (both, false, None, false, 50, 0),
        (
            vec![counts_the_ip.clone()],
            false,
            Some((false, None)),
            true,
            50,
            1,
        ),
        // Not known to count, but the target said its window held it: counted in, no wait.
        (
            vec![counts_the_ip.clone()],
            false,
            Some((false, Some(1))),
            true,
            60_000,
            0,
        ),
        // A count the run cannot explain (two, where it sent one) is set aside: waited out.
        (
            vec![counts_the_ip.clone()],
            false,
            Some((false, Some(2))),
            true,
            50,
            1,
        ),
        // Known to count, and the run knows every signup of its address: counted in, no wait (the
        // window is long enough that the signup is less than half of it old when the check starts).
        (
            vec![counts_the_ip.clone()],
            false,
            Some((true, None)),
            true,
            60_000,
            0,
        ),
        // Known to count, but other signups of the address may be missing: waited out.
        (
            vec![counts_the_ip.clone()],
            false,
            Some((true, None)),
            false,
            50,
            1,
        ),
        (
            vec![signs_up, counts_the_ip],
            true,
            Some((false, None)),
            true,
            50,
            0,
        ),
    ];
    for (scenarios, forwarded_for, sent_before, knows_history, window_ms, waits_expected) in cases {
        description.forwarded_for = forwarded_for;
        description.limits.signup_ip_window_ms = window_ms;
        let mut target = TargetPlan::new(description.clone());
        target.earlier = sent_before.and_then(sent_just_now);
        target.knows_history = knows_history;
        let plan = RunPlan {
            targets: vec![target],
            selection: Selection::all(),
            strict: false,
            jobs: authconform::engine::DEFAULT_JOBS,
        };
        let mut waits = Vec::new();
        let report = engine::run(&suite(scenarios), &plan, &mut |event| {
            if let engine::EngineEvent::WaitStarted { total_ms, .. } = event {
                waits.push(*total_ms);
            }
        })
        .await
        .unwrap();
        assert_eq!(
            waits.len(),
            waits_expected,
            "forwarded_for {forwarded_for}, knows_history {knows_history}: {waits:?}"
        );
        // Never more than the window and the margin after the signup.
        assert!(waits.iter().all(|wait| *wait <= 1_050), "{waits:?}");
        assert_eq!(verdict(&report, MUST_2), Verdict::Pass);
    }
}

#[tokio::test]
async fn a_long_step_tells_its_progress_as_it_goes() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_millis(5)))
        .mount(&server)
        .await;
    let mut many = sign_in(&[MUST]);
    many.repeat = Some(authconform_scenario::parse_template("1000").expect("a number"));
    many.concurrency = 8;
    many.expect.status = Some(status(&[200]));
    let suite = one_step("many", &[MUST], many);
    let plan = RunPlan {
        targets: vec![TargetPlan::new(target(&server.uri(), ClockMode::Real))],
        selection: Selection::all(),
        strict: false,
        jobs: 1,
    };
    let mut told: Vec<(u64, u64)> = Vec::new();
    let report = engine::run(&suite, &plan, &mut |event| {
        if let engine::EngineEvent::StepProgress {
            answered, total, ..
        } = event
        {
            told.push((*answered, *total));
        }
    })
    .await
    .expect("the run completes");
    assert_eq!(verdict(&report, MUST), Verdict::Pass);
    // 1,000 requests of 5 ms, 8 at a time, take over half a second: progress is told every 100 ms.
    assert!(!told.is_empty(), "no progress was told");
    assert!(told.iter().all(|(_, total)| *total == 1000), "{told:?}");
    assert!(
        told.windows(2).all(|pair| pair[0].0 <= pair[1].0) && told.iter().all(|(a, _)| *a <= 1000),
        "{told:?}"
    );
}

/// The catalogue's Creditsafe content-type check against a target answering every `POST /authenticate`
/// with `status`, `content_type` and the identical-invalid refusal's body.
async fn content_type_check(status: u16, content_type: &str) -> authconform::engine::RunReport {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/authenticate"))
        .respond_with(ResponseTemplate::new(status).set_body_raw(
            r#"{"statusCode":429,"error":"Too Many Requests","message":"Too many identical invalid requests. Please try again later."}"#,
            content_type,
        ))
        .mount(&server)
        .await;
    let mut target = target(&server.uri(), ClockMode::Real);
    target.profiles = vec![authconform_scenario::model::Profile::CreditsafeConnect];
    let suite = authconform::suite::load(&[]).unwrap();
    let plan = RunPlan {
        targets: vec![TargetPlan::new(target)],
        selection: Selection::new(&["creditsafe-json-content-type".to_owned()], &[]).unwrap(),
        strict: false,
        jobs: 1,
    };
    engine::run(&suite, &plan, &mut |_| {}).await.unwrap()
}

/// A 429 with the right content type where the content-type check asked for a 401 is a refusal by a limit:
/// GEN-01 is inconclusive, blocked by the requirement the 401 belongs to, never failed. A 401 that is not
/// JSON is found against GEN-01 (a SHOULD: a warning).
#[tokio::test]
async fn a_refusal_by_a_limit_is_not_put_on_the_content_type() {
    let refused = content_type_check(429, "application/json; charset=utf-8").await;
    let gen01 = requirement_report(&refused, "GEN-01");
    assert_eq!(
        gen01.verdict,
        Verdict::Inconclusive,
        "{:#?}",
        gen01.findings
    );
    assert!(
        gen01
            .findings
            .iter()
            .all(|f| f.blocked_by.as_deref() == Some("CS-AUTH-02")),
        "{:#?}",
        gen01.findings
    );

    let plain = content_type_check(401, "text/plain").await;
    let gen01 = requirement_report(&plain, "GEN-01");
    assert_eq!(gen01.verdict, Verdict::Warn, "{:#?}", gen01.findings);
    assert!(
        gen01.findings[0]
            .actual
            .as_deref()
            .is_some_and(|actual| actual.contains("text/plain")),
        "{:#?}",
        gen01.findings
    );
}

/// A server that answers its first `answers` connections with a JSON 401 (closing each), then stops
/// listening: every later connection is refused.
async fn stopping_after(answers: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..answers {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut buffer = vec![0u8; 16 * 1024];
            let _ = stream.read(&mut buffer).await;
            let body = r#"{"statusCode":401,"error":"Unauthorized","message":"Invalid token"}"#;
            let answer = format!(
                "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        // The listener goes with the task: nothing listens any more.
    });
    format!("http://{address}")
}

/// A target that stops mid-run (its process died, say) refuses the requests after it: those steps are not
/// judged and no requirement is blamed for them; what was answered before is judged as usual.
#[tokio::test]
async fn a_target_that_stops_listening_mid_run_fails_nothing_it_did_not_answer() {
    let url = stopping_after(2).await;
    let mut answered = request("GET", "/user");
    answered.expect.status = Some(status(&[401]));
    let mut refused = request("GET", "/user");
    refused.expect.status = Some(status(&[401]));
    let suite = suite(vec![scenario(
        "stops-listening",
        &[MUST, MUST_2],
        vec![
            // The run's probe takes the first answer, this step the second.
            step("answered before the server stopped", &[MUST], answered),
            step("sent after the server stopped", &[MUST_2], refused),
        ],
    )]);
    let report = run(&suite, target(&url, ClockMode::Real)).await;
    assert_eq!(verdict(&report, MUST), Verdict::Pass);
    let after = requirement_report(&report, MUST_2);
    assert_eq!(after.verdict, Verdict::Inconclusive, "{after:#?}");
    let note = after.findings[0].note.clone().unwrap_or_default();
    assert!(
        note.contains("the target refused 1 of 1 connection(s): nothing listens at"),
        "{note}"
    );
}
