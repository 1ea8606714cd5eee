//! Load benchmarks on loopback with SQLite, each in interleaved rounds of one run:
//! - the passwordless flow: createCode and consume throughput and p99 latency, for the generated router
//!   serving `AuthRecipes` against a minimal hand-written axum handler doing the same store, crypto and token
//!   work; beside them the floor of one flow: the same store calls, ids, hashes and ES256 signature run one
//!   after another in one task, without HTTP, and the server's throughput as a share of that floor; the CPU
//!   time the process spends per flow (server and load generator together, which unlike throughput hardly
//!   moves when other processes load the machine); and the process's peak resident set (VmHWM);
//! - a protected route behind `VerifySession`: requests/s and p99 when the verifier checks the token alone
//!   (as before sessions were checked in the store), when it asks the store on every request (TTL 0), and
//!   with the default session check TTL; and the time of one verification alone, in process, in each mode.
//!
//! Run through `bench/recipes.sh`, or directly:
//! `cargo run --release -p auth-server --example recipes_bench -- [SECONDS] [CONCURRENCY] [ROUNDS]`

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_api::client::Client;
use auth_api::ops::{consume_code, create_code};
use auth_api::types::{ConsumeCodeRequest, ConsumeCodeResponse, CreateCodeRequest, CreateCodeResponse};
use authgen_recipes::contact::{self, Contact};
use authgen_recipes::delivery::{CodeMessage, Delivery, DeliveryFuture};
use authgen_recipes::ids;
use authgen_recipes::ratelimit::{Limit, RateLimits};
use authgen_recipes::session::tokens::{AccessTokenClaims, SigningKey};
use authgen_recipes::session::transport::{IssuedTokens, SessionHeaders, TransferMode};
use authgen_recipes::store::sqlite::SqliteStore;
use authgen_recipes::store::{CodeRecord, NewDevice, NewSession, Store};
use authgen_recipes::{AuthRecipes, Config, SessionVerifier, VerifySession};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Codes by preAuthSessionId, so that the load generator can consume what it created.
#[derive(Clone, Default)]
struct Codes(Arc<Mutex<BTreeMap<String, String>>>);

impl Codes {
    fn insert(&self, pre_auth_session_id: String, code: String) {
        self.0.lock().expect("codes lock").insert(pre_auth_session_id, code);
    }

    fn take(&self, pre_auth_session_id: &str) -> Option<String> {
        self.0.lock().expect("codes lock").remove(pre_auth_session_id)
    }
}

impl Delivery for Codes {
    fn deliver<'a>(&'a self, message: &'a CodeMessage) -> DeliveryFuture<'a> {
        if let Some(code) = &message.user_input_code {
            self.insert(message.pre_auth_session_id.clone(), code.clone());
        }
        Box::pin(async { Ok(()) })
    }
}

/// The hand-written baseline's state.
struct Baseline {
    config: Config,
    store: SqliteStore,
    codes: Codes,
    key: SigningKey,
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "message": message }))).into_response()
}

fn internal(error: impl std::fmt::Display) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "message": error.to_string() }))).into_response()
}

async fn baseline_create_code(State(state): State<Arc<Baseline>>, Json(body): Json<Value>) -> Response {
    let Some(email) = body.get("email").and_then(Value::as_str) else { return bad_request("email required") };
    let Some(email) = contact::normalise_email(email) else {
        return Json(json!({ "status": "GENERAL_ERROR", "message": "Email is invalid" })).into_response();
    };
    let (Ok(device_id), Ok(salt), Ok(code), Ok(code_id)) =
        (ids::random_bytes::<32>(), ids::random_bytes::<32>(), ids::user_input_code(), ids::uuid_v4())
    else {
        return internal("no randomness");
    };
    let pre_auth_session_id = ids::pre_auth_session_id(&device_id);
    let now = now_ms();
    let device = NewDevice {
        tenant_id: "public".into(),
        device_id_hash: pre_auth_session_id.clone(),
        contact: Contact::Email(email),
        link_code_salt: ids::encode_salt(&salt),
        created_at_ms: now,
    };
    let record = CodeRecord {
        code_id,
        link_code_hash: ids::link_code_hash_for_user_input_code(&device_id, &salt, &code),
        created_at_ms: now,
    };
    if let Err(e) = state.store.create_device(&device, &record).await {
        return internal(e);
    }
    let _link = format!(
        "{}/auth/verify?preAuthSessionId={pre_auth_session_id}&tenantId=public#{}",
        state.config.website_domain,
        ids::link_code(&device_id, &salt, &code)
    );
    state.codes.insert(pre_auth_session_id.clone(), code);
    Json(json!({
        "status": "OK",
        "deviceId": ids::encode_device_id(&device_id),
        "preAuthSessionId": pre_auth_session_id,
        "flowType": "USER_INPUT_CODE_AND_MAGIC_LINK",
    }))
    .into_response()
}

