//! The `auth-server` binary as a real process: `--help`, refused databases, and a restart on the same
//! database file (log delivery, graceful shutdown on SIGTERM, users, sessions and keys surviving).

#[macro_use]
mod support;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_api::client::Client;
use auth_api::ops::refresh_session;
use support::{consume_with_code, create_code_for_email, session_info};

const BIN: &str = env!("CARGO_BIN_EXE_auth-server");

/// A running `auth-server` whose stderr lines are collected.
struct Process {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    base_url: String,
}

impl Process {
    fn start(dir: &Path) -> Self {
        let database = format!("sqlite://{}", dir.join("auth.db").display());
        let framework = match support::framework() {
            auth_server::Framework::Axum => "axum",
            auth_server::Framework::ActixWeb => "actix-web",
        };
        let mut child = Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--database", &database, "--framework", framework])
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

    fn wait_for_line(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(line) = self.lines.lock().expect("lines").iter().rev().find(|l| l.contains(needle)) {
                return line.clone();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no stderr line containing {needle:?}; got {:?}", self.lines.lock().expect("lines"));
    }

    /// The newest code the log delivery printed for `email`.
    fn code_for(&self, email: &str) -> String {
        let line = self.wait_for_line(&format!("passwordless code for {email}: "));
        let code = line.split("code=").nth(1).and_then(|rest| rest.split_whitespace().next()).expect("code");
        assert!(line.contains("link=http://localhost:3000/auth/verify?preAuthSessionId="), "{line}");
        code.to_owned()
    }

    /// Sends SIGTERM and waits for a clean exit.
    fn terminate(mut self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success());
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

#[test]
fn help_explains_every_flag() {
    let output = Command::new(BIN).arg("--help").output().expect("run --help");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--listen",
        "--database",
        "--website-domain",
        "--api-domain",
        "--contact-method",
        "--flow-type",
        "--delivery",
        "--smtp-host",
        "--smtp-port",
        "--smtp-from",
        "--code-lifetime-ms",
        "--access-token-lifetime-s",
        "--database-max-connections",
        "--signing-key-rotation-hours",
        "AUTH_LISTEN",
        "AUTH_DATABASE",
        "EMAIL_OR_PHONE",
        "USER_INPUT_CODE_AND_MAGIC_LINK",
    ] {
        assert!(help.contains(flag), "--help mentions {flag}:\n{help}");
    }
}

#[test]
fn bad_databases_are_refused_with_a_clear_message_without_credentials() {
    let output = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--database", "mysql://user:secret@localhost/auth"])
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("database `mysql://…` is not supported"), "{stderr}");
    assert!(!stderr.contains("secret"), "the URL's credentials are not logged: {stderr}");

    // Nothing listens on port 1: PostgreSQL is supported, but this one cannot be reached.
    let output = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--database", "postgres://user:secret@127.0.0.1:1/auth"])
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("database:"), "{stderr}");
    assert!(!stderr.contains("secret"), "the URL's credentials are not logged: {stderr}");
}

async fn sign_in(process: &Process, client: &Client, email: &str) -> (auth_api::types::ConsumeCodeOk, String, String) {
    let created = create_code_for_email(client, email).await;
    let code = process.code_for(email);
    match client.consume_code(consume_with_code(&created, &code, None)).await.expect("consume") {
        auth_api::ops::consume_code::Response::Ok { body: auth_api::types::ConsumeCodeResponse::Ok(ok), headers } => {
            (ok, headers.st_access_token.expect("access"), headers.st_refresh_token.expect("refresh"))
        }
        other => panic!("{other:?}"),
    }
}

on_both_frameworks! {
async fn restart_on_the_same_database_keeps_users_sessions_and_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = Process::start(dir.path());
    let client = Client::new(&first.base_url).expect("client");
    let (ok, access, refresh) = sign_in(&first, &client, "restart@example.com").await;
    assert!(ok.created_new_recipe_user);
    first.terminate();
    assert!(dir.path().join("auth.db").exists());

    let second = Process::start(dir.path());
    let client = Client::new(&second.base_url).expect("client");
    // The signing key survived: the old access token still verifies.
    let info = session_info(&client, &[("authorization", &format!("Bearer {access}"))]).await;
    assert_eq!(info.status, 200, "{}", info.text());
    // The session survived: its refresh token rotates.
    let mut request = refresh_session::Request::new();
    request.refresh_token_bearer = Some(refresh);
    let response = client.refresh_session(request).await.expect("refresh");
    assert!(matches!(response, refresh_session::Response::Ok { .. }), "{response:?}");
    // The user survived: signing in again finds the same user.
    let (again, _, _) = sign_in(&second, &client, "restart@example.com").await;
    assert!(!again.created_new_recipe_user);
    assert_eq!(again.user.id, ok.user.id);
    second.terminate();
}
}
