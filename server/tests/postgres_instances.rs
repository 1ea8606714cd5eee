//! Two real `auth-server` processes on different ports sharing one PostgreSQL schema: every piece of state is
//! shared, so a flow may hop between instances at every step, as it does behind a load balancer.

#[path = "support/pg.rs"]
mod pg;

use auth_api::ops::{consume_code, get_jwks, refresh_session, sign_out};
use auth_api::runtime::RawRequest;
use auth_api::types::ConsumeCodeResponse;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pg::{Instance, TestDb, consume_ok, consume_request, create_code, refresh_request, sign_in, within};

fn bearer(token: &str) -> RawRequest {
    RawRequest {
        method: "GET".into(),
        path: "/sessioninfo".into(),
        headers: vec![("authorization".into(), format!("Bearer {token}"))],
        ..RawRequest::default()
    }
}

#[tokio::test]
async fn a_code_created_on_one_instance_is_consumed_on_the_other() {
    let Some(db) = TestDb::create("a_code_created_on_one_instance_is_consumed_on_the_other").await else { return };
    let (a, b) = (Instance::spawn(&db, &[]).await, Instance::spawn(&db, &[]).await);

    let created = create_code(&a.client, "hop@example.com").await;
    let code = a.code(&created.pre_auth_session_id).await;
    let signed_in = consume_ok(&b.client, &created, &code).await;
    assert!(signed_in.ok.created_new_recipe_user);

    // The user exists for both instances; the consumed code works on neither any more.
    for instance in [&a, &b] {
        let response = within("consume again", instance.client.consume_code(consume_request(&created, &code)))
            .await
            .expect("consume call");
        assert!(
            matches!(response, consume_code::Response::Ok { body: ConsumeCodeResponse::RestartFlowError(_), .. }),
            "{response:?}"
        );
    }
    let again = sign_in(&b, &a, "hop@example.com").await;
    assert!(!again.ok.created_new_recipe_user);
    assert_eq!(again.ok.user.id, signed_in.ok.user.id);
    assert_eq!(db.count("SELECT COUNT(*) FROM users WHERE email = $1", "hop@example.com").await, 1);
}

#[tokio::test]
async fn wrong_attempts_are_counted_across_both_instances() {
    let Some(db) = TestDb::create("wrong_attempts_are_counted_across_both_instances").await else { return };
    let (a, b) = (Instance::spawn(&db, &[]).await, Instance::spawn(&db, &[]).await);
    let created = create_code(&a.client, "guess@example.com").await;
    let code = a.code(&created.pre_auth_session_id).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };

    // Attempts alternate between the instances; the count is the device's, kept in the database.
    for (attempt, instance) in [&a, &b, &a, &b].into_iter().enumerate() {
        let response = within("wrong code", instance.client.consume_code(consume_request(&created, wrong)))
            .await
            .expect("consume call");
        match response {
            consume_code::Response::Ok { body: ConsumeCodeResponse::IncorrectUserInputCodeError(e), .. } => {
                assert_eq!(e.failed_code_input_attempt_count, i32::try_from(attempt + 1).expect("small"));
                assert_eq!(e.maximum_code_input_attempts, 5);
            }
            other => panic!("attempt {}: {other:?}", attempt + 1),
        }
    }
    // The fifth wrong code, on B, ends the flow for both: even the right code restarts now.
    for (instance, guess) in [(&b, wrong), (&a, code.as_str()), (&b, code.as_str())] {
        let response = within("last attempts", instance.client.consume_code(consume_request(&created, guess)))
            .await
            .expect("consume call");
        assert!(
            matches!(response, consume_code::Response::Ok { body: ConsumeCodeResponse::RestartFlowError(_), .. }),
            "{response:?}"
        );
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM users WHERE email = $1", "guess@example.com").await, 0);
}

