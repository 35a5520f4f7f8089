//! The `authconform` binary's command line: help text, and messages that name the flag or file:line:col.

use std::process::{Command, Output, Stdio};

pub(crate) fn authconform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_authconform"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn help_teaches_with_examples() {
    let output = authconform(&["--help"]);
    assert!(output.status.success());
    insta::assert_snapshot!("help", stdout(&output));
    let output = authconform(&["run", "--help"]);
    assert!(output.status.success());
    insta::assert_snapshot!("run_help", stdout(&output));
}

/// `run` against a target nothing listens on (port 1), with these flags after the target's.
pub(crate) fn run_on_port_1_with(flags: &[&str]) -> Output {
    let args = [
        &[
            "run",
            "--target",
            "http://127.0.0.1:1",
            "--profile",
            "appmixer-6",
        ],
        flags,
    ]
    .concat();
    authconform(&args)
}

/// The command's stderr, once it has exited 2 (a usage error).
fn refused(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
    stderr(output)
}

#[test]
fn a_bad_flag_exits_2_naming_it() {
    let err = refused(&authconform(&["run", "--format", "yaml"]));
    assert!(
        err.contains("--format") && err.contains("unknown format `yaml`"),
        "{err}"
    );

    let err = refused(&run_on_port_1_with(&["--limit", "x"]));
    assert!(
        err.starts_with("error: --limit: `x` is not `NAME=VALUE`"),
        "{err}"
    );

    // A value the flag cannot take is named by the flag, not by the target file's key.
    let err = refused(&run_on_port_1_with(&["--timeout-ms", "0"]));
    assert!(err.contains("'--timeout-ms <MS>'"), "{err}");

    let err = refused(&authconform(&["run", "--profile", "appmixer-6"]));
    assert!(err.contains("--profile describes a target"), "{err}");
}

#[test]
fn a_bad_target_file_exits_2_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("target.toml");
    std::fs::write(
        &file,
        "base_url = \"http://127.0.0.1:1\"\nprofiles = [\"appmixer-7\"]\n",
    )
    .unwrap();
    let output = authconform(&["run", "--target-file", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "{}:2:13: unknown profile `appmixer-7`",
            file.display()
        )),
        "{err}"
    );
}

#[test]
fn one_target_url_given_twice_is_refused() {
    let twice = authconform(&[
        "run",
        "--target",
        "http://127.0.0.1:1",
        "--target",
        "http://127.0.0.1:1/",
        "--profile",
        "appmixer-6",
    ]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        stderr(&twice).contains("--target: `http://127.0.0.1:1/` is given twice"),
        "{}",
        stderr(&twice)
    );
}

/// Runs the binary with `args` and sends it Ctrl-C (SIGINT) once a line of its stderr starts with `cue`;
/// gives its exit code, its stdout and every stderr line. A bound, not a pause: a run that never prints the
/// cue is killed after two minutes, and the caller's assertions fail.
pub(crate) fn interrupted_at(args: &[String], cue: &str) -> (Option<i32>, String, Vec<String>) {
    use std::io::{BufRead, BufReader, Read};
    let mut child = Command::new(env!("CARGO_BIN_EXE_authconform"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let (done, watchdog) = std::sync::mpsc::channel::<()>();
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a process id"));
    std::thread::spawn(move || {
        if watchdog
            .recv_timeout(std::time::Duration::from_secs(120))
            .is_err()
        {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    });
    let mut stdout = child.stdout.take().unwrap();
    let reading = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut notices = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let cued = line.starts_with(cue);
        notices.push(line);
        if cued {
            nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT)
                .expect("SIGINT reaches the run");
            break;
        }
    }
    notices.extend(lines.map(Result::unwrap));
    let code = child.wait().unwrap().code();
    let _ = done.send(());
    (code, reading.join().unwrap(), notices)
}
