//! The runner against targets that misbehave at the HTTP level: each run ends, within the configured
//! timeouts, with a verdict (exit 1) or a clear "cannot check this target" (exit 3) — never a panic, never a
//! hang, and a 100 MiB answer is read only up to the runner's cap.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::cli::{authconform, stderr, stdout};

#[derive(Debug, Clone, Copy)]
enum Behaviour {
    /// Reads the request and never answers.
    Hang,
    /// Closes the connection as soon as it is accepted.
    Reset,
    /// Answers bytes that are not HTTP.
    Garbage,
    /// Answers 200 with a 100 MiB body.
    HugeBody,
    /// Answers 401 as an HTML page.
    WrongContentType,
    /// Redirects every request to itself.
    RedirectLoop,
}

async fn misbehave(behaviour: Behaviour) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                if matches!(behaviour, Behaviour::Reset) {
                    drop(stream);
                    return;
                }
                let mut buffer = vec![0u8; 16 * 1024];
                let _ = stream.read(&mut buffer).await;
                match behaviour {
                    Behaviour::Hang => tokio::time::sleep(Duration::from_secs(60)).await,
                    Behaviour::Reset => {}
                    Behaviour::Garbage => {
                        let _ = stream
                            .write_all(b"\x00\x01SURPRISE\r\n\r\nnot http at all")
                            .await;
                    }
                    Behaviour::HugeBody => {
                        let size = 100 * 1024 * 1024;
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {size}\r\n\r\n"
                        );
                        let _ = stream.write_all(head.as_bytes()).await;
                        let chunk = vec![b' '; 1024 * 1024];
                        for _ in 0..100 {
                            if stream.write_all(&chunk).await.is_err() {
                                break;
                            }
                        }
                    }
                    Behaviour::WrongContentType => {
                        let body = "<html><body>Unauthorized</body></html>";
                        let answer = format!(
                            "HTTP/1.1 401 Unauthorized\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = stream.write_all(answer.as_bytes()).await;
                    }
                    Behaviour::RedirectLoop => {
                        let answer =
                            "HTTP/1.1 302 Found\r\nlocation: /user\r\ncontent-length: 0\r\n\r\n";
                        let _ = stream.write_all(answer.as_bytes()).await;
                    }
                }
            });
        }
    });
    format!("http://{address}")
}

async fn check(target: String, scheme_https: bool) -> (Option<i32>, String, Duration) {
    let target = if scheme_https {
        target.replace("http://", "https://")
    } else {
        target
    };
    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || {
        authconform(&[
            "run",
            "--target",
            &target,
            "--profile",
            "appmixer-6",
            "--only",
            "AM-ME-*",
            "--timeout-ms",
            "700",
        ])
    })
    .await
    .unwrap();
    let text = format!("{}\n{}", stdout(&output), stderr(&output));
    (output.status.code(), text, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_targets_get_a_verdict_or_exit_3_within_the_timeouts() {
    let cases = [
        ("hang", Behaviour::Hang, false),
        ("reset", Behaviour::Reset, false),
        ("garbage", Behaviour::Garbage, false),
        ("100 MiB body", Behaviour::HugeBody, false),
        ("wrong content type", Behaviour::WrongContentType, false),
        ("redirect loop", Behaviour::RedirectLoop, false),
        (
            "TLS to a plain-HTTP server",
            Behaviour::WrongContentType,
            true,
        ),
    ];
    let mut matrix = Vec::new();
    for (name, behaviour, https) in cases {
        let target = misbehave(behaviour).await;
        let (code, text, elapsed) = check(target, https).await;
        assert!(!text.contains("panicked"), "{name}: {text}");
        assert!(
            matches!(code, Some(1) | Some(3)),
            "{name}: exit {code:?}\n{text}"
        );
        assert!(
            elapsed < Duration::from_secs(60),
            "{name}: took {elapsed:?}"
        );
        let summary = text
            .lines()
            .find(|line| line.contains("passed,") || line.starts_with("error"))
            .unwrap_or("")
            .trim()
            .to_owned();
        matrix.push(format!(
            "{name:<28} exit {} in {:>5.1}s  {summary}",
            code.unwrap_or(-1),
            elapsed.as_secs_f64()
        ));
    }
    println!("misbehaving targets:\n{}", matrix.join("\n"));
}
