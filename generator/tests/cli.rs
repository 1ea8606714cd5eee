//! The `authgen` binary end to end: help, generate, check, refusals and exit codes, each test in its own
//! temporary directory holding a copy of `spec/auth.yaml`. Paths on the command line are relative to that
//! directory, so the `@generated` headers and messages are predictable.
//!
//! `tests/cli/help.txt` is a snapshot of `authgen --help`; run with `AUTHGEN_BLESS=1` to rewrite it after
//! an intended change and review the diff.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

const BIN: &str = env!("CARGO_BIN_EXE_authgen");
const AUTH_YAML: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/auth.yaml"));

/// The files of a crate generated for axum alone.
const CRATE_FILES: [&str; 22] = [
    "Cargo.toml",
    "README.md",
    "cors/nginx.conf",
    "src/client.rs",
    "src/cors.rs",
    "src/lib.rs",
    "src/ops.rs",
    "src/runtime/axum_glue.rs",
    "src/runtime/body.rs",
    "src/runtime/client_addr.rs",
    "src/runtime/client_core.rs",
    "src/runtime/context.rs",
    "src/runtime/error.rs",
    "src/runtime/mod.rs",
    "src/runtime/multipart.rs",
    "src/runtime/params.rs",
    "src/runtime/request.rs",
    "src/runtime/response.rs",
    "src/runtime/validate.rs",
    "src/server/axum.rs",
    "src/server/mod.rs",
    "src/types.rs",
];

/// A summary that the edit in [`Sandbox::edit_description`] changes.
const OLD_SUMMARY: &str = "Start a passwordless sign-in or sign-up by sending a code or magic link.";
const NEW_SUMMARY: &str = "Begin a passwordless sign-in or sign-up by sending a code or magic link.";

/// What `generate` writes into every header for `--spec spec/auth.yaml --out out`.
const COMMAND: &str = "authgen generate --framework axum --spec spec/auth.yaml --out out";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {:?}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

struct Sandbox {
    dir: tempfile::TempDir,
}

/// Every file under a directory: relative path -> (contents, modification time).
type Snapshot = BTreeMap<String, (Vec<u8>, SystemTime)>;

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("spec")).expect("mkdir spec");
        std::fs::write(dir.path().join("spec/auth.yaml"), AUTH_YAML).expect("copy spec");
        Self { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Runs the binary in the sandbox, without a terminal and without colour.
    fn run(&self, args: &[&str]) -> Run {
        let output = Command::new(BIN)
            .args(args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .env("TERM", "dumb")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("FORCE_COLOR")
            .output()
            .expect("run authgen");
        let run = Run {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
        };
        assert!(!run.stdout.contains('\x1b') && !run.stderr.contains('\x1b'), "colour escapes in output: {run:?}");
        run
    }

    fn generate(&self) -> Run {
        let run = self.run(&["generate", "--spec", "spec/auth.yaml", "--out", "out"]);
        assert_eq!(run.code, Some(0), "{run:?}");
        run
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).unwrap_or_else(|e| panic!("write {rel}: {e}"));
    }

    /// Changes one operation summary in the spec copy.
    fn edit_description(&self) {
        let spec = self.read("spec/auth.yaml");
        assert_eq!(spec.matches(OLD_SUMMARY).count(), 1, "the summary to edit must occur once in spec/auth.yaml");
        self.write("spec/auth.yaml", &spec.replace(OLD_SUMMARY, NEW_SUMMARY));
    }

    /// Sets every file under `rel` to a modification time far in the past, so any rewrite shows.
    fn age(&self, rel: &str) {
        let past = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        for file in self.snapshot(rel).keys() {
            let f = std::fs::File::options().write(true).open(self.path(rel).join(file)).expect("open for mtime");
            f.set_modified(past).expect("set mtime");
        }
    }

    fn snapshot(&self, rel: &str) -> Snapshot {
        fn walk(root: &Path, dir: &Path, out: &mut Snapshot) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for entry in entries {
                let path = entry.expect("dir entry").path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    let rel = path.strip_prefix(root).expect("under root").to_string_lossy().replace('\\', "/");
                    let meta = std::fs::metadata(&path).expect("metadata");
                    out.insert(rel, (std::fs::read(&path).expect("read"), meta.modified().expect("mtime")));
                }
            }
        }
        let mut out = Snapshot::new();
        walk(&self.path(rel), &self.path(rel), &mut out);
        out
    }
}

