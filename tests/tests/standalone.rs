//! `authgen --framework axum --out DIR` produces a crate that builds on its own, outside this workspace,
//! with every feature combination a user may pick.

use std::path::Path;
use std::process::Command;

#[test]
fn generated_crate_builds_on_its_own() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("x");
    let mut settings = authgen::Settings::default();
    settings
        .with_frameworks([authgen::Framework::Axum, authgen::Framework::ActixWeb])
        .with_invocation("spec/auth.yaml", &out.to_string_lossy());
    let text = std::fs::read_to_string(root.join("spec/auth.yaml")).expect("spec");
    let loaded = authgen::spec::load_str("spec/auth.yaml", &text).expect("loads");
    let generated = authgen::generate(&loaded, &settings).expect("generates");
    authgen::output::write_files(&out, &generated.files).expect("writes");

    // A target directory of its own: the workspace's is locked by the running `cargo test`.
    let target = root.join("target").join("standalone");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for features in
        [&["--all-features"][..], &["--no-default-features"], &["--no-default-features", "--features", "client"]]
    {
        let status = Command::new(&cargo)
            .arg("check")
            .arg("--quiet")
            .args(features)
            .arg("--manifest-path")
            .arg(out.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .env("RUSTFLAGS", "-D warnings")
            .status()
            .expect("cargo runs");
        assert!(status.success(), "the generated crate does not build on its own with {features:?}");
    }
}

#[test]
fn an_actix_web_only_crate_builds_on_its_own() {
    // `authgen --framework actix-web --out DIR`: no axum anywhere, not even in the client.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("y");
    let mut settings = authgen::Settings::default();
    settings.with_frameworks([authgen::Framework::ActixWeb]).with_invocation("spec/auth.yaml", &out.to_string_lossy());
    let text = std::fs::read_to_string(root.join("spec/auth.yaml")).expect("spec");
    let loaded = authgen::spec::load_str("spec/auth.yaml", &text).expect("loads");
    let generated = authgen::generate(&loaded, &settings).expect("generates");
    assert!(generated.files.iter().all(|f| !f.contents.contains("axum::")), "no axum code in an actix-web-only crate");
    authgen::output::write_files(&out, &generated.files).expect("writes");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(["check", "--quiet", "--manifest-path"])
        .arg(out.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", root.join("target").join("standalone"))
        .env("RUSTFLAGS", "-D warnings")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the actix-web-only crate does not build on its own");
}
