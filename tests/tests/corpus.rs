//! Conformance corpus: public real-world specs under `tests/corpus/` (sources, commits and licences in
//! `tests/corpus/SOURCES.md`).
//!
//! Every spec must generate with exactly the warnings listed in [`CORPUS`] (a new or a lost diagnostic is a
//! change to look at, not noise), keep every operation, give the same bytes when generated twice, and the
//! generated crates, with the axum and actix-web adapters and the client, must pass `cargo clippy` under
//! `-D warnings`. The crates are generated as members of one scratch workspace and checked by one cargo
//! invocation, so their dependencies compile once.
//!
//! A folder is a spec split over several files; its root is the folder's top-level `openapi.yaml`,
//! `openapi.yml` or `openapi.json`, and it is loaded from disk so its references to the other files are followed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use authgen::{Framework, Settings};

/// One corpus spec: its file (`folder/openapi.yaml` for a multi-file spec), how many operations it has (each is
/// generated, or left out with a W0307 warning) and the warnings it is expected to produce, as (code, count) in
/// code order.
struct Case {
    file: &'static str,
    operations: usize,
    warnings: &'static [(&'static str, usize)],
}

const CORPUS: &[Case] = &[
    Case {
        file: "authgen-defects.yaml",
        operations: 2,
        warnings: &[
            ("W0006", 2),
            ("W0007", 1),
            ("W0111", 1),
            ("W0112", 2),
            ("W0113", 3),
            ("W0114", 1),
            ("W0205", 1),
            ("W0206", 1),
            ("W0207", 1),
            ("W0304", 1),
            ("W0404", 1),
        ],
    },
    Case { file: "authzed-spicedb-swagger2.json", operations: 27, warnings: &[("W0004", 1)] },
    Case {
        file: "box.json",
        operations: 296,
        warnings: &[("W0101", 10), ("W0104", 1), ("W0110", 4), ("W0204", 1), ("W0301", 1)],
    },
    Case { file: "conjur/openapi.yml", operations: 41, warnings: &[("W0106", 1), ("W0201", 1), ("W0301", 4)] },
    Case { file: "discord.json", operations: 242, warnings: &[("W0204", 5), ("W0301", 12)] },
    Case { file: "fusionauth.yaml", operations: 323, warnings: &[] },
    Case { file: "keycloak-admin.json", operations: 316, warnings: &[("W0205", 1)] },
    Case { file: "oai-api-with-examples.yaml", operations: 2, warnings: &[] },
    Case { file: "oai-callback-example.yaml", operations: 1, warnings: &[("W0303", 1)] },
    Case { file: "oai-link-example.yaml", operations: 6, warnings: &[] },
    Case { file: "oai-petstore-expanded.yaml", operations: 4, warnings: &[] },
    Case { file: "oai-petstore.yaml", operations: 3, warnings: &[] },
    Case { file: "oai-uspto.yaml", operations: 3, warnings: &[] },
    Case { file: "okta-legacy-swagger2.json", operations: 341, warnings: &[("W0004", 1), ("W0107", 9)] },
    Case {
        file: "okta-management.yaml",
        operations: 732,
        warnings: &[("W0101", 3), ("W0104", 1), ("W0107", 55), ("W0201", 2), ("W0204", 4), ("W0301", 6)],
    },
    Case { file: "okta-oauth.yaml", operations: 44, warnings: &[("W0104", 14), ("W0106", 3)] },
    Case {
        file: "openai.yaml",
        operations: 288,
        warnings: &[
            ("W0003", 1),
            ("W0006", 2),
            ("W0101", 18),
            ("W0104", 2),
            ("W0107", 56),
            ("W0113", 4),
            ("W0203", 1),
            ("W0204", 7),
            ("W0301", 19),
        ],
    },
    Case { file: "openfga-swagger2.json", operations: 24, warnings: &[("W0004", 1)] },
    Case { file: "ory-hydra-swagger2.json", operations: 52, warnings: &[("W0004", 1)] },
    Case { file: "ory-kratos.json", operations: 60, warnings: &[("W0207", 1)] },
    Case { file: "redocly-museum.yaml", operations: 8, warnings: &[("W0003", 1)] },
    Case {
        file: "redocly-openapi-starter/openapi.yaml",
        operations: 12,
        warnings: &[("W0003", 1), ("W0301", 1), ("W0302", 1)],
    },
    Case { file: "supabase-auth.yaml", operations: 59, warnings: &[("W0113", 2), ("W0204", 1), ("W0206", 2)] },
    Case {
        file: "supertokens-fdi-3.0.yaml",
        operations: 31,
        warnings: &[("W0101", 1), ("W0304", 1), ("W0305", 1), ("W0306", 18), ("W0307", 1)],
    },
    Case {
        file: "supertokens-fdi-3.1.yaml",
        operations: 31,
        warnings: &[("W0101", 1), ("W0304", 1), ("W0305", 1), ("W0306", 18), ("W0307", 1)],
    },
    Case {
        file: "supertokens-fdi-4.0.yaml",
        operations: 41,
        warnings: &[("W0101", 1), ("W0301", 2), ("W0304", 1), ("W0305", 1), ("W0306", 18), ("W0307", 1)],
    },
    Case { file: "swagger-petstore.yaml", operations: 19, warnings: &[("W0301", 16)] },
    Case { file: "twilio-api-v2010.json", operations: 197, warnings: &[] },
    Case { file: "twilio-lookups-v1.json", operations: 1, warnings: &[("W0204", 1)] },
    Case { file: "twilio-messaging-v1.json", operations: 58, warnings: &[] },
    Case { file: "twilio-oauth-v1.json", operations: 2, warnings: &[] },
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// The name of a spec's generated crate: the file's stem, or the folder's name for a multi-file spec.
fn stem(file: &str) -> &str {
    match file.split_once('/') {
        Some((folder, _)) => folder,
        None => file.rsplit_once('.').map_or(file, |(s, _)| s),
    }
}

/// The root file of a multi-file spec's folder.
fn root_file(folder: &Path) -> Option<String> {
    ["openapi.yaml", "openapi.yml", "openapi.json"].into_iter().find(|f| folder.join(f).is_file()).map(str::to_owned)
}

/// Every file in the folder is in the table, in SOURCES.md and in the README's corpus table, so a spec
/// cannot be added without being checked and attributed.
#[test]
fn corpus_is_complete_and_attributed() {
    let dir = root().join("tests/corpus");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("read tests/corpus") {
        let entry = entry.expect("dir entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() {
            let root = root_file(&entry.path()).unwrap_or_else(|| panic!("tests/corpus/{name}/ has no openapi.yaml"));
            files.push(format!("{name}/{root}"));
        } else if name != "SOURCES.md" {
            files.push(name);
        }
    }
    files.sort();
    let listed: Vec<String> = CORPUS.iter().map(|c| c.file.to_owned()).collect();
    assert_eq!(files, listed, "tests/corpus/ and CORPUS must list the same files, in order");
    // Issue 14: at least 30 public specs (all but `authgen-defects.yaml`), at least 2 of them above 2 MB.
    let public = files.iter().filter(|f| *f != "authgen-defects.yaml").count();
    assert!(public >= 30, "the corpus has {public} public specs; issue 14 asks for at least 30");
    let large =
        files.iter().filter(|f| std::fs::metadata(dir.join(f)).is_ok_and(|m| m.len() > 2 * 1024 * 1024)).count();
    assert!(large >= 2, "the corpus has {large} specs above 2 MB; issue 14 asks for at least 2");
    let sources = std::fs::read_to_string(dir.join("SOURCES.md")).expect("read SOURCES.md");
    let readme = std::fs::read_to_string(root().join("README.md")).expect("read README.md");
    for file in &files {
        assert!(sources.contains(&format!("`{file}`")), "{file} is not attributed in tests/corpus/SOURCES.md");
        assert!(readme.contains(&format!("`{file}`")), "{file} is not in the README's conformance corpus table");
    }
}

#[test]
fn corpus_specs_generate_and_compile() {
    let root = root();
    let ws = root.join("target/corpus-ws");
    let mut failures = Vec::new();
    let mut members = Vec::new();
    for case in CORPUS {
        let rel = format!("tests/corpus/{}", case.file);
        let name = stem(case.file);
        let out = ws.join(name);
        let mut settings = Settings::default();
        settings
            .with_frameworks([Framework::Axum, Framework::ActixWeb])
            // A crate name has no dots (`supertokens-fdi-3.0.yaml`).
            .with_crate_name(format!("corpus-{}", name.replace('.', "-")))
            .with_invocation(&rel, &format!("target/corpus-ws/{name}"));
        let run = || {
            authgen::spec::load_file_named(&root.join(&rel), &rel)
                .expect("read corpus spec")
                .and_then(|loaded| authgen::generate(&loaded, &settings))
        };
        let generated = match run() {
            Ok(g) => g,
            Err(diags) => {
                failures.push(format!("{rel}: does not generate:\n{}", diags.render_plain()));
                continue;
            }
        };

        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for d in generated.warnings.items() {
            *counts.entry(d.code).or_default() += 1;
            if d.location.is_none() {
                failures.push(format!("{rel}: warning {} `{}` has no location", d.code, d.message));
            }
        }
        let counts: Vec<(&str, usize)> = counts.into_iter().collect();
        if counts != case.warnings {
            failures.push(format!(
                "{rel}: expected warnings {:?}, got {counts:?}:\n{}",
                case.warnings,
                generated.warnings.render_plain()
            ));
        }

        let ops = generated.files.iter().find(|f| f.path == "src/ops.rs").expect("an ops file");
        let modules = ops.contents.lines().filter(|l| l.starts_with("pub mod ")).count();
        // An operation whose method and route another one has is left out, with W0307.
        let left_out = counts.iter().find(|(code, _)| *code == "W0307").map_or(0, |(_, n)| *n);
        if modules + left_out != case.operations {
            failures.push(format!(
                "{rel}: {} operations in the spec, {modules} generated and {left_out} left out",
                case.operations
            ));
        }

        // The spec's defects (lenient warnings) are refused under `--strict`, each error at the place of a
        // warning. A phase stops at its errors, so a later phase's lenient warnings are not reached: the
        // refusal holds the first phase's, not necessarily all of them.
        let lenient: Vec<_> = generated
            .warnings
            .items()
            .iter()
            .filter(|d| authgen::spec::diag::LENIENT_CODES.contains(&d.code))
            .collect();
        if !lenient.is_empty() {
            let mut strict = settings.clone();
            strict.with_strict(true);
            let refusal = authgen::spec::load_file_named(&root.join(&rel), &rel)
                .expect("read corpus spec")
                .and_then(|loaded| authgen::generate(&loaded, &strict));
            match refusal {
                Ok(_) => failures
                    .push(format!("{rel}: generates under --strict despite {} lenient warning(s)", lenient.len())),
                Err(refused) => {
                    let errors: Vec<_> =
                        refused.items().iter().filter(|e| e.severity == authgen::spec::Severity::Error).collect();
                    let elsewhere = errors.iter().filter(|e| {
                        !lenient.iter().any(|d| {
                            d.code == e.code && d.pointer == e.pointer && d.location == e.location && same_file(d, e)
                        })
                    });
                    let elsewhere: Vec<String> = elsewhere.map(|e| format!("{} at {}", e.code, e.pointer)).collect();
                    if errors.is_empty() || !elsewhere.is_empty() {
                        failures.push(format!(
                            "{rel}: under --strict, errors not at the place of a lenient warning: {elsewhere:?}\n{}",
                            refused.render_plain()
                        ));
                    }
                }
            }
        }

        match run() {
            Ok(again) if again.files == generated.files => {}
            Ok(_) => failures.push(format!("{rel}: generating twice gives different bytes")),
            Err(_) => failures.push(format!("{rel}: the second generation failed")),
        }

        authgen::output::write_files(&out, &generated.files).expect("write the generated crate");
        members.push(name);
    }
    assert!(failures.is_empty(), "{} problem(s):\n\n{}", failures.len(), failures.join("\n\n"));

    // One workspace, pinned to this repository's lock file, so the check neither resolves nor builds
    // dependencies that the rest of the test suite has not already.
    let list = members.iter().map(|m| format!("{m:?}")).collect::<Vec<_>>().join(", ");
    let manifest = format!(
        "# Written by tests/tests/corpus.rs: every corpus spec's generated crate.\n\
         [workspace]\nresolver = \"3\"\nmembers = [{list}]\n"
    );
    std::fs::write(ws.join("Cargo.toml"), manifest).expect("write the scratch workspace manifest");
    std::fs::copy(root.join("Cargo.lock"), ws.join("Cargo.lock")).expect("copy Cargo.lock");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let has_clippy = Command::new(&cargo).args(["clippy", "--version"]).output().is_ok_and(|o| o.status.success());
    let subcommand = if has_clippy {
        "clippy"
    } else {
        eprintln!("cargo clippy is not installed; the corpus is only checked with `cargo check`");
        "check"
    };
    let status = Command::new(&cargo)
        .args([subcommand, "--quiet", "--workspace", "--all-features", "--message-format", "short", "--manifest-path"])
        .arg(ws.join("Cargo.toml"))
        // The target directory of the standalone-build test: the same dependencies, built with the same flags.
        .env("CARGO_TARGET_DIR", root.join("target").join("standalone"))
        .env("RUSTFLAGS", "-D warnings")
        // The generated crates are checked once and thrown away: incremental caches would cost time and, for the
        // two specs above 2 MB, over 1.5 GB of disk, and serve no later run.
        .env("CARGO_INCREMENTAL", "0")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "a generated corpus crate does not pass `cargo {subcommand}` (see above)");
}

