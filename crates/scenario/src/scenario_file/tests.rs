//! Tests of scenario-file parsing: every field's diagnostics and the assembled suite.

use super::*;
use crate::parse_catalogue;

const CATALOGUE: &str = r#"
[[requirement]]
id = "XY-ONE-01"
level = "must"
profiles = ["appmixer-6", "appmixer-cloud"]
requirement = "One."
clause = "One."
source = "Doc"

[[requirement]]
id = "XY-TWO-01"
level = "should"
profiles = ["creditsafe-connect"]
requirement = "Two."
clause = "Two."
source = "Doc"
"#;

fn catalogue() -> Catalogue {
    parse_catalogue(Path::new("requirements.toml"), CATALOGUE).unwrap()
}

/// A one-scenario file: the given scenario lines, then the given step lines.
fn file(scenario: &str, steps: &str) -> String {
    format!(
        "[[scenario]]\nname = \"a-scenario\"\ntitle = \"A\"\ncovers = [\"XY-ONE-01\"]\n{scenario}\n{steps}"
    )
}

const REQUEST: &str = "[[scenario.step]]\nrequest.method = \"GET\"\nrequest.path = \"/user\"\n";

/// The first step of the first scenario, which must be a request step.
fn first_request(text: &str) -> RequestStep {
    match parse(text).remove(0).steps.remove(0).action {
        Action::Request(step) => *step,
        Action::Wait(_) => panic!("a request step"),
    }
}

/// `line:col message` of each diagnostic.
fn errors(text: &str) -> Vec<String> {
    match parse_scenario_file(Path::new("s.toml"), text, &catalogue()) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics
            .iter()
            .map(|d| format!("{}:{} {}", d.line, d.col, d.message))
            .collect(),
    }
}

fn parse(text: &str) -> Vec<Scenario> {
    match parse_scenario_file(Path::new("s.toml"), text, &catalogue()) {
        Ok(scenarios) => scenarios,
        Err(diagnostics) => panic!("{diagnostics}"),
    }
}

#[test]
fn a_minimal_scenario_gets_defaults() {
    let scenarios = parse(&file("", REQUEST));
    let [scenario] = scenarios.as_slice() else {
        panic!("one scenario")
    };
    assert_eq!(
        scenario.profiles,
        vec![Profile::Appmixer6, Profile::AppmixerCloud]
    );
    assert_eq!(scenario.phase, Phase::Normal);
    assert_eq!(scenario.origin.line, 1);
    let [step] = scenario.steps.as_slice() else {
        panic!("one step")
    };
    assert_eq!(step.name, "step 1");
    assert_eq!(step.covers, vec!["XY-ONE-01".to_owned()]);
    assert_eq!(step.origin.line, 6);
    let Action::Request(request) = &step.action else {
        panic!("a request step")
    };
    assert_eq!(request.concurrency, 1);
    assert!(request.repeat.is_none());
    assert!(matches!(request.request.body, Body::None));
}

#[test]
fn missing_fields_point_at_their_table() {
    assert_eq!(
        errors("[[scenario]]\nname = \"x\"\n"),
        vec![
            "1:1 this scenario has no `title`",
            "1:1 this scenario has no `covers`",
            "1:1 this scenario has no `step`",
        ]
    );
    assert_eq!(
        errors(&file("", "[[scenario.step]]\nrequest.path = \"/\"\n")),
        vec!["7:1 `request` has no `method`"]
    );
}

#[test]
fn a_step_is_a_request_or_a_wait() {
    assert_eq!(
        errors(&file(
            "",
            &format!("{REQUEST}wait.window = \"cs_invalid_window\"\n")
        )),
        vec!["9:1 a step is a request or a wait, not both"]
    );
    assert_eq!(
        errors(&file(
            "",
            "[[scenario.step]]\nwait.ms = 10\nexpect.status = 200\n"
        )),
        vec!["8:1 `expect` belongs to a request step, not a wait"]
    );
    let scenarios = parse(&file(
        "",
        "[[scenario.step]]\nwait.window = \"cs_invalid_window\"\nwait.offset_ms = -500\n",
    ));
    let Action::Wait(Wait::Window {
        window, offset_ms, ..
    }) = &scenarios[0].steps[0].action
    else {
        panic!("a window wait")
    };
    assert_eq!(*window, WindowName::CsInvalidWindow);
    assert_eq!(*offset_ms, -500);
}

