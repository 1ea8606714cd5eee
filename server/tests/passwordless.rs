//! Passwordless flows through the generated client against the real server on loopback: one-time code,
//! magic link, wrong codes up to RESTART_FLOW_ERROR, expiry, resend, the exists endpoints and input errors.

#[macro_use]
mod support;

use std::time::Duration;

use auth_api::ops::{
    consume_code, create_code, passwordless_email_exists, passwordless_phone_number_exists, resend_code,
};
use auth_api::types::{
    ConsumeCodeRequest, ConsumeCodeResponse, CreateCodeRequest, CreateCodeResponse, ExistsResponse, FlowType,
    GeneralError, LoginMethodRecipeId, ResendCodeRequest, ResendCodeResponse,
};
use authgen_recipes::{Contact, ContactMethod};
use support::{WEBSITE, consume_with_code, create_code, create_code_for_email, start, wrong_code};

fn consume_ok(response: consume_code::Response) -> (auth_api::types::ConsumeCodeOk, consume_code::OkHeaders) {
    match response {
        consume_code::Response::Ok { body: ConsumeCodeResponse::Ok(ok), headers } => (ok, headers),
        other => panic!("consume did not succeed: {other:?}"),
    }
}

fn consume_body(response: consume_code::Response) -> ConsumeCodeResponse {
    match response {
        consume_code::Response::Ok { body, .. } => body,
        other => panic!("consume answered {other:?}"),
    }
}

on_both_frameworks! {
async fn otp_flow_signs_up_then_signs_in_the_same_user() {
    let server = start(|c| c).await;
    let client = server.client();

    let created = create_code_for_email(&client, "  Alice@Example.COM ").await;
    assert_eq!(created.flow_type, FlowType::UserInputCodeAndMagicLink);
    assert_eq!(created.device_id.len(), 44, "32 bytes in standard base64 with padding");
    assert!(created.device_id.ends_with('='));
    assert_eq!(created.pre_auth_session_id.len(), 43, "base64url without padding");
    assert!(!created.pre_auth_session_id.contains(['=', '+', '/']));

    let message = server.capture.last();
    assert_eq!(message.recipient, Contact::Email("alice@example.com".into()));
    let code = message.user_input_code.clone().expect("code flow");
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(message.pre_auth_session_id, created.pre_auth_session_id);

    let (ok, _) = consume_ok(client.consume_code(consume_with_code(&created, &code, None)).await.expect("consume"));
    assert!(ok.created_new_recipe_user);
    let user = ok.user;
    assert_eq!(user.emails, ["alice@example.com"]);
    assert!(user.phone_numbers.is_empty());
    assert!(!user.is_primary_user);
    assert_eq!(user.tenant_ids, ["public"]);
    assert!(user.third_party.is_empty());
    assert_eq!(user.login_methods.len(), 1);
    let method = &user.login_methods[0];
    assert_eq!(method.recipe_id, LoginMethodRecipeId::Passwordless);
    assert_eq!(method.recipe_user_id, user.id);
    assert_eq!(method.email.as_deref(), Some("alice@example.com"));
    assert_eq!(method.time_joined, user.time_joined);
    assert!(method.verified);

    // The code is single use: the device is gone.
    let again = consume_body(client.consume_code(consume_with_code(&created, &code, None)).await.expect("consume"));
    assert!(matches!(again, ConsumeCodeResponse::RestartFlowError(_)), "{again:?}");

    // Sign in again: same user, not new.
    let created = create_code_for_email(&client, "alice@example.com").await;
    let code = server.capture.last_code();
    let (ok, _) = consume_ok(client.consume_code(consume_with_code(&created, &code, None)).await.expect("consume"));
    assert!(!ok.created_new_recipe_user);
    assert_eq!(ok.user.id, user.id);
    server.stop().await;
}
}

