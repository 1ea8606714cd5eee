//! Diagnostics corpus: every spec under `tests/diagnostics/` must render exactly the diagnostics in the `.txt`
//! file next to it, without panicking. A folder is a multi-file spec: its root is `openapi.yaml`, and the `.txt`
//! file beside the folder has its name. A case whose codes are all errors must fail to generate; a case whose
//! codes are all warnings (a construct authgen degrades instead of refusing) must generate.
//!
//! The expected files are the specification of correct behaviour: each `file:line:col` in them was checked
//! by hand against the input. Run with `AUTHGEN_BLESS=1` to rewrite them after an intended change, then
//! review the diff line by line.
//!
//! The "never panics" test mutates `spec/auth.yaml` deterministically and runs load + generate on every
//! variant; errors are fine, panics are not.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use authgen::{Diagnostics, Settings, spec};

/// Every case: the input file or folder (relative to `tests/diagnostics/`, a folder ending in `/`) and the
/// codes it must report, in order.
/// The `.txt` file pins the full rendering; this table keeps the intent readable and guards against a
/// blessed expectation that silently lost a diagnostic.
const CASES: &[(&str, &[&str])] = &[
    ("yaml_bad_indentation.yaml", &["E0001"]),
    ("json_trailing_comma.json", &["E0001"]),
    ("json_missing_comma.json", &["E0001"]),
    ("openapi_31_unsupported.yaml", &["W0108", "W0111"]),
    ("openapi_32_json.json", &["E0002"]),
    ("responses_is_a_list.yaml", &["E0001"]),
    ("wrong_type_in_schema.yaml", &["E0001"]),
    ("duplicate_key.yaml", &["E0001"]),
    ("duplicate_key_json.json", &["E0001"]),
    ("non_finite_number.yaml", &["E0001"]),
    ("unresolved_ref.yaml", &["W0205"]),
    ("unresolved_parameter_ref.yaml", &["E0201"]),
    ("reference_cycle.yaml", &["E0211", "E0211", "E0211"]),
    ("unresolved_refs_collected.yaml", &["W0205", "W0205", "W0205", "W0205"]),
    ("external_ref.yaml", &["E0202"]),
    ("duplicate_operation_id.yaml", &["E0303", "E0303"]),
    ("path_template_without_parameter.yaml", &["E0305"]),
    ("path_parameter_not_in_template.yaml", &["W0304"]),
    ("fdi_style_paths.yaml", &["W0305", "W0306", "W0306", "W0306", "W0307", "W0307"]),
    ("unbalanced_braces.yaml", &["E0302", "E0302"]),
    ("discriminator_mapping_not_in_one_of.yaml", &["E0104"]),
    ("discriminated_one_of_inline_member.yaml", &["W0113"]),
    ("discriminated_one_of_pinned_inline.yaml", &["W0113", "W0113"]),
    ("multipart_without_properties.yaml", &["W0302"]),
    ("object_query_parameter.yaml", &["W0203"]),
    ("unknown_security_scheme.yaml", &["W0207"]),
    ("no_responses.yaml", &["E0405"]),
    ("unknown_schema_type.yaml", &["E0101", "E0101"]),
    ("misplaced_component_refs.yaml", &["E0208", "E0210", "E0209"]),
    ("swagger2_converted.yaml", &["W0004", "W0005", "W0005"]),
    ("swagger2_errors.yaml", &["W0004", "W0205", "W0205", "W0304"]),
    ("wide_integers.yaml", &["W0007", "W0006", "W0006"]),
    ("wide_integers_json.json", &["W0006", "W0006"]),
    ("pattern_properties.yaml", &["W0112", "W0112"]),
    ("unsupported_pattern.yaml", &["W0114"]),
    ("schema_ref_to_response.yaml", &["W0206"]),
    ("structured_response_header.yaml", &["W0404"]),
    ("remote_ref.yaml", &["E0213"]),
    ("multi_file_error_in_referenced_file/", &["E0101"]),
    ("multi_file_missing_fragment/", &["E0212"]),
    ("multi_file_broken_json/", &["E0001"]),
    ("presence_rules.yaml", &["W0120", "E0110"]),
    ("optional_segment_mistakes.yaml", &["E0306", "E0306", "E0306", "E0306", "E0306", "E0306"]),
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics")
}