#[test]
fn waits_count_from_a_mark_or_until_the_ip_window_is_empty() {
    let steps = format!(
        "{REQUEST}mark = \"sent\"\n[[scenario.step]]\nwait = {{ window = \"signup_email_window\", since = \"sent\" }}\n\
         [[scenario.step]]\nwait.empty_window = \"signup_ip_window\"\n"
    );
    let scenarios = parse(&file("", &steps));
    let Action::Wait(Wait::Window { since, .. }) = &scenarios[0].steps[1].action else {
        panic!("a window wait")
    };
    assert_eq!(since.as_deref(), Some("sent"));
    assert!(matches!(
        scenarios[0].steps[2].action,
        Action::Wait(Wait::EmptyWindow(WindowName::SignupIpWindow))
    ));
    assert_eq!(
        errors(&file(
            "",
            &format!(
                "{REQUEST}mark = \"sent\"\n[[scenario.step]]\nwait = {{ window = \"signup_ip_window\", since = \"snet\" }}\n"
            )
        )),
        vec!["11:47 no earlier step is marked `snet`"]
    );
    let text = file(
        "",
        &format!(
            "{REQUEST}mark = \"sent\"\n[[scenario.step]]\nwait = {{ window = \"signup_ip_window\", since = \"snet\" }}\n"
        ),
    );
    let Err(diagnostics) = parse_scenario_file(Path::new("s.toml"), &text, &catalogue()) else {
        panic!("a misspelt mark is an error")
    };
    assert_eq!(
        diagnostics.0[0].hint.as_deref(),
        Some("did you mean `sent`?")
    );
    assert_eq!(
        errors(&file(
            "",
            "[[scenario.step]]\nwait.empty_window = \"cs_invalid_window\"\n"
        )),
        vec!["7:21 `wait.empty_window` knows only `signup_ip_window`, not `cs_invalid_window`"]
    );
    assert_eq!(
        errors(&file(
            "",
            "[[scenario.step]]\nwait.empty_window = \"signup_ip_window\"\nwait.offset_ms = 5\n"
        )),
        vec!["8:6 `wait.offset_ms` only goes with `wait.window`, not with `wait.empty_window`"]
    );
    assert_eq!(
        errors(&file(
            "",
            "[[scenario.step]]\nwait.ms = 5\nwait.empty_window = \"signup_ip_window\"\n"
        )),
        vec![
            "8:21 give one of `wait.window`, `wait.ms` or `wait.empty_window`, not `ms` and `empty_window`"
        ]
    );
}

#[test]
fn a_step_may_require_capabilities_and_go_on_after_failing() {
    let steps =
        format!("{REQUEST}requires = [\"admin-account\"]\ncontinue_on_failure = true\n{REQUEST}");
    let scenarios = parse(&file("", &steps));
    let [first, second] = scenarios[0].steps.as_slice() else {
        panic!("two steps")
    };
    assert_eq!(first.requires, [Capability::AdminAccount]);
    assert!(first.continue_on_failure);
    assert!(second.requires.is_empty() && !second.continue_on_failure);
    assert_eq!(
        errors(&file(
            "",
            &format!("{REQUEST}requires = [\"admin-acount\"]\n")
        )),
        vec!["9:13 unknown capability `admin-acount`"]
    );
}

#[test]
fn only_a_wait_can_be_left_out_of_a_repeat_after_a_clock_boundary() {
    let steps = format!(
        "{REQUEST}[[scenario.step]]\nwait = {{ window = \"cs_overall_window\", percent = 50 }}\nskip_after_clock_boundary = true\n"
    );
    let scenarios = parse(&file("", &steps));
    let [request, wait] = scenarios[0].steps.as_slice() else {
        panic!("two steps")
    };
    assert!(!request.skip_after_clock_boundary && wait.skip_after_clock_boundary);
    assert_eq!(
        errors(&file(
            "",
            &format!("{REQUEST}skip_after_clock_boundary = true\n")
        )),
        vec!["9:1 `skip_after_clock_boundary` belongs to a wait, not a request step"]
    );
}