on_both_frameworks! {
async fn magic_link_flow_consumes_the_link_code() {
    let server = start(|c| c).await;
    let client = server.client();
    let created = create_code(&client, None, Some("+1 (415) 555-2671")).await;
    let message = server.capture.last();
    assert_eq!(message.recipient, Contact::Phone("+14155552671".into()));

    let link = url::Url::parse(message.magic_link.as_deref().expect("link flow")).expect("link is a URL");
    assert_eq!(link.origin().ascii_serialization(), WEBSITE);
    assert_eq!(link.path(), "/auth/verify");
    let query: Vec<(String, String)> = link.query_pairs().into_owned().collect();
    assert_eq!(
        query,
        [
            ("preAuthSessionId".to_owned(), created.pre_auth_session_id.clone()),
            ("tenantId".to_owned(), "public".to_owned())
        ]
    );
    let link_code = link.fragment().expect("link code in the fragment").to_owned();
    assert_eq!(link_code.len(), 43);
    assert!(!link_code.contains(['=', '+', '/']));

    let request = consume_code::Request::new(ConsumeCodeRequest {
        pre_auth_session_id: query[0].1.clone(),
        link_code: Some(link_code.clone()),
        device_id: None,
        user_input_code: None,
        should_try_linking_with_session_user: None,
    });
    let (ok, headers) = consume_ok(client.consume_code(request.clone()).await.expect("consume"));
    assert!(ok.created_new_recipe_user);
    assert_eq!(ok.user.phone_numbers, ["+14155552671"]);
    assert_eq!(ok.user.login_methods[0].phone_number.as_deref(), Some("+14155552671"));
    assert!(headers.st_access_token.is_some());

    // A used or unknown link restarts the flow.
    let again = consume_body(client.consume_code(request).await.expect("consume"));
    assert!(matches!(again, ConsumeCodeResponse::RestartFlowError(_)), "{again:?}");
    server.stop().await;
}
}

on_both_frameworks! {
async fn magic_link_only_flow_sends_no_code() {
    let server = start(|c| c.with_flow_type(FlowType::MagicLink).with_contact_method(ContactMethod::Email)).await;
    let client = server.client();
    let created = create_code_for_email(&client, "link@example.com").await;
    assert_eq!(created.flow_type, FlowType::MagicLink);
    let message = server.capture.last();
    assert_eq!(message.user_input_code, None);
    assert!(message.magic_link.is_some());
    server.stop().await;
}
}

on_both_frameworks! {
async fn resends_keep_only_the_newest_codes_live() {
    let server = start(|c| c).await;
    let client = server.client();
    let created = create_code_for_email(&client, "resent@example.com").await;
    let resend = || {
        resend_code::Request::new(ResendCodeRequest {
            device_id: created.device_id.clone(),
            pre_auth_session_id: created.pre_auth_session_id.clone(),
            should_try_linking_with_session_user: None,
        })
    };
    for _ in 0..30 {
        let response = client.resend_code(resend()).await.expect("resend");
        assert!(matches!(response, resend_code::Response::Ok(ResendCodeResponse::Ok(_))), "{response:?}");
    }
    let sent: Vec<String> =
        server.capture.all().iter().map(|m| m.user_input_code.clone().expect("code flow")).collect();
    assert_eq!(sent.len(), 31);
    // The default keeps the newest 3 codes: every older code is refused (and counted as a wrong attempt).
    let mut counted = 0;
    for old in [&sent[0], &sent[14], &sent[27]] {
        if sent[28..].contains(old) {
            continue; // a random repeat of a live code
        }
        let body = consume_body(client.consume_code(consume_with_code(&created, old, None)).await.expect("consume"));
        let ConsumeCodeResponse::IncorrectUserInputCodeError(e) = body else { panic!("old code accepted: {body:?}") };
        counted += 1;
        assert_eq!(e.failed_code_input_attempt_count, counted);
    }
    // The third newest is still live, for an email that arrives late.
    let (ok, _) = consume_ok(client.consume_code(consume_with_code(&created, &sent[28], None)).await.expect("consume"));
    assert!(ok.created_new_recipe_user);
    server.stop().await;
}
}

on_both_frameworks! {
async fn wrong_codes_count_up_to_restart_flow() {
    let server = start(|c| c).await;
    let client = server.client();
    let created = create_code_for_email(&client, "wrong@example.com").await;
    let code = server.capture.last_code();
    let wrong = wrong_code(&code);
    for attempt in 1..=4 {
        let body = consume_body(client.consume_code(consume_with_code(&created, &wrong, None)).await.expect("consume"));
        match body {
            ConsumeCodeResponse::IncorrectUserInputCodeError(e) => {
                assert_eq!(e.failed_code_input_attempt_count, attempt);
                assert_eq!(e.maximum_code_input_attempts, 5);
            }
            other => panic!("attempt {attempt}: {other:?}"),
        }
    }
    let body = consume_body(client.consume_code(consume_with_code(&created, &wrong, None)).await.expect("consume"));
    assert!(matches!(body, ConsumeCodeResponse::RestartFlowError(_)), "{body:?}");
    // The device was deleted: even the right code no longer works.
    let body = consume_body(client.consume_code(consume_with_code(&created, &code, None)).await.expect("consume"));
    assert!(matches!(body, ConsumeCodeResponse::RestartFlowError(_)), "{body:?}");
    server.stop().await;
}
}