fn file_names(snapshot: &Snapshot) -> Vec<&str> {
    snapshot.keys().map(String::as_str).collect()
}

fn bless() -> bool {
    std::env::var_os("AUTHGEN_BLESS").is_some_and(|v| v == "1")
}

#[test]
fn help_matches_the_snapshot() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["--help"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("\nExamples:\n  authgen --framework axum\n"), "{run:?}");
    assert!(run.stdout.contains("\n  authgen check\n"), "{run:?}");
    assert!(run.stdout.contains("Exit codes: 0 ok, 1 spec errors or stale output, 2 I/O or usage errors."), "{run:?}");
    let width = run.stdout.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(width <= 100, "help is wider than COLUMNS=100 ({width} columns)");
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/help.txt");
    if bless() {
        std::fs::create_dir_all(snapshot.parent().expect("parent")).expect("mkdir tests/cli");
        std::fs::write(&snapshot, &run.stdout).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&snapshot)
        .unwrap_or_else(|e| panic!("{} ({e}); run with AUTHGEN_BLESS=1 and review it", snapshot.display()));
    assert_eq!(run.stdout, expected, "`authgen --help` differs from {}", snapshot.display());
}

#[test]
fn generate_writes_the_crate_and_then_rewrites_nothing() {
    let sandbox = Sandbox::new();
    let first = sandbox.generate();
    let files = sandbox.snapshot("out");
    assert_eq!(file_names(&files), CRATE_FILES, "{first:?}");
    for file in CRATE_FILES {
        assert!(first.stderr.contains(&format!("created out/{file}\n")), "{file} not reported: {first:?}");
    }
    assert!(first.stderr.contains("generated 22 files in out (22 changed, 0 unchanged)"), "{first:?}");

    sandbox.age("out");
    let before = sandbox.snapshot("out");
    let second = sandbox.generate();
    assert!(second.stderr.contains("generated 22 files in out (0 changed, 22 unchanged)"), "{second:?}");
    assert!(!second.stderr.contains("created") && !second.stderr.contains("updated"), "{second:?}");
    assert_eq!(sandbox.snapshot("out"), before, "an unchanged file was rewritten");
}

#[test]
fn check_names_stale_and_missing_files() {
    let sandbox = Sandbox::new();
    sandbox.generate();
    let check = ["check", "--spec", "spec/auth.yaml", "--out", "out"];

    let fresh = sandbox.run(&check);
    assert_eq!(fresh.code, Some(0), "{fresh:?}");
    assert!(fresh.stderr.contains("out is up to date (22 files)"), "{fresh:?}");

    // A changed summary: every file that carries it is stale, and only those.
    sandbox.age("out");
    let before = sandbox.snapshot("out");
    let expected_stale: Vec<&str> = before
        .iter()
        .filter(|(_, (bytes, _))| String::from_utf8_lossy(bytes).contains(OLD_SUMMARY))
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(expected_stale.contains(&"src/ops.rs"), "the summary should be in src/ops.rs: {expected_stale:?}");
    sandbox.edit_description();
    let stale = sandbox.run(&check);
    assert_eq!(stale.code, Some(1), "{stale:?}");
    let mut named: Vec<&str> = stale.stderr.lines().filter_map(|l| l.strip_prefix("stale: out/")).collect();
    named.sort_unstable();
    assert_eq!(named, expected_stale, "{stale:?}");
    assert!(stale.stderr.lines().any(|l| l.starts_with('+') && l.contains(NEW_SUMMARY)), "no diff line: {stale:?}");
    assert!(stale.stderr.lines().any(|l| l.starts_with('-') && l.contains(OLD_SUMMARY)), "no diff line: {stale:?}");
    assert!(
        stale.stderr.contains(&format!("{} of 22 generated files are stale; run `{COMMAND}`", expected_stale.len())),
        "{stale:?}"
    );
    assert_eq!(sandbox.snapshot("out"), before, "check wrote to the output directory");

    // Regenerated, then a file deleted.
    sandbox.generate();
    assert_eq!(sandbox.run(&check).code, Some(0));
    std::fs::remove_file(sandbox.path("out/src/cors.rs")).expect("delete");
    let missing = sandbox.run(&check);
    assert_eq!(missing.code, Some(1), "{missing:?}");
    assert!(missing.stderr.contains("missing: out/src/cors.rs\n"), "{missing:?}");
    assert!(!missing.stderr.contains("stale: "), "{missing:?}");
    assert!(missing.stderr.contains(&format!("1 of 22 generated files are stale; run `{COMMAND}`")), "{missing:?}");
    assert!(!sandbox.path("out/src/cors.rs").exists(), "check recreated the file");
}