#[test]
fn statuses() {
    let status = |pattern: &str| {
        let text = file("", &format!("{REQUEST}expect.status = {pattern}\n"));
        match parse_scenario_file(Path::new("s.toml"), &text, &catalogue()) {
            Ok(scenarios) => match &scenarios[0].steps[0].action {
                Action::Request(step) => Ok(step.expect.status.clone()),
                Action::Wait(_) => Err(Vec::new()),
            },
            Err(diagnostics) => Err(diagnostics.iter().map(|d| d.message.clone()).collect()),
        }
    };
    assert_eq!(
        status("429"),
        Ok(Some(StatusSet(vec![StatusPattern::Code(429)])))
    );
    assert_eq!(
        status("\"4xx\""),
        Ok(Some(StatusSet(vec![StatusPattern::Class(4)])))
    );
    assert_eq!(
        status("[401, 403]"),
        Ok(Some(StatusSet(vec![
            StatusPattern::Code(401),
            StatusPattern::Code(403)
        ])))
    );
    assert!(status("600").is_err());
    assert!(status("\"6xx\"").is_err());
    assert!(status("[]").is_err());
    assert!(status("true").is_err());
}

#[test]
fn names_must_be_defined_by_an_earlier_step() {
    let capture =
        "capture = { token = \"token\" }\ncapture_response = \"first\"\nmark = \"start\"\n";
    let later = "[[scenario.step]]\nrequest.method = \"GET\"\nrequest.path = \"/user/{{captured.token}}\"\nexpect.same_as = \"first\"\nwithin = { since = \"start\", window = \"cs_invalid_window\" }\n";
    assert!(parse(&file("", &format!("{REQUEST}{capture}\n{later}"))).len() == 1);
    let errors = errors(&file(
        "",
        &format!("{REQUEST}\n{later}\n{REQUEST}{capture}"),
    ));
    assert_eq!(
        errors,
        vec![
            "12:34 `captured.token` is not captured by an earlier step",
            "13:18 no earlier step captured a response named `first`",
            "14:20 no earlier step is marked `start`",
        ]
    );
}

#[test]
fn step_covers_are_a_subset_of_the_scenario_covers() {
    let text = file(
        "",
        "[[scenario.step]]\ncovers = [\"XY-TWO-01\"]\nrequest.method = \"GET\"\nrequest.path = \"/\"\n",
    );
    assert_eq!(
        errors(&text),
        vec!["7:11 `XY-TWO-01` is not among the scenario's `covers`"]
    );
    let setup = file(
        "",
        "[[scenario.step]]\ncovers = []\nrequest.method = \"GET\"\nrequest.path = \"/\"\n",
    );
    assert!(parse(&setup)[0].steps[0].covers.is_empty());
}

#[test]
fn readings_name_statuses_the_expectation_allows() {
    let step = |extra: &str| file("", &format!("{REQUEST}{extra}\n"));
    assert!(
        errors(&step(
            "expect.status = [401, 429]\nreading = { \"401\" = \"fixed\", \"429\" = \"sliding\" }"
        ))
        .is_empty()
    );
    assert_eq!(
        errors(&step(
            "expect.status = 401\nreading = { \"401\" = \"fixed\", \"429\" = \"sliding\" }"
        )),
        vec!["10:30 `expect.status` does not allow 429, so no response can show this reading"]
    );
    assert_eq!(
        errors(&step("reading = { \"4xx\" = \"any\" }")),
        vec!["9:13 `4xx` is not a status code"]
    );
}