on_both_frameworks! {
async fn expired_codes_are_refused_and_counted() {
    let server = start(|c| c.with_code_lifetime(Duration::from_millis(300))).await;
    let client = server.client();
    let created = create_code_for_email(&client, "late@example.com").await;
    let message = server.capture.last();
    let code = message.user_input_code.expect("code flow");
    let link_code =
        url::Url::parse(&message.magic_link.expect("link flow")).expect("url").fragment().map(str::to_owned);
    tokio::time::sleep(Duration::from_millis(600)).await;

    let body = consume_body(client.consume_code(consume_with_code(&created, &code, None)).await.expect("consume"));
    match body {
        ConsumeCodeResponse::ExpiredUserInputCodeError(e) => {
            assert_eq!(e.failed_code_input_attempt_count, 1);
            assert_eq!(e.maximum_code_input_attempts, 5);
        }
        other => panic!("expected EXPIRED_USER_INPUT_CODE_ERROR: {other:?}"),
    }
    let link_request = consume_code::Request::new(ConsumeCodeRequest {
        pre_auth_session_id: created.pre_auth_session_id.clone(),
        link_code,
        device_id: None,
        user_input_code: None,
        should_try_linking_with_session_user: None,
    });
    let body = consume_body(client.consume_code(link_request).await.expect("consume"));
    assert!(matches!(body, ConsumeCodeResponse::RestartFlowError(_)), "an expired link restarts: {body:?}");
    server.stop().await;
}
}

on_both_frameworks! {
async fn resend_issues_a_new_code_on_the_same_device() {
    let server = start(|c| c).await;
    let client = server.client();
    let created = create_code_for_email(&client, "resend@example.com").await;
    let first = server.capture.last();

    let resend = |device_id: &str, pre: &str| {
        resend_code::Request::new(ResendCodeRequest {
            device_id: device_id.to_owned(),
            pre_auth_session_id: pre.to_owned(),
            should_try_linking_with_session_user: None,
        })
    };
    let response = client.resend_code(resend(&created.device_id, &created.pre_auth_session_id)).await.expect("resend");
    assert!(matches!(response, resend_code::Response::Ok(ResendCodeResponse::Ok(_))), "{response:?}");
    assert_eq!(server.capture.all().len(), 2);
    let second = server.capture.last();
    assert_eq!(second.recipient, first.recipient);
    assert_eq!(second.pre_auth_session_id, created.pre_auth_session_id, "same device");
    let second_link = second.magic_link.clone().expect("link flow");
    assert!(second_link.contains(&format!("preAuthSessionId={}", created.pre_auth_session_id)));
    assert_ne!(second.magic_link, first.magic_link);

    let code = second.user_input_code.expect("code flow");
    let (ok, _) = consume_ok(client.consume_code(consume_with_code(&created, &code, None)).await.expect("consume"));
    assert!(ok.created_new_recipe_user);

    // The device is consumed, and an unknown or mismatched device restarts.
    let response = client.resend_code(resend(&created.device_id, &created.pre_auth_session_id)).await.expect("resend");
    assert!(matches!(response, resend_code::Response::Ok(ResendCodeResponse::RestartFlowError(_))), "{response:?}");
    let other = create_code_for_email(&client, "other@example.com").await;
    let response = client.resend_code(resend(&other.device_id, &created.pre_auth_session_id)).await.expect("resend");
    assert!(matches!(response, resend_code::Response::Ok(ResendCodeResponse::RestartFlowError(_))), "{response:?}");
    server.stop().await;
}
}

on_both_frameworks! {
async fn consume_deletes_every_device_of_the_contact() {
    let server = start(|c| c).await;
    let client = server.client();
    let first = create_code_for_email(&client, "multi@example.com").await;
    let first_code = server.capture.last_code();
    let second = create_code_for_email(&client, "MULTI@example.com").await;
    let second_code = server.capture.last_code();
    consume_ok(client.consume_code(consume_with_code(&second, &second_code, None)).await.expect("consume"));
    let body = consume_body(client.consume_code(consume_with_code(&first, &first_code, None)).await.expect("consume"));
    assert!(matches!(body, ConsumeCodeResponse::RestartFlowError(_)), "{body:?}");
    server.stop().await;
}
}