async fn baseline_consume(State(state): State<Arc<Baseline>>, Json(body): Json<Value>) -> Response {
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    let (Some(pre), Some(device_id), Some(code)) = (text("preAuthSessionId"), text("deviceId"), text("userInputCode"))
    else {
        return bad_request("preAuthSessionId, deviceId and userInputCode required");
    };
    let Some(device_id) = ids::decode_device_id(&device_id) else { return bad_request("bad deviceId") };
    if !ids::constant_time_eq(&ids::pre_auth_session_id(&device_id), &pre) {
        return bad_request("mismatch");
    }
    let restart = || Json(json!({ "status": "RESTART_FLOW_ERROR" })).into_response();
    let device = match state.store.device("public", &pre).await {
        Ok(Some(device)) => device,
        Ok(None) => return restart(),
        Err(e) => return internal(e),
    };
    let Some(salt) = ids::decode_salt(&device.link_code_salt) else { return internal("bad salt") };
    let hash = ids::link_code_hash_for_user_input_code(&device_id, &salt, &code);
    let lifetime = i64::try_from(state.config.code_lifetime.as_millis()).unwrap_or(i64::MAX);
    let now = now_ms();
    let valid = device
        .codes
        .iter()
        .any(|c| ids::constant_time_eq(&c.link_code_hash, &hash) && c.created_at_ms + lifetime >= now);
    if !valid {
        return Json(json!({ "status": "INCORRECT_USER_INPUT_CODE_ERROR" })).into_response();
    }
    let contact = match state.store.consume_device("public", &pre).await {
        Ok(Some(contact)) => contact,
        Ok(None) => return restart(),
        Err(e) => return internal(e),
    };
    let Ok(user_id) = ids::uuid_v4() else { return internal("no randomness") };
    let (user, created) = match state.store.sign_in_up("public", &contact, &user_id, now).await {
        Ok(found) => found,
        Err(e) => return internal(e),
    };
    let (Ok(session_handle), Ok(refresh_token)) = (ids::uuid_v4(), ids::refresh_token()) else {
        return internal("no randomness");
    };
    let refresh_expiry = now + 100 * 24 * 3600 * 1000;
    let session = NewSession {
        session_handle: session_handle.clone(),
        user_id: user.user_id.clone(),
        tenant_id: "public".into(),
        refresh_token_hash: ids::refresh_token_hash(&refresh_token),
        created_at_ms: now,
        expires_at_ms: refresh_expiry,
    };
    if let Err(e) = state.store.create_session(&session).await {
        return internal(e);
    }
    let claims = AccessTokenClaims {
        user_id: user.user_id.clone(),
        session_handle,
        tenant_id: "public".into(),
        issued_at_s: now / 1000,
        expires_at_s: now / 1000 + 3600,
        issuer: state.config.issuer(),
    };
    let payload = claims.to_payload();
    let tokens = IssuedTokens {
        user_id: user.user_id.clone(),
        access_token: state.key.sign(&payload),
        access_token_expires_at_ms: claims.expires_at_s * 1000,
        access_token_payload: payload,
        refresh_token,
        refresh_token_expires_at_ms: refresh_expiry,
    };
    let headers = SessionHeaders::with_tokens(&state.config, TransferMode::Header, &tokens);
    let mut response = Json(json!({
        "status": "OK",
        "createdNewRecipeUser": created,
        "user": {
            "id": user.user_id, "isPrimaryUser": false, "tenantIds": ["public"],
            "emails": [contact.as_str()], "phoneNumbers": [], "thirdParty": [], "timeJoined": user.time_joined_ms,
            "loginMethods": [{ "recipeId": "passwordless", "recipeUserId": user.user_id, "tenantIds": ["public"],
                "email": contact.as_str(), "timeJoined": user.time_joined_ms, "verified": true }],
        },
    }))
    .into_response();
    let map = response.headers_mut();
    for (name, value) in [
        ("front-token", headers.front_token.clone()),
        ("st-access-token", headers.st_access_token.clone()),
        ("st-refresh-token", headers.st_refresh_token.clone()),
        ("access-control-expose-headers", headers.expose_headers()),
    ] {
        if let Some(value) = value.and_then(|v| axum::http::HeaderValue::from_str(&v).ok()) {
            map.insert(name, value);
        }
    }
    response
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// The floor of one flow: what createCode and consume must do whatever serves them (the store calls of the
/// flow on the SQLite store, the ids, the hashes, one ES256 signature and the session headers), one flow after
/// another in one task, without HTTP. Returns flows/s.
async fn floor(duration: Duration) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::new("http://localhost:3000", "http://localhost:3001").expect("valid domains");
    let store = SqliteStore::open(dir.path().join("auth.db")).await.expect("store");
    let key = SigningKey::generate().expect("key");
    let lifetime = i64::try_from(config.code_lifetime.as_millis()).unwrap_or(i64::MAX);
    let started = Instant::now();
    let mut flows = 0u64;
    while started.elapsed() < duration {
        flows += 1;
        // createCode
        let email = contact::normalise_email(&format!("floor-{flows}@bench.example")).expect("valid email");
        let (device_id, salt) =
            (ids::random_bytes::<32>().expect("random"), ids::random_bytes::<32>().expect("random"));
        let (code, code_id) = (ids::user_input_code().expect("random"), ids::uuid_v4().expect("random"));
        let pre = ids::pre_auth_session_id(&device_id);
        let now = now_ms();
        let device = NewDevice {
            tenant_id: "public".into(),
            device_id_hash: pre.clone(),
            contact: Contact::Email(email),
            link_code_salt: ids::encode_salt(&salt),
            created_at_ms: now,
        };
        let record = CodeRecord {
            code_id,
            link_code_hash: ids::link_code_hash_for_user_input_code(&device_id, &salt, &code),
            created_at_ms: now,
        };
        store.create_device(&device, &record).await.expect("create device");
        let link = ids::link_code(&device_id, &salt, &code);
        let wire_device_id = ids::encode_device_id(&device_id);
        std::hint::black_box((&link, &wire_device_id));
        // consume
        let device_id = ids::decode_device_id(&wire_device_id).expect("device id");
        assert!(ids::constant_time_eq(&ids::pre_auth_session_id(&device_id), &pre));
        let device = store.device("public", &pre).await.expect("device").expect("a device");
        let salt = ids::decode_salt(&device.link_code_salt).expect("salt");
        let hash = ids::link_code_hash_for_user_input_code(&device_id, &salt, &code);
        let now = now_ms();
        assert!(
            device
                .codes
                .iter()
                .any(|c| ids::constant_time_eq(&c.link_code_hash, &hash) && c.created_at_ms + lifetime >= now)
        );
        let contact = store.consume_device("public", &pre).await.expect("consume").expect("consumed");
        let (user, _) =
            store.sign_in_up("public", &contact, &ids::uuid_v4().expect("random"), now).await.expect("sign in");
        let (session_handle, refresh_token) = (ids::uuid_v4().expect("random"), ids::refresh_token().expect("random"));
        let session = NewSession {
            session_handle: session_handle.clone(),
            user_id: user.user_id.clone(),
            tenant_id: "public".into(),
            refresh_token_hash: ids::refresh_token_hash(&refresh_token),
            created_at_ms: now,
            expires_at_ms: now + 100 * 24 * 3600 * 1000,
        };
        store.create_session(&session).await.expect("session");
        let claims = AccessTokenClaims {
            user_id: user.user_id.clone(),
            session_handle,
            tenant_id: "public".into(),
            issued_at_s: now / 1000,
            expires_at_s: now / 1000 + 3600,
            issuer: config.issuer(),
        };
        let payload = claims.to_payload();
        let tokens = IssuedTokens {
            user_id: user.user_id,
            access_token: key.sign(&payload),
            access_token_expires_at_ms: claims.expires_at_s * 1000,
            access_token_payload: payload,
            refresh_token,
            refresh_token_expires_at_ms: session.expires_at_ms,
        };
        std::hint::black_box(SessionHeaders::with_tokens(&config, TransferMode::Header, &tokens));
    }
    let flows_per_second = flows as f64 / started.elapsed().as_secs_f64();
    store.close().await;
    flows_per_second
}

