//! A copy-pasteable `curl` command that sends a recorded request again.

use crate::engine::{RECORDED_BODY_LIMIT, RecordedRequest};

/// The command, shell-quoted. Headers and body are taken as recorded (so already redacted when they were).
pub fn reproduce(request: &RecordedRequest) -> String {
    let mut words: Vec<String> = vec!["curl".into(), "-i".into()];
    if request.method != "GET" || request.body.is_some() {
        words.push("-X".into());
        words.push(quote(&request.method));
    }
    words.push(quote(&request.url));
    for (name, value) in &request.headers {
        words.push("-H".into());
        words.push(quote(&format!("{name}: {value}")));
    }
    if let Some(body) = &request.body {
        words.push("--data-raw".into());
        words.push(quote(body));
    }
    let mut command = words.join(" ");
    // Compared with the recording limit, not the body's length: redaction may have shortened the body.
    if request.body.is_some() && request.body_bytes > RECORDED_BODY_LIMIT {
        command.push_str(&format!(
            " # body cut to its first {RECORDED_BODY_LIMIT} of {} bytes",
            request.body_bytes
        ));
    }
    command
}

/// For a request its scenario sent after other steps, what a single `curl` leaves out: the state those
/// steps built (a limit used up, a lockout) is part of its answer. `None` for a scenario's first step.
pub fn after_steps(scenario: &str, step_number: usize) -> Option<String> {
    let before = match step_number {
        0 | 1 => return None,
        2 => "step 1".to_owned(),
        n => format!("steps 1–{}", n - 1),
    };
    Some(format!(
        "after {before} of {scenario}, which set up what it met: `authconform run --only {scenario}` sends them all again"
    ))
}

fn quote(word: &str) -> String {
    match shlex::try_quote(word) {
        Ok(quoted) => quoted.into_owned(),
        // Only a NUL byte cannot be quoted; a shell cannot pass one anyway.
        Err(_) => shlex::try_quote(&word.replace('\0', ""))
            .map_or_else(|_| String::new(), |q| q.into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_after_other_steps_says_which_and_how_to_send_them_again() {
        assert_eq!(after_steps("lockout", 1), None);
        assert!(
            after_steps("lockout", 2)
                .unwrap()
                .starts_with("after step 1 of lockout,")
        );
        let note = after_steps("lockout", 9).unwrap();
        assert!(note.starts_with("after steps 1–8 of lockout,"), "{note}");
        assert!(note.contains("`authconform run --only lockout`"), "{note}");
    }

    #[test]
    fn a_json_post_is_quoted_for_the_shell() {
        let request = RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:8080/user/auth".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(r#"{"username":"o'neil@example.com","password":"***"}"#.into()),
            body_bytes: 50,
        };
        assert_eq!(
            reproduce(&request),
            r#"curl -i -X POST http://127.0.0.1:8080/user/auth -H 'content-type: application/json' --data-raw "{\"username\":\"o'neil@example.com\",\"password\":\"***\"}""#
        );
    }

    #[test]
    fn a_cut_body_says_so() {
        let request = RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:1/".into(),
            headers: vec![],
            body: Some("aaaa".into()),
            body_bytes: 1_048_576,
        };
        assert!(reproduce(&request).ends_with("# body cut to its first 4096 of 1048576 bytes"));
    }

    #[test]
    fn a_plain_get_has_no_method_flag() {
        let request = RecordedRequest {
            method: "GET".into(),
            url: "http://127.0.0.1:1/user".into(),
            headers: vec![("authorization".into(), "Bearer ***".into())],
            body: None,
            body_bytes: 0,
        };
        assert_eq!(
            reproduce(&request),
            "curl -i http://127.0.0.1:1/user -H 'authorization: Bearer ***'"
        );
    }
}
