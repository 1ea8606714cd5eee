//! Email verification (`--email-verification`) end to end: the real server on loopback on both frameworks over
//! a real SQLite file, users from a real OpenID Connect provider process (`tests/oidc-provider`: alice's email
//! verified, bob's not) and from passwordless codes, the link from the delivery (captured in process, read
//! from the `auth-server` binary's log line), the `st-ev` claim in the access token on sign-in and refresh,
//! `REQUIRED` refusing `/sessioninfo` until verified, and `OFF` serving none of it. `postgres_instances.rs`
//! has the same flow across two instances on PostgreSQL.

#[macro_use]
mod support;
#[path = "support/ev.rs"]
mod ev;
#[path = "support/oidc.rs"]
mod oidc;
#[path = "support/process.rs"]
mod process;

use auth_api::client::Client;
use auth_api::ops::{generate_email_verify_token, is_email_verified, verify_email};
use auth_api::types::{GenerateEmailVerifyTokenResponse, VerifyEmailResponse};
use authgen_recipes::{Config, EmailVerificationMode};
use ev::{claim, is_verified, provider_line, provider_sign_in, refreshed, send_link, token_of, verified_flag, verify};
use oidc::OidcProvider;
use serde_json::json;
use support::{json_body, jwt_payload, raw, session_info, start};

fn configured(provider: &OidcProvider, mode: EmailVerificationMode) -> impl FnOnce(Config) -> Config {
    let provider = authgen_recipes::thirdparty::parse_provider_line(&provider_line(provider)).expect("provider line");
    move |config| config.with_third_party_provider(provider).with_email_verification(mode)
}

on_both_frameworks! {
async fn a_provider_unverified_email_is_verified_with_a_single_use_expiring_link() {
    let provider = OidcProvider::start().await;
    let server = start(configured(&provider, EmailVerificationMode::Optional)).await;
    let client = server.client();

    let (bob, access, refresh) = provider_sign_in(&client, "bob").await;
    assert!(!claim(&access), "the provider reported bob's email unverified");
    let status = is_verified(&client, Some(&access)).await;
    assert!(matches!(&status, is_email_verified::Response::Ok { headers, .. } if headers.st_access_token.is_none()), "{status:?}");
    assert!(!verified_flag(status));

    // A session is required.
    for response in [send_link(&client, None).await, send_link(&client, Some("not-a-jwt")).await] {
        assert!(matches!(&response, generate_email_verify_token::Response::Unauthorized(e) if e.message == "unauthorised"), "{response:?}");
    }
    assert!(matches!(is_verified(&client, None).await, is_email_verified::Response::Unauthorized(_)));
    assert!(server.capture.verifications().is_empty());

    // Two links; the second expires (its row is aged in the database file) and then verifies nothing.
    for _ in 0..2 {
        let sent = send_link(&client, Some(&access)).await;
        assert!(matches!(sent, generate_email_verify_token::Response::Ok { body: GenerateEmailVerifyTokenResponse::Ok(_), .. }), "{sent:?}");
    }
    let messages = server.capture.verifications();
    assert_eq!(messages.len(), 2);
    assert!(messages.iter().all(|m| m.email == "bob@example.com" && m.user_id == bob));
    assert_eq!(messages[0].lifetime, std::time::Duration::from_secs(24 * 3600));
    let (first, second) = (token_of(&messages[0].link), token_of(&messages[1].link));
    assert_ne!(first, second);
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", server.db_path.display())).await.expect("db");
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT token_hash FROM email_verification_tokens").fetch_all(&db).await.expect("rows");
    assert_eq!(stored.len(), 2);
    assert!(!stored.contains(&first) && !stored.contains(&second), "tokens are stored hashed");
    let hash = authgen_recipes::emailverification::token_hash(&second);
    sqlx::query("UPDATE email_verification_tokens SET expires_at = 1 WHERE token_hash = $1")
        .bind(&hash)
        .execute(&db)
        .await
        .expect("age the token");
    let invalid = |r: &verify_email::Response| {
        matches!(r, verify_email::Response::Ok { body: VerifyEmailResponse::EmailVerificationInvalidTokenError(_), .. })
    };
    let expired = verify(&client, &second).await;
    assert!(invalid(&expired), "expired: {expired:?}");
    let wrong = verify(&client, &format!("{}x", &first[..42])).await;
    assert!(invalid(&wrong), "wrong: {wrong:?}");
    assert!(!verified_flag(is_verified(&client, Some(&access)).await));

    // The first link verifies bob's email, once. Opened where bob is signed in, the answer also brings his
    // session's claim up to date.
    match ev::verify_in_session(&client, &first, Some(&access)).await {
        verify_email::Response::Ok { body: VerifyEmailResponse::Ok(ok), headers } => {
            assert_eq!((ok.user.id.as_str(), ok.user.email.as_str()), (bob.as_str(), "bob@example.com"));
            let renewed = headers.st_access_token.expect("a new access token for the signed-in verifier");
            assert!(claim(&renewed));
            assert_eq!(jwt_payload(&renewed)["sessionHandle"], jwt_payload(&access)["sessionHandle"]);
        }
        other => panic!("verify: {other:?}"),
    }
    let again = verify(&client, &first).await;
    assert!(invalid(&again), "single use: {again:?}");
    assert!(verified_flag(is_verified(&client, Some(&access)).await));
    let sent = send_link(&client, Some(&access)).await;
    assert!(matches!(sent, generate_email_verify_token::Response::Ok { body: GenerateEmailVerifyTokenResponse::EmailAlreadyVerifiedError(_), .. }), "{sent:?}");
    assert_eq!(server.capture.verifications().len(), 2, "no link for a verified email");

    // The claim flips on refresh.
    assert!(!claim(&access));
    let (access, _) = refreshed(&client, &refresh).await;
    assert!(claim(&access), "the refreshed access token carries the verified claim");

    // Malformed bodies get the FDI's 400s.
    for (body, expected) in [
        (json!({"method": "token"}), "Please provide the email verification token"),
        (json!({"method": "token", "token": 7}), "invalid request body: at `token`: invalid type: integer `7`, expected a string"),
    ] {
        let mut request = raw("POST", "/auth/user/email/verify", &[("content-type", "application/json")]);
        request.body = body.to_string().into();
        let response = client.send(request).await.expect("call");
        assert_eq!((response.status, json_body(&response)), (400, json!({"message": expected})));
    }
    drop(db);
    server.stop().await;
}
}