/// The CPU time (user and system) this process has used, in seconds: `/proc/self/stat` counts it in ticks of
/// 1/100 s (USER_HZ, fixed at 100 for user space on Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (in parentheses, which may hold spaces): utime and stime are the
    // 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// This process's peak resident set so far (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Handwritten,
    Generated,
    /// The generated router with every rate limit counting, each in the store, with maxima the run never
    /// reaches: the cost of the counting itself.
    GeneratedLimited,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Handwritten => "hand-written axum",
            Mode::Generated => "generated + recipes",
            Mode::GeneratedLimited => "  + rate limits",
        }
    }
}

async fn app(mode: Mode, dir: &std::path::Path, codes: Codes) -> axum::Router {
    let config = Config::new("http://localhost:3000", "http://localhost:3001").expect("valid domains");
    let store = SqliteStore::open(dir.join("auth.db")).await.expect("store");
    match mode {
        Mode::Generated => AuthRecipes::new(config, store, Arc::new(codes)).await.expect("recipes").into_router(),
        Mode::GeneratedLimited => {
            // The recommended windows, with maxima no run reaches: every request is counted, none refused.
            let never = |limit: Limit| Limit::new(u32::MAX, limit.window);
            let recommended = RateLimits::RECOMMENDED;
            let limits = RateLimits {
                codes_per_contact: never(recommended.codes_per_contact),
                codes_per_client: never(recommended.codes_per_client),
                consume_per_client: never(recommended.consume_per_client),
                sign_in_up_per_client: never(recommended.sign_in_up_per_client),
                authorisation_url_per_client: never(recommended.authorisation_url_per_client),
            };
            let config = config.with_rate_limits(limits);
            AuthRecipes::new(config, store, Arc::new(codes)).await.expect("recipes").into_router()
        }
        Mode::Handwritten => {
            let key = SigningKey::generate().expect("key");
            let state = Arc::new(Baseline { config, store, codes, key });
            axum::Router::new()
                .route("/auth/signinup/code", axum::routing::post(baseline_create_code))
                .route("/auth/signinup/code/consume", axum::routing::post(baseline_consume))
                .with_state(state)
        }
    }
}

