//! Rate limits on both frameworks: 429 with `Retry-After` and `{"message"}` per contact and per client
//! address (with spoofed forwarding headers from a peer that is not a trusted proxy, and honoured ones from a
//! trusted proxy), code guesses across devices, third-party endpoints, the window's reset, and a restarted
//! instance that keeps counting in its SQLite file.

#[macro_use]
mod support;

use std::time::Duration;

use auth_api::ops::{consume_code, create_code, get_authorisation_url, resend_code};
use auth_api::runtime::{RawRequest, TrustedProxies};
use auth_api::types::{ConsumeCodeResponse, CreateCodeRequest, ResendCodeRequest};
use authgen_recipes::Config;
use authgen_recipes::ratelimit::{Limit, RateLimits};
use support::{consume_with_code, create_code_for_email, wrong_code};

fn limits(adjust: impl FnOnce(&mut RateLimits)) -> impl FnOnce(Config) -> Config {
    let mut limits = RateLimits::OFF;
    adjust(&mut limits);
    move |config| config.with_rate_limits(limits)
}

fn per_minute(max: u32) -> Limit {
    Limit::new(max, Duration::from_secs(60))
}

fn create_request(email: &str) -> create_code::Request {
    create_code::Request::new(CreateCodeRequest {
        email: Some(email.to_owned()),
        phone_number: None,
        should_try_linking_with_session_user: None,
    })
}

/// The 429 of a typed answer: its Retry-After, after checking the body.
fn retry_after(response: create_code::Response) -> i64 {
    match response {
        create_code::Response::TooManyRequests { body, headers } => {
            assert_eq!(body.message, "too many requests, try again later");
            headers.retry_after
        }
        other => panic!("expected 429, got {other:?}"),
    }
}

/// createCode by hand with extra headers; the raw answer.
async fn create_with_headers(
    client: &auth_api::client::Client,
    email: &str,
    headers: &[(&str, &str)],
) -> auth_api::runtime::RawResponse {
    let mut request = RawRequest {
        method: "POST".into(),
        path: "/auth/signinup/code".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: serde_json::to_vec(&serde_json::json!({ "email": email })).expect("JSON").into(),
        ..RawRequest::default()
    };
    request.headers.extend(headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    client.send(request).await.expect("createCode call")
}

on_both_frameworks! {
    async fn codes_per_contact_answer_429_with_retry_after_and_the_fdi_message() {
        let server = support::start(limits(|l| l.codes_per_contact = per_minute(2))).await;
        let client = server.client();
        let first = create_code_for_email(&client, "bomb@example.com").await;
        create_code_for_email(&client, "BOMB@example.com").await;
        // The third for the same (normalised) inbox is refused, and nothing is sent.
        let sent = server.capture.all().len();
        let seconds = retry_after(client.create_code(create_request(" bomb@example.com")).await.expect("call"));
        assert!((1..=60).contains(&seconds), "Retry-After {seconds}");
        assert_eq!(server.capture.all().len(), sent, "no message for a refused request");
        // On the wire: 429, Retry-After in seconds, the FDI's error shape.
        let raw = create_with_headers(&client, "bomb@example.com", &[]).await;
        assert_eq!(raw.status, 429);
        let header: i64 = raw.header("retry-after").expect("Retry-After").parse().expect("seconds");
        assert!((1..=60).contains(&header));
        assert_eq!(support::json_body(&raw), serde_json::json!({ "message": "too many requests, try again later" }));
        // A resend to that inbox counts too; another inbox is not affected.
        let resend = client
            .resend_code(resend_code::Request::new(ResendCodeRequest {
                device_id: first.device_id.clone(),
                pre_auth_session_id: first.pre_auth_session_id.clone(),
                should_try_linking_with_session_user: None,
            }))
            .await
            .expect("resend call");
        assert!(matches!(resend, resend_code::Response::TooManyRequests { .. }), "{resend:?}");
        create_code_for_email(&client, "other@example.com").await;
        server.stop().await;
    }
}

on_both_frameworks! {
    async fn forwarding_headers_from_an_untrusted_peer_do_not_escape_the_limit_per_client() {
        // The test connects from 127.0.0.1, which is not a trusted proxy here.
        let server = support::start(|config| {
            limits(|l| l.codes_per_client = per_minute(2))(config)
                .with_trusted_proxies(TrustedProxies::parse("10.0.0.0/8").expect("parses"))
        })
        .await;
        let client = server.client();
        let spoofs: [&[(&str, &str)]; 3] = [
            &[("x-forwarded-for", "198.51.100.1")],
            &[("x-forwarded-for", "198.51.100.2"), ("x-real-ip", "198.51.100.2")],
            &[("x-forwarded-for", "10.0.0.1, 198.51.100.3"), ("forwarded", "for=198.51.100.3")],
        ];
        let mut statuses = Vec::new();
        for (i, spoof) in spoofs.iter().enumerate() {
            statuses.push(create_with_headers(&client, &format!("u{i}@example.com"), spoof).await.status);
        }
        assert_eq!(statuses, [200, 200, 429], "every spoofed address counts as the peer's");
        server.stop().await;
    }
}

on_both_frameworks! {
    async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
        let server = support::start(|config| {
            limits(|l| l.codes_per_client = per_minute(2))(config)
                .with_trusted_proxies(TrustedProxies::parse("127.0.0.1/32").expect("parses"))
        })
        .await;
        let client = server.client();
        let status = |headers: Vec<(&'static str, String)>, email: String| {
            let client = client.clone();
            async move {
                let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                create_with_headers(&client, &email, &headers).await.status
            }
        };
        // Two clients behind the proxy, each with two requests: all within their own limit.
        for (i, client_ip) in ["198.51.100.1", "198.51.100.2", "198.51.100.1", "198.51.100.2"].iter().enumerate() {
            // What the client itself wrote (left of its address) does not count.
            let xff = format!("203.0.113.{i}, {client_ip}");
            assert_eq!(status(vec![("x-forwarded-for", xff)], format!("p{i}@example.com")).await, 200, "{i}");
        }
        assert_eq!(status(vec![("x-forwarded-for", "198.51.100.1".into())], "p9@example.com".into()).await, 429);
        // The proxy itself, without a forwarding header, is a client of its own.
        assert_eq!(status(Vec::new(), "p10@example.com".into()).await, 200);
        server.stop().await;
    }
}