on_both_frameworks! {
async fn sign_ins_that_prove_the_email_start_verified() {
    let provider = OidcProvider::start().await;
    let server = start(configured(&provider, EmailVerificationMode::Optional)).await;
    let client = server.client();

    let (_, access, _) = provider_sign_in(&client, "alice").await;
    assert!(claim(&access), "the provider verified alice's email");
    assert!(verified_flag(is_verified(&client, Some(&access)).await));

    let (_, headers) = support::sign_in(&server, &client, "carol@example.com", Some("header")).await;
    let access = headers.st_access_token.expect("access token");
    assert!(claim(&access), "a passwordless code sent to the email proves it");
    let front = support::decode_front_token(headers.front_token.as_deref().expect("front token"));
    assert_eq!(front["up"]["st-ev"]["v"], json!(true), "the SDK reads the claim from the front token");
    let sent = send_link(&client, Some(&access)).await;
    assert!(matches!(sent, generate_email_verify_token::Response::Ok { body: GenerateEmailVerifyTokenResponse::EmailAlreadyVerifiedError(_), .. }), "{sent:?}");
    assert!(server.capture.verifications().is_empty());

    // A phone number user has no email to verify: verified, as supertokens-node counts them.
    let created = support::create_code(&client, None, Some("+14155550123")).await;
    let code = server.capture.last_code();
    let consumed = client.consume_code(support::consume_with_code(&created, &code, Some("header"))).await.expect("consume");
    let auth_api::ops::consume_code::Response::Ok { headers, .. } = consumed else { panic!("consume: {consumed:?}") };
    let access = headers.st_access_token.expect("access token");
    assert!(claim(&access));
    assert!(verified_flag(is_verified(&client, Some(&access)).await));
    let sent = send_link(&client, Some(&access)).await;
    assert!(matches!(sent, generate_email_verify_token::Response::Ok { body: GenerateEmailVerifyTokenResponse::EmailAlreadyVerifiedError(_), .. }), "{sent:?}");
    assert!(server.capture.verifications().is_empty());
    server.stop().await;
}
}

