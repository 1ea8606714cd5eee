//! Faults under load, with two `auth-server` processes on one PostgreSQL schema: one instance killed with
//! `kill -9` (the other keeps serving, nothing committed is lost, nothing is granted twice), and PostgreSQL
//! itself restarted (clients get 500 JSON or connection errors, the servers stay up and recover by themselves).

#[path = "support/pg.rs"]
mod pg;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_api::client::Client;
use auth_api::ops::{consume_code, create_code};
use auth_api::runtime::ClientError;
use auth_api::types::{ConsumeCodeResponse, CreateCodeOk, CreateCodeRequest, CreateCodeResponse};
use pg::{CodeLog, Instance, PgLock, TestDb, consume_request, skipped, within};

/// One instance as the load generator sees it.
#[derive(Clone)]
struct Node {
    client: Client,
    codes: CodeLog,
}

impl Node {
    fn of(instance: &Instance) -> Self {
        Self { client: instance.client.clone(), codes: instance.code_log() }
    }
}

/// Why a step failed, as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    /// 500 with a JSON `{"message"}` body.
    Internal(String),
    /// No HTTP answer: connection refused or reset.
    Transport(String),
}

fn failure(error: ClientError) -> Failure {
    match error {
        ClientError::Transport(message) => Failure::Transport(message),
        // Anything else (an undocumented status, a body that is not the spec's) is a bug, never a fault.
        other => panic!("answer outside the spec: {other}"),
    }
}

async fn create(node: &Node, email: &str) -> Result<(CreateCodeOk, String), Failure> {
    let request = create_code::Request::new(CreateCodeRequest {
        email: Some(email.to_owned()),
        phone_number: None,
        should_try_linking_with_session_user: None,
    });
    match within("createCode", node.client.create_code(request)).await.map_err(failure)? {
        create_code::Response::Ok(CreateCodeResponse::Ok(ok)) => {
            let code = node.codes.code(&ok.pre_auth_session_id).await;
            Ok((ok, code))
        }
        create_code::Response::InternalServerError(body) => Err(Failure::Internal(body.message)),
        other => panic!("createCode: {other:?}"),
    }
}

/// What a consume answered.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Consumed {
    /// Signed in as this user.
    User(String),
    /// RESTART_FLOW_ERROR: the device is gone (consumed before).
    Restart,
}

async fn consume(node: &Node, created: &CreateCodeOk, code: &str) -> Result<Consumed, Failure> {
    let response = within("consume", node.client.consume_code(consume_request(created, code))).await;
    match response.map_err(failure)? {
        consume_code::Response::Ok { body: ConsumeCodeResponse::Ok(ok), .. } => Ok(Consumed::User(ok.user.id)),
        consume_code::Response::Ok { body: ConsumeCodeResponse::RestartFlowError(_), .. } => Ok(Consumed::Restart),
        consume_code::Response::InternalServerError(body) => Err(Failure::Internal(body.message)),
        other => panic!("consume: {other:?}"),
    }
}

/// One sign-in of the load.
#[derive(Debug, Clone)]
struct Flow {
    email: String,
    /// The device, its code and who created it, once createCode succeeded.
    created: Option<(CreateCodeOk, String)>,
    /// Every consume answer, in order.
    consumes: Vec<Result<Consumed, Failure>>,
    finished: Instant,
}

impl Flow {
    fn user(&self) -> Option<&str> {
        self.consumes.iter().find_map(|c| match c {
            Ok(Consumed::User(id)) => Some(id.as_str()),
            _ => None,
        })
    }
}

