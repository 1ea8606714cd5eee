//! The contract, checked by a tool we did not write: schemathesis runs every check it has (`--checks all`)
//! against auth-server on each framework, generating requests from spec/auth.yaml and comparing every answer
//! with the spec. The server has a third-party provider configured (the test OpenID Connect provider) and email
//! verification on (OPTIONAL), refresh and sign-out get a live session per case and the email verification
//! operations one long-lived session (`contract/hooks.py`), so no operation is only reached at its 400 or 401. What the spec cannot state is taught to the run by `contract/hooks.py`.
//!
//! The run must find no failure in at least [`MIN_CASES`] cases per framework, with a fixed seed; its JUnit
//! report is kept in `target/schemathesis/<framework>.xml`. schemathesis comes from PyPI (`pip install
//! schemathesis`, which `.ci/run` does); without it the test says SKIPPED, except under CI, where it fails.

#[macro_use]
mod support;
#[path = "support/oidc.rs"]
mod oidc;
#[path = "../../tests/tests/support/schemathesis.rs"]
mod schemathesis;

use std::path::{Path, PathBuf};
use std::process::Command;

use authgen_recipes::thirdparty::parse_provider_line;
use authgen_recipes::{Config, EmailVerificationMode};
use base64::Engine as _;
use oidc::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, OidcProvider};
use support::{WEBSITE, create_code_for_email, sign_in, start};

/// Cases per framework the run must reach.
const MIN_CASES: u64 = 5_000;
/// `--max-examples`: per operation and phase; with the 15 operations and four phases this gives more than
/// [`MIN_CASES`].
const MAX_EXAMPLES: u32 = 600;
/// Sessions signed in for refresh and sign-out, one per case (more than those two operations get).
const SESSIONS: usize = 2_500;
const PROVIDER: &str = "my-oidc";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

on_both_frameworks! {
async fn schemathesis_finds_no_failure() {
    let Some(st) = schemathesis::command() else { return };
    let provider = OidcProvider::start().await;
    let line = format!(
        "id={PROVIDER},issuer={},client_id={DEFAULT_CLIENT_ID},client_secret={DEFAULT_CLIENT_SECRET}",
        provider.issuer
    );
    let third_party = parse_provider_line(&line).expect("provider line parses");
    let server = start(move |config: Config| {
        config.with_third_party_provider(third_party).with_email_verification(EmailVerificationMode::Optional)
    })
    .await;
    let client = server.client();

    // A device whose ids consume and resend are given, and the sessions for refresh and sign-out.
    let device = create_code_for_email(&client, "contract-device@example.com").await;
    let mut sessions = Vec::with_capacity(SESSIONS);
    for i in 0..SESSIONS {
        let (_, headers) = sign_in(&server, &client, &format!("contract{i}@example.com"), Some("header")).await;
        sessions.push(serde_json::json!({
            "access": headers.st_access_token.expect("st-access-token"),
            "refresh": headers.st_refresh_token.expect("st-refresh-token"),
        }));
    }
    // One session for the email verification operations, which never end it.
    let (_, headers) = sign_in(&server, &client, "contract-ev@example.com", Some("header")).await;
    let ev_access = headers.st_access_token.expect("st-access-token");
    let scratch = tempfile::tempdir().expect("temp dir");
    let sessions_file = scratch.path().join("sessions.json");
    std::fs::write(&sessions_file, serde_json::to_vec(&sessions).expect("JSON")).expect("write sessions");
    let state = base64::engine::general_purpose::STANDARD
        .encode(serde_json::json!({"frontendRedirectURI": format!("{WEBSITE}/auth/callback/apple")}).to_string());

    let framework = format!("{:?}", support::framework()).to_lowercase();
    let reports = workspace().join("target/schemathesis");
    std::fs::create_dir_all(&reports).expect("report dir");
    let junit = reports.join(format!("{framework}.xml"));
    let contract = workspace().join("server/tests/contract");
    let out = tokio::task::spawn_blocking({
        let (st, base_url, junit) = (st.clone(), server.base_url.clone(), junit.clone());
        let dir = scratch.path().to_owned();
        move || {
            Command::new(st)
                .arg("run")
                .arg(workspace().join("spec/auth.yaml"))
                .args(["--url", &base_url, "--checks", "all", "--seed", "1"])
                .args(["--max-examples", &MAX_EXAMPLES.to_string(), "--report", "junit", "--report-junit-path"])
                .arg(&junit)
                // schemathesis keeps a cache where it runs; keep it out of the repository.
                .current_dir(&dir)
                .env("SCHEMATHESIS_HOOKS", "hooks")
                .env("PYTHONPATH", &contract)
                .env("AUTHGEN_CONTRACT_SESSIONS", &sessions_file)
                .env("AUTHGEN_CONTRACT_PROVIDER", PROVIDER)
                .env("AUTHGEN_CONTRACT_DEVICE_ID", &device.device_id)
                .env("AUTHGEN_CONTRACT_PRE_AUTH_SESSION_ID", &device.pre_auth_session_id)
                .env("AUTHGEN_CONTRACT_APPLE_STATE", &state)
                .env("AUTHGEN_CONTRACT_EV_ACCESS", &ev_access)
                .output()
                .expect("run schemathesis")
        }
    })
    .await
    .expect("schemathesis task");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = format!("{stdout}\n{stderr}");
    assert!(out.status.success(), "schemathesis found failures on {framework} (report {}):\n{report}", junit.display());
    // The summary says `N generated, ...`.
    let cases = schemathesis::cases(&report);
    assert!(cases >= MIN_CASES, "{framework}: only {cases} cases (at least {MIN_CASES}):\n{report}");
    assert!(junit.exists(), "the JUnit report is written");
    drop(provider);
    server.stop().await;
}
}
