//! Sign-in flows per second (createCode + consume) through real `auth-server` processes: one instance on
//! SQLite, one instance on PostgreSQL, and two instances on one PostgreSQL database behind a client that
//! alternates between them (createCode on one, consume on the other, as a load balancer without stickiness
//! would). The configurations run in interleaved rounds of one run; the table shows medians and the ratios
//! to the SQLite instance.
//!
//! Run through `bench/instances.sh`, or directly with a release build of the server:
//! `instances_bench --server PATH/auth-server [SECONDS] [CONCURRENCY] [ROUNDS]`.
//! `AUTHGEN_BENCH_DATABASE_URL` names the PostgreSQL database (default
//! `postgres://postgres@127.0.0.1:5432/test`); each run uses a fresh schema and drops it.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_api::client::Client;
use auth_api::ops::{consume_code, create_code};
use auth_api::types::{ConsumeCodeRequest, ConsumeCodeResponse, CreateCodeRequest, CreateCodeResponse};
use sqlx::Connection as _;
use tokio::sync::oneshot;

/// Codes by preAuthSessionId as the server logs them, handed to whoever waits for one.
#[derive(Clone, Default)]
struct Codes(Arc<Mutex<BTreeMap<String, Slot>>>);

enum Slot {
    Code(String),
    Waiting(oneshot::Sender<String>),
}

impl Codes {
    fn deliver(&self, pre_auth_session_id: String, code: String) {
        let mut slots = self.0.lock().expect("codes");
        match slots.remove(&pre_auth_session_id) {
            Some(Slot::Waiting(waiter)) => {
                let _ = waiter.send(code);
            }
            _ => {
                slots.insert(pre_auth_session_id, Slot::Code(code));
            }
        }
    }

    async fn take(&self, pre_auth_session_id: &str) -> Option<String> {
        let receiver = {
            let mut slots = self.0.lock().expect("codes");
            match slots.remove(pre_auth_session_id) {
                Some(Slot::Code(code)) => return Some(code),
                _ => {
                    let (sender, receiver) = oneshot::channel();
                    slots.insert(pre_auth_session_id.to_owned(), Slot::Waiting(sender));
                    receiver
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), receiver).await.ok()?.ok()
    }
}

/// A running server process, killed when dropped.
struct Server {
    child: Child,
    client: Client,
    codes: Codes,
}

impl Server {
    fn start(binary: &str, database: &str) -> Self {
        let mut child = Command::new(binary)
            .args(["--listen", "127.0.0.1:0", "--database", database, "--database-max-connections", "16"])
            .env("RUST_LOG", "warn,auth_server=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {binary}: {e}"));
        let codes = Codes::default();
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let sink = codes.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = address_tx.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
                } else if let Some(rest) = line.split("passwordless code for ").nth(1) {
                    let code = rest.split("code=").nth(1).and_then(|r| r.split_whitespace().next());
                    let pre = rest.split("preAuthSessionId=").nth(1).and_then(|r| r.split('&').next());
                    if let (Some(code), Some(pre)) = (code, pre) {
                        sink.deliver(pre.to_owned(), code.to_owned());
                    }
                } else if line.contains("ERROR") {
                    eprintln!("server: {line}");
                }
            }
        });
        let address = address_rx.recv_timeout(Duration::from_secs(60)).expect("the server starts listening");
        let client = Client::new(&format!("http://{address}")).expect("client");
        Self { child, client, codes }
    }
}

impl Server {
    /// The process's peak resident set so far (VmHWM), in MiB.
    fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        kib / 1024.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Setup {
    Sqlite,
    Postgres,
    TwoPostgres,
}

impl Setup {
    const ALL: [Setup; 3] = [Setup::Sqlite, Setup::Postgres, Setup::TwoPostgres];

    fn name(self) -> &'static str {
        match self {
            Setup::Sqlite => "1 instance, SQLite",
            Setup::Postgres => "1 instance, PostgreSQL",
            Setup::TwoPostgres => "2 instances, PostgreSQL",
        }
    }
}

/// A fresh PostgreSQL schema, dropped at the end of the round.
struct Schema {
    admin: String,
    name: String,
}

impl Schema {
    async fn create(admin: &str, round: u64) -> Self {
        let mut connection =
            sqlx::PgConnection::connect(admin).await.unwrap_or_else(|e| panic!("PostgreSQL at {admin}: {e}"));
        let name = format!("authgen_bench_{}_{round}", std::process::id());
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).execute(&mut connection).await.expect("drop");
        sqlx::query(&format!("CREATE SCHEMA {name}")).execute(&mut connection).await.expect("create schema");
        let _ = connection.close().await;
        Self { admin: admin.to_owned(), name }
    }

    fn url(&self) -> String {
        let separator = if self.admin.contains('?') { '&' } else { '?' };
        format!("{}{separator}options=-c%20search_path%3D{}", self.admin, self.name)
    }

    async fn drop_now(self) {
        if let Ok(mut connection) = sqlx::PgConnection::connect(&self.admin).await {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name)).execute(&mut connection).await;
            let _ = connection.close().await;
        }
    }
}