#[derive(Default)]
struct Latencies {
    create: Vec<Duration>,
    consume: Vec<Duration>,
}

fn p99(samples: &mut [Duration]) -> f64 {
    samples.sort();
    let index = (samples.len() * 99 / 100).min(samples.len().saturating_sub(1));
    samples.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// One timed run: `concurrency` workers loop createCode → consume until `duration` passes. Returns createCode/s,
/// its p99, consume/s, its p99 (ms) and the process's CPU time per flow (ms).
async fn run(mode: Mode, duration: Duration, concurrency: usize) -> [f64; 5] {
    let dir = tempfile::tempdir().expect("temp dir");
    let codes = Codes::default();
    let router = app(mode, dir.path(), codes.clone()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    // With the peer's address, as the auth server serves: the per-client limits count by it.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, service).await });
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let client = Client::new(&base).expect("client");
            let codes = codes.clone();
            tokio::spawn(async move {
                let mut latencies = Latencies::default();
                let mut i = 0;
                while Instant::now() < deadline {
                    i += 1;
                    let email = format!("w{worker}-{i}@bench.example");
                    let t = Instant::now();
                    let request = create_code::Request::new(CreateCodeRequest {
                        email: Some(email),
                        phone_number: None,
                        should_try_linking_with_session_user: None,
                    });
                    let created = match client.create_code(request).await.expect("createCode") {
                        create_code::Response::Ok(CreateCodeResponse::Ok(ok)) => ok,
                        other => panic!("createCode: {other:?}"),
                    };
                    latencies.create.push(t.elapsed());
                    let code = codes.take(&created.pre_auth_session_id).expect("code delivered");
                    let t = Instant::now();
                    let request = consume_code::Request::new(ConsumeCodeRequest {
                        pre_auth_session_id: created.pre_auth_session_id,
                        link_code: None,
                        device_id: Some(created.device_id),
                        user_input_code: Some(code),
                        should_try_linking_with_session_user: None,
                    });
                    match client.consume_code(request).await.expect("consume") {
                        consume_code::Response::Ok { body: ConsumeCodeResponse::Ok(_), .. } => {}
                        other => panic!("consume: {other:?}"),
                    }
                    latencies.consume.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Latencies::default();
    for worker in workers {
        let latencies = worker.await.expect("worker");
        all.create.extend(latencies.create);
        all.consume.extend(latencies.consume);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_ms_per_flow = (cpu_seconds() - cpu_before) * 1000.0 / all.consume.len().max(1) as f64;
    server.abort();
    let create_rps = all.create.len() as f64 / elapsed;
    let consume_rps = all.consume.len() as f64 / elapsed;
    [create_rps, p99(&mut all.create), consume_rps, p99(&mut all.consume), cpu_ms_per_flow]
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// How the protected route's verifier checks sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// The token alone (signature, expiry): the verifier before sessions were checked in the store.
    TokenOnly,
    /// The token, then the store on every request.
    StoreEveryRequest,
    /// The token, then the store at most once per session per default TTL.
    StoreDefaultTtl,
}

impl Check {
    fn name(self) -> &'static str {
        match self {
            Check::TokenOnly => "token only (before)",
            Check::StoreEveryRequest => "store, TTL 0",
            Check::StoreDefaultTtl => "store, TTL 5 s",
        }
    }
}

/// Sessions the protected-route workers cycle through.
const SESSIONS: usize = 1000;

async fn protected(session: VerifySession) -> Json<Value> {
    Json(json!({ "userId": session.user_id }))
}

/// What a protected-route run needs: the verifier of `check` and the bearer values of [`SESSIONS`] stored
/// sessions (the recipes and the directory must outlive the run).
struct ProtectedSetup {
    verifier: SessionVerifier,
    tokens: Vec<String>,
    _recipes: AuthRecipes<SqliteStore>,
    _dir: tempfile::TempDir,
}

async fn protected_setup(check: Check) -> ProtectedSetup {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::new("http://localhost:3000", "http://localhost:3001").expect("valid domains");
    let store = SqliteStore::open(dir.path().join("auth.db")).await.expect("store");
    let recipes = AuthRecipes::new(config.clone(), store.clone(), Arc::new(Codes::default())).await.expect("recipes");
    let key = recipes.keys().current().signing_key().clone();
    let now = now_ms();
    let mut tokens = Vec::with_capacity(SESSIONS);
    for i in 0..SESSIONS {
        let user_id = format!("user-{i}");
        let contact = Contact::Email(format!("{user_id}@bench.example"));
        store.sign_in_up("public", &contact, &user_id, now).await.expect("user");
        let session_handle = format!("session-{i}");
        let session = NewSession {
            session_handle: session_handle.clone(),
            user_id: user_id.clone(),
            tenant_id: "public".into(),
            refresh_token_hash: format!("refresh-{i}"),
            created_at_ms: now,
            expires_at_ms: now + 3_600_000,
        };
        store.create_session(&session).await.expect("session");
        let claims = AccessTokenClaims {
            user_id,
            session_handle,
            tenant_id: "public".into(),
            issued_at_s: now / 1000,
            expires_at_s: now / 1000 + 3600,
            issuer: config.issuer(),
        };
        tokens.push(format!("Bearer {}", key.sign(&claims.to_payload())));
    }
    let verifier = match check {
        Check::TokenOnly => SessionVerifier::with_key_ring(recipes.keys().clone(), config.anti_csrf()),
        Check::StoreEveryRequest | Check::StoreDefaultTtl => {
            let ttl = if check == Check::StoreEveryRequest { Duration::ZERO } else { config.session_check_ttl };
            SessionVerifier::with_session_store(recipes.keys().clone(), config.anti_csrf(), Arc::new(store), ttl)
        }
    };
    ProtectedSetup { verifier, tokens, _recipes: recipes, _dir: dir }
}

/// One timed run of `GET /protected` with the access tokens of [`SESSIONS`] stored sessions.
async fn run_protected(check: Check, duration: Duration, concurrency: usize) -> (f64, f64) {
    let ProtectedSetup { verifier, tokens, _recipes, _dir } = protected_setup(check).await;
    let router =
        axum::Router::new().route("/protected", axum::routing::get(protected)).layer(axum::Extension(verifier));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let tokens = Arc::new(tokens);
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let client = Client::new(&base).expect("client");
            let tokens = tokens.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = worker;
                while Instant::now() < deadline {
                    let request = auth_api::runtime::RawRequest {
                        method: "GET".into(),
                        path: "/protected".into(),
                        headers: vec![("authorization".into(), tokens[i % tokens.len()].clone())],
                        ..auth_api::runtime::RawRequest::default()
                    };
                    i += concurrency;
                    let t = Instant::now();
                    let response = client.send(request).await.expect("protected call");
                    assert_eq!(response.status, 200, "{}", response.text());
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.expect("worker"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    server.abort();
    (all.len() as f64 / elapsed, p99(&mut all))
}

/// One timed run of the verification alone, in process and in one task: microseconds per verification.
async fn run_verify(check: Check, duration: Duration) -> f64 {
    let ProtectedSetup { verifier, tokens, _recipes, _dir } = protected_setup(check).await;
    let started = Instant::now();
    let mut verified = 0usize;
    while started.elapsed() < duration {
        let token = &tokens[verified % tokens.len()];
        let session = verifier.verify_headers(Some(token), std::iter::empty(), false, "GET").await;
        assert!(matches!(session, Ok(Some(_))), "{session:?}");
        verified += 1;
    }
    started.elapsed().as_secs_f64() * 1e6 / verified as f64
}

/// The protected-route benchmark: every check mode once per round, in a rotating order, medians and ratios to the
/// token-only check.
async fn protected_benchmark(duration: Duration, concurrency: usize, rounds: u64) {
    let checks = [Check::TokenOnly, Check::StoreEveryRequest, Check::StoreDefaultTtl];
    let mut results: BTreeMap<&str, [Vec<f64>; 3]> = BTreeMap::new();
    for round in 0..rounds {
        // Each round starts with another mode, so that no mode always runs first (or last) in a round.
        for k in 0..checks.len() {
            let check = checks[(usize::try_from(round).unwrap_or(0) + k) % checks.len()];
            let (rps, p99) = run_protected(check, duration, concurrency).await;
            let per_verification = run_verify(check, duration).await;
            let entry = results.entry(check.name()).or_default();
            entry[0].push(rps);
            entry[1].push(p99);
            entry[2].push(per_verification);
        }
    }
    println!();
    println!(
        "median of {rounds} rounds of {}s, {concurrency} concurrent GET loops on a VerifySession route, {SESSIONS} sessions, SQLite",
        duration.as_secs()
    );
    println!(
        "{:<20} {:>12} {:>10} {:>10} {:>16} {:>10}",
        "session check", "requests/s", "p99", "vs before", "µs/verification", "vs before"
    );
    let mut before = None;
    for check in checks {
        let Some(series) = results.get_mut(check.name()) else { continue };
        let (rps, p99, micros) = (median(&mut series[0]), median(&mut series[1]), median(&mut series[2]));
        let (base_rps, base_micros) = *before.get_or_insert((rps, micros));
        println!(
            "{:<20} {:>12.0} {:>8.2}ms {:>10.3} {:>16.1} {:>10.3}",
            check.name(),
            rps,
            p99,
            rps / base_rps,
            micros,
            micros / base_micros
        );
    }
    println!(
        "(µs/verification: the verification alone, in process, one task, the same tokens; a ratio above 1 is slower)"
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let duration = Duration::from_secs(number(0, 5));
    let concurrency = usize::try_from(number(1, 16)).unwrap_or(16);
    let rounds = number(2, 3);
    let modes = [Mode::Handwritten, Mode::Generated, Mode::GeneratedLimited];
    let mut results: BTreeMap<&str, [Vec<f64>; 5]> = BTreeMap::new();
    let mut floors = Vec::new();
    for _ in 0..rounds {
        floors.push(floor(duration).await);
        for mode in modes {
            let figures = run(mode, duration, concurrency).await;
            let entry = results.entry(mode.name()).or_default();
            for (series, figure) in entry.iter_mut().zip(figures) {
                series.push(figure);
            }
        }
    }
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "median of {rounds} rounds of {}s, {concurrency} concurrent createCode+consume loops, SQLite on loopback, \
         server and load generator in one process on {cpus} CPUs",
        duration.as_secs()
    );
    println!(
        "{:<20} {:>10} {:>12} {:>10} {:>12} {:>12} {:>10}",
        "mode", "create/s", "create p99", "consume/s", "consume p99", "CPU ms/flow", "vs floor"
    );
    let floor = median(&mut floors);
    let mut medians = BTreeMap::new();
    for mode in modes {
        let Some(series) = results.get_mut(mode.name()) else { continue };
        let m = series.each_mut().map(|values| median(values));
        println!(
            "{:<20} {:>10.0} {:>10.2}ms {:>10.0} {:>10.2}ms {:>12.3} {:>10.3}",
            mode.name(),
            m[0],
            m[1],
            m[2],
            m[3],
            m[4],
            m[2] / floor
        );
        medians.insert(mode.name(), m);
    }
    println!(
        "{:<20} {:>10.0} {:>12} {:>10.0} {:>12} {:>12.3} {:>10.3}",
        "floor (one task)",
        floor,
        "",
        floor,
        "",
        1000.0 / floor,
        1.0
    );
    if let (Some(g), Some(h)) = (medians.get(Mode::Generated.name()), medians.get(Mode::Handwritten.name())) {
        println!("generated/hand-written throughput ratio: createCode {:.3}, consume {:.3}", g[0] / h[0], g[2] / h[2]);
    }
    if let (Some(l), Some(g)) = (medians.get(Mode::GeneratedLimited.name()), medians.get(Mode::Generated.name())) {
        println!(
            "rate limits counting/off throughput ratio: createCode {:.3}, consume {:.3} (counters in the SQLite \
             store: per contact and per client on createCode, per client on consume)",
            l[0] / g[0],
            l[2] / g[2]
        );
    }
    println!(
        "(floor: the flow's store calls, ids, hashes, ES256 signature and session headers one flow after another \
         in one task, no HTTP; vs floor: flows/s over the floor's; CPU ms/flow: CPU time of the whole process, \
         server and load generator, per flow; the floor's is its wall time per flow)"
    );
    println!(
        "peak RSS (VmHWM) of the process, server and load generator together, after the sign-in runs: {:.1} MiB",
        peak_rss_mib()
    );
    protected_benchmark(duration, concurrency, rounds).await;
}
