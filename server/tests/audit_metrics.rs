//! The audit trail and `GET /metrics`, as an operator sees them on the `auth-server` binary: every audit
//! event is logged (target `audit`) with the identifiers an operator needs and never a code, link, token or
//! device id; `--metrics-listen` serves the Prometheus text format on its own port with requests and
//! latencies per operation and status, sign-ins by recipe and token thefts; without the flag nothing listens.

#[macro_use]
mod support;

use std::io::{Read as _, Write as _};

use auth_api::client::Client;
use auth_api::ops::{consume_code, refresh_session, sign_out};
use auth_api::types::{ConsumeCodeRequest, ConsumeCodeResponse};
use support::{consume_with_code, create_code_for_email, refresh_with_bearer, sign_out_with_bearer, wrong_code};

#[path = "support/process.rs"]
mod process;

use process::Process;

/// `GET /metrics` at `address` (`host:port`): the status line, the content type and the body.
fn scrape(address: &str) -> (String, String, String) {
    let mut stream = std::net::TcpStream::connect(address).expect("connect to the metrics port");
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    let status = head.lines().next().unwrap_or_default().to_owned();
    let content_type = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type: ").map(str::to_owned))
        .unwrap_or_default();
    (status, content_type, body.to_owned())
}

/// The value of the sample `name{labels}` (labels as written, in order), or 0 when absent.
fn sample(body: &str, series: &str) -> f64 {
    body.lines()
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |value| value.trim().parse().expect("a number"))
}

/// The newest link the log delivery printed for `email`: its `linkCode` (after `#`).
fn link_code_for(process: &Process, email: &str) -> String {
    let line = process.wait_for_line(&format!("passwordless code for {email}: "));
    let link = line.split("link=").nth(1).and_then(|rest| rest.split_whitespace().next()).expect("link");
    link.split_once('#').expect("a link code after #").1.to_owned()
}