/// `ops.rs` is printed in slices of operations on several threads; joined, they must be the file printed
/// whole in one piece.
#[test]
fn the_sliced_ops_file_is_the_file_printed_whole() {
    for file in ["swagger-petstore.yaml", "twilio-messaging-v1.json", "oai-petstore.yaml", "oai-callback-example.yaml"]
    {
        let rel = format!("tests/corpus/{file}");
        let text = std::fs::read_to_string(root().join(&rel)).expect("read corpus spec");
        let loaded = authgen::spec::load_str(&rel, &text).expect("loads");
        let mut settings = Settings::default();
        settings.with_frameworks([Framework::Axum, Framework::ActixWeb]);
        let generated = authgen::generate(&loaded, &settings).expect("generates");
        let sliced = &generated.files.iter().find(|f| f.path == "src/ops.rs").expect("an ops file").contents;
        let (api, _) = authgen::ir::lower::lower_spec(&loaded, &settings).expect("lowers");
        let ctx = authgen::emit::EmitCtx { api: &api, settings: &settings };
        let whole = authgen::emit::format::format_rust(
            authgen::emit::ops::emit_ops(ctx),
            &authgen::emit::format::header_line(&settings),
        )
        .expect("prints");
        assert!(sliced == &whole, "{rel}: the sliced ops.rs differs from the one printed whole");
    }
}

/// Both diagnostics are in the same file (the root spec, or one part of a multi-file spec).
fn same_file(a: &authgen::spec::Diagnostic, b: &authgen::spec::Diagnostic) -> bool {
    a.file.as_ref().map(|f| &f.name) == b.file.as_ref().map(|f| &f.name)
}