fn bless() -> bool {
    std::env::var_os("AUTHGEN_BLESS").is_some_and(|v| v == "1")
}

/// Load (from the file, so that references to other files are followed) + generate; the diagnostics (of the
/// failing phase, or the warnings of a success) and whether files were generated. Files are named relative to
/// `tests/diagnostics/`.
fn run_any(name: &str) -> Result<(Diagnostics, bool), String> {
    let (path, shown) = match name.strip_suffix('/') {
        Some(folder) => (corpus_dir().join(folder).join("openapi.yaml"), format!("{folder}/openapi.yaml")),
        None => (corpus_dir().join(name), name.to_owned()),
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| match spec::load_file_named(&path, &shown) {
        Err(e) => Ok(Err(format!("cannot read {}: {e}", path.display()))),
        Ok(Err(diags)) => Err(diags),
        Ok(Ok(loaded)) => authgen::generate(&loaded, &Settings::default()).map(|g| Ok(g.warnings)),
    }));
    match outcome {
        Err(panic) => Err(format!("panicked: {}", panic_message(&*panic))),
        Ok(Ok(Err(unreadable))) => Err(unreadable),
        Ok(Ok(Ok(warnings))) => Ok((warnings, true)),
        Ok(Err(diags)) => Ok((diags, false)),
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

#[test]
fn diagnostics_corpus() {
    let dir = corpus_dir();
    let mut failures = Vec::new();
    for (name, codes) in CASES {
        let input = dir.join(name.trim_end_matches('/'));
        let degrades = codes.iter().all(|c| c.starts_with('W'));
        let diags = match run_any(name) {
            Ok((d, generated)) if generated == degrades => d,
            Ok((_, true)) => {
                failures.push(format!("{name}: generated files instead of failing"));
                continue;
            }
            Ok((d, false)) => {
                failures.push(format!("{name}: failed instead of generating with warnings:\n{}", d.render_plain()));
                continue;
            }
            Err(what) => {
                failures.push(format!("{name}: {what}"));
                continue;
            }
        };
        if !degrades && !diags.has_errors() {
            failures.push(format!("{name}: generation failed but reported no error"));
        }
        let actual_codes: Vec<&str> = diags.items().iter().map(|d| d.code).collect();
        if actual_codes != *codes {
            failures.push(format!("{name}: expected codes {codes:?}, got {actual_codes:?}"));
        }
        for d in diags.items() {
            if d.location.is_none() {
                failures.push(format!("{name}: {} `{}` has no location", d.code, d.message));
            }
        }
        let rendered = diags.render_plain();
        let expected_path = match name.strip_suffix('/') {
            Some(folder) => dir.join(format!("{folder}.txt")),
            None => input.with_extension("txt"),
        };
        if bless() {
            std::fs::write(&expected_path, &rendered).expect("write expected file");
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == rendered => {}
            Ok(expected) => failures.push(format!(
                "{name}: rendering differs from {}\n--- expected\n{expected}--- actual\n{rendered}",
                expected_path.display()
            )),
            Err(e) => failures.push(format!(
                "{name}: cannot read {} ({e}); run with AUTHGEN_BLESS=1 and review it\n--- actual\n{rendered}",
                expected_path.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}

/// `--strict` refuses every case that only generated because of a lenient warning, with each such warning an
/// error at the same place; every lenient code has a case.
#[test]
fn strict_turns_lenient_warnings_into_errors_at_the_same_place() {
    let mut strict = Settings::default();
    strict.with_strict(true);
    let mut failures = Vec::new();
    let mut covered = BTreeSet::new();
    for (name, codes) in CASES {
        if !codes.iter().any(|c| spec::diag::LENIENT_CODES.contains(c)) {
            continue;
        }
        let text = std::fs::read_to_string(corpus_dir().join(name)).expect("read case");
        let Ok((lenient, true)) = run_any(name) else {
            failures.push(format!("{name}: does not generate by default"));
            continue;
        };
        let outcome = match spec::load_str(name, &text) {
            Err(d) => Err(d),
            Ok(loaded) => authgen::generate(&loaded, &strict).map(|g| g.warnings),
        };
        let Err(refused) = outcome else {
            failures.push(format!("{name}: generated under --strict"));
            continue;
        };
        for d in lenient.items().iter().filter(|d| spec::diag::LENIENT_CODES.contains(&d.code)) {
            covered.insert(d.code);
            let same = refused.items().iter().any(|e| {
                e.code == d.code
                    && e.severity == spec::Severity::Error
                    && e.location == d.location
                    && e.pointer == d.pointer
            });
            if !same {
                failures.push(format!(
                    "{name}: {} at {} is not an error at the same place:\n{}",
                    d.code,
                    d.pointer,
                    refused.render_plain()
                ));
            }
        }
    }
    let missing: Vec<&&str> = spec::diag::LENIENT_CODES.iter().filter(|c| !covered.contains(*c)).collect();
    assert!(missing.is_empty(), "lenient codes without a diagnostics case: {missing:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `--allow` drops a warning, `--deny` makes it an error, and deny wins over allow.
#[test]
fn allow_and_deny_tune_single_codes() {
    let name = "unresolved_refs_collected.yaml";
    let text = std::fs::read_to_string(corpus_dir().join(name)).expect("read case");
    let loaded = spec::load_str(name, &text).expect("loads");
    let mut allow = Settings::default();
    allow.with_strict(true).with_allowed(["W0205"]);
    let generated = authgen::generate(&loaded, &allow).expect("an allowed code is not refused, even under --strict");
    assert!(generated.warnings.items().is_empty(), "{}", generated.warnings.render_plain());
    let mut deny = Settings::default();
    deny.with_allowed(["W0205"]).with_denied(["W0205"]);
    let refused = authgen::generate(&loaded, &deny).expect_err("a denied code is an error");
    assert_eq!(refused.items().iter().filter(|d| d.severity == spec::Severity::Error).count(), 4);
}

/// Every warning code used in `generator/src` is in the catalogue (`WARNING_CODES`), and every catalogued code
/// is in the README's diagnostics table with what authgen does.
#[test]
fn every_warning_code_is_catalogued_and_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut used = BTreeSet::new();
    let mut dirs = vec![root.join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read source");
            for (at, _) in text.match_indices("\"W0") {
                let code = &text[at + 1..(at + 6).min(text.len())];
                if code.len() == 5 && code[1..].bytes().all(|b| b.is_ascii_digit()) {
                    used.insert(code.to_owned());
                }
            }
        }
    }
    let catalogue: BTreeSet<String> = spec::diag::WARNING_CODES.iter().map(|c| (*c).to_owned()).collect();
    assert_eq!(used, catalogue, "the codes used in generator/src and WARNING_CODES differ");
    let readme = std::fs::read_to_string(root.join("../README.md")).expect("read README");
    let undocumented: Vec<&String> = catalogue.iter().filter(|c| !readme.contains(&format!("| `{c}` |"))).collect();
    assert!(undocumented.is_empty(), "codes without a row in the README's diagnostics table: {undocumented:?}");
}

/// Every input in the folder is in the table and every input has its expectation, so a case cannot be
/// added without being run or dropped without notice.
#[test]
fn diagnostics_corpus_is_complete() {
    let mut inputs = Vec::new();
    let mut expectations = Vec::new();
    for entry in std::fs::read_dir(corpus_dir()).expect("read corpus dir") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().expect("file name").to_string_lossy().into_owned();
        if path.is_dir() {
            inputs.push(format!("{name}/"));
            continue;
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "json") => inputs.push(name),
            Some("txt") => expectations.push(name),
            _ => panic!("unexpected file in the diagnostics corpus: {name}"),
        }
    }
    inputs.sort();
    let mut listed: Vec<String> = CASES.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(inputs, listed, "tests/diagnostics/*.yaml|json, its folders and CASES must list the same inputs");
    if bless() {
        // The expectations are being written concurrently by `diagnostics_corpus`.
        return;
    }
    for input in &inputs {
        let stem = input.strip_suffix('/').unwrap_or_else(|| input.rsplit_once('.').map_or(input.as_str(), |(s, _)| s));
        assert!(expectations.contains(&format!("{stem}.txt")), "{input} has no expected {stem}.txt");
    }
    assert_eq!(inputs.len(), expectations.len(), "an expected .txt file has no input");
}

/// Diagnostics are collected within a phase: all unresolved references in one file are reported, each at its
/// own `$ref` (as warnings by default; the strict test above checks they are errors, all of them, under
/// `--strict`).
#[test]
fn unresolved_references_are_all_reported() {
    let name = "unresolved_refs_collected.yaml";
    let text = std::fs::read_to_string(corpus_dir().join(name)).expect("read case");
    let (diags, generated) = run_any(name).expect("no panic");
    assert!(generated, "dangling schema references are worked around");
    let lines: Vec<usize> =
        diags.items().iter().filter(|d| d.code == "W0205").filter_map(|d| d.location.map(|l| l.line)).collect();
    assert!(lines.len() >= 3, "expected several W0205, got {lines:?}");
    let mut distinct = lines.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), lines.len(), "each W0205 must point at its own line: {lines:?}");
    for d in diags.items() {
        let loc = d.location.expect("located");
        let at = &text[loc.offset..];
        assert!(at.starts_with("$ref"), "{} should point at a `$ref` key, points at {:?}", d.pointer, &at[..20]);
    }
}

const AUTH_YAML: &str = include_str!("../../spec/auth.yaml");

/// Deterministic mutations of `spec/auth.yaml`: truncations, deleted lines, a misspelt type and references
/// to nothing.
fn mutations() -> Vec<(String, String)> {
    let text = AUTH_YAML;
    let mut out = Vec::new();
    for cut in (0..text.len()).step_by(97) {
        if text.is_char_boundary(cut) {
            out.push((format!("truncated at byte {cut}"), text[..cut].to_owned()));
        }
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for skip in (0..lines.len()).step_by(13) {
        let mutated: String = lines.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, l)| *l).collect();
        out.push((format!("line {} deleted", skip + 1), mutated));
    }
    // A misspelt type: everywhere at once, and alone at the first, a middle and the last occurrence.
    out.push(("every `type: string` -> `type: strin`".to_owned(), text.replace("type: string", "type: strin")));
    let typos: Vec<usize> = text.match_indices("type: string").map(|(at, _)| at).collect();
    for at in [typos[0], typos[typos.len() / 2], typos[typos.len() - 1]] {
        let mut mutated = text.to_owned();
        mutated.replace_range(at..at + "type: string".len(), "type: strin");
        out.push((format!("`type: string` at byte {at} misspelt"), mutated));
    }
    // `$ref` targets renamed to names that do not exist: every 10th alone, and all at once.
    let targets: Vec<(usize, &str)> = text
        .match_indices("$ref: '#/components/")
        .map(|(at, m)| {
            let start = at + m.len();
            let end = start + text[start..].find('\'').expect("closing quote");
            (start, &text[start..end])
        })
        .collect();
    assert!(targets.len() > 20, "spec/auth.yaml should have many references");
    for (start, target) in targets.iter().step_by(10) {
        let mut mutated = text.to_owned();
        mutated.replace_range(*start..start + target.len(), &format!("{target}Missing"));
        out.push((format!("$ref `{target}` at byte {start} renamed"), mutated));
    }
    let mut all = text.to_owned();
    for (start, target) in targets.iter().rev() {
        all.replace_range(*start..start + target.len(), &format!("{target}Missing"));
    }
    out.push(("every $ref target renamed".to_owned(), all));
    // References to a section of the wrong kind.
    out.push((
        "schema refs point at responses".to_owned(),
        text.replace("'#/components/schemas/", "'#/components/responses/"),
    ));
    out.push((
        "parameter refs point at schemas".to_owned(),
        text.replace("'#/components/parameters/", "'#/components/schemas/"),
    ));
    out
}