fn p99(samples: &mut [Duration]) -> f64 {
    samples.sort();
    let index = (samples.len() * 99 / 100).min(samples.len().saturating_sub(1));
    samples.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// One timed run: `concurrency` workers loop createCode → consume, spreading flows over `servers`.
async fn load(servers: &[Server], duration: Duration, concurrency: usize) -> (f64, f64, usize) {
    let targets: Vec<(Client, Codes)> = servers.iter().map(|s| (s.client.clone(), s.codes.clone())).collect();
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let targets = targets.clone();
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0);
                let mut i = 0;
                while Instant::now() < deadline {
                    i += 1;
                    // With two instances every flow hops: createCode on one, consume on the other.
                    let first = (worker + i) % targets.len();
                    let second = (first + 1) % targets.len();
                    let t = Instant::now();
                    let request = create_code::Request::new(CreateCodeRequest {
                        email: Some(format!("w{worker}-{i}@bench.example")),
                        phone_number: None,
                        should_try_linking_with_session_user: None,
                    });
                    let created = match targets[first].0.create_code(request).await {
                        Ok(create_code::Response::Ok(CreateCodeResponse::Ok(ok))) => ok,
                        _ => {
                            errors += 1;
                            continue;
                        }
                    };
                    let Some(code) = targets[first].1.take(&created.pre_auth_session_id).await else {
                        errors += 1;
                        continue;
                    };
                    let request = consume_code::Request::new(ConsumeCodeRequest {
                        pre_auth_session_id: created.pre_auth_session_id,
                        link_code: None,
                        device_id: Some(created.device_id),
                        user_input_code: Some(code),
                        should_try_linking_with_session_user: None,
                    });
                    match targets[second].0.consume_code(request).await {
                        Ok(consume_code::Response::Ok { body: ConsumeCodeResponse::Ok(_), .. }) => {
                            latencies.push(t.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut all, mut errors) = (Vec::new(), 0);
    for worker in workers {
        let (latencies, worker_errors) = worker.await.expect("worker");
        all.extend(latencies);
        errors += worker_errors;
    }
    let elapsed = started.elapsed().as_secs_f64();
    (all.len() as f64 / elapsed, p99(&mut all), errors)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[tokio::main]
async fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let binary = match args.iter().position(|a| a == "--server") {
        Some(i) if i + 1 < args.len() => {
            let binary = args.remove(i + 1);
            args.remove(i);
            binary
        }
        _ => {
            eprintln!("usage: instances_bench --server PATH/auth-server [SECONDS] [CONCURRENCY] [ROUNDS]");
            std::process::exit(2);
        }
    };
    let number = |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let duration = Duration::from_secs(number(0, 5));
    let concurrency = usize::try_from(number(1, 16)).unwrap_or(16);
    let rounds = number(2, 3);
    let admin = std::env::var("AUTHGEN_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());

    // Per setup: flows/s, p99 (ms) and peak RSS (MiB) of each round.
    let mut results: BTreeMap<Setup, [Vec<f64>; 3]> = BTreeMap::new();
    let mut total_errors = 0;
    for round in 0..rounds {
        for setup in Setup::ALL {
            let dir = tempfile::tempdir().expect("temp dir");
            let schema = match setup {
                Setup::Sqlite => None,
                Setup::Postgres | Setup::TwoPostgres => Some(Schema::create(&admin, round).await),
            };
            let database = match &schema {
                None => format!("sqlite://{}", dir.path().join("auth.db").display()),
                Some(schema) => schema.url(),
            };
            let count = if setup == Setup::TwoPostgres { 2 } else { 1 };
            let servers: Vec<Server> = (0..count).map(|_| Server::start(&binary, &database)).collect();
            // A short warm-up (connections, caches), then the measured run.
            let _ = load(&servers, Duration::from_millis(500), concurrency).await;
            let (flows, p99_ms, errors) = load(&servers, duration, concurrency).await;
            total_errors += errors;
            let peak_rss = servers.iter().map(Server::peak_rss_mib).fold(0.0, f64::max);
            drop(servers);
            if let Some(schema) = schema {
                schema.drop_now().await;
            }
            let entry = results.entry(setup).or_default();
            entry[0].push(flows);
            entry[1].push(p99_ms);
            entry[2].push(peak_rss);
        }
    }

    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "median of {rounds} rounds of {}s, {concurrency} concurrent sign-in loops (createCode + consume), \
         release auth-server processes, load generator and PostgreSQL on one {cpus}-CPU machine",
        duration.as_secs()
    );
    println!("{:<26} {:>10} {:>12} {:>12} {:>14}", "setup", "flows/s", "flow p99", "vs SQLite", "peak RSS");
    let medians: BTreeMap<Setup, (f64, f64, f64)> = results
        .into_iter()
        .map(|(setup, [mut flows, mut p99s, mut rss])| {
            (setup, (median(&mut flows), median(&mut p99s), median(&mut rss)))
        })
        .collect();
    let sqlite = medians.get(&Setup::Sqlite).map_or(0.0, |m| m.0);
    for (setup, (flows, p99_ms, rss)) in &medians {
        let ratio = if sqlite > 0.0 { flows / sqlite } else { 0.0 };
        println!("{:<26} {:>10.0} {:>10.2}ms {:>11.2}x {:>10.1} MiB", setup.name(), flows, p99_ms, ratio, rss);
    }
    println!("(peak RSS: VmHWM of the server process, the larger of the two where two run)");
    if let (Some(one), Some(two)) = (medians.get(&Setup::Postgres), medians.get(&Setup::TwoPostgres))
        && one.0 > 0.0
    {
        println!("2 PostgreSQL instances / 1 PostgreSQL instance: {:.2}x", two.0 / one.0);
    }
    if total_errors > 0 {
        println!("({total_errors} flows failed and were not counted)");
    }
}
