//! The SMTP delivery against a real SMTP server on loopback (aiosmtpd, started by the test from
//! `support/smtp_sink.py`): sign-in codes, and email verification links (for bob of the test OpenID Connect
//! provider, whose email it reports unverified). Skipped, with a message, when Python's aiosmtpd is not
//! installed.

#[macro_use]
mod support;
#[path = "support/ev.rs"]
mod ev;
#[path = "support/oidc.rs"]
mod oidc;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use auth_server::{DeliverySettings, Settings};
use support::{consume_with_code, create_code, create_code_for_email};

struct Sink(Child);

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn aiosmtpd_available() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn read_messages(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect()
}

/// Starts the SMTP sink writing to `mailbox`; it stops when the returned guard is dropped.
fn start_sink(mailbox: &std::path::Path) -> (Sink, u16) {
    let port = free_port();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
    let mut child = Command::new("python3")
        .args([script, &port.to_string(), &mailbox.display().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the SMTP sink");
    let stdout = child.stdout.take().expect("stdout");
    let sink = Sink(child);
    let mut ready = String::new();
    BufReader::new(stdout).read_line(&mut ready).expect("read sink output");
    assert_eq!(ready.trim(), "ready", "the SMTP sink started");
    (sink, port)
}

/// The messages in `mailbox` once there are `count` (or after 10 s).
async fn wait_for_messages(mailbox: &std::path::Path, count: usize) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let messages = read_messages(mailbox);
        if messages.len() >= count || Instant::now() > deadline {
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

on_both_frameworks! {
async fn smtp_delivery_sends_the_code_and_link_by_email() {
    if !aiosmtpd_available() {
        eprintln!(
            "SKIPPED smtp_delivery_sends_the_code_and_link_by_email: python3 cannot import aiosmtpd (pip install aiosmtpd)"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mailbox = dir.path().join("mail.jsonl");
    let (_sink, port) = start_sink(&mailbox);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let settings = Settings {
        listen: listener.local_addr().expect("addr"),
        database: format!("sqlite://{}", dir.path().join("auth.db").display()),
        delivery: DeliverySettings::Smtp { host: "127.0.0.1".into(), port, from: "Auth <auth@example.com>".into() },
        ..Settings::default()
    };
    let app = auth_server::app(&settings).await.expect("app");
    let base_url = format!("http://{}", settings.listen);
    let server = tokio::spawn(auth_server::serve(listener, app, std::future::pending()));
    let client = auth_api::client::Client::new(&base_url).expect("client");

    let created = create_code_for_email(&client, "Smtp@Example.com").await;
    // createCode waits for the delivery, but give the sink a moment to write its file.
    let messages = wait_for_messages(&mailbox, 1).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert_eq!(message["from"], "auth@example.com");
    assert_eq!(message["to"], serde_json::json!(["smtp@example.com"]));
    let data = message["data"].as_str().expect("data").replace("=\r\n", "").replace("\r\n", "\n");
    assert!(data.contains("Subject: Your sign-in code"), "{data}");
    let code = data.split("Your sign-in code is ").nth(1).map(|rest| rest[..6].to_owned()).expect("code in the email");
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    let link_start =
        format!("http://localhost:3000/auth/verify?preAuthSessionId={}&tenantId=public#", created.pre_auth_session_id);
    assert!(data.contains(&link_start) || data.contains(&link_start.replace('=', "=3D")), "link in the email: {data}");

    let response = client.consume_code(consume_with_code(&created, &code, None)).await.expect("consume");
    assert!(
        matches!(
            response,
            auth_api::ops::consume_code::Response::Ok { body: auth_api::types::ConsumeCodeResponse::Ok(_), .. }
        ),
        "{response:?}"
    );

    // Text messages are not sent by SMTP: they go to the log delivery.
    create_code(&client, None, Some("+14155552671")).await;
    assert_eq!(read_messages(&mailbox).len(), 1);
    server.abort();
}
}

on_both_frameworks! {
async fn smtp_delivery_sends_the_email_verification_link() {
    if !aiosmtpd_available() {
        eprintln!("SKIPPED smtp_delivery_sends_the_email_verification_link: python3 cannot import aiosmtpd");
        return;
    }
    let provider = oidc::OidcProvider::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mailbox = dir.path().join("mail.jsonl");
    let (_sink, port) = start_sink(&mailbox);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let line = ev::provider_line(&provider);
    let settings = Settings {
        listen: listener.local_addr().expect("addr"),
        database: format!("sqlite://{}", dir.path().join("auth.db").display()),
        delivery: DeliverySettings::Smtp { host: "127.0.0.1".into(), port, from: "Auth <auth@example.com>".into() },
        email_verification: authgen_recipes::EmailVerificationMode::Optional,
        third_party_providers: vec![authgen_recipes::thirdparty::parse_provider_line(&line).expect("provider")],
        ..Settings::default()
    };
    let app = auth_server::app(&settings).await.expect("app");
    let server = tokio::spawn(auth_server::serve(listener, app, std::future::pending()));
    let client = auth_api::client::Client::new(&format!("http://{}", settings.listen)).expect("client");

    let (_, access, _) = ev::provider_sign_in(&client, "bob").await;
    let sent = ev::send_link(&client, Some(&access)).await;
    assert!(matches!(sent, auth_api::ops::generate_email_verify_token::Response::Ok { .. }), "{sent:?}");
    let messages = wait_for_messages(&mailbox, 1).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["to"], serde_json::json!(["bob@example.com"]));
    let data = messages[0]["data"].as_str().expect("data").replace("=\r\n", "").replace("\r\n", "\n");
    assert!(data.contains("Subject: Verify your email address"), "{data}");
    let data = data.replace("=3D", "=");
    let link = data.split_whitespace().find(|word| word.starts_with("http://localhost:3000/auth/verify-email?"));
    let token = ev::token_of(link.unwrap_or_else(|| panic!("link in the email: {data}")));
    let verified = ev::verify(&client, &token).await;
    assert!(
        matches!(verified, auth_api::ops::verify_email::Response::Ok { body: auth_api::types::VerifyEmailResponse::Ok(_), .. }),
        "{verified:?}"
    );
    assert!(ev::verified_flag(ev::is_verified(&client, Some(&access)).await));
    server.abort();
}
}
