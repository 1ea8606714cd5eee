//! CORS from the generated policy, and correctness under races: 100 concurrent consumes of one code and
//! 20 concurrent sign-ups of one new email, against the real server on loopback.

#[macro_use]
mod support;

use std::collections::BTreeSet;

use auth_api::ops::consume_code;
use auth_api::types::ConsumeCodeResponse;
use support::{WEBSITE, consume_with_code, create_code_for_email, raw, start};

fn header<'a>(response: &'a auth_api::runtime::RawResponse, name: &str) -> Option<&'a str> {
    response.header(name)
}

on_both_frameworks! {
async fn preflight_allows_the_website_with_credentials_and_refuses_other_origins() {
    let server = start(|c| c).await;
    let client = server.client();
    let preflight = |origin: &str| {
        raw(
            "OPTIONS",
            "/auth/signinup/code/consume",
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type,rid,fdi-version,st-auth-mode,authorization,anti-csrf"),
            ],
        )
    };

    let allowed = client.send(preflight(WEBSITE)).await.expect("preflight");
    assert!((200..300).contains(&allowed.status), "{allowed:?}");
    assert_eq!(header(&allowed, "access-control-allow-origin"), Some(WEBSITE));
    assert_eq!(header(&allowed, "access-control-allow-credentials"), Some("true"));
    let allowed_headers: BTreeSet<String> = header(&allowed, "access-control-allow-headers")
        .expect("allow-headers")
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    for name in ["content-type", "rid", "fdi-version", "st-auth-mode", "authorization", "anti-csrf"] {
        assert!(allowed_headers.contains(name), "{name} allowed: {allowed_headers:?}");
    }
    assert!(header(&allowed, "access-control-allow-methods").expect("allow-methods").contains("POST"));

    let refused = client.send(preflight("http://evil.example")).await.expect("preflight");
    assert_eq!(header(&refused, "access-control-allow-origin"), None, "{refused:?}");

    // An actual cross-origin request from the website can read the session headers.
    let mut request = raw("POST", "/auth/signinup/code", &[("origin", WEBSITE), ("content-type", "application/json")]);
    request.body = r#"{"email":"cors@example.com"}"#.into();
    let response = client.send(request).await.expect("createCode");
    assert_eq!(response.status, 200);
    assert_eq!(header(&response, "access-control-allow-origin"), Some(WEBSITE));
    assert_eq!(header(&response, "access-control-allow-credentials"), Some("true"));
    let exposed = header(&response, "access-control-expose-headers").expect("expose-headers");
    for name in ["front-token", "st-access-token", "st-refresh-token"] {
        assert!(exposed.contains(name), "{name} exposed: {exposed}");
    }
    server.stop().await;
}
}

on_both_frameworks! {
async fn one_code_consumed_concurrently_succeeds_exactly_once() {
    let server = start(|c| c).await;
    let client = server.client();
    let created = create_code_for_email(&client, "race@example.com").await;
    let code = server.capture.last_code();

    let mut tasks = Vec::new();
    for _ in 0..100 {
        let client = client.clone();
        let request = consume_with_code(&created, &code, None);
        tasks.push(tokio::spawn(async move { client.consume_code(request).await.expect("consume call") }));
    }
    let mut ok = 0;
    let mut restart = 0;
    for task in tasks {
        match task.await.expect("task") {
            consume_code::Response::Ok { body: ConsumeCodeResponse::Ok(_), .. } => ok += 1,
            consume_code::Response::Ok { body: ConsumeCodeResponse::RestartFlowError(_), .. } => restart += 1,
            other => panic!("unexpected answer: {other:?}"),
        }
    }
    assert_eq!((ok, restart), (1, 99));
    server.stop().await;
}
}

on_both_frameworks! {
async fn concurrent_sign_ups_of_one_email_create_one_user() {
    let server = start(|c| c).await;
    let client = server.client();
    let mut requests = Vec::new();
    for _ in 0..20 {
        let created = create_code_for_email(&client, "crowd@example.com").await;
        let code = server.capture.last_code();
        requests.push(consume_with_code(&created, &code, None));
    }
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let client = client.clone();
            tokio::spawn(async move { client.consume_code(request).await.expect("consume call") })
        })
        .collect();
    let mut users = BTreeSet::new();
    let mut created_new = 0;
    let mut ok = 0;
    for task in tasks {
        match task.await.expect("task") {
            consume_code::Response::Ok { body: ConsumeCodeResponse::Ok(body), .. } => {
                ok += 1;
                users.insert(body.user.id.clone());
                created_new += usize::from(body.created_new_recipe_user);
            }
            // A consume that lost the race finds its device deleted with the contact's other devices.
            consume_code::Response::Ok { body: ConsumeCodeResponse::RestartFlowError(_), .. } => {}
            other => panic!("unexpected answer: {other:?}"),
        }
    }
    assert!(ok >= 1, "at least one sign-up succeeds");
    assert_eq!(users.len(), 1, "every successful sign-in got the same user");
    assert_eq!(created_new, 1, "exactly one request created the user");

    let db = sqlx::sqlite::SqlitePoolOptions::new()
        .connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&server.db_path))
        .await
        .expect("open database");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = ?")
        .bind("crowd@example.com")
        .fetch_one(&db)
        .await
        .expect("count users");
    assert_eq!(count, 1);
    let devices: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passwordless_devices WHERE email = ?")
        .bind("crowd@example.com")
        .fetch_one(&db)
        .await
        .expect("count devices");
    assert_eq!(devices, 0, "a successful consume deletes every device of the contact");
    db.close().await;
    server.stop().await;
}
}
