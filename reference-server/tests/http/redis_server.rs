//! A real `redis-server` for one test: on 127.0.0.1, on a free port, in its own temporary directory, killed
//! when dropped. Without `redis-server` installed the tests that need it are skipped with a message, unless
//! `AUTHCONFORM_REQUIRE_REDIS=1` (CI), where they fail.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How a test's Redis keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// Nothing written to disk.
    None,
    /// Every write appended to the log and fsynced before Redis acknowledges it.
    AppendFsyncAlways,
}

pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    persistence: Persistence,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts one; `None` (after saying why) when `redis-server` is not installed and not required.
    pub fn start(persistence: Persistence) -> Option<RedisServer> {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !installed {
            assert!(
                std::env::var("AUTHCONFORM_REQUIRE_REDIS").as_deref() != Ok("1"),
                "redis-server is not installed, and AUTHCONFORM_REQUIRE_REDIS=1 requires it (apt-get install -y redis-server)"
            );
            println!(
                "skipped: redis-server is not installed (apt-get install -y redis-server; AUTHCONFORM_REQUIRE_REDIS=1 makes this a failure)"
            );
            return None;
        }
        let port = free_port();
        let mut server = RedisServer {
            child: None,
            port,
            persistence,
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        server.launch();
        Some(server)
    }

    /// `redis://127.0.0.1:PORT/DB`.
    pub fn url(&self, db: u8) -> String {
        format!("redis://127.0.0.1:{}/{db}", self.port)
    }

    /// Kills Redis at once (SIGKILL: nothing is flushed that was not already on disk).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts Redis again on the same port and directory (so with its append-only file, if any).
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    fn launch(&mut self) {
        let mut command = Command::new("redis-server");
        command
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", ""])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--daemonize", "no", "--protected-mode", "yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match self.persistence {
            Persistence::None => command.args(["--appendonly", "no"]),
            Persistence::AppendFsyncAlways => {
                command.args(["--appendonly", "yes", "--appendfsync", "always"])
            }
        };
        let child = command.spawn().expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if ping(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "redis-server did not answer PING on port {} within 10 s",
            self.port
        );
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// Whether Redis on `port` answers `PING` (and has loaded its data: it answers `-LOADING` until then).
fn ping(port: u16) -> bool {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut answer = [0u8; 7];
    stream.read_exact(&mut answer).is_ok() && &answer == b"+PONG\r\n"
}
