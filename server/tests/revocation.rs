//! Sign-out and token theft end the session for protected routes too, not only for refresh: the access token
//! of an ended session is refused by `/sessioninfo` and by a second sign-out, on the instance that ended it at
//! once and on another instance sharing the database within `--session-check-ttl-ms`. On both frameworks,
//! with SQLite (servers in process sharing one file) and PostgreSQL (server processes sharing one schema).

#[macro_use]
mod support;
#[path = "support/pg.rs"]
mod pg;

use std::time::{Duration, Instant};

use auth_api::client::Client;
use auth_api::ops::{refresh_session, sign_out};
use auth_api::runtime::RawResponse;
use authgen_recipes::Config;
use serde_json::json;
use support::{json_body, refresh_with_bearer, session_info, sign_in, sign_out_with_bearer, start, start_at};

async fn session_info_with(client: &Client, access: &str) -> RawResponse {
    session_info(client, &[("authorization", &format!("Bearer {access}"))]).await
}

/// Asserts that `/sessioninfo` answers 200 for `access`.
async fn accepted(client: &Client, access: &str) {
    let response = session_info_with(client, access).await;
    assert_eq!(response.status, 200, "{}", response.text());
}

/// Asserts that `/sessioninfo` refuses `access` as the token of an ended session.
async fn refused(client: &Client, access: &str) {
    let response = session_info_with(client, access).await;
    assert_eq!((response.status, json_body(&response)), (401, json!({ "message": "unauthorised" })));
}

/// Asserts that sign-out with the token of an ended session answers 401 `unauthorised` and clears every token,
/// in both transfer modes, as supertokens-node does when core reports the session gone.
async fn second_sign_out_is_unauthorised(client: &Client, access: &str) {
    let response = client.sign_out(sign_out_with_bearer(access)).await.expect("sign-out call");
    let sign_out::Response::Unauthorized { body, headers } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "unauthorised");
    support::assert_tokens_cleared_everywhere(
        headers.st_access_token.as_deref(),
        headers.st_refresh_token.as_deref(),
        headers.front_token.as_deref(),
        &headers.set_cookie,
    );
}

on_both_frameworks! {
async fn after_sign_out_the_access_token_is_refused_at_once_and_a_second_sign_out_is_unauthorised() {
    // The default session check TTL: the instance that ends a session refuses its tokens at once anyway.
    let server = start(|c| c).await;
    let client = server.client();
    let (_, headers) = sign_in(&server, &client, "bye@example.com", Some("header")).await;
    let access = headers.st_access_token.expect("access token");
    accepted(&client, &access).await;
    accepted(&client, &access).await;

    let response = client.sign_out(sign_out_with_bearer(&access)).await.expect("sign-out call");
    assert!(matches!(response, sign_out::Response::Ok { .. }), "{response:?}");
    refused(&client, &access).await;
    second_sign_out_is_unauthorised(&client, &access).await;
    // The same token as the sAccessToken cookie is refused the same way.
    let cookie = format!("sAccessToken={access}");
    let response = session_info(&client, &[("cookie", &cookie)]).await;
    assert_eq!((response.status, json_body(&response)), (401, json!({ "message": "unauthorised" })));
    // Without any token, sign-out stays 401 and clears nothing.
    let response = client.sign_out(sign_out::Request::new()).await.expect("sign-out call");
    let sign_out::Response::Unauthorized { body, headers } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "unauthorised");
    assert_eq!((headers.front_token, headers.st_access_token), (None, None));
    server.stop().await;
}
}

on_both_frameworks! {
async fn of_concurrent_sign_outs_with_one_token_exactly_one_succeeds() {
    let server = start(|c| c).await;
    let client = server.client();
    let (_, headers) = sign_in(&server, &client, "race@example.com", Some("header")).await;
    let access = headers.st_access_token.expect("access token");
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let (client, access) = (client.clone(), access.clone());
            tokio::spawn(async move { client.sign_out(sign_out_with_bearer(&access)).await.expect("sign-out call") })
        })
        .collect();
    let mut succeeded = 0;
    for attempt in attempts {
        match attempt.await.expect("task") {
            sign_out::Response::Ok { .. } => succeeded += 1,
            sign_out::Response::Unauthorized { body, .. } => assert_eq!(body.message, "unauthorised"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(succeeded, 1);
    server.stop().await;
}
}

on_both_frameworks! {
async fn after_token_theft_every_access_token_of_the_session_is_refused() {
    let server = start(|c| c).await;
    let client = server.client();
    let (_, headers) = sign_in(&server, &client, "stolen@example.com", Some("header")).await;
    let (first_access, first_refresh) =
        (headers.st_access_token.expect("access token"), headers.st_refresh_token.expect("refresh token"));
    let response = client.refresh_session(refresh_with_bearer(&first_refresh)).await.expect("refresh call");
    let refresh_session::Response::Ok { headers, .. } = response else { panic!("{response:?}") };
    let second_access = headers.st_access_token.expect("new access token");
    accepted(&client, &first_access).await;
    accepted(&client, &second_access).await;

    // The rotated refresh token presented again: theft, the session is revoked.
    let response = client.refresh_session(refresh_with_bearer(&first_refresh)).await.expect("refresh call");
    let refresh_session::Response::Unauthorized { body, .. } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "token theft detected");
    refused(&client, &first_access).await;
    refused(&client, &second_access).await;
    second_sign_out_is_unauthorised(&client, &second_access).await;
    server.stop().await;
}
}