#[test]
fn repeat_and_concurrency_are_bounded() {
    let step = |extra: &str| file("", &format!("{REQUEST}{extra}\n"));
    assert!(errors(&step("repeat = 20000\nconcurrency = 1024")).is_empty());
    assert_eq!(
        errors(&step("repeat = 20001")),
        vec!["9:10 `repeat` must be from 1 to 20000"]
    );
    assert_eq!(
        errors(&step("concurrency = 0")),
        vec!["9:15 `concurrency` must be from 1 to 1024"]
    );
    assert_eq!(
        errors(&step("repeat = \"x{{limits.signup_ip}}\"")),
        vec!["9:10 `repeat` must be a number or exactly one numeric `{{ expression }}`"]
    );
    assert!(errors(&step("repeat = \"{{limits.signup_ip + 1}}\"")).is_empty());
    assert_eq!(
        errors(&step("repeat = \"{{unique}}\"")),
        vec!["9:10 `repeat` must be a number or exactly one numeric `{{ expression }}`"]
    );
}

#[test]
fn matchers() {
    let text = file(
        "",
        &format!(
            "{REQUEST}expect.json = {{ a = \"null|string\", b = {{ equals = 3, optional = true }}, c = {{ matches = \"^x+$\" }} }}\n"
        ),
    );
    let step = &first_request(&text);
    assert_eq!(step.expect.json.len(), 3);
    assert_eq!(
        step.expect.json[0].1.types,
        vec![JsonType::Null, JsonType::String]
    );
    assert!(step.expect.json[1].1.optional);
    assert_eq!(
        errors(&file(
            "",
            &format!("{REQUEST}expect.json = {{ a = \"strng\" }}\n")
        )),
        vec!["9:21 unknown type `strng`"]
    );
    assert_eq!(
        errors(&file(
            "",
            &format!("{REQUEST}expect.json = {{ a = {{ matches = \"(\" }} }}\n")
        )),
        vec!["9:33 not a valid regular expression"]
    );
}

#[test]
fn level_and_profiles_follow_the_catalogue() {
    assert!(
        errors(&file(
            "level = \"must\"\nprofiles = [\"appmixer-6\"]",
            REQUEST
        ))
        .is_empty()
    );
    assert_eq!(
        errors(&file("level = \"should\"", REQUEST)),
        vec!["5:9 `XY-ONE-01` is a MUST requirement"]
    );
    assert_eq!(
        errors(&file("level = \"mst\"", REQUEST)),
        vec!["5:9 unknown level `mst`"]
    );
    assert_eq!(
        errors(&file("profiles = []", REQUEST)),
        vec!["5:12 `profiles` must name at least one profile"]
    );
}

#[test]
fn unknown_keys_everywhere_get_a_suggestion() {
    let text = file(
        "tgas = []",
        &format!("{REQUEST}expect.shuold.status = 200\nrequest.jsn = {{}}\n"),
    );
    let diagnostics = parse_scenario_file(Path::new("s.toml"), &text, &catalogue()).unwrap_err();
    let found: Vec<(String, Option<String>)> = diagnostics
        .iter()
        .map(|d| (d.message.clone(), d.hint.clone()))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "unknown scenario field `tgas`".into(),
                Some("did you mean `tags`?".into())
            ),
            (
                "unknown expect field `shuold`".into(),
                Some("did you mean `should`?".into())
            ),
            (
                "unknown request field `jsn`".into(),
                Some("did you mean `json`?".into())
            ),
        ]
    );
}

#[test]
fn expect_should_is_parsed_once() {
    let text = file(
        "",
        &format!("{REQUEST}expect.status = \"4xx\"\nexpect.should.status = 400\n"),
    );
    let step = &first_request(&text);
    let should = step.expect.should.as_ref().expect("expect.should");
    assert_eq!(
        should.status,
        Some(StatusSet(vec![StatusPattern::Code(400)]))
    );
    assert!(should.should.is_none());
}

#[test]
fn suites_order_lockout_scenarios_last_and_collect_every_file() {
    let lockout = "[[scenario]]\nname = \"z-lockout\"\ntitle = \"L\"\ncovers = [\"XY-ONE-01\"]\nphase = \"lockout\"\n[[scenario.step]]\nrequest.method = \"GET\"\nrequest.path = \"/\"\n";
    let normal = file("", REQUEST);
    let suite = assemble_suite(
        catalogue(),
        vec![
            (PathBuf::from("a.toml"), lockout.to_owned()),
            (PathBuf::from("b.toml"), normal.clone()),
        ],
    )
    .unwrap();
    let names: Vec<&str> = suite.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["a-scenario", "z-lockout"]);

    let broken = assemble_suite(
        catalogue(),
        vec![
            (
                PathBuf::from("a.toml"),
                "[[scenario]]\nnme = 1\n".to_owned(),
            ),
            (PathBuf::from("b.toml"), "x = ".to_owned()),
            (PathBuf::from("c.toml"), normal),
        ],
    )
    .unwrap_err();
    let files: Vec<String> = broken
        .iter()
        .map(|d| d.path().display().to_string())
        .collect();
    assert!(files.contains(&"a.toml".to_owned()));
    assert!(files.contains(&"b.toml".to_owned()));
    assert!(!files.contains(&"c.toml".to_owned()));
}

