//! One HTTP client for every command: `run`, `detect` and `load` keep a base URL's path prefix (with or
//! without a trailing `/`), follow no redirect, and read bodies only up to `--max-body`, so an endless
//! body costs neither memory nor a hang.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use authconform::engine::{RunPlan, Selection, TargetPlan};
use authconform::load::{self, LoadOptions, LoadProfile};
use authconform::target::{Account, ClockMode, Limits, TargetDescription};
use authconform_reference_server::{AppmixerProfile, Config, SeedAccount};
use authconform_scenario::model::Profile;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// A proxy that serves the reference server under `/v1` and counts every request outside it.
#[derive(Clone)]
struct PrefixProxy {
    upstream: String,
    client: reqwest::Client,
    outside: Arc<AtomicU64>,
    inside: Arc<AtomicU64>,
}

async fn forward(State(proxy): State<PrefixProxy>, request: Request) -> Response {
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let Some(rest) = path_and_query.strip_prefix("/v1/") else {
        proxy.outside.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::NOT_FOUND, "outside the prefix").into_response();
    };
    proxy.inside.fetch_add(1, Ordering::SeqCst);
    let method = request.method().clone();
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let mut upstream = proxy
        .client
        .request(method, format!("{}/{rest}", proxy.upstream))
        .body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            upstream = upstream.header(name, value);
        }
    }
    let Ok(answer) = upstream.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = answer.status();
    let mut headers = HeaderMap::new();
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            headers.append(name, value.clone());
        }
    }
    let body = answer.bytes().await.unwrap_or_default();
    (status, headers, body).into_response()
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{address}")
}

const ADMIN: (&str, &str) = ("admin@example.com", "prefix-admin-password");
const CONNECT: (&str, &str) = ("connect-user", "prefix-connect-password");

fn account((username, password): (&str, &str)) -> Account {
    Account {
        username: username.to_owned(),
        email: None,
        password: password.to_owned(),
    }
}

/// `run`, `detect` and `load` through a proxy that serves the target under `/v1`, given the base with and
/// without its trailing `/`: not one request leaves the prefix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_keeps_the_base_urls_path_prefix() {
    let suite = authconform::suite::load(&[]).unwrap();
    let mut inside = 0;
    // A server of its own for each form of the base: the lockout profile leaves the client locked out.
    for with_slash in [false, true] {
        let server = crate::support::start_reference(Config {
            profile: AppmixerProfile::Appmixer6,
            cs_overall_threshold: 300,
            test_clock: true,
            admin: SeedAccount {
                username: ADMIN.0.into(),
                email: Some(ADMIN.0.into()),
                password: ADMIN.1.into(),
            },
            creditsafe_account: SeedAccount {
                username: CONNECT.0.into(),
                email: None,
                password: CONNECT.1.into(),
            },
            ..Config::default()
        })
        .await;
        let proxy = PrefixProxy {
            upstream: server.base_url().trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            outside: Arc::new(AtomicU64::new(0)),
            inside: Arc::new(AtomicU64::new(0)),
        };
        let address = serve(
            axum::Router::new()
                .fallback(forward)
                .with_state(proxy.clone()),
        )
        .await;

        let base = if with_slash {
            format!("{address}/v1/")
        } else {
            format!("{address}/v1")
        };
        let mut target = TargetDescription::new(
            base.parse().unwrap(),
            vec![Profile::Appmixer6, Profile::CreditsafeConnect],
        );
        target.clock = ClockMode::Control;
        target.admin = Some(account(ADMIN));
        target.creditsafe = Some(account(CONNECT));
        target.limits = Limits {
            cs_overall_threshold: 300,
            ..Limits::default()
        };

        let plan = RunPlan {
            targets: vec![TargetPlan::new(target.clone())],
            selection: Selection::new(
                &[
                    "creditsafe-sixth-identical-invalid-request-is-refused".to_owned(),
                    "appmixer-signin*".to_owned(),
                ],
                &[],
            )
            .unwrap(),
            strict: false,
            jobs: 2,
        };
        let report = authconform::engine::run(&suite, &plan, &mut |_| {})
            .await
            .expect("the run completes");
        assert!(report.targets[0].requirements.iter().any(|r| r.id == "CS-INVALID-01"
            && r.verdict == authconform::engine::Verdict::Pass));

        authconform::detect::detect(&target)
            .await
            .expect("detection runs");

        let options = LoadOptions {
            users: 8,
            ..LoadOptions::new(LoadProfile::Lockout)
        };
        load::run(&target, &options, false, &mut |_| {})
            .await
            .expect("the load run completes");

        assert_eq!(
            proxy.outside.load(Ordering::SeqCst),
            0,
            "{base}: requests left the prefix"
        );
        inside += proxy.inside.load(Ordering::SeqCst);
        server.shutdown().await.unwrap();
    }
    assert!(inside > 1200, "the commands went through the proxy");
}

