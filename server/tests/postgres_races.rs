//! Races across two `auth-server` processes sharing one PostgreSQL schema: the requests of each race are
//! spread over both instances, so only the database can decide the winner.

#[path = "support/pg.rs"]
mod pg;

use std::collections::BTreeSet;

use auth_api::ops::{consume_code, refresh_session};
use auth_api::types::ConsumeCodeResponse;
use pg::{Instance, TestDb, consume_request, create_code, refresh_request, sign_in, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_consumes_of_one_code_over_both_instances_succeed_once() {
    let Some(db) = TestDb::create("two_hundred_concurrent_consumes_of_one_code_over_both_instances_succeed_once").await
    else {
        return;
    };
    let (a, b) = (Instance::spawn(&db, &[]).await, Instance::spawn(&db, &[]).await);
    let created = create_code(&a.client, "race@example.com").await;
    let code = a.code(&created.pre_auth_session_id).await;

    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let client = if i % 2 == 0 { a.client.clone() } else { b.client.clone() };
            let request = consume_request(&created, &code);
            tokio::spawn(async move { within("consume", client.consume_code(request)).await })
        })
        .collect();
    let (mut ok, mut restart) = (0, 0);
    for task in tasks {
        match task.await.expect("task").expect("consume call") {
            consume_code::Response::Ok { body: ConsumeCodeResponse::Ok(_), .. } => ok += 1,
            consume_code::Response::Ok { body: ConsumeCodeResponse::RestartFlowError(_), .. } => restart += 1,
            other => panic!("unexpected answer: {other:?}"),
        }
    }
    assert_eq!((ok, restart), (1, 199));
    assert_eq!(db.count("SELECT COUNT(*) FROM users WHERE email = $1", "race@example.com").await, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM sessions WHERE tenant_id = $1", "public").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sign_ups_of_one_new_email_over_both_instances_create_one_user() {
    let Some(db) = TestDb::create("concurrent_sign_ups_of_one_new_email_over_both_instances_create_one_user").await
    else {
        return;
    };
    let (a, b) = (Instance::spawn(&db, &[]).await, Instance::spawn(&db, &[]).await);
    // Twenty devices of one new email, half created on each instance, consumed at once on the other one.
    let mut requests = Vec::new();
    for i in 0..20 {
        let (create_on, consume_on) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let created = create_code(&create_on.client, "crowd@example.com").await;
        let code = create_on.code(&created.pre_auth_session_id).await;
        requests.push((consume_on.client.clone(), consume_request(&created, &code)));
    }
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(client, request)| tokio::spawn(async move { within("consume", client.consume_code(request)).await }))
        .collect();
    let (mut users, mut created_new, mut ok) = (BTreeSet::new(), 0, 0);
    for task in tasks {
        match task.await.expect("task").expect("consume call") {
            consume_code::Response::Ok { body: ConsumeCodeResponse::Ok(body), .. } => {
                ok += 1;
                users.insert(body.user.id.clone());
                created_new += usize::from(body.created_new_recipe_user);
            }
            // A consume that lost finds its device deleted with the contact's other devices.
            consume_code::Response::Ok { body: ConsumeCodeResponse::RestartFlowError(_), .. } => {}
            other => panic!("unexpected answer: {other:?}"),
        }
    }
    assert!(ok >= 1);
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(created_new, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM users WHERE email = $1", "crowd@example.com").await, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM passwordless_devices WHERE email = $1", "crowd@example.com").await, 0);
}

/// Twenty tabs refreshing with one token at once, over two instances (one on each framework): as SuperTokens'
/// core does it, none of them is theft; all get the same new refresh token. Once it is used (a request with
/// one of the new access tokens), the old token presented again is theft, on either instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refreshes_of_one_token_over_both_instances_share_one_child() {
    let Some(db) = TestDb::create("concurrent_refreshes_of_one_token_over_both_instances_share_one_child").await else {
        return;
    };
    let a = Instance::spawn(&db, &["--framework", "axum"]).await;
    let b = Instance::spawn(&db, &["--framework", "actix-web"]).await;
    let signed_in = sign_in(&a, &b, "twice@example.com").await;

    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let client = if i % 2 == 0 { a.client.clone() } else { b.client.clone() };
            let request = refresh_request(&signed_in.refresh);
            tokio::spawn(async move { within("refresh", client.refresh_session(request)).await })
        })
        .collect();
    let (mut children, mut accesses) = (BTreeSet::new(), Vec::new());
    for task in tasks {
        match task.await.expect("task").expect("refresh call") {
            refresh_session::Response::Ok { headers, .. } => {
                children.insert(headers.st_refresh_token.expect("refresh"));
                accesses.push(headers.st_access_token.expect("access"));
            }
            other => panic!("a concurrent refresh was refused: {other:?}"),
        }
    }
    assert_eq!(children.len(), 1, "every refresh got the same new refresh token");
    let child = children.pop_first().expect("one child");
    assert_eq!(db.count("SELECT COUNT(*) FROM sessions WHERE user_id = $1", &signed_in.ok.user.id).await, 1);
    assert_eq!(rotated(&db, &signed_in.ok.user.id).await, 0, "nothing rotated yet");

    // Every new access token is valid on both instances (the first request uses the child).
    for (i, access) in accesses.iter().enumerate() {
        let on = if i % 2 == 0 { &b } else { &a };
        let info = within("sessioninfo", on.client.send(bearer(access))).await.expect("sessioninfo");
        assert_eq!(info.status, 200, "{}", info.text());
    }
    assert_eq!(rotated(&db, &signed_in.ok.user.id).await, 1, "the parent");

    // The old token after its child was used: theft, on either instance; the session is gone for both.
    let theft = within("reuse on B", b.client.refresh_session(refresh_request(&signed_in.refresh)))
        .await
        .expect("refresh call");
    let refresh_session::Response::Unauthorized { body, .. } = theft else { panic!("{theft:?}") };
    assert_eq!(body.message, "token theft detected");
    assert_eq!(db.count("SELECT COUNT(*) FROM sessions WHERE user_id = $1", &signed_in.ok.user.id).await, 0);
    let dead = within("child on A", a.client.refresh_session(refresh_request(&child))).await.expect("refresh call");
    let refresh_session::Response::Unauthorized { body, .. } = dead else { panic!("{dead:?}") };
    assert_eq!(body.message, "unauthorised");
}

/// A `GET /sessioninfo` with `token` as the bearer access token.
fn bearer(token: &str) -> auth_api::runtime::RawRequest {
    auth_api::runtime::RawRequest {
        method: "GET".into(),
        path: "/sessioninfo".into(),
        headers: vec![("authorization".into(), format!("Bearer {token}"))],
        ..auth_api::runtime::RawRequest::default()
    }
}

/// The rotated refresh tokens the sessions of `user_id` remember.
async fn rotated(db: &TestDb, user_id: &str) -> i64 {
    db.count(
        "SELECT COUNT(*) FROM rotated_refresh_tokens WHERE session_handle IN \
         (SELECT session_handle FROM sessions WHERE user_id = $1)",
        user_id,
    )
    .await
}
