//! The `auth-server` binary as a child process whose stderr lines are collected; killed on drop.
//! Include with `#[path = "support/process.rs"] mod process;` next to `mod support;`.

#![allow(dead_code, reason = "each test file uses a different part of the harness")]
#![allow(unreachable_pub, reason = "test support module shared by several test crates")]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The server binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_auth-server");

/// A running `auth-server` whose stderr lines are collected.
pub struct Process {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
}

impl Process {
    /// Starts the server on `dir/auth.db` with the framework of the running test.
    pub fn start(dir: &Path) -> Self {
        Self::start_with(dir, &[], &[])
    }

    /// [`Self::start`] with extra flags and environment variables.
    pub fn start_with(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let database = format!("sqlite://{}", dir.join("auth.db").display());
        let framework = match crate::support::framework() {
            auth_server::Framework::Axum => "axum",
            auth_server::Framework::ActixWeb => "actix-web",
        };
        let mut child = Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--database", &database, "--framework", framework])
            .args(args)
            .envs(envs.iter().copied())
            .env("RUST_LOG", "info")
            .env_remove("AUTH_LISTEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn auth-server");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().expect("lines").push(line);
            }
        });
        let mut process = Self { child, lines, base_url: String::new() };
        let line = process.wait_for_line("listening on http://");
        let address = line.split("listening on http://").nth(1).and_then(|rest| rest.split_whitespace().next());
        process.base_url = format!("http://{}", address.expect("address in the log line"));
        process
    }

    /// Waits up to 30 s for a stderr line containing `needle`.
    pub fn wait_for_line(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(line) = self.lines.lock().expect("lines").iter().rev().find(|l| l.contains(needle)) {
                return line.clone();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no stderr line containing {needle:?}; got {:?}", self.lines.lock().expect("lines"));
    }

    /// Every stderr line so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }

    /// The newest code the log delivery printed for `email`.
    pub fn code_for(&self, email: &str) -> String {
        let line = self.wait_for_line(&format!("passwordless code for {email}: "));
        let code = line.split("code=").nth(1).and_then(|rest| rest.split_whitespace().next()).expect("code");
        assert!(line.contains("link=http://localhost:3000/auth/verify?preAuthSessionId="), "{line}");
        code.to_owned()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success());
    }

    /// Kills the process with SIGKILL (`kill -9`): no shutdown, no WAL checkpoint, no closing of the database.
    pub fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        let status = self.child.wait().expect("wait");
        assert!(!status.success(), "killed: {status:?}");
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(self) {
        self.sigterm();
        self.wait_for_clean_exit();
    }

    /// Waits for the process to exit 0 after logging its shutdown.
    pub fn wait_for_clean_exit(mut self) {
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "graceful shutdown exits 0: {status:?}");
        self.wait_for_line("shut down");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
