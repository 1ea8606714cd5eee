//! The `auth-server` binary as a real process: `--help`, refused databases, and a restart on the same
//! database file (log delivery, graceful shutdown on SIGTERM, users, sessions and keys surviving).

#[macro_use]
mod support;

use std::process::Command;

use auth_api::client::Client;
use auth_api::ops::refresh_session;
use support::{consume_with_code, create_code_for_email, session_info};

#[path = "support/process.rs"]
mod process;

use process::{BIN, Process};

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
        "--email-verification",
        "--delivery",
        "--smtp-host",
        "--smtp-port",
        "--smtp-from",
        "--code-lifetime-ms",
        "--access-token-lifetime-s",
        "--database-max-connections",
        "--signing-key-rotation-hours",
        "--third-party-provider",
        "--third-party-providers-file",
        "--header-read-timeout-s",
        "--body-read-timeout-s",
        "--keep-alive-s",
        "--max-connections",
        "--metrics-listen",
        "--trusted-proxies",
        "--forwarded-header",
        "--rate-limit-codes-per-contact",
        "--rate-limit-codes-per-client",
        "--rate-limit-consume-per-client",
        "--rate-limit-signinup-per-client",
        "--rate-limit-authorisation-url-per-client",
        "--redis",
        "--redis-prefix",
        "AUTH_MAX_CONNECTIONS",
        "AUTH_TRUSTED_PROXIES",
        "AUTH_RATE_LIMIT_CODES_PER_CONTACT",
        "AUTH_REDIS",
        "AUTH_EMAIL_VERIFICATION",
        "AUTH_THIRD_PARTY_PROVIDERS",
        "AUTH_LISTEN",
        "AUTH_DATABASE",
        "EMAIL_OR_PHONE",
        "USER_INPUT_CODE_AND_MAGIC_LINK",
    ] {
        assert!(help.contains(flag), "--help mentions {flag}:\n{help}");
    }
}

#[test]
fn cross_site_cookies_without_secure_are_refused_at_start() {
    let output = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--database", "sqlite::memory:"])
        .args(["--website-domain", "http://app.example.com", "--api-domain", "http://api.other.com"])
        .output()
        .expect("run");
    assert!(!output.status.success(), "started");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SameSite=None without Secure, which browsers drop"), "{stderr}");
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

on_both_frameworks! {
/// A sign-in the server answered is committed: `kill -9` right after it loses neither the user nor the session
/// (SQLite in WAL mode with `synchronous=NORMAL`: the commit is in the WAL file before the answer goes out).
async fn a_sign_in_survives_kill_9_of_the_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = Process::start(dir.path());
    let client = Client::new(&first.base_url).expect("client");
    let (ok, _, refresh) = sign_in(&first, &client, "kill9@example.com").await;
    assert!(ok.created_new_recipe_user);
    first.kill_9();
    assert!(dir.path().join("auth.db-wal").exists(), "the WAL was left behind, not checkpointed at shutdown");

    let second = Process::start(dir.path());
    let client = Client::new(&second.base_url).expect("client");
    let mut request = refresh_session::Request::new();
    request.refresh_token_bearer = Some(refresh);
    let response = client.refresh_session(request).await.expect("refresh");
    assert!(matches!(response, refresh_session::Response::Ok { .. }), "the session survived: {response:?}");
    let (again, _, _) = sign_in(&second, &client, "kill9@example.com").await;
    assert!(!again.created_new_recipe_user, "the user survived");
    assert_eq!(again.user.id, ok.user.id);
    second.terminate();
}
}