on_both_frameworks! {
async fn exists_endpoints_answer_from_the_store() {
    let server = start(|c| c).await;
    let client = server.client();
    let email_exists = |email: &str| {
        let mut request = passwordless_email_exists::Request::new(email.to_owned());
        request.rid = Some("passwordless".to_owned());
        request
    };
    let phone_exists = |phone: &str| passwordless_phone_number_exists::Request::new(phone.to_owned());
    let exists = |r: passwordless_email_exists::Response| match r {
        passwordless_email_exists::Response::Ok(ExistsResponse::Ok(ok)) => ok.exists,
        other => panic!("{other:?}"),
    };
    let phone_is = |r: passwordless_phone_number_exists::Response| match r {
        passwordless_phone_number_exists::Response::Ok(ExistsResponse::Ok(ok)) => ok.exists,
        other => panic!("{other:?}"),
    };

    assert!(!exists(client.passwordless_email_exists(email_exists("bob@example.com")).await.expect("call")));
    assert!(!phone_is(client.passwordless_phone_number_exists(phone_exists("+33142685300")).await.expect("call")));

    let created = create_code_for_email(&client, "bob@example.com").await;
    assert!(
        !exists(client.passwordless_email_exists(email_exists("bob@example.com")).await.expect("call")),
        "a pending code is not a user"
    );
    let code = server.capture.last_code();
    consume_ok(client.consume_code(consume_with_code(&created, &code, None)).await.expect("consume"));
    assert!(exists(client.passwordless_email_exists(email_exists("bob@example.com")).await.expect("call")));
    assert!(exists(client.passwordless_email_exists(email_exists(" BOB@example.com ")).await.expect("call")));
    assert!(!exists(client.passwordless_email_exists(email_exists("carol@example.com")).await.expect("call")));

    let created = create_code(&client, None, Some("+33 1 42 68 53 00")).await;
    let code = server.capture.last_code();
    consume_ok(client.consume_code(consume_with_code(&created, &code, None)).await.expect("consume"));
    assert!(phone_is(client.passwordless_phone_number_exists(phone_exists("+33142685300")).await.expect("call")));
    assert!(phone_is(client.passwordless_phone_number_exists(phone_exists("+33 1 42 68 53 00")).await.expect("call")));
    assert!(!phone_is(client.passwordless_phone_number_exists(phone_exists("+33142685301")).await.expect("call")));
    server.stop().await;
}
}

fn create_request(email: Option<&str>, phone_number: Option<&str>) -> create_code::Request {
    create_code::Request::new(CreateCodeRequest {
        email: email.map(str::to_owned),
        phone_number: phone_number.map(str::to_owned),
        should_try_linking_with_session_user: None,
    })
}

fn bad_request(response: create_code::Response) -> String {
    match response {
        create_code::Response::BadRequest(e) => e.message,
        other => panic!("expected 400: {other:?}"),
    }
}

fn general_error(response: create_code::Response) -> String {
    match response {
        create_code::Response::Ok(CreateCodeResponse::GeneralError(GeneralError { message })) => message,
        other => panic!("expected GENERAL_ERROR: {other:?}"),
    }
}

on_both_frameworks! {
async fn create_code_validates_its_input() {
    let server = start(|c| c).await;
    let client = server.client();
    let both = client.create_code(create_request(Some("a@example.com"), Some("+14155552671"))).await.expect("call");
    assert_eq!(bad_request(both), "Please provide exactly one of email or phoneNumber");
    let neither = client.create_code(create_request(None, None)).await.expect("call");
    assert_eq!(bad_request(neither), "Please provide exactly one of email or phoneNumber");
    // A quoted local part with CR/LF or ESC passes node's pattern; it is refused here (forged log lines).
    for email in ["not-an-email", "a@b", " ", "\"a\r\nINFO forged\"@example.com", "\"\u{1b}[2J\"@example.com"] {
        let response = client.create_code(create_request(Some(email), None)).await.expect("call");
        assert_eq!(general_error(response), "Email is invalid", "{email:?}");
    }
    for phone in ["12345", "+1 555", "0036701234567"] {
        let response = client.create_code(create_request(None, Some(phone))).await.expect("call");
        assert_eq!(general_error(response), "Phone number is invalid", "{phone:?}");
    }
    assert!(server.capture.all().is_empty(), "nothing is sent for invalid input");
    server.stop().await;

    let server = start(|c| c.with_contact_method(ContactMethod::Email)).await;
    let response = server.client().create_code(create_request(None, Some("+14155552671"))).await.expect("call");
    assert_eq!(bad_request(response), "Please provide an email since you have set the contactMethod to \"EMAIL\"");
    server.stop().await;

    let server = start(|c| c.with_contact_method(ContactMethod::Phone)).await;
    let response = server.client().create_code(create_request(Some("a@example.com"), None)).await.expect("call");
    assert_eq!(bad_request(response), "Please provide a phoneNumber since you have set the contactMethod to \"PHONE\"");
    server.stop().await;
}
}