#[tokio::test]
async fn refresh_on_the_other_instance_then_reusing_the_old_token_is_theft() {
    let Some(db) = TestDb::create("refresh_on_the_other_instance_then_reusing_the_old_token_is_theft").await else {
        return;
    };
    let (a, b) = (Instance::spawn(&db, &[]).await, Instance::spawn(&db, &[]).await);
    let signed_in = sign_in(&a, &a, "rotate@example.com").await;

    // Refresh on B: a new pair, and B's access token works on A.
    let refreshed = within("refresh on B", b.client.refresh_session(refresh_request(&signed_in.refresh)))
        .await
        .expect("refresh call");
    let refresh_session::Response::Ok { headers, .. } = refreshed else { panic!("{refreshed:?}") };
    let (new_access, new_refresh) =
        (headers.st_access_token.expect("access"), headers.st_refresh_token.expect("refresh"));
    let info = within("sessioninfo on A", a.client.send(bearer(&new_access))).await.expect("sessioninfo");
    assert_eq!(info.status, 200, "{}", info.text());

    // The old refresh token again, on A: theft, and the session is revoked for both instances.
    let theft = within("reuse on A", a.client.refresh_session(refresh_request(&signed_in.refresh)))
        .await
        .expect("refresh call");
    let refresh_session::Response::Unauthorized { body, .. } = theft else { panic!("{theft:?}") };
    assert_eq!(body.message, "token theft detected");
    let revoked =
        within("new token on B", b.client.refresh_session(refresh_request(&new_refresh))).await.expect("refresh call");
    let refresh_session::Response::Unauthorized { body, .. } = revoked else { panic!("{revoked:?}") };
    assert_eq!(body.message, "unauthorised");
}

#[tokio::test]
async fn sign_out_on_one_instance_ends_the_session_on_the_other() {
    let Some(db) = TestDb::create("sign_out_on_one_instance_ends_the_session_on_the_other").await else { return };
    let (a, b) = (Instance::spawn(&db, &[]).await, Instance::spawn(&db, &[]).await);
    let signed_in = sign_in(&a, &b, "leave@example.com").await;

    let mut request = sign_out::Request::new();
    request.access_token_bearer = Some(signed_in.access.clone());
    let response = within("sign out on B", b.client.sign_out(request)).await.expect("sign-out call");
    assert!(matches!(response, sign_out::Response::Ok { .. }), "{response:?}");

    let response = within("refresh on A", a.client.refresh_session(refresh_request(&signed_in.refresh)))
        .await
        .expect("refresh call");
    let refresh_session::Response::Unauthorized { body, .. } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "unauthorised");
    assert_eq!(db.count("SELECT COUNT(*) FROM sessions WHERE user_id = $1", &signed_in.ok.user.id).await, 0);
}

/// Checks an ES256 JWT against a JWKS with nothing from this workspace: the key by `kid`, the point from
/// `x`/`y`, the signature with p256, and `exp`.
fn verify_with_jwks(token: &str, jwks: &auth_api::types::Jwks) -> Result<serde_json::Value, String> {
    use p256::ecdsa::signature::Verifier as _;
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else { return Err("not three parts".into()) };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|e| e.to_string());
    let header: serde_json::Value = serde_json::from_slice(&decode(header)?).map_err(|e| e.to_string())?;
    let payload: serde_json::Value = serde_json::from_slice(&decode(payload)?).map_err(|e| e.to_string())?;
    if header["alg"] != "ES256" {
        return Err(format!("alg {}", header["alg"]));
    }
    let kid = header["kid"].as_str().ok_or("no kid")?;
    let jwk = jwks.keys.iter().find(|k| k.kid == kid).ok_or_else(|| format!("kid {kid} not in the JWKS"))?;
    if (jwk.kty.as_str(), jwk.crv.as_str(), jwk.alg.as_str(), jwk.use_.as_str()) != ("EC", "P-256", "ES256", "sig") {
        return Err(format!("unexpected key parameters {jwk:?}"));
    }
    let (x, y) = (decode(&jwk.x)?, decode(&jwk.y)?);
    if x.len() != 32 || y.len() != 32 {
        return Err("coordinates are not 32 bytes".into());
    }
    let point = [&[0x04][..], &x, &y].concat();
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(|e| e.to_string())?;
    let signature = p256::ecdsa::Signature::from_slice(&decode(signature)?).map_err(|e| e.to_string())?;
    let signing_input = &token[..token.rfind('.').ok_or("no signature")?];
    key.verify(signing_input.as_bytes(), &signature).map_err(|e| e.to_string())?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    if payload["exp"].as_u64().is_none_or(|exp| exp <= now) {
        return Err("expired".into());
    }
    Ok(payload)
}