on_both_frameworks! {
async fn required_refuses_protected_routes_until_the_email_is_verified() {
    let provider = OidcProvider::start().await;
    let server = start(configured(&provider, EmailVerificationMode::Required)).await;
    let client = server.client();

    let (_, access, refresh) = provider_sign_in(&client, "bob").await;
    let bearer = format!("Bearer {access}");
    let refused = session_info(&client, &[("authorization", &bearer)]).await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_eq!(
        json_body(&refused),
        json!({"message": "invalid claim", "claimValidationErrors": [{"id": "st-ev", "reason":
            {"message": "wrong value", "expectedValue": true, "actualValue": false}}]})
    );
    // The email verification routes still take the session.
    assert!(matches!(send_link(&client, Some(&access)).await, generate_email_verify_token::Response::Ok { .. }));
    let token = token_of(&server.capture.verifications()[0].link);
    // Opened in another browser, without a session: verified, and no token is handed out.
    let verified = verify(&client, &token).await;
    assert!(
        matches!(&verified, verify_email::Response::Ok { body: VerifyEmailResponse::Ok(_), headers } if headers.st_access_token.is_none() && headers.front_token.is_none()),
        "{verified:?}"
    );

    // The old token still says unverified. The status route, which the SDK polls, hands over a new access
    // token whose claim says verified (header mode, as the session's), and it opens the route at once.
    assert_eq!(session_info(&client, &[("authorization", &bearer)]).await.status, 403);
    let is_email_verified::Response::Ok { body: _, headers } = is_verified(&client, Some(&access)).await else {
        panic!("status")
    };
    let renewed = headers.st_access_token.expect("a new access token with the claim up to date");
    assert!(claim(&renewed));
    let (old, new) = (jwt_payload(&access), jwt_payload(&renewed));
    assert_eq!((&old["sessionHandle"], &old["exp"]), (&new["sessionHandle"], &new["exp"]), "same session and expiry");
    let front = support::decode_front_token(headers.front_token.as_deref().expect("front token"));
    assert_eq!(front["up"]["st-ev"]["v"], json!(true));
    assert!(headers.set_cookie.is_empty(), "header mode sets no cookie");
    assert_eq!(session_info(&client, &[("authorization", &format!("Bearer {renewed}"))]).await.status, 200);
    // A token whose claim is up to date gets no new one.
    let is_email_verified::Response::Ok { headers, .. } = is_verified(&client, Some(&renewed)).await else {
        panic!("status")
    };
    assert_eq!((headers.st_access_token, headers.front_token), (None, None));

    // Refreshing brings the claim too.
    let (access, _) = refreshed(&client, &refresh).await;
    let allowed = session_info(&client, &[("authorization", &format!("Bearer {access}"))]).await;
    assert_eq!(allowed.status, 200, "{}", allowed.text());
    assert_eq!(json_body(&allowed)["accessTokenPayload"]["st-ev"]["v"], json!(true));

    // A verified sign-in is let through at once.
    let (_, headers) = support::sign_in(&server, &client, "dave@example.com", Some("header")).await;
    let access = headers.st_access_token.expect("access token");
    assert_eq!(session_info(&client, &[("authorization", &format!("Bearer {access}"))]).await.status, 200);
    server.stop().await;
}
}

on_both_frameworks! {
async fn off_serves_no_email_verification() {
    let server = start(|config| config).await;
    let client = server.client();
    let (_, headers) = support::sign_in(&server, &client, "erin@example.com", Some("header")).await;
    let access = headers.st_access_token.expect("access token");
    assert_eq!(jwt_payload(&access).get("st-ev"), None, "no claim without the recipe");
    assert!(matches!(send_link(&client, Some(&access)).await, generate_email_verify_token::Response::NotFound(_)));
    assert!(matches!(verify(&client, "anything").await, verify_email::Response::NotFound(_)));
    assert!(matches!(is_verified(&client, Some(&access)).await, is_email_verified::Response::NotFound(_)));
    server.stop().await;
}
}

on_both_frameworks! {
async fn the_binary_sends_the_link_to_its_log_and_the_link_verifies() {
    let provider = OidcProvider::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let line = provider_line(&provider);
    let server = process::Process::start_with(
        dir.path(),
        &["--email-verification", "REQUIRED", "--third-party-provider", &line],
        &[],
    );
    let client = Client::new(&server.base_url).expect("client");
    let (_, access, refresh) = provider_sign_in(&client, "bob").await;
    assert!(matches!(send_link(&client, Some(&access)).await, generate_email_verify_token::Response::Ok { .. }));
    let logged = server.wait_for_line("email verification link for bob@example.com: link=");
    let link = logged.split("link=").nth(1).and_then(|rest| rest.split_whitespace().next()).expect("link");
    let token = token_of(link);
    assert!(matches!(verify(&client, &token).await, verify_email::Response::Ok { body: VerifyEmailResponse::Ok(_), .. }));
    let (access, _) = refreshed(&client, &refresh).await;
    assert_eq!(session_info(&client, &[("authorization", &format!("Bearer {access}"))]).await.status, 200);

    // The audit trail has both events and never the token.
    server.wait_for_line("email_verified");
    let lines = server.lines();
    assert!(lines.iter().any(|l| l.contains("verification_email_sent")), "{lines:?}");
    let audit: Vec<&String> = lines.iter().filter(|l| l.contains("audit")).collect();
    assert!(audit.iter().all(|l| !l.contains(&token)), "{audit:?}");
}
}

/// An unknown mode stops the server at start with the values it takes (`process.rs` checks `--help` names the
/// flag).
#[test]
fn an_unknown_mode_is_refused() {
    let bad =
        std::process::Command::new(process::BIN).args(["--email-verification", "SOMETIMES"]).output().expect("run");
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("REQUIRED") && stderr.contains("OPTIONAL") && stderr.contains("OFF"), "{stderr}");
}