on_both_frameworks! {
async fn consume_validates_its_input() {
    let server = start(|c| c).await;
    let client = server.client();
    let created = create_code_for_email(&client, "input@example.com").await;
    let request = |link: Option<&str>, device: Option<&str>, code: Option<&str>| {
        consume_code::Request::new(ConsumeCodeRequest {
            pre_auth_session_id: created.pre_auth_session_id.clone(),
            link_code: link.map(str::to_owned),
            device_id: device.map(str::to_owned),
            user_input_code: code.map(str::to_owned),
            should_try_linking_with_session_user: None,
        })
    };
    let message = |response: consume_code::Response| match response {
        consume_code::Response::BadRequest(e) => e.message,
        other => panic!("expected 400: {other:?}"),
    };
    let both = "Please provide one of (linkCode) or (deviceId+userInputCode) and not both";
    assert_eq!(message(client.consume_code(request(None, None, None)).await.expect("call")), both);
    assert_eq!(
        message(client.consume_code(request(Some("x"), Some(&created.device_id), Some("1"))).await.expect("call")),
        both
    );
    assert_eq!(
        message(client.consume_code(request(None, Some(&created.device_id), None)).await.expect("call")),
        "Please provide both deviceId and userInputCode"
    );
    assert_eq!(
        message(client.consume_code(request(None, None, Some("123456"))).await.expect("call")),
        "Please provide both deviceId and userInputCode"
    );
    let other = create_code_for_email(&client, "someone@example.com").await;
    assert_eq!(
        message(client.consume_code(request(None, Some(&other.device_id), Some("123456"))).await.expect("call")),
        "preAuthSessionId and deviceId do not match"
    );
    assert_eq!(
        message(client.consume_code(request(None, Some("%%not base64%%"), Some("123456"))).await.expect("call")),
        "preAuthSessionId and deviceId do not match"
    );
    let mut empty = request(Some("x"), None, None);
    empty.body.pre_auth_session_id = String::new();
    assert_eq!(message(client.consume_code(empty).await.expect("call")), "Please provide preAuthSessionId");
    // An undecodable link code is simply unknown.
    let body = consume_body(client.consume_code(request(Some("%%%"), None, None)).await.expect("call"));
    assert!(matches!(body, ConsumeCodeResponse::RestartFlowError(_)), "{body:?}");
    server.stop().await;
}
}

on_both_frameworks! {
async fn a_tenant_the_server_does_not_serve_is_refused_and_public_is_the_default() {
    let server = start(|c| c).await;
    let client = server.client();
    let mut request = create_code::Request::new(CreateCodeRequest {
        email: Some("dana@example.com".into()),
        phone_number: None,
        should_try_linking_with_session_user: None,
    });
    request.tenant_id = "customer-1".into();
    let refused = client.create_code(request).await.expect("create");
    let create_code::Response::InternalServerError(body) = refused else { panic!("{refused:?}") };
    assert_eq!(body.message, "Tenant not found", "supertokens-node's error, a 500 from the app's handler");
    assert!(server.capture.all().is_empty(), "nothing was sent");
    let methods = client.send(support::raw("GET", "/auth/customer-1/loginmethods", &[])).await.expect("send");
    assert_eq!((methods.status, support::json_body(&methods)), (500, serde_json::json!({"message": "Tenant not found"})));

    // `public` named in the path is the tenant of the paths without one.
    let created = create_code_for_email(&client, "dana@example.com").await;
    let code = server.capture.last_code();
    let (ok, _) = consume_ok(client.consume_code(consume_with_code(&created, &code, None)).await.expect("consume"));
    let exists = client.send(support::raw("GET", "/auth/public/passwordless/email/exists?email=dana%40example.com", &[]));
    let exists = exists.await.expect("send");
    assert_eq!(support::json_body(&exists), serde_json::json!({"status": "OK", "exists": true}));
    assert_eq!(ok.user.tenant_ids, ["public"]);
    server.stop().await;
}
}