#[test]
fn generate_check_behaves_like_check() {
    let sandbox = Sandbox::new();
    sandbox.generate();
    let check = ["check", "--spec", "spec/auth.yaml", "--out", "out"];
    let generate_check = ["generate", "--check", "--spec", "spec/auth.yaml", "--out", "out"];
    let same = |state: &str| {
        let a = sandbox.run(&check);
        let before = sandbox.snapshot("out");
        let b = sandbox.run(&generate_check);
        assert_eq!(sandbox.snapshot("out"), before, "`generate --check` wrote ({state})");
        assert_eq!((a.code, &a.stdout, &a.stderr), (b.code, &b.stdout, &b.stderr), "{state}: {a:?}\nvs\n{b:?}");
        a.code
    };
    assert_eq!(same("fresh"), Some(0));
    sandbox.age("out");
    sandbox.edit_description();
    assert_eq!(same("stale"), Some(1));
    std::fs::remove_file(sandbox.path("out/README.md")).expect("delete");
    assert_eq!(same("stale and missing"), Some(1));
}

#[test]
fn generate_refuses_to_overwrite_a_hand_written_file() {
    // Into a populated output directory, with a change pending for other files.
    let sandbox = Sandbox::new();
    sandbox.generate();
    sandbox.edit_description();
    sandbox.write("out/src/types.rs", "// mine\n");
    sandbox.age("out");
    let before = sandbox.snapshot("out");
    let run = sandbox.generate_expecting(2);
    assert!(run.stderr.contains("refusing to overwrite `out/src/types.rs`"), "{run:?}");
    assert_eq!(sandbox.snapshot("out"), before, "something was written although generation was refused");
    // src/ops.rs would have been updated: check still says so.
    let check = sandbox.run(&["check", "--spec", "spec/auth.yaml", "--out", "out"]);
    assert!(check.stderr.contains("stale: out/src/ops.rs\n"), "{check:?}");
    assert!(check.stderr.contains("stale: out/src/types.rs\n"), "{check:?}");

    // Into an output directory holding only the hand-written file: nothing is created.
    let sandbox = Sandbox::new();
    sandbox.write("out/src/types.rs", "// mine\n");
    let run = sandbox.generate_expecting(2);
    assert!(run.stderr.contains("refusing to overwrite"), "{run:?}");
    assert_eq!(file_names(&sandbox.snapshot("out")), ["src/types.rs"], "{run:?}");
    assert_eq!(sandbox.read("out/src/types.rs"), "// mine\n");
}

