//! The generator's own parsing and validation, checked by a tool we did not write: schemathesis runs every
//! check it has (`--checks all`) against the crate generated from tests/specs/kitchen.yaml, served on loopback
//! by axum and by actix-web with the echoing implementation of `support::Kitchen`. Every construct the kitchen
//! spec holds (parameter styles, object query parameters, formats, unions, presence rules, multipart,
//! form and binary bodies, security schemes) meets generated valid and invalid input.
//!
//! The run must find no failure, with a fixed seed; its JUnit report is kept in
//! `target/schemathesis/kitchen-<framework>.xml`. What the spec cannot state is taught to the run by
//! `tests/contract/kitchen_hooks.py`. schemathesis comes from PyPI (`.ci/run` installs it); without it the test
//! says SKIPPED, except under CI, where it fails.

#[path = "support/schemathesis.rs"]
mod schemathesis;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

/// `--max-examples`: per operation and phase.
const MAX_EXAMPLES: u32 = 100;
/// Cases per framework the run must reach (the 11 operations, four phases).
const MIN_CASES: u64 = 2_500;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// Runs schemathesis against `base_url` and asserts a clean run of at least [`MIN_CASES`] cases.
fn run(st: &str, framework: &str, base_url: &str) {
    let reports = workspace().join("target/schemathesis");
    std::fs::create_dir_all(&reports).expect("report dir");
    let junit = reports.join(format!("kitchen-{framework}.xml"));
    let scratch = tempfile::tempdir().expect("temp dir");
    let out = Command::new(st)
        .arg("run")
        .arg(workspace().join("tests/specs/kitchen.yaml"))
        .args(["--url", base_url, "--checks", "all", "--seed", "1"])
        .args(["--max-examples", &MAX_EXAMPLES.to_string(), "--report", "junit", "--report-junit-path"])
        .arg(&junit)
        // schemathesis keeps a cache where it runs; keep it out of the repository.
        .current_dir(scratch.path())
        .env("SCHEMATHESIS_HOOKS", "kitchen_hooks")
        .env("PYTHONPATH", workspace().join("tests/contract"))
        .output()
        .expect("run schemathesis");
    let report = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "schemathesis found failures on {framework} (report {}):\n{report}", junit.display());
    let cases = schemathesis::cases(&report);
    assert!(cases >= MIN_CASES, "{framework}: only {cases} cases (at least {MIN_CASES}):\n{report}");
    assert!(junit.exists(), "the JUnit report is written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_failure_in_the_kitchen_crate_on_axum() {
    let Some(st) = schemathesis::command() else { return };
    let addr = support::spawn(kitchen_api::server::axum::router(support::Kitchen)).await;
    tokio::task::spawn_blocking(move || run(&st, "axum", &format!("http://{addr}"))).await.expect("run");
}

#[test]
fn schemathesis_finds_no_failure_in_the_kitchen_crate_on_actix_web() {
    let Some(st) = schemathesis::command() else { return };
    let addr = support::spawn_actix(kitchen_api::server::actix::configure(std::sync::Arc::new(support::Kitchen)));
    run(&st, "actix-web", &format!("http://{addr}"));
}