/// Runs load + generate on `text`: `Ok(true)` when it generated, `Ok(false)` when it reported errors, and
/// `Err` with the panic message when it panicked.
///
/// `generate` is validate -> lower -> emit, each a pure function of its input. Validation and lowering run
/// first on their own: when they fail, `generate` would stop at the same place with the same errors. Emitting
/// is most of the cost, so a mutation whose IR was already emitted (say, one that only lost an example) is
/// not emitted again.
fn survives(text: &str, emitted: &Mutex<BTreeSet<String>>) -> Result<bool, String> {
    let settings = Settings::default();
    catch_unwind(AssertUnwindSafe(|| {
        let loaded = match spec::load_str("auth.yaml", text) {
            Ok(loaded) => loaded,
            Err(diags) => {
                assert!(diags.has_errors(), "load failed without an error");
                let _ = diags.render_plain();
                return false;
            }
        };
        let lowered = authgen::spec::validate::validate_spec(&loaded)
            .and_then(|_| authgen::ir::lower::lower_spec(&loaded, &settings));
        match lowered {
            Err(diags) => {
                assert!(diags.has_errors(), "validate or lower failed without an error");
                let _ = diags.render_plain();
                return false;
            }
            Ok((api, _)) => {
                if !emitted.lock().expect("not poisoned").insert(format!("{api:?}")) {
                    return true;
                }
            }
        }
        match authgen::generate(&loaded, &settings) {
            Ok(_) => true,
            Err(diags) => {
                assert!(diags.has_errors(), "generate failed without an error");
                let _ = diags.render_plain();
                false
            }
        }
    }))
    .map_err(|panic| panic_message(&*panic))
}

