//! Rate limits shared by instances, with real `auth-server` processes: two instances on one PostgreSQL
//! schema count in its `rate_limits` table, and two instances with separate SQLite files but one Redis
//! (`--redis`) count there; either way the limit is one limit, whichever instance a request reaches.

#[path = "support/pg.rs"]
mod pg;

use auth_api::client::Client;
use auth_api::ops::create_code;
use auth_api::types::CreateCodeRequest;
use pg::{Instance, TestDb, within};

/// createCode for `email`; the HTTP status of the answer.
async fn create_status(client: &Client, email: &str) -> u16 {
    let request = create_code::Request::new(CreateCodeRequest {
        email: Some(email.to_owned()),
        phone_number: None,
        should_try_linking_with_session_user: None,
    });
    within("createCode", client.create_code(request)).await.expect("createCode call").status()
}

/// Requests alternate between `a` and `b`; the statuses in order.
async fn alternate(a: &Instance, b: &Instance, email: &str, times: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..times {
        let instance = if i % 2 == 0 { a } else { b };
        statuses.push(create_status(&instance.client, email).await);
    }
    statuses
}

#[tokio::test]
async fn two_postgres_instances_share_a_limit() {
    let Some(db) = TestDb::create("two_postgres_instances_share_a_limit").await else { return };
    let flags = ["--rate-limit-codes-per-contact", "3/600"];
    let (a, b) = (Instance::spawn(&db, &flags).await, Instance::spawn(&db, &flags).await);
    assert_eq!(alternate(&a, &b, "shared@example.com", 5).await, [200, 200, 200, 429, 429]);
    // The counter is one row in the shared database, keyed by a hash: no email in it.
    assert_eq!(db.count("SELECT COUNT(*) FROM rate_limits WHERE key LIKE $1", "%example%").await, 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM rate_limits WHERE key LIKE $1", "codes-per-contact:%").await, 1);
}

#[tokio::test]
async fn two_instances_with_redis_share_a_limit() {
    if !redis_is_up() {
        assert!(std::env::var_os("CI").is_none(), "Redis is not reachable on 127.0.0.1:6379");
        eprintln!("SKIPPED: Redis is not reachable on 127.0.0.1:6379");
        return;
    }
    // Separate SQLite files, so that only Redis can carry the count from one instance to the other; a prefix
    // of this run's own keeps parallel runs apart.
    let dir = tempfile::tempdir().expect("temp dir");
    let prefix = format!("authgen-test:{}:{}:", std::process::id(), nanos());
    let start = |name: &str| {
        let url = format!("sqlite://{}", dir.path().join(name).display());
        let prefix = prefix.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                Instance::start_url(
                    &url,
                    &[
                        "--rate-limit-codes-per-contact",
                        "3/600",
                        "--redis",
                        "redis://127.0.0.1:6379",
                        "--redis-prefix",
                        &prefix,
                    ],
                )
            })
            .await
            .expect("start task")
        }
    };
    let (a, b) = (start("a.db").await, start("b.db").await);
    assert_eq!(alternate(&a, &b, "redis@example.com", 5).await, [200, 200, 200, 429, 429]);
    // Another inbox has its own count.
    assert_eq!(create_status(&b.client, "other@example.com").await, 200);
}

fn redis_is_up() -> bool {
    std::net::TcpStream::connect_timeout(&"127.0.0.1:6379".parse().expect("address"), std::time::Duration::from_secs(1))
        .is_ok()
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos()
}