on_both_frameworks! {
    async fn code_guesses_are_limited_per_client_across_devices() {
        let server = support::start(limits(|l| l.consume_per_client = per_minute(3))).await;
        let client = server.client();
        let first = create_code_for_email(&client, "guess1@example.com").await;
        let first_code = server.capture.last_code();
        let second = create_code_for_email(&client, "guess2@example.com").await;
        let second_code = server.capture.last_code();
        for (created, code) in [(&first, &first_code), (&second, &second_code), (&first, &first_code)] {
            let response = client.consume_code(consume_with_code(created, &wrong_code(code), None)).await.expect("call");
            assert!(
                matches!(response, consume_code::Response::Ok { body: ConsumeCodeResponse::IncorrectUserInputCodeError(_), .. }),
                "{response:?}"
            );
        }
        // The fourth guess is refused whatever the device, even with the right code.
        let refused = client.consume_code(consume_with_code(&second, &second_code, None)).await.expect("call");
        assert!(matches!(refused, consume_code::Response::TooManyRequests { .. }), "{refused:?}");
        server.stop().await;
    }
}

on_both_frameworks! {
    async fn third_party_endpoints_are_limited_per_client() {
        let server = support::start(limits(|l| {
            l.authorisation_url_per_client = per_minute(1);
            l.sign_in_up_per_client = per_minute(1);
        }))
        .await;
        let client = server.client();
        let url = || get_authorisation_url::Request::new("google".into(), "http://localhost:3000/cb".into());
        let first = client.get_authorisation_url(url()).await.expect("call");
        assert!(!matches!(first, get_authorisation_url::Response::TooManyRequests { .. }), "{first:?}");
        let second = client.get_authorisation_url(url()).await.expect("call");
        assert!(matches!(second, get_authorisation_url::Response::TooManyRequests { .. }), "{second:?}");
        let body = r#"{"thirdPartyId":"google","redirectURIInfo":{"redirectURIOnProviderDashboard":"http://localhost:3000/cb","redirectURIQueryParams":{"code":"x"}}}"#;
        let signinup = |client: auth_api::client::Client| async move {
            let request = RawRequest {
                method: "POST".into(),
                path: "/auth/signinup".into(),
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.as_bytes().to_vec().into(),
                ..RawRequest::default()
            };
            client.send(request).await.expect("signinup call")
        };
        assert_ne!(signinup(client.clone()).await.status, 429);
        let refused = signinup(client.clone()).await;
        assert_eq!(refused.status, 429, "{}", refused.text());
        assert!(refused.header("retry-after").is_some());
        server.stop().await;
    }
}

on_both_frameworks! {
    async fn a_limit_lets_requests_through_again_after_its_window() {
        let window = Duration::from_secs(2);
        let server = support::start(limits(|l| l.codes_per_contact = Limit::new(1, window))).await;
        let client = server.client();
        create_code_for_email(&client, "window@example.com").await;
        let seconds = retry_after(client.create_code(create_request("window@example.com")).await.expect("call"));
        assert!((1..=2).contains(&seconds), "Retry-After {seconds}");
        tokio::time::sleep(Duration::from_secs(u64::try_from(seconds).expect("positive")) + Duration::from_millis(100)).await;
        create_code_for_email(&client, "window@example.com").await;
        server.stop().await;
    }
}

on_both_frameworks! {
    async fn a_restarted_instance_keeps_counting() {
        let adjust = || limits(|l| l.codes_per_contact = Limit::new(2, Duration::from_secs(600)));
        let server = support::start(adjust()).await;
        let db_path = server.db_path.clone();
        create_code_for_email(&server.client(), "again@example.com").await;
        create_code_for_email(&server.client(), "again@example.com").await;
        let dir = server.stop().await;
        let server = support::start_at(&db_path, adjust()).await;
        let response = server.client().create_code(create_request("again@example.com")).await.expect("call");
        retry_after(response);
        server.stop().await;
        drop(dir);
    }
}