/// Upgrading a crate generated before the runtime became a folder: its `src/runtime.rs` (with authgen's header)
/// next to the new `src/runtime/mod.rs` would not compile (E0761), so `check` reports it as obsolete and
/// `generate` removes it while writing the folder.
#[test]
fn generate_replaces_the_single_file_runtime_of_an_earlier_version() {
    let sandbox = Sandbox::new();
    sandbox.generate();
    let header = sandbox.read("out/src/runtime/mod.rs").lines().next().expect("a header line").to_owned();
    assert!(header.starts_with("// @generated by authgen from spec/auth.yaml"), "{header}");
    // The layout an earlier version wrote: everything else as now, the runtime in one file.
    std::fs::remove_dir_all(sandbox.path("out/src/runtime")).expect("delete src/runtime/");
    sandbox
        .write("out/src/runtime.rs", &format!("{header}\n//! Framework-neutral plumbing.\n\npub struct RawRequest;\n"));
    let runtime_files: Vec<&str> = CRATE_FILES.iter().copied().filter(|f| f.starts_with("src/runtime/")).collect();
    assert_eq!(runtime_files.len(), 12);

    let check = sandbox.run(&["check", "--spec", "spec/auth.yaml", "--out", "out"]);
    assert_eq!(check.code, Some(1), "{check:?}");
    assert!(check.stderr.contains("obsolete: out/src/runtime.rs (no longer generated)\n"), "{check:?}");
    for file in &runtime_files {
        assert!(check.stderr.contains(&format!("missing: out/{file}\n")), "{file} not reported: {check:?}");
    }
    assert!(check.stderr.contains(&format!("13 of 22 generated files are stale; run `{COMMAND}`")), "{check:?}");
    assert!(sandbox.path("out/src/runtime.rs").exists(), "check deleted the old runtime");

    let run = sandbox.generate();
    assert!(run.stderr.contains("removed out/src/runtime.rs (no longer generated)\n"), "{run:?}");
    for file in &runtime_files {
        assert!(run.stderr.contains(&format!("created out/{file}\n")), "{file} not reported: {run:?}");
    }
    assert!(!sandbox.path("out/src/runtime.rs").exists(), "the old runtime is still there: {run:?}");
    assert_eq!(file_names(&sandbox.snapshot("out")), CRATE_FILES, "{run:?}");
    assert!(sandbox.read("out/src/lib.rs").contains("\npub mod runtime;\n"));
    let fresh = sandbox.run(&["check", "--spec", "spec/auth.yaml", "--out", "out"]);
    assert_eq!(fresh.code, Some(0), "{fresh:?}");
}

#[test]
fn generate_refuses_a_hand_written_file_for_a_generated_module() {
    // A hand-written `src/runtime.rs` would be a second file for the generated `src/runtime/` module.
    let sandbox = Sandbox::new();
    sandbox.generate();
    sandbox.write("out/src/runtime.rs", "//! my own runtime\n");
    sandbox.edit_description();
    sandbox.age("out");
    let before = sandbox.snapshot("out");
    let run = sandbox.generate_expecting(2);
    assert!(
        run.stderr.contains(
            "`out/src/runtime.rs` has no `@generated` header and would be a second file for the module authgen writes as `out/src/runtime/mod.rs` (rustc E0761)"
        ),
        "{run:?}"
    );
    assert_eq!(sandbox.snapshot("out"), before, "something was written although generation was refused");
    std::fs::remove_file(sandbox.path("out/src/runtime.rs")).expect("delete the hand-written runtime");
    sandbox.generate_expecting(0);
}