#[test]
fn a_precondition_names_a_catalogued_requirement() {
    let steps = format!(
        "{REQUEST}precondition = {{ requirement = \"XY-TWO-01\", status = 429 }}\nexpect.status = 200\n"
    );
    let step = &first_request(&file("", &steps));
    let precondition = step.precondition.as_ref().unwrap();
    assert_eq!(precondition.requirement.as_deref(), Some("XY-TWO-01"));
    assert!(precondition.expect.status.is_some());

    let unknown =
        format!("{REQUEST}precondition = {{ requirement = \"XY-TWO-1\", status = 429 }}\n");
    assert_eq!(
        errors(&file("", &unknown)),
        vec!["9:32 unknown requirement id `XY-TWO-1`"]
    );
    let nested =
        format!("{REQUEST}precondition = {{ status = 429, should = {{ status = 429 }} }}\n");
    assert_eq!(
        errors(&file("", &nested)),
        vec!["9:32 unknown precondition field `should`"]
    );
}

#[test]
fn a_blame_needs_a_requirement_and_expectations() {
    let steps = format!(
        "{REQUEST}expect.status = 200\nblame = {{ requirement = \"XY-TWO-01\", expect = {{ status = 429 }} }}\n"
    );
    let step = &first_request(&file("", &steps));
    let blame = step.blame.first().unwrap();
    assert_eq!(blame.requirement, "XY-TWO-01");
    assert!(blame.request.is_none());

    let missing = format!("{REQUEST}blame = {{ expect = {{ status = 429 }} }}\n");
    let found = errors(&file("", &missing));
    assert!(
        found.iter().any(|e| e.contains("`requirement`")),
        "{found:?}"
    );
}

#[test]
fn a_blame_probe_may_repeat_only_with_a_request() {
    let steps = format!(
        "{REQUEST}expect.status = 429\nblame = {{ requirement = \"XY-TWO-01\", request = {{ method = \"GET\", path = \"/\" }}, repeat = \"{{{{10 - limits.signup_email}}}}\", expect = {{ tally = [{{ status = 429, count = 1 }}] }} }}\n"
    );
    let step = &first_request(&file("", &steps));
    let blame = step.blame.first().unwrap();
    assert!(blame.request.is_some());
    assert!(blame.repeat.is_some());

    let bare = format!(
        "{REQUEST}blame = {{ requirement = \"XY-TWO-01\", repeat = 3, expect = {{ status = 429 }} }}\n"
    );
    assert_eq!(
        errors(&file("", &bare)),
        vec!["9:47 `blame.repeat` needs a `blame.request` to repeat"]
    );
}

#[test]
fn blames_may_be_a_list_and_tallies_a_bound() {
    let steps = format!(
        "{REQUEST}expect.tally = [{{ status = 200, at_most = 3 }}]\nblame = [\n  {{ requirement = \"XY-TWO-01\", expect = {{ tally = [{{ status = 429, count = 0 }}] }} }},\n  {{ requirement = \"XY-ONE-01\", expect = {{ status = 500 }} }},\n]\n"
    );
    let step = &first_request(&file("", &steps));
    let blamed: Vec<&str> = step.blame.iter().map(|b| b.requirement.as_str()).collect();
    assert_eq!(blamed, ["XY-TWO-01", "XY-ONE-01"]);
    assert!(step.expect.tally[0].at_most);
    assert!(!step.blame[0].expect.tally[0].at_most);
    let floor = format!("{REQUEST}expect.tally = [{{ status = 429, at_least = 1 }}]\n");
    let floor = parse(&file("", &floor));
    let Action::Request(floor) = &floor[0].steps[0].action else {
        panic!("a request")
    };
    assert!(floor.expect.tally[0].at_least && !floor.expect.tally[0].at_most);

    let both = format!("{REQUEST}expect.tally = [{{ status = 200, count = 1, at_most = 3 }}]\n");
    assert_eq!(
        errors(&file("", &both)),
        vec!["9:54 a tally has one of `count`, `at_most` or `at_least`, not several"]
    );
}

