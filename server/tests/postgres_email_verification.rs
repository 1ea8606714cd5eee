//! Email verification across two real `auth-server` processes sharing one PostgreSQL schema, with
//! `--email-verification REQUIRED`: a provider-unverified user (bob, from the test OpenID Connect provider)
//! is refused by the protected route on either instance, asks one instance for the link, verifies it through
//! the other with the token from the first one's log, and after a refresh on the second the route lets the
//! session through on both.

#[path = "support/ev.rs"]
mod ev;
#[path = "support/oidc.rs"]
mod oidc;
#[path = "support/pg.rs"]
mod pg;

use auth_api::client::Client;
use auth_api::ops::{generate_email_verify_token, verify_email};
use auth_api::runtime::RawRequest;
use auth_api::types::{GenerateEmailVerifyTokenResponse, VerifyEmailResponse};
use ev::{claim, is_verified, provider_line, provider_sign_in, refreshed, send_link, token_of, verified_flag, verify};
use oidc::OidcProvider;
use pg::{Instance, TestDb, within};

async fn session_info_status(client: &Client, access_token: &str) -> u16 {
    let request = RawRequest {
        method: "GET".into(),
        path: "/sessioninfo".into(),
        headers: vec![("authorization".into(), format!("Bearer {access_token}"))],
        ..RawRequest::default()
    };
    within("sessioninfo", client.send(request)).await.expect("sessioninfo call").status
}

#[tokio::test]
async fn a_link_asked_on_one_instance_verifies_on_the_other() {
    let Some(db) = TestDb::create("a_link_asked_on_one_instance_verifies_on_the_other").await else { return };
    let provider = OidcProvider::start().await;
    let line = provider_line(&provider);
    let flags = ["--email-verification", "REQUIRED", "--third-party-provider", &line];
    let (mut a, b) = (Instance::spawn(&db, &flags).await, Instance::spawn(&db, &flags).await);

    let (bob, access, refresh) = provider_sign_in(&a.client, "bob").await;
    assert!(!claim(&access));
    assert_eq!(session_info_status(&a.client, &access).await, 403);
    assert_eq!(session_info_status(&b.client, &access).await, 403);
    assert!(!verified_flag(is_verified(&b.client, Some(&access)).await));

    let sent = send_link(&a.client, Some(&access)).await;
    assert!(
        matches!(sent, generate_email_verify_token::Response::Ok { body: GenerateEmailVerifyTokenResponse::Ok(_), .. }),
        "{sent:?}"
    );
    let logged =
        a.wait_for_line("email verification link for bob@example.com: link=", std::time::Duration::from_secs(30));
    let link = logged.split("link=").nth(1).and_then(|rest| rest.split_whitespace().next()).expect("link");
    let token = token_of(link);
    match verify(&b.client, &token).await {
        verify_email::Response::Ok { body: VerifyEmailResponse::Ok(ok), .. } => assert_eq!(ok.user.id, bob),
        other => panic!("verify on the other instance: {other:?}"),
    }
    let again = verify(&a.client, &token).await;
    assert!(
        matches!(
            again,
            verify_email::Response::Ok { body: VerifyEmailResponse::EmailVerificationInvalidTokenError(_), .. }
        ),
        "single use across instances: {again:?}"
    );
    assert!(verified_flag(is_verified(&a.client, Some(&access)).await));

    let (access, _) = refreshed(&b.client, &refresh).await;
    assert!(claim(&access));
    assert_eq!(session_info_status(&a.client, &access).await, 200);
    assert_eq!(session_info_status(&b.client, &access).await, 200);
}
