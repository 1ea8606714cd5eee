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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refreshes_of_one_token_over_both_instances_issue_one_new_pair() {
    let Some(db) = TestDb::create("concurrent_refreshes_of_one_token_over_both_instances_issue_one_new_pair").await
    else {
        return;
    };
    let (a, b) = (Instance::spawn(&db, &[]).await, Instance::spawn(&db, &[]).await);
    let signed_in = sign_in(&a, &b, "twice@example.com").await;

    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let client = if i % 2 == 0 { a.client.clone() } else { b.client.clone() };
            let request = refresh_request(&signed_in.refresh);
            tokio::spawn(async move { within("refresh", client.refresh_session(request)).await })
        })
        .collect();
    let (mut pairs, mut theft, mut unauthorised) = (Vec::new(), 0, 0);
    for task in tasks {
        match task.await.expect("task").expect("refresh call") {
            refresh_session::Response::Ok { headers, .. } => {
                pairs.push((headers.st_access_token.expect("access"), headers.st_refresh_token.expect("refresh")));
            }
            // The losers presented a token that was rotated away: theft, or (once the session is revoked)
            // simply unknown.
            refresh_session::Response::Unauthorized { body, .. } if body.message == "token theft detected" => {
                theft += 1
            }
            refresh_session::Response::Unauthorized { body, .. } if body.message == "unauthorised" => unauthorised += 1,
            other => panic!("unexpected answer: {other:?}"),
        }
    }
    assert_eq!(pairs.len(), 1, "exactly one new pair");
    assert_eq!(theft + unauthorised, 39);
    assert!(theft >= 1, "reusing a rotated refresh token is reported as theft");
    // Reuse of the rotated token revoked the session, so the one new pair is dead as well.
    assert_eq!(db.count("SELECT COUNT(*) FROM sessions WHERE user_id = $1", &signed_in.ok.user.id).await, 0);
}