#[tokio::test]
async fn a_token_from_one_instance_verifies_on_the_other_and_with_its_jwks() {
    let Some(db) = TestDb::create("a_token_from_one_instance_verifies_on_the_other_and_with_its_jwks").await else {
        return;
    };
    let (a, b) = (Instance::spawn(&db, &[]).await, Instance::spawn(&db, &[]).await);
    let signed_in = sign_in(&a, &a, "jwks@example.com").await;

    let info = within("sessioninfo on B", b.client.send(bearer(&signed_in.access))).await.expect("sessioninfo");
    assert_eq!(info.status, 200, "{}", info.text());

    let response = within("JWKS from B", b.client.get_jwks(get_jwks::Request::new())).await.expect("JWKS call");
    let get_jwks::Response::Ok { body: jwks, headers } = response else { panic!("{response:?}") };
    assert_eq!(headers.cache_control.as_deref(), Some("max-age=60, must-revalidate"));
    let payload = verify_with_jwks(&signed_in.access, &jwks).expect("A's token verifies with B's JWKS");
    assert_eq!(payload["sub"], signed_in.ok.user.id);

    // The same keys from A, and a forged token fails the independent check.
    let response = within("JWKS from A", a.client.get_jwks(get_jwks::Request::new())).await.expect("JWKS call");
    let get_jwks::Response::Ok { body: from_a, .. } = response else { panic!("{response:?}") };
    assert_eq!(from_a, jwks);
    let (signing_input, _) = signed_in.access.rsplit_once('.').expect("three parts");
    let forged = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode([7u8; 64]));
    assert!(verify_with_jwks(&forged, &jwks).is_err());
}

#[tokio::test]
async fn instances_starting_at_once_migrate_once_and_share_one_key() {
    let Some(db) = TestDb::create("instances_starting_at_once_migrate_once_and_share_one_key").await else { return };
    // Four instances on an empty schema at the same moment: sqlx's migrator lock lets one migrate, and the
    // key rotation lock lets one create the first signing key.
    let starting: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            tokio::task::spawn_blocking(move || Instance::start_url(&url, &[]))
        })
        .collect();
    let mut instances = Vec::new();
    for instance in starting {
        instances.push(instance.await.expect("start task"));
    }
    let mut key_sets = Vec::new();
    for instance in &instances {
        let response = within("JWKS", instance.client.get_jwks(get_jwks::Request::new())).await.expect("JWKS call");
        let get_jwks::Response::Ok { body, .. } = response else { panic!("{response:?}") };
        key_sets.push(body);
    }
    assert_eq!(key_sets[0].keys.len(), 1, "{:?}", key_sets[0]);
    assert!(key_sets.iter().all(|set| *set == key_sets[0]), "{key_sets:?}");
    assert_eq!(db.count("SELECT COUNT(*) FROM signing_keys WHERE algorithm = $1", "ES256").await, 1);
    // Each migration applied once, and every one of them.
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../recipes/migrations/postgres"))
        .expect("migrations dir")
        .filter(|entry| entry.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql")))
        .count();
    assert!(migrations >= 2, "found {migrations} migration files");
    let applied = db.count("SELECT COUNT(*) FROM _sqlx_migrations WHERE success AND $1 <> ''", "x").await;
    assert_eq!(usize::try_from(applied).expect("count"), migrations);
}

#[tokio::test]
async fn the_database_password_is_not_logged() {
    let Some(db) = TestDb::create("the_database_password_is_not_logged").await else { return };
    // The test database trusts local connections, so any password is accepted and must never be printed.
    let Some(rest) = db.url.strip_prefix("postgres://postgres@") else { return };
    let url = format!("postgres://postgres:s3cret-pw@{rest}");
    let instance = tokio::task::spawn_blocking(move || Instance::start_url(&url, &[])).await.expect("start task");
    let lines = instance.lines();
    assert!(lines.iter().any(|l| l.contains("database=postgres://postgres:***@")), "{lines:?}");
    assert!(lines.iter().all(|l| !l.contains("s3cret-pw")), "{lines:?}");
}