/// A sign-in through `first`, moving to `second` when `first` does not answer at all (as a load balancer
/// would): createCode, then consume on the other instance of the pair.
async fn sign_in_with_failover(first: &Node, second: &Node, email: String) -> Flow {
    let mut flow = Flow { email, created: None, consumes: Vec::new(), finished: Instant::now() };
    let created = match create(first, &flow.email).await {
        Err(Failure::Transport(_)) => create(second, &flow.email).await,
        other => other,
    };
    let Ok((created, code)) = created else {
        flow.finished = Instant::now();
        return flow;
    };
    flow.created = Some((created.clone(), code.clone()));
    let result = consume(second, &created, &code).await;
    let retry = matches!(result, Err(Failure::Transport(_)));
    flow.consumes.push(result);
    if retry {
        flow.consumes.push(consume(first, &created, &code).await);
    }
    flow.finished = Instant::now();
    flow
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_of_one_instance_under_load_loses_nothing_and_grants_nothing_twice() {
    const FLOWS: usize = 300;
    const WORKERS: usize = 12;
    let Some(db) = TestDb::create("kill_9_of_one_instance_under_load_loses_nothing_and_grants_nothing_twice").await
    else {
        return;
    };
    let mut a = Instance::spawn(&db, &[]).await;
    let mut b = Instance::spawn(&db, &[]).await;
    let nodes = [Node::of(&a), Node::of(&b)];

    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let flows = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (nodes, next, done, flows) = (nodes.clone(), next.clone(), done.clone(), flows.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= FLOWS {
                        return;
                    }
                    let (first, second) = if i % 2 == 0 { (&nodes[0], &nodes[1]) } else { (&nodes[1], &nodes[0]) };
                    let flow = sign_in_with_failover(first, second, format!("load-{i}@example.com")).await;
                    flows.lock().expect("flows").push(flow);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    // A third of the way through, kill A without warning.
    let deadline = Instant::now() + Duration::from_secs(120);
    while done.load(Ordering::Relaxed) < FLOWS / 3 {
        assert!(Instant::now() < deadline, "the load made no progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    a.kill_9();
    let killed_at = Instant::now();
    for worker in workers {
        within("load worker", worker).await.expect("worker");
    }
    assert!(b.is_running(), "B keeps running");
    let flows = std::mem::take(&mut *flows.lock().expect("flows"));
    assert_eq!(flows.len(), FLOWS);

    // B kept serving: flows that finished after the kill signed in through B alone.
    let served_after_kill = flows.iter().filter(|f| f.finished > killed_at && f.user().is_some()).count();
    assert!(served_after_kill >= FLOWS / 3, "only {served_after_kill} sign-ins succeeded after the kill");

    // A comes back on the same database.
    let a2 = Instance::spawn(&db, &[]).await;
    drop(a);

    // Every user a client saw created exists exactly once, with the id the client got.
    let mut users_by_email = BTreeMap::new();
    for flow in &flows {
        if let Some(user) = flow.user() {
            users_by_email.insert(flow.email.clone(), user.to_owned());
        }
    }
    let mut connection = db.connect().await;
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT user_id, email FROM users").fetch_all(&mut connection).await.expect("users");
    let mut stored: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (user_id, email) in rows {
        stored.entry(email.expect("passwordless email users")).or_default().push(user_id);
    }
    for (email, user_id) in &users_by_email {
        assert_eq!(stored.get(email), Some(&vec![user_id.clone()]), "{email}");
    }
    let attempted: BTreeSet<&str> = flows.iter().map(|f| f.email.as_str()).collect();
    for (email, ids) in &stored {
        assert_eq!(ids.len(), 1, "{email} exists once");
        assert!(attempted.contains(email.as_str()), "{email} was signed up by the load");
    }

    // No code can be consumed twice: every code of the load, presented again to both live instances at once,
    // signs in at most once more, and only if no consume of it had succeeded before.
    let live = [Node::of(&a2), Node::of(&b)];
    let mut granted = 0;
    for flow in &flows {
        let Some((created, code)) = &flow.created else { continue };
        let (x, y) = tokio::join!(consume(&live[0], created, code), consume(&live[1], created, code));
        let again = [x, y].into_iter().filter(|r| matches!(r, Ok(Consumed::User(_)))).count();
        let before = flow.consumes.iter().filter(|r| matches!(r, Ok(Consumed::User(_)))).count();
        assert!(before + again <= 1, "{} consumed {} times ({:?})", flow.email, before + again, flow.consumes);
        granted += again;
    }
    // Only flows cut off by the kill can have left a device behind.
    let cut_off = flows.iter().filter(|f| f.created.is_some() && f.user().is_none()).count();
    assert!(granted <= cut_off, "{granted} late sign-ins but only {cut_off} interrupted flows");
    eprintln!(
        "kill -9 under load: {} flows, {} signed in, {} after the kill through B, {cut_off} cut off",
        flows.len(),
        users_by_email.len(),
        served_after_kill
    );
}

/// Runs `pg_ctlcluster` for the local cluster, e.g. `restart`; `None` when there is no local cluster.
fn pg_ctlcluster(action: &str) -> Option<std::process::ExitStatus> {
    let version = std::fs::read_dir("/etc/postgresql").ok()?.filter_map(Result::ok).next()?.file_name();
    let version = version.to_string_lossy().into_owned();
    std::process::Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", action])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()
        .ok()
}

/// Starts the cluster when it is down, whatever happened in the test.
struct KeepPostgresRunning;

impl Drop for KeepPostgresRunning {
    fn drop(&mut self) {
        if pg_ctlcluster("status").is_some_and(|status| !status.success()) {
            let _ = pg_ctlcluster("start");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgres_restart_under_load_gives_errors_not_crashes_and_service_resumes() {
    const TEST: &str = "a_postgres_restart_under_load_gives_errors_not_crashes_and_service_resumes";
    // Every other PostgreSQL test (of any process on this machine) waits while this one holds the lock.
    let Some(db) = TestDb::create_with(TEST, PgLock::exclusive().await).await else { return };
    // Restarting needs the cluster on this machine (pg_ctlcluster, as root); a remote PostgreSQL cannot be.
    if pg_ctlcluster("status").is_none_or(|status| !status.success()) {
        skipped!("SKIPPED {TEST}: PostgreSQL is reachable but is not a local cluster pg_ctlcluster can restart");
        return;
    }
    let _keep_running = KeepPostgresRunning;
    let mut a = Instance::spawn(&db, &[]).await;
    let mut b = Instance::spawn(&db, &[]).await;
    let nodes = [Node::of(&a), Node::of(&b)];

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::<Result<(), Failure>>::new()));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (nodes, stop, outcomes) = (nodes.clone(), stop.clone(), outcomes.clone());
            tokio::spawn(async move {
                let mut i = 0;
                // Bounded: stops when told, and after at most 5000 sign-ins per worker.
                while !stop.load(Ordering::Relaxed) && i < 5000 {
                    i += 1;
                    let (first, second) = if i % 2 == 0 { (&nodes[0], &nodes[1]) } else { (&nodes[1], &nodes[0]) };
                    let email = format!("pg-{w}-{i}@example.com");
                    let outcome = match create(first, &email).await {
                        Ok((created, code)) => consume(second, &created, &code).await.map(|_| ()),
                        Err(e) => Err(e),
                    };
                    outcomes.lock().expect("outcomes").push(outcome);
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(2)).await;
    // A plain restart (fast shutdown: open connections are cut) ...
    let restarted = tokio::task::spawn_blocking(|| pg_ctlcluster("restart")).await.expect("task");
    assert!(restarted.is_some_and(|s| s.success()), "pg_ctlcluster restart: {restarted:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    // ... and one with the database away longer than a request waits for a connection (5 s).
    let stopped = tokio::task::spawn_blocking(|| pg_ctlcluster("stop")).await.expect("task");
    assert!(stopped.is_some_and(|s| s.success()), "pg_ctlcluster stop: {stopped:?}");
    tokio::time::sleep(Duration::from_secs(7)).await;
    let started = tokio::task::spawn_blocking(|| pg_ctlcluster("start")).await.expect("task");
    assert!(started.is_some_and(|s| s.success()), "pg_ctlcluster start: {started:?}");
    let back_at = Instant::now();

    // Service resumes by itself: sign-ins through both instances succeed again without restarting them.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut resumed = 0;
    while resumed < 2 {
        assert!(Instant::now() < deadline, "service did not resume within 60 s of PostgreSQL coming back");
        let node = &nodes[resumed];
        let email = format!("after-{resumed}-{}@example.com", back_at.elapsed().as_millis());
        let ok = match create(node, &email).await {
            Ok((created, code)) => matches!(consume(node, &created, &code).await, Ok(Consumed::User(_))),
            Err(_) => false,
        };
        if ok {
            resumed += 1;
        } else {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        within("load worker", worker).await.expect("worker");
    }

    assert!(a.is_running() && b.is_running(), "neither instance crashed");
    let outcomes = std::mem::take(&mut *outcomes.lock().expect("outcomes"));
    let ok = outcomes.iter().filter(|o| o.is_ok()).count();
    let internal = outcomes.iter().filter(|o| matches!(o, Err(Failure::Internal(_)))).count();
    let transport = outcomes.iter().filter(|o| matches!(o, Err(Failure::Transport(_)))).count();
    eprintln!(
        "PostgreSQL restarts under load: {ok} sign-ins ok, {internal} answered 500 JSON, {transport} transport errors"
    );
    assert!(internal + transport > 0, "the outage was visible to clients");
    assert!(
        outcomes.iter().all(|o| match o {
            Err(Failure::Internal(message)) => message.starts_with("internal error"),
            _ => true,
        }),
        "500 bodies are the generic JSON message, never internals"
    );
    assert!(ok > 0);
    // Both processes are still the ones started before the restart.
    assert!(a.is_running() && b.is_running());
}