impl Sandbox {
    fn generate_expecting(&self, code: i32) -> Run {
        let run = self.run(&["generate", "--spec", "spec/auth.yaml", "--out", "out"]);
        assert_eq!(run.code, Some(code), "{run:?}");
        run
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

#[test]
fn broken_spec_exits_1_with_a_location_and_writes_nothing() {
    let sandbox = Sandbox::new();
    sandbox.generate();
    sandbox.age("out");
    let before = sandbox.snapshot("out");

    // A reference to a schema that does not exist: a warning by default, an error under `--strict`.
    let target = "$ref: '#/components/schemas/CreateCodeRequest'";
    let at = AUTH_YAML.find(target).expect("reference in spec/auth.yaml");
    sandbox.write("spec/auth.yaml", &AUTH_YAML.replacen(target, "$ref: '#/components/schemas/CreateCodeRequst'", 1));
    let (line, column) = line_col(AUTH_YAML, at);
    let run = sandbox.run(&["generate", "--spec", "spec/auth.yaml", "--out", "out", "--strict"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains(&format!("spec/auth.yaml:{line}:{column}")), "no {line}:{column} in {run:?}");
    assert!(run.stderr.contains("W0205") && run.stderr.contains("CreateCodeRequst"), "{run:?}");
    assert!(run.stderr.contains("error: 1 error(s) in spec/auth.yaml; nothing was written"), "{run:?}");
    assert_eq!(sandbox.snapshot("out"), before, "the output directory was touched");
    sandbox.write("spec/auth.yaml", AUTH_YAML);

    // A YAML syntax error (line 12 is indented one column short), into a directory that does not exist yet.
    sandbox.write(
        "spec/bad.yaml",
        "openapi: 3.0.3\ninfo:\n  title: Pets\n  version: \"1\"\npaths:\n  /pets:\n    get:\n      operationId: \
         listPets\n      responses:\n        \"200\":\n          description: ok\n         content: {}\n",
    );
    let run = sandbox.run(&["generate", "--spec", "spec/bad.yaml", "--out", "new"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("spec/bad.yaml:12:10"), "{run:?}");
    assert!(run.stderr.contains("E0001"), "{run:?}");
    assert!(run.stderr.contains("nothing was written"), "{run:?}");
    assert!(!sandbox.path("new").exists(), "the output directory was created");

    // `check` reports the same errors with the same exit code.
    let run = sandbox.run(&["check", "--spec", "spec/bad.yaml", "--out", "out"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("spec/bad.yaml:12:10"), "{run:?}");
}

#[test]
fn missing_spec_exits_2() {
    let sandbox = Sandbox::new();
    for args in [
        &["generate", "--spec", "spec/nope.yaml", "--out", "out"][..],
        &["check", "--spec", "spec/nope.yaml", "--out", "out"][..],
    ] {
        let run = sandbox.run(args);
        assert_eq!(run.code, Some(2), "{args:?}: {run:?}");
        assert!(run.stderr.contains("cannot read spec `spec/nope.yaml`"), "{run:?}");
        assert!(!sandbox.path("out").exists(), "output directory created: {run:?}");
    }
}

#[test]
fn unknown_framework_exits_2() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["generate", "--framework", "foo", "--spec", "spec/auth.yaml", "--out", "out"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("invalid value 'foo'") && run.stderr.contains("--framework"), "{run:?}");
    assert!(!sandbox.path("out").exists(), "output directory created: {run:?}");
    let run = sandbox.run(&["--framework", "foo"]);
    assert_eq!(run.code, Some(2), "{run:?}");
}

#[test]
fn header_names_the_spec_and_the_output_as_given() {
    let sandbox = Sandbox::new();
    let expect_headers = |spec: &str, out: &str, out_dir: &Path| {
        let text = format!(
            "@generated by authgen from {spec}; do not edit. Regenerate: authgen generate --framework axum --spec \
             {spec} --out {out}"
        );
        for file in CRATE_FILES {
            let contents = std::fs::read_to_string(out_dir.join(file)).expect("generated file");
            let first = contents.lines().next().unwrap_or("");
            if file.ends_with(".rs") {
                assert_eq!(first, format!("// {text}"), "line 1 of {file}");
            } else {
                assert!(first.contains(&text), "line 1 of {file}: {first}");
            }
        }
    };

    let run = sandbox.run(&["generate", "--spec", "spec/auth.yaml", "--out", "gen/api"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    expect_headers("spec/auth.yaml", "gen/api", &sandbox.path("gen/api"));

    // Absolute paths stay absolute.
    let spec = sandbox.path("spec/auth.yaml").to_string_lossy().replace('\\', "/");
    let out = sandbox.path("abs").to_string_lossy().replace('\\', "/");
    let run = sandbox.run(&["generate", "--spec", &spec, "--out", &out]);
    assert_eq!(run.code, Some(0), "{run:?}");
    expect_headers(&spec, &out, &sandbox.path("abs"));
}

#[test]
fn authgen_toml_in_the_current_directory_stands_for_the_flags() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "authgen.toml",
        "spec = \"spec/auth.yaml\"\nout = \"api\"\nframeworks = [\"axum\", \"actix-web\"]\ncrate-name = \"my-auth\"\n",
    );
    let run = sandbox.run(&[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(sandbox.read("api/Cargo.toml").contains("name = \"my-auth\""));
    assert!(sandbox.path("api/src/server/actix.rs").is_file(), "both frameworks from the file");
    // The header records the equivalent command, so the output does not depend on the file to be checked.
    let header = sandbox.read("api/src/lib.rs").lines().next().expect("a header").to_owned();
    assert!(
        header.ends_with(
            "Regenerate: authgen generate --framework axum --framework actix-web --spec spec/auth.yaml --out api \
             --crate-name my-auth"
        ),
        "{header}"
    );
    // A flag wins over the file.
    let run = sandbox.run(&["check", "--crate-name", "other"]);
    assert_eq!(run.code, Some(1), "the crate name from the flag makes the output stale: {run:?}");
    let run = sandbox.run(&["check"]);
    assert_eq!(run.code, Some(0), "{run:?}");
}

#[test]
fn config_paths_are_relative_to_the_file_and_mistakes_exit_2_with_a_location() {
    let sandbox = Sandbox::new();
    sandbox.write("conf/authgen.toml", "spec = \"../spec/auth.yaml\"\nout = \"out\"\n");
    let run = sandbox.run(&["generate", "--config", "conf/authgen.toml"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(sandbox.path("conf/out/src/lib.rs").is_file(), "out is relative to the config file");

    sandbox.write("bad.toml", "spec = \"spec/auth.yaml\"\nframework = [\"axum\"]\n");
    let run = sandbox.run(&["generate", "--config", "bad.toml"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.starts_with("error: bad.toml:2:1: unknown field `framework`"), "{run:?}");

    let run = sandbox.run(&["generate", "--config", "missing.toml"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.starts_with("error: missing.toml: cannot read the config file"), "{run:?}");
}

#[test]
fn string_formats_are_typed_by_default_and_the_flag_is_recorded_for_check() {
    let sandbox = Sandbox::new();
    let spec = "openapi: 3.0.3\ninfo: {title: Stamps, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    Stamp:\n      \
                type: object\n      properties:\n        at: {type: string, format: date-time}\n        id: {type: string, \
                format: uuid}\n";
    sandbox.write("spec/stamps.yaml", spec);
    let run = sandbox.run(&["generate", "--spec", "spec/stamps.yaml", "--out", "typed"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let types = sandbox.read("typed/src/types.rs");
    assert!(types.contains("::chrono::DateTime<::chrono::Utc>") && types.contains("::uuid::Uuid"), "{types}");
    let manifest = sandbox.read("typed/Cargo.toml");
    assert!(manifest.contains("\nchrono = ") && manifest.contains("\nuuid = "), "{manifest}");
    assert!(!manifest.contains("\nbase64 = "), "only the formats the spec uses bring a dependency: {manifest}");

    let run = sandbox.run(&["generate", "--spec", "spec/stamps.yaml", "--out", "plain", "--string-formats"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let types = sandbox.read("plain/src/types.rs");
    assert!(!types.contains("chrono") && !types.contains("uuid::"), "{types}");
    assert!(!sandbox.read("plain/Cargo.toml").contains("chrono"));
    assert!(sandbox.read("plain/src/lib.rs").lines().next().unwrap_or_default().contains(" --string-formats"));
    // `check` regenerates the way the output was generated: with the recorded flag, nothing is stale.
    let run = sandbox.run(&["check", "--spec", "spec/stamps.yaml", "--out", "plain"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let run = sandbox.run(&["check", "--spec", "spec/stamps.yaml", "--out", "typed"]);
    assert_eq!(run.code, Some(0), "{run:?}");
}

#[test]
fn lenient_null_is_opt_in_and_recorded_for_check() {
    let sandbox = Sandbox::new();
    let spec = "openapi: 3.0.3\ninfo: {title: Notes, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    Note:\n      \
                type: object\n      properties:\n        text: {type: string}\n        tag: {type: string, nullable: true}\n";
    sandbox.write("spec/notes.yaml", spec);
    let run = sandbox.run(&["generate", "--spec", "spec/notes.yaml", "--out", "strict"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let types = sandbox.read("strict/src/types.rs");
    assert_eq!(types.matches("deserialize_with = \"crate::runtime::not_null\"").count(), 1, "only `text`: {types}");

    sandbox.write("authgen.toml", "lenient-null = true\n");
    let run = sandbox.run(&["generate", "--spec", "spec/notes.yaml", "--out", "lenient"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    std::fs::remove_file(sandbox.path("authgen.toml")).expect("delete the config file");
    assert!(!sandbox.read("lenient/src/types.rs").contains("not_null"));
    assert!(sandbox.read("lenient/src/lib.rs").lines().next().unwrap_or_default().contains(" --lenient-null"));
    // `check` honours what each output recorded.
    for out in ["strict", "lenient"] {
        let run = sandbox.run(&["check", "--spec", "spec/notes.yaml", "--out", out]);
        assert_eq!(run.code, Some(0), "{out}: {run:?}");
    }
    let run = sandbox.run(&["check", "--spec", "spec/notes.yaml", "--out", "strict", "--lenient-null"]);
    assert_eq!(run.code, Some(1), "the flag changes the output: {run:?}");
}

/// A spec with two defects authgen works around: a path parameter its template lacks (W0304) and a reference
/// to a schema that is not defined (W0205).
const DEFECTS: &str = "openapi: 3.0.3
info: {title: Pets, version: '1'}
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - {name: apiBasePath, in: path, required: true, schema: {type: string}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
";

#[test]
fn defects_are_warnings_unless_strict_allow_and_deny_tune_them() {
    let sandbox = Sandbox::new();
    sandbox.write("spec/pets.yaml", DEFECTS);
    let param = "spec/pets.yaml:8:11";
    let reference = "spec/pets.yaml:14:24";
    let generate = |out: &str, extra: &[&str]| {
        let mut args = vec!["generate", "--spec", "spec/pets.yaml", "--out", out];
        args.extend_from_slice(extra);
        sandbox.run(&args)
    };

    let run = generate("lenient", &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    for (code, at) in [("W0304", param), ("W0205", reference)] {
        assert!(run.stderr.contains(code) && run.stderr.contains(at), "{code} at {at}: {run:?}");
    }
    let ops = sandbox.read("lenient/src/ops.rs");
    assert!(!ops.contains("api_base_path"), "the unbound path parameter is left out");
    assert!(ops.contains("Ok(::serde_json::Value)"), "the missing schema is any JSON value: {ops}");

    // `--strict` refuses both, at the same places, and writes nothing.
    let run = generate("strict", &["--strict"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains(param) && run.stderr.contains(reference), "{run:?}");
    assert!(run.stderr.contains("error: 2 error(s) in spec/pets.yaml; nothing was written"), "{run:?}");
    assert!(!sandbox.path("strict").exists(), "{run:?}");
    // ... unless a code is allowed; a denied code is an error without `--strict`.
    let run = generate("strict", &["--strict", "--allow", "W0304", "--allow", "W0205"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(!run.stderr.contains("W0304") && !run.stderr.contains("W0205"), "allowed codes are silent: {run:?}");
    let run = generate("denied", &["--deny", "W0304"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains(param) && run.stderr.contains("error: 1 error(s)"), "{run:?}");
    // A code that is not a warning of authgen is a usage error.
    let run = generate("bad", &["--allow", "E0201"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("`E0201` is not a warning code of authgen"), "{run:?}");

    // The options are recorded, so `check` applies them as the generation did.
    let header = sandbox.read("strict/src/lib.rs").lines().next().unwrap_or_default().to_owned();
    assert!(header.ends_with("--out strict --strict --allow W0205 --allow W0304"), "{header}");
    let run = sandbox.run(&["check", "--spec", "spec/pets.yaml", "--out", "strict"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let run = sandbox.run(&["check", "--spec", "spec/pets.yaml", "--out", "lenient", "--deny", "W0205"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains(reference) && run.stderr.contains("nothing was written"), "{run:?}");

    // The same from authgen.toml.
    sandbox
        .write("authgen.toml", "spec = \"spec/pets.yaml\"\nout = \"from-file\"\nstrict = true\nallow = [\"W0304\"]\n");
    let run = sandbox.run(&[]);
    assert_eq!(run.code, Some(1), "strict from the file, W0205 still refused: {run:?}");
    assert!(run.stderr.contains(reference) && !run.stderr.contains(param), "{run:?}");
    sandbox.write("authgen.toml", "spec = \"spec/pets.yaml\"\nout = \"from-file\"\ndeny = [\"W9999\"]\n");
    let run = sandbox.run(&[]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.starts_with("error: authgen.toml:3:1: `W9999` in `deny` is not a warning code"), "{run:?}");
}

#[test]
fn check_notices_a_change_in_a_file_the_spec_references() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "api/openapi.yaml",
        "openapi: 3.0.3\ninfo: {title: Pets, version: '1'}\npaths:\n  /pets:\n    $ref: 'paths/pets.yaml'\n",
    );
    sandbox.write(
        "api/paths/pets.yaml",
        "get:\n  operationId: listPets\n  responses:\n    '200':\n      description: ok\n      content:\n        \
         application/json:\n          schema: {type: array, items: {$ref: '../schemas/pet.yaml#/Pet'}}\n",
    );
    sandbox.write(
        "api/schemas/pet.yaml",
        "Pet:\n  description: A pet.\n  type: object\n  properties: {name: {type: string}}\n",
    );
    let generate = ["generate", "--spec", "api/openapi.yaml", "--out", "out"];
    let check = ["check", "--spec", "api/openapi.yaml", "--out", "out"];
    assert_eq!(sandbox.run(&generate).code, Some(0));
    let fresh = sandbox.run(&check);
    assert_eq!(fresh.code, Some(0), "{fresh:?}");
    assert!(fresh.stderr.contains("out is up to date (22 files, from 3 spec files)"), "{fresh:?}");

    sandbox.write(
        "api/schemas/pet.yaml",
        "Pet:\n  description: A good pet.\n  type: object\n  properties: {name: {type: string}}\n",
    );
    let stale = sandbox.run(&check);
    assert_eq!(stale.code, Some(1), "{stale:?}");
    assert!(stale.stderr.contains("stale: out/src/types.rs"), "{stale:?}");
    assert!(stale.stderr.lines().any(|l| l.starts_with('+') && l.contains("A good pet.")), "{stale:?}");

    // A mistake in the referenced file is reported there.
    sandbox.write("api/schemas/pet.yaml", "Pet:\n  type: object\n  properties: {name: {type: strng}}\n");
    let broken = sandbox.run(&check);
    assert_eq!(broken.code, Some(1), "{broken:?}");
    assert!(broken.stderr.contains("api/schemas/pet.yaml:3:"), "{broken:?}");
}