on_both_frameworks! {
async fn audit_events_and_metrics_tell_what_happened_without_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let process = Process::start_with(dir.path(), &["--metrics-listen", "127.0.0.1:0"], &[]);
    let line = process.wait_for_line("metrics on http://");
    let metrics_address =
        line.split("metrics on http://").nth(1).and_then(|r| r.split('/').next()).expect("metrics address").to_owned();
    let client = Client::new(&process.base_url).expect("client");
    // Everything that lets its holder in: none of it may reach the audit trail.
    let mut secrets: Vec<String> = Vec::new();

    // A code, one wrong attempt, then the right code: code_created, failed_attempt, code_consumed, sign_in_up.
    let email = "audit@example.com";
    let created = create_code_for_email(&client, email).await;
    let code = process.code_for(email);
    secrets.extend([code.clone(), link_code_for(&process, email), created.device_id.clone(), created.pre_auth_session_id.clone()]);
    let wrong = client.consume_code(consume_with_code(&created, &wrong_code(&code), Some("header"))).await.unwrap();
    assert!(matches!(wrong, consume_code::Response::Ok { body: ConsumeCodeResponse::IncorrectUserInputCodeError(_), .. }), "{wrong:?}");
    let consume_code::Response::Ok { body: ConsumeCodeResponse::Ok(ok), headers } =
        client.consume_code(consume_with_code(&created, &code, Some("header"))).await.unwrap()
    else {
        panic!("sign-in failed")
    };
    let user_id = ok.user.id.clone();
    let (access, refresh0) = (headers.st_access_token.expect("access"), headers.st_refresh_token.expect("refresh"));
    secrets.extend([access.clone(), refresh0.clone()]);

    // The device is gone now: consuming again restarts the flow.
    let again = client.consume_code(consume_with_code(&created, &code, None)).await.unwrap();
    assert!(matches!(again, consume_code::Response::Ok { body: ConsumeCodeResponse::RestartFlowError(_), .. }), "{again:?}");

    // Refresh twice (the child is used), then the first refresh token again: theft.
    let refresh_session::Response::Ok { headers, .. } = client.refresh_session(refresh_with_bearer(&refresh0)).await.unwrap()
    else {
        panic!("refresh failed")
    };
    let refresh1 = headers.st_refresh_token.expect("rotated");
    secrets.extend(headers.st_access_token.into_iter().chain([refresh1.clone()]));
    let refresh_session::Response::Ok { headers, .. } = client.refresh_session(refresh_with_bearer(&refresh1)).await.unwrap()
    else {
        panic!("second refresh failed")
    };
    secrets.extend(headers.st_access_token.into_iter().chain(headers.st_refresh_token));
    let theft = client.refresh_session(refresh_with_bearer(&refresh0)).await.unwrap();
    assert!(matches!(theft, refresh_session::Response::Unauthorized { .. }), "{theft:?}");

    // A second user signs in with the magic link and signs out.
    let email2 = "audit-link@example.com";
    let created2 = create_code_for_email(&client, email2).await;
    let link_code = link_code_for(&process, email2);
    secrets.extend([process.code_for(email2), link_code.clone(), created2.device_id.clone(), created2.pre_auth_session_id.clone()]);
    let mut by_link = consume_code::Request::new(ConsumeCodeRequest {
        pre_auth_session_id: created2.pre_auth_session_id.clone(),
        link_code: Some(link_code),
        device_id: None,
        user_input_code: None,
        should_try_linking_with_session_user: None,
    });
    by_link.st_auth_mode = Some("header".into());
    let consume_code::Response::Ok { body: ConsumeCodeResponse::Ok(ok2), headers } = client.consume_code(by_link).await.unwrap()
    else {
        panic!("magic link sign-in failed")
    };
    let access2 = headers.st_access_token.expect("access");
    secrets.extend([access2.clone(), headers.st_refresh_token.expect("refresh")]);
    let out = client.sign_out(sign_out_with_bearer(&access2)).await.unwrap();
    assert!(matches!(out, sign_out::Response::Ok { .. }), "{out:?}");

    // The server's default limit on codes per contact (5 in 15 minutes): the sixth is refused.
    let limited = "audit-limited@example.com";
    for i in 1..=6 {
        let body = serde_json::json!({ "email": limited }).to_string();
        let mut request = support::raw("POST", "/auth/signinup/code", &[("content-type", "application/json")]);
        request.body = body.into_bytes().into();
        let response = client.send(request).await.expect("send");
        assert_eq!(response.status, if i <= 5 { 200 } else { 429 }, "createCode {i}: {}", response.text());
    }

    // The audit trail: each event once it happened, with who it concerned.
    // The log is read on another thread: wait for the last event before looking at all of them.
    process.wait_for_line("event=\"rate_limited\"");
    let audit: Vec<String> = process.lines().into_iter().filter(|l| l.contains(" audit:")).collect();
    let has = |event: &str, also: &[&str]| {
        audit.iter().any(|l| l.contains(&format!("event=\"{event}\"")) && also.iter().all(|a| l.contains(a)))
    };
    assert!(has("code_created", &["contact=audit@example.com", "resend=false", "contact_kind=\"email\""]), "{audit:#?}");
    assert!(has("failed_attempt", &["reason=\"incorrect_code\"", "attempts=1"]), "{audit:#?}");
    assert!(has("code_consumed", &["method=\"user_input_code\""]), "{audit:#?}");
    assert!(has("code_consumed", &["method=\"link_code\""]), "{audit:#?}");
    assert!(has("flow_restarted", &["reason=\"device_gone\""]), "{audit:#?}");
    assert!(has("sign_in_up", &["recipe=\"passwordless\"", &user_id, "created_new_user=true"]), "{audit:#?}");
    assert!(has("refresh", &[&user_id]), "{audit:#?}");
    assert!(has("theft_detected", &[&user_id]), "{audit:#?}");
    assert!(has("sign_out", &[&ok2.user.id]), "{audit:#?}");
    assert!(has("rate_limited", &["limit=\"codes-per-contact\"", "retry_after_s="]), "{audit:#?}");
    for secret in &secrets {
        assert!(secret.len() >= 6, "a secret worth looking for: {secret:?}");
        let leaked: Vec<&String> = audit.iter().filter(|l| l.contains(secret.as_str())).collect();
        assert!(leaked.is_empty(), "{secret:?} is in the audit trail: {leaked:#?}");
    }

    // The metrics: per operation and status, sign-ins by recipe, the theft.
    let (status, content_type, body) = scrape(&metrics_address);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    assert_eq!(sample(&body, r#"authgen_http_requests_total{operation="createCode",status="200"}"#), 7.0, "{body}");
    assert_eq!(sample(&body, r#"authgen_http_requests_total{operation="createCode",status="429"}"#), 1.0, "{body}");
    assert_eq!(sample(&body, r#"authgen_http_requests_total{operation="consumeCode",status="200"}"#), 4.0, "{body}");
    assert_eq!(sample(&body, r#"authgen_http_requests_total{operation="refreshSession",status="200"}"#), 2.0, "{body}");
    assert_eq!(sample(&body, r#"authgen_http_requests_total{operation="refreshSession",status="401"}"#), 1.0, "{body}");
    assert_eq!(sample(&body, r#"authgen_http_requests_total{operation="signOut",status="200"}"#), 1.0, "{body}");
    assert_eq!(sample(&body, r#"authgen_http_request_duration_seconds_count{operation="consumeCode",status="200"}"#), 4.0, "{body}");
    assert!(body.contains(r#"authgen_http_request_duration_seconds_bucket{le="0.005",operation="createCode",status="200"}"#), "{body}");
    assert_eq!(sample(&body, r#"authgen_sign_ins_total{recipe="passwordless",provider="",new_user="true"}"#), 2.0, "{body}");
    assert_eq!(sample(&body, "authgen_token_thefts_total"), 1.0, "{body}");
    assert_eq!(sample(&body, r#"authgen_rate_limited_total{limit="codes-per-contact"}"#), 1.0, "{body}");
    assert!(body.trim_end().ends_with("# EOF"), "{body}");
    // Requests to no operation share one label.
    let before = sample(&body, r#"authgen_http_requests_total{operation="other",status="404"}"#);
    for path in ["/nope", "/auth/nope", "/auth/signinup/codex"] {
        let response = client.send(support::raw("GET", path, &[])).await.expect("send");
        assert_eq!(response.status, 404, "{path}");
    }
    let (_, _, body) = scrape(&metrics_address);
    assert_eq!(sample(&body, r#"authgen_http_requests_total{operation="other",status="404"}"#), before + 3.0, "{body}");
    process.terminate();
}
}

on_both_frameworks! {
async fn without_metrics_listen_no_metrics_are_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    let process = Process::start(dir.path());
    let client = Client::new(&process.base_url).expect("client");
    let response = client.send(support::raw("GET", "/metrics", &[])).await.expect("send");
    assert_eq!(response.status, 404, "the API port serves no metrics");
    assert!(!process.lines().iter().any(|l| l.contains("metrics on")), "no metrics listener");
    process.terminate();
}
}