thread_local! {
    /// Set on the mutation workers, whose panics are collected and reported with their mutation.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

#[test]
fn never_panics_on_mutated_auth_spec() {
    let all = mutations();
    let previous: Arc<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync> = Arc::from(std::panic::take_hook());
    std::panic::set_hook(Box::new(move |info| {
        if !QUIET.with(Cell::get) {
            previous(info);
        }
    }));
    let emitted = Mutex::new(BTreeSet::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
    let outcomes: Vec<(usize, Result<bool, String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let all = &all;
                let emitted = &emitted;
                scope.spawn(move || {
                    QUIET.with(|q| q.set(true));
                    (t..all.len()).step_by(threads).map(|i| (i, survives(&all[i].1, emitted))).collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("worker thread")).collect()
    });
    let panics: Vec<String> =
        outcomes.iter().filter_map(|(i, o)| o.as_ref().err().map(|m| format!("{}: {m}", all[*i].0))).collect();
    assert!(panics.is_empty(), "{} of {} mutations panicked:\n{}", panics.len(), all.len(), panics.join("\n"));
    let failed = outcomes.iter().filter(|(_, o)| *o == Ok(false)).count();
    // The mutations must exercise the error paths, not only produce valid specs.
    assert!(failed > all.len() / 2, "only {failed} of {} mutations failed; they are too gentle", all.len());
}

/// The same over two real-world specs from the conformance corpus (`tests/corpus/`), one 3.0 and one 3.1, which
/// reach the paths a hand-written spec does not: other media types, 3.1 normalisation, `allOf` folding.
#[test]
fn never_panics_on_mutated_corpus_specs() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
    let emitted = Mutex::new(BTreeSet::new());
    let mut panics = Vec::new();
    let mut runs = 0;
    for file in ["redocly-museum.yaml", "swagger-petstore.yaml"] {
        let text = std::fs::read_to_string(corpus.join(file)).expect("read corpus spec");
        let mut variants = Vec::new();
        for cut in (0..text.len()).step_by(509).filter(|c| text.is_char_boundary(*c)) {
            variants.push((format!("{file} truncated at byte {cut}"), text[..cut].to_owned()));
        }
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for skip in (0..lines.len()).step_by(17) {
            let mutated: String = lines.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, l)| *l).collect();
            variants.push((format!("{file} line {} deleted", skip + 1), mutated));
        }
        for (what, mutated) in variants {
            runs += 1;
            if let Err(message) = survives(&mutated, &emitted) {
                panics.push(format!("{what}: {message}"));
            }
        }
    }
    assert!(panics.is_empty(), "{} of {runs} mutations panicked:\n{}", panics.len(), panics.join("\n"));
}