#[test]
fn the_admin_token_is_needed_by_a_precondition_or_a_blame_probe() {
    let plain = format!("{REQUEST}expect.status = 200\n");
    assert!(!first_request(&file("", &plain)).needs_admin_token());
    let steps = [
        format!(
            "{REQUEST}expect.status = 200\nprecondition = {{ requirement = \"XY-TWO-01\", json.token = {{ equals = \"{{{{signup_auth}}}}\" }} }}\n"
        ),
        format!(
            "{REQUEST}expect.status = 200\nblame = {{ requirement = \"XY-TWO-01\", request = {{ method = \"GET\", path = \"/{{{{signup_auth}}}}\" }}, expect = {{ status = 429 }} }}\n"
        ),
    ];
    for steps in steps {
        let step = first_request(&file("", &steps));
        assert!(step.needs_admin_token(), "{steps}");
        assert!(!step.request_varies(), "{steps}");
    }
}

#[test]
fn declared_resources_are_read_with_their_mode() {
    let scenarios = parse(&file(
        "exclusive = [\"client-address\", \"endpoint:/authenticate\"]\nshared = [\"endpoint:/user\"]",
        REQUEST,
    ));
    assert_eq!(
        scenarios[0].holds,
        vec![
            Hold {
                resource: Resource::ClientAddress,
                mode: HoldMode::Exclusive
            },
            Hold {
                resource: Resource::Endpoint("/authenticate".into()),
                mode: HoldMode::Exclusive
            },
            Hold {
                resource: Resource::Endpoint("/user".into()),
                mode: HoldMode::Shared
            },
        ]
    );
}

#[test]
fn an_unknown_resource_is_pointed_at() {
    assert_eq!(
        errors(&file("exclusive = [\"client-adress\"]", REQUEST)),
        ["5:14 unknown resource `client-adress`"]
    );
    assert_eq!(
        errors(&file("shared = [\"endpoint:authenticate\"]", REQUEST)),
        ["5:11 unknown resource `endpoint:authenticate`"]
    );
}

#[test]
fn a_wait_may_be_a_share_of_a_window_and_a_count_may_read_what_a_step_sent() {
    let steps = format!(
        "{REQUEST}mark = \"burst\"\nrepeat = 3\n[[scenario.step]]\nwait = {{ window = \"cs_invalid_window\", since = \"burst\", percent = 125 }}\n\
         {REQUEST}repeat = \"{{{{sent.burst + 2}}}}\"\n"
    );
    let scenarios = parse(&file("", &steps));
    let Action::Wait(Wait::Window { percent, since, .. }) = &scenarios[0].steps[1].action else {
        panic!("a window wait")
    };
    assert_eq!((*percent, since.as_deref()), (Some(125), Some("burst")));
    assert_eq!(
        errors(&file(
            "",
            "[[scenario.step]]\nwait = { window = \"cs_invalid_window\", percent = 0 }\n"
        )),
        vec!["7:50 `wait.percent` is a share of the window from 1 to 1000, not 0"]
    );
    assert_eq!(
        errors(&file(
            "",
            "[[scenario.step]]\nwait = { window = \"cs_invalid_window\", percent = 50, minus_slack = true }\n"
        )),
        vec!["7:54 `wait.minus_slack` does not go with `wait.percent`"]
    );
    assert_eq!(
        errors(&file(
            "",
            &format!("{REQUEST}mark = \"burst\"\n{REQUEST}repeat = \"{{{{sent.brust}}}}\"\n")
        )),
        vec!["13:18 `sent.brust` names no mark of an earlier step"]
    );
}