/// Expired devices and their codes are deleted on the schedule `--prune-interval-s` sets, by each instance on
/// its own: nothing but the schedule runs after the code is created, and its rows are gone from the database
/// once the code has expired (`--code-lifetime-ms`) and a prune interval has passed.
#[tokio::test]
async fn expired_devices_and_codes_are_pruned_on_the_schedule() {
    let Some(db) = TestDb::create("expired_devices_and_codes_are_pruned_on_the_schedule").await else { return };
    let a = Instance::spawn(&db, &["--code-lifetime-ms", "1000", "--prune-interval-s", "1"]).await;
    let created = create_code(&a.client, "expire@example.com").await;
    let device = created.pre_auth_session_id.as_str();
    let rows = || async {
        (
            db.count("SELECT COUNT(*) FROM passwordless_devices WHERE device_id_hash = $1", device).await,
            db.count("SELECT COUNT(*) FROM passwordless_codes WHERE device_id_hash = $1", device).await,
        )
    };
    assert_eq!(rows().await, (1, 1), "the device and its code are stored");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while rows().await != (0, 0) {
        assert!(std::time::Instant::now() < deadline, "not pruned within 15 s: {:?}", rows().await);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(a.lines().iter().any(|line| line.contains("pruned expired rows")), "the schedule logged it");
}

/// Two instances reading one tenants file: a tenant's code made on one is consumed on the other, on that
/// tenant only, and the user it signs in is that tenant's, beside a `public` user of the same email.
#[tokio::test]
async fn a_tenants_flow_hops_between_instances_and_stays_in_its_tenant() {
    let Some(db) = TestDb::create("a_tenants_flow_hops_between_instances_and_stays_in_its_tenant").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("tenants.toml");
    std::fs::write(&file, "[[tenant]]\nid = \"customer-1\"\n").expect("write");
    let args = ["--tenants-file", file.to_str().expect("utf-8")];
    let (a, b) = (Instance::spawn(&db, &args).await, Instance::spawn(&db, &args).await);

    let public = sign_in(&a, &b, "hop@example.com").await;
    let mut request = auth_api::ops::create_code::Request::new(auth_api::types::CreateCodeRequest {
        email: Some("hop@example.com".into()),
        phone_number: None,
        should_try_linking_with_session_user: None,
    });
    request.tenant_id = "customer-1".into();
    let created = match within("createCode", a.client.create_code(request)).await.expect("createCode call") {
        auth_api::ops::create_code::Response::Ok(auth_api::types::CreateCodeResponse::Ok(ok)) => ok,
        other => panic!("createCode on customer-1: {other:?}"),
    };
    let code = a.code(&created.pre_auth_session_id).await;
    // On B, the device is not public's.
    let on_public = within("consume", b.client.consume_code(consume_request(&created, &code))).await.expect("call");
    assert!(
        matches!(on_public, consume_code::Response::Ok { body: ConsumeCodeResponse::RestartFlowError(_), .. }),
        "{on_public:?}"
    );
    let mut consume = consume_request(&created, &code);
    consume.tenant_id = "customer-1".into();
    let response = within("consume", b.client.consume_code(consume)).await.expect("consume call");
    let consume_code::Response::Ok { body: ConsumeCodeResponse::Ok(ok), headers } = response else {
        panic!("consume on customer-1: {response:?}")
    };
    assert!(ok.created_new_recipe_user);
    assert_eq!(ok.user.tenant_ids, ["customer-1"]);
    assert_ne!(ok.user.id, public.ok.user.id);
    let access = headers.st_access_token.expect("st-access-token");
    let payload = access.split('.').nth(1).expect("a JWT");
    let payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON payload");
    assert_eq!(payload["tId"], "customer-1");
    assert_eq!(db.count("SELECT COUNT(*) FROM users WHERE email = $1", "hop@example.com").await, 2);
    assert_eq!(db.count("SELECT COUNT(*) FROM users WHERE tenant_id = $1", "customer-1").await, 1);
}