/// A target that answers every request with a redirect: the flood and the engine both see the 307 and
/// never ask where it points.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_answers_never_followed() {
    let followed = Arc::new(AtomicU64::new(0));
    let counter = followed.clone();
    let app = axum::Router::new()
        .route(
            "/elsewhere",
            axum::routing::any(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { "followed" }
            }),
        )
        .fallback(|| async {
            (
                StatusCode::TEMPORARY_REDIRECT,
                [("location", "/elsewhere")],
                "",
            )
        });
    let address = serve(app).await;
    let target = TargetDescription::new(address.parse().unwrap(), vec![Profile::CreditsafeConnect]);
    // A flood of 200 driven by goose, as a load run sends it.
    let mut flood = crate::support::request("POST", "/authenticate");
    flood.repeat = Some(authconform_scenario::parse_template("200").unwrap());
    flood.concurrency = 4;
    flood.expect.status = Some(crate::support::status(&[307]));
    let flood_suite = crate::support::suite(vec![crate::support::scenario(
        "flood",
        &[crate::support::MUST],
        vec![crate::support::step(
            "flood",
            &[crate::support::MUST],
            flood,
        )],
    )]);
    // The helper scenario applies to the Appmixer profiles; the flood's path is all that matters here.
    let mut flood_target = TargetPlan::new(TargetDescription::new(
        address.parse().unwrap(),
        vec![Profile::Appmixer6],
    ));
    flood_target.meter = Some(Arc::new(
        authconform::engine::Meter::new(4).driven_by(Arc::new(load::GooseDriver::default())),
    ));
    let flood_plan = RunPlan {
        targets: vec![flood_target],
        selection: Selection::all(),
        strict: false,
        jobs: 1,
    };
    let report = authconform::engine::run(&flood_suite, &flood_plan, &mut |_| {})
        .await
        .expect("the flood runs");
    let figures = report.targets[0].load.as_ref().expect("the figures");
    assert_eq!(figures.statuses.get(&307), Some(&200), "{figures:?}");

    let suite = authconform::suite::load(&[]).unwrap();
    let plan = RunPlan {
        targets: vec![TargetPlan::new(target)],
        selection: Selection::new(
            &["creditsafe-sixth-identical-invalid-request-is-refused".to_owned()],
            &[],
        )
        .unwrap(),
        strict: false,
        jobs: 1,
    };
    let report = authconform::engine::run(&suite, &plan, &mut |_| {})
        .await
        .expect("the run completes");
    assert!(report.targets[0].scenarios[0].requests > 0);
    assert_eq!(
        followed.load(Ordering::SeqCst),
        0,
        "a redirect was followed"
    );
}

/// Peak resident memory of a child process, in KiB, sampled until it exits (or `limit` passes).
async fn peak_rss_kib(mut child: tokio::process::Child, limit: Duration) -> (u64, bool, String) {
    let pid = child.id().expect("the child runs");
    let started = Instant::now();
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kib: u64 = line
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            peak = peak.max(kib);
        }
        if let Ok(Some(_)) = child.try_wait() {
            let output = child.wait_with_output().await.unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            return (peak, true, text);
        }
        if started.elapsed() > limit {
            let _ = child.kill().await;
            return (peak, false, String::new());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A server whose every answer is a body that never ends: `run` and `load` read each one up to
/// `--max-body` and go on, staying under 100 MiB and finishing on their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_body_costs_neither_memory_nor_a_hang() {
    let app = axum::Router::new().fallback(|| async {
        let chunk = bytes::Bytes::from(vec![b'x'; 64 * 1024]);
        let endless = futures_util::stream::repeat_with(move || {
            Ok::<_, std::convert::Infallible>(chunk.clone())
        });
        (StatusCode::UNAUTHORIZED, Body::from_stream(endless))
    });
    let address = serve(app).await;
    let binary = env!("CARGO_BIN_EXE_authconform");
    let common = [
        "--target",
        address.as_str(),
        "--timeout-ms",
        "5000",
        "--max-body",
        "256KiB",
    ];
    let run = tokio::process::Command::new(binary)
        .args([
            "run",
            "--only",
            "creditsafe-sixth-identical-invalid-request-is-refused",
        ])
        .args(["--profile", "creditsafe-connect"])
        .args(common)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (run_kib, run_done, run_err) = peak_rss_kib(run, Duration::from_secs(60)).await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("load.json");
    let load = tokio::process::Command::new(binary)
        .args(["load", "signup", "--users", "4", "--requests", "300"])
        .args(["--profile", "appmixer-cloud", "--limit", "signup_ip=1000"])
        .args(["--format", &format!("json={}", json.display())])
        .args(common)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (load_kib, load_done, load_err) = peak_rss_kib(load, Duration::from_secs(60)).await;
    println!("peak RSS: run {run_kib} KiB, load {load_kib} KiB");
    assert!(run_done, "run did not finish within a minute");
    assert!(load_done, "load did not finish within a minute: {load_err}");
    assert!(
        run_kib < 100 * 1024,
        "run peaked at {run_kib} KiB: {run_err}"
    );
    assert!(
        load_kib < 100 * 1024,
        "load peaked at {load_kib} KiB: {load_err}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let target = &report["targets"][0];
    assert_eq!(target["load"]["statuses"]["401"], 300, "{}", target["load"]);
    assert!(
        target["observations"]
            .to_string()
            .contains("went on past 262144 bytes"),
        "the cut bodies are observed: {}",
        target["observations"]
    );
}