on_both_frameworks! {
async fn another_instance_on_the_same_sqlite_file_refuses_within_its_ttl() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("auth.db");
    let a = start_at(&db, |c| c).await;
    let ttl = Duration::from_millis(1500);
    let b = start_at(&db, move |c: Config| c.with_session_check_ttl(ttl)).await;
    let c = start_at(&db, |c: Config| c.with_session_check_ttl(Duration::ZERO)).await;
    let (a_client, b_client, c_client) = (a.client(), b.client(), c.client());
    let (_, headers) = sign_in(&a, &a_client, "hop@example.com", Some("header")).await;
    let access = headers.st_access_token.expect("access token");
    for client in [&a_client, &b_client, &c_client] {
        accepted(client, &access).await;
    }

    let response = a_client.sign_out(sign_out_with_bearer(&access)).await.expect("sign-out call");
    let signed_out = Instant::now();
    assert!(matches!(response, sign_out::Response::Ok { .. }), "{response:?}");
    // A ended it; C asks the database on every request.
    refused(&a_client, &access).await;
    refused(&c_client, &access).await;
    second_sign_out_is_unauthorised(&c_client, &access).await;
    // B reuses the database's answer for its TTL: the honest bound is that, from one TTL after the sign-out
    // on, B refuses the token too.
    if let Some(rest) = ttl.checked_sub(signed_out.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    refused(&b_client, &access).await;
    second_sign_out_is_unauthorised(&b_client, &access).await;
    for server in [a, b, c] {
        server.stop().await;
    }
}
}

// PostgreSQL: server processes sharing one schema, on each framework.

async fn postgres_instances_refuse_ended_sessions(name: &str, framework: &str) {
    let Some(db) = pg::TestDb::create(name).await else { return };
    let flags = |ttl: &'static str| ["--framework", framework, "--session-check-ttl-ms", ttl];
    let a = pg::Instance::spawn(&db, &flags("5000")).await;
    let b = pg::Instance::spawn(&db, &flags("0")).await;
    let c = pg::Instance::spawn(&db, &flags("1500")).await;

    // Sign-out on A: refused on A and B at once, on C from one TTL later on.
    let signed_in = pg::sign_in(&a, &a, "leave@example.com").await;
    for instance in [&a, &b, &c] {
        accepted(&instance.client, &signed_in.access).await;
    }
    let response = pg::within("sign out on A", a.client.sign_out(sign_out_with_bearer(&signed_in.access)))
        .await
        .expect("sign-out call");
    let signed_out = Instant::now();
    assert!(matches!(response, sign_out::Response::Ok { .. }), "{response:?}");
    refused(&a.client, &signed_in.access).await;
    refused(&b.client, &signed_in.access).await;
    second_sign_out_is_unauthorised(&b.client, &signed_in.access).await;
    if let Some(rest) = Duration::from_millis(1500).checked_sub(signed_out.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    refused(&c.client, &signed_in.access).await;
    assert_eq!(db.count("SELECT COUNT(*) FROM sessions WHERE user_id = $1", &signed_in.ok.user.id).await, 0);

    // Theft detected on B: the session's access tokens are refused on B, which detected it, at once, and on A,
    // which has not checked this session before, at once too.
    let signed_in = pg::sign_in(&a, &b, "stolen@example.com").await;
    let response = pg::within("refresh on A", a.client.refresh_session(pg::refresh_request(&signed_in.refresh)))
        .await
        .expect("refresh");
    let refresh_session::Response::Ok { headers, .. } = response else { panic!("{response:?}") };
    let newest = headers.st_access_token.expect("new access token");
    accepted(&b.client, &newest).await;
    let response = pg::within("reuse on B", b.client.refresh_session(pg::refresh_request(&signed_in.refresh)))
        .await
        .expect("refresh");
    let refresh_session::Response::Unauthorized { body, .. } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "token theft detected");
    refused(&b.client, &newest).await;
    refused(&b.client, &signed_in.access).await;
    refused(&a.client, &newest).await;
    second_sign_out_is_unauthorised(&a.client, &newest).await;
}

#[tokio::test]
async fn postgres_instances_refuse_ended_sessions_on_axum() {
    postgres_instances_refuse_ended_sessions("postgres_instances_refuse_ended_sessions_on_axum", "axum").await;
}

#[tokio::test]
async fn postgres_instances_refuse_ended_sessions_on_actix_web() {
    postgres_instances_refuse_ended_sessions("postgres_instances_refuse_ended_sessions_on_actix_web", "actix-web")
        .await;
}
