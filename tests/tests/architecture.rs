//! Architecture rules checked on the source text, in the spirit of rust-analyzer's tidy tests: the layering of
//! the generator's top-level modules (and no cycles between them), the only places that may name openapiv3,
//! and the size of source files. The rules and their reasons are in ARCHITECTURE.md at the repository root.
//!
//! The scan is deliberately simple: it lexes Rust just enough to skip comments, string and character literals,
//! and the bodies of `quote!` (whose `crate::...` paths belong to the generated crate, not to the generator),
//! then resolves every `crate::`, `super::`, `self::` and `authgen::` path (and, in a crate root, every path
//! that starts with one of its modules) to the top-level module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The per-file line limit.
const MAX_LINES: usize = 800;

/// The front-ends: they may use everything below them and each other (without a cycle).
const FRONT_ENDS: &[&str] = &["lib", "build", "config", "cli", "main"];

/// The generator's top-level modules and what each may use; `lib` and `main` are the two crate roots
/// (`lib.rs`, `main.rs`) with the items they define. `settings` and `output` are leaves anyone may use.
fn allowed() -> BTreeMap<&'static str, Vec<&'static str>> {
    let with_leaves = |modules: &[&'static str]| -> Vec<&'static str> {
        modules.iter().chain(&["settings", "output"]).copied().collect()
    };
    let mut allowed = BTreeMap::new();
    allowed.insert("settings", vec![]);
    allowed.insert("output", vec![]);
    allowed.insert("spec", with_leaves(&[]));
    allowed.insert("ir", with_leaves(&["spec"]));
    allowed.insert("emit", with_leaves(&["ir"]));
    for &front_end in FRONT_ENDS {
        let others = FRONT_ENDS.iter().copied().filter(|f| *f != front_end);
        allowed.insert(front_end, with_leaves(&["spec", "ir", "emit"].into_iter().chain(others).collect::<Vec<_>>()));
    }
    allowed
}

const RULES: &str = "ARCHITECTURE.md at the repository root";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// Every file under `dir` (relative to the repository root), sorted, as (path with `/`, text).
fn files_under(dir: &str) -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() { walk(&path, out) } else { out.push(path) }
        }
    }
    let root = root();
    let mut paths = Vec::new();
    walk(&root.join(dir), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            let rel = p.strip_prefix(&root).expect("under the root").to_string_lossy().replace('\\', "/");
            (rel, text)
        })
        .collect()
}

fn generator_sources() -> Vec<(String, String)> {
    files_under("generator/src").into_iter().filter(|(path, _)| path.ends_with(".rs")).collect()
}

// ---------------------------------------------------------------------------------------------------------
// A lexer that keeps identifiers and punctuation, with line numbers, and drops everything else.

#[derive(Debug, Clone)]
struct Token {
    text: String,
    line: usize,
}

fn lex(source: &str) -> Vec<Token> {
    let c: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Skips a string body starting after its opening quote; returns the index after the closing quote.
    let skip_string = |mut i: usize, line: &mut usize| {
        while i < c.len() {
            match c[i] {
                '\\' => {
                    if c.get(i + 1) == Some(&'\n') {
                        *line += 1;
                    }
                    i += 2;
                }
                '"' => return i + 1,
                '\n' => {
                    *line += 1;
                    i += 1;
                }
                _ => i += 1,
            }
        }
        i
    };
    // Skips a character literal starting at its opening quote, or only the quote of a lifetime or label.
    let skip_char = |i: usize| match (c.get(i + 1), c.get(i + 2)) {
        (Some('\\'), _) => {
            let mut j = i + 3;
            while j < c.len() && c[j] != '\'' {
                j += 1;
            }
            j + 1
        }
        (Some(_), Some('\'')) => i + 3,
        _ => i + 1,
    };
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_string(i + 1, &mut line);
        } else if ch == '\'' {
            i = skip_char(i);
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let after = c.get(i).copied();
            if matches!(word.as_str(), "r" | "br" | "cr") && matches!(after, Some('"' | '#')) {
                let mut hashes = 0;
                let mut j = i;
                while c.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if c.get(j) == Some(&'"') {
                    // A raw string ends at a quote followed by as many `#` as it opened with.
                    j += 1;
                    while j < c.len() && !(c[j] == '"' && (1..=hashes).all(|k| c.get(j + k) == Some(&'#'))) {
                        if c[j] == '\n' {
                            line += 1;
                        }
                        j += 1;
                    }
                    i = j + 1 + hashes;
                    continue;
                }
                if word == "r" && hashes == 1 {
                    // A raw identifier, `r#type`: the identifier is what follows.
                    i = j;
                    continue;
                }
            }
            if matches!(word.as_str(), "b" | "c") && after == Some('"') {
                i = skip_string(i + 1, &mut line);
                continue;
            }
            if word == "b" && after == Some('\'') {
                i = skip_char(i);
                continue;
            }
            tokens.push(Token { text: word, line });
        } else if ch == ':' && next == Some(':') {
            tokens.push(Token { text: "::".to_owned(), line });
            i += 2;
        } else {
            tokens.push(Token { text: ch.to_string(), line });
            i += 1;
        }
    }
    tokens
}

// ---------------------------------------------------------------------------------------------------------
// Module references.

/// The generator package's two crates: the library (root `lib.rs`) and the binary (root `main.rs`), each with
/// the modules its root declares.
struct Crates {
    lib_modules: BTreeSet<String>,
    bin_modules: BTreeSet<String>,
}

impl Crates {
    fn read() -> Crates {
        let src = root().join("generator/src");
        let declared = |file: &str| {
            let text = std::fs::read_to_string(src.join(file)).expect("crate root readable");
            let tokens = lex(&text);
            tokens
                .windows(3)
                .filter(|w| w[0].text == "mod" && w[2].text == ";")
                .map(|w| w[1].text.clone())
                .collect::<BTreeSet<_>>()
        };
        Crates { lib_modules: declared("lib.rs"), bin_modules: declared("main.rs") }
    }

    /// Whether the file (relative to `generator/src`) belongs to the binary crate, and its module path.
    fn module_of(&self, rel: &str) -> (bool, Vec<String>) {
        let rel = rel.trim_end_matches(".rs");
        let mut path: Vec<String> = rel.split('/').map(str::to_owned).collect();
        let crate_root = path.len() == 1 && matches!(path[0].as_str(), "lib" | "main");
        if crate_root || path.last().is_some_and(|last| last == "mod") {
            path.pop();
        }
        let bin = rel == "main" || path.first().is_some_and(|first| self.bin_modules.contains(first));
        (bin, path)
    }

    /// The node of a top-level name `first` at the root of the library or binary crate: the module, or the
    /// crate root itself for an item defined (or re-exported) there.
    fn node(&self, bin: bool, first: &str) -> String {
        let (modules, root) = if bin { (&self.bin_modules, "main") } else { (&self.lib_modules, "lib") };
        if modules.contains(first) { first.to_owned() } else { root.to_owned() }
    }
}

/// A use of a top-level module: which one, and where.
#[derive(Debug, Clone, PartialEq)]
struct Reference {
    to: String,
    line: usize,
}

/// The top-level module a file (relative to the repository root) belongs to.
fn node_of(crates: &Crates, rel: &str) -> String {
    let (bin, path) = crates.module_of(rel.trim_start_matches("generator/src/"));
    match path.first() {
        Some(first) => first.clone(),
        None if bin => "main".to_owned(),
        None => "lib".to_owned(),
    }
}

/// The macros whose bodies are generated code.
const QUOTING_MACROS: &[&str] = &["quote", "quote_spanned", "parse_quote", "parse_quote_spanned"];

/// Every top-level module (or crate root) the file at `rel` (relative to the repository root) refers to.
fn references(crates: &Crates, rel: &str, source: &str) -> Vec<Reference> {
    let (bin, file_module) = crates.module_of(rel.trim_start_matches("generator/src/"));
    let is_root = file_module.is_empty();
    let tokens = lex(source);
    let text = |k: usize| tokens.get(k).map_or("", |t| t.text.as_str());
    let mut out = Vec::new();
    // Inline modules (`mod tests { .. }`) the scan is inside, with the brace depth each opened at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut k = 0;
    while k < tokens.len() {
        let t = text(k);
        if QUOTING_MACROS.contains(&t) && text(k + 1) == "!" && matches!(text(k + 2), "(" | "[" | "{") {
            let mut nesting = 0;
            let mut j = k + 2;
            loop {
                match text(j) {
                    "(" | "[" | "{" => nesting += 1,
                    ")" | "]" | "}" => nesting -= 1,
                    "" => break,
                    _ => {}
                }
                j += 1;
                if nesting == 0 {
                    break;
                }
            }
            k = j;
            continue;
        }
        match t {
            "{" => {
                depth += 1;
                if k >= 2 && text(k - 2) == "mod" {
                    inline.push((text(k - 1).to_owned(), depth));
                }
            }
            "}" => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth -= 1;
            }
            _ => {}
        }
        let starts_path = k == 0 || text(k - 1) != "::";
        let own_modules = if bin { &crates.bin_modules } else { &crates.lib_modules };
        let bare_root_path = is_root && own_modules.contains(t) && text(k + 1) == "::";
        let keyword = matches!(t, "crate" | "super" | "self") || (bin && t == "authgen");
        if starts_path && (keyword || bare_root_path) && text(k + 1) == "::" {
            let line = tokens[k].line;
            let mut module: Vec<String> = file_module.clone();
            module.extend(inline.iter().map(|(name, _)| name.clone()));
            let mut target_bin = bin;
            let mut j = k;
            // The module the path starts from; `j` moves to the segment after it. A bare root path starts
            // at the root with its first segment.
            let base: Vec<String> = match t {
                "crate" => {
                    j += 2;
                    Vec::new()
                }
                "authgen" => {
                    target_bin = false;
                    j += 2;
                    Vec::new()
                }
                "self" => {
                    j += 2;
                    module
                }
                "super" => {
                    let mut base = module;
                    while text(j) == "super" && text(j + 1) == "::" {
                        base.pop();
                        j += 2;
                    }
                    base
                }
                _ => Vec::new(),
            };
            if let Some(first) = base.first() {
                out.push(Reference { to: first.clone(), line });
            } else if text(j) == "{" {
                // `crate::{a::X, b}`: the first segment of every element of the group.
                let mut nesting = 0;
                let mut element_start = true;
                while j < tokens.len() {
                    match text(j) {
                        "{" | "(" | "[" => nesting += 1,
                        "}" | ")" | "]" => nesting -= 1,
                        "," if nesting == 1 => element_start = true,
                        name if element_start && nesting == 1 => {
                            element_start = false;
                            if name != "self" {
                                out.push(Reference { to: crates.node(target_bin, name), line: tokens[j].line });
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                    if nesting == 0 {
                        break;
                    }
                }
            } else if !text(j).is_empty() {
                out.push(Reference { to: crates.node(target_bin, text(j)), line });
            }
        }
        k += 1;
    }
    out
}

/// The uses between different top-level modules: (from, to) -> where (file:line), first occurrence.
fn module_graph(crates: &Crates) -> BTreeMap<(String, String), String> {
    let mut graph = BTreeMap::new();
    for (rel, text) in generator_sources() {
        let from = node_of(crates, &rel);
        for r in references(crates, &rel, &text) {
            if r.to != from {
                graph.entry((from.clone(), r.to)).or_insert_with(|| format!("{rel}:{}", r.line));
            }
        }
    }
    graph
}

/// Every use the layering does not allow, and every cycle, as readable messages.
fn layering_violations(nodes: &BTreeSet<String>, graph: &BTreeMap<(String, String), String>) -> Vec<String> {
    let allowed = allowed();
    let mut problems = Vec::new();
    for node in nodes {
        if !allowed.contains_key(node.as_str()) {
            problems.push(format!(
                "top-level module `{node}` has no place in the layering: add it to the layering in {RULES} and \
                 to `allowed()` in tests/tests/architecture.rs"
            ));
        }
    }
    for ((from, to), at) in graph {
        if let Some(may) = allowed.get(from.as_str())
            && !may.contains(&to.as_str())
        {
            problems.push(format!(
                "`{from}` uses `{to}` at {at}, but `{from}` may use only {}: the module layering in {RULES} \
                 (`spec` <- `ir` <- `emit` <- front-ends; `settings` and `output` are leaves; emitters never see \
                 `spec`)",
                if may.is_empty() { "nothing of the crate".to_owned() } else { format!("`{}`", may.join("`, `")) }
            ));
        }
    }
    // A cycle, by depth-first search from every node in order; each one reported once, from its smallest node.
    let mut reported = BTreeSet::new();
    for start in nodes {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((node, path)) = stack.pop() {
            for ((from, to), _) in graph.range((node.clone(), String::new())..) {
                if *from != node {
                    break;
                }
                if to == start {
                    let mut cycle = path.clone();
                    cycle.push(start.clone());
                    let members: BTreeSet<String> = path.iter().cloned().collect();
                    if members.iter().next() == Some(start) && reported.insert(members) {
                        let edges: Vec<String> =
                            cycle.windows(2).map(|w| graph[&(w[0].clone(), w[1].clone())].clone()).collect();
                        problems.push(format!(
                            "cycle between the generator's top-level modules: {} (uses at {}); the modules must \
                             form layers without cycles, see {RULES}",
                            cycle.join(" -> "),
                            edges.join(", ")
                        ));
                    }
                } else if !path.contains(to) {
                    let mut longer = path.clone();
                    longer.push(to.clone());
                    stack.push((to.clone(), longer));
                }
            }
        }
    }
    problems
}

#[test]
fn generator_modules_are_layered_without_cycles() {
    let crates = Crates::read();
    let graph = module_graph(&crates);
    let nodes: BTreeSet<String> = generator_sources()
        .iter()
        .map(|(rel, _)| node_of(&crates, rel))
        .chain(graph.keys().map(|k| k.1.clone()))
        .collect();
    for expected in ["spec", "ir", "emit", "settings", "output", "lib", "main"] {
        assert!(
            nodes.contains(expected),
            "the scan found no module `{expected}`: is the scan still reading the generator?"
        );
    }
    assert!(graph.contains_key(&("emit".to_owned(), "ir".to_owned())), "the scan missed emit's use of ir");
    let problems = layering_violations(&nodes, &graph);
    assert!(problems.is_empty(), "module layering broken:\n  {}", problems.join("\n  "));
}

/// Code only: prose may say that a module never sees openapiv3.
#[test]
fn only_spec_and_lower_name_openapiv3() {
    let mut offenders = Vec::new();
    for (rel, text) in generator_sources() {
        if rel.starts_with("generator/src/spec/") || rel.starts_with("generator/src/ir/lower") {
            continue;
        }
        for token in lex(&text).iter().filter(|t| t.text == "openapiv3") {
            offenders.push(format!("{rel}:{}", token.line));
        }
    }
    assert!(
        offenders.is_empty(),
        "openapiv3 is named outside generator/src/spec/ and generator/src/ir/lower*, at {}: only loading, \
         validation and lowering read the OpenAPI document; everything after lowering sees the IR (see {RULES})",
        offenders.join(", ")
    );
}

#[test]
fn no_source_file_is_over_the_line_limit() {
    let mut offenders = Vec::new();
    for dir in ["generator/src", "generator/runtime", "recipes/src"] {
        for (rel, text) in files_under(dir) {
            let lines = text.lines().count();
            if lines > MAX_LINES {
                offenders.push(format!("{rel}: {lines} lines"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "files over the limit of {MAX_LINES} lines in generator/src, generator/runtime or recipes/src (split each \
         by concern into a folder, see {RULES}):\n  {}",
        offenders.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------------------
// The scan itself, on fixtures: if it went blind, the rules above would pass vacuously.

fn fixture_crates() -> Crates {
    let set = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect();
    Crates {
        lib_modules: set(&["build", "config", "emit", "ir", "output", "settings", "spec"]),
        bin_modules: set(&["cli"]),
    }
}

fn targets(rel: &str, source: &str) -> Vec<(String, usize)> {
    references(&fixture_crates(), rel, source).into_iter().map(|r| (r.to, r.line)).collect()
}

#[test]
fn scan_resolves_paths_and_skips_comments_strings_and_quoted_code() {
    let source = r##"//! Never `use crate::spec` here; `crate::output` neither.
use super::super::validate::Checks;
use crate::{ir::Api, spec::diag::Diagnostics};
fn f() {
    let quote_char = '"'; let s = "crate::spec::x"; let r = r#"crate::spec "quoted""#;
    let t = quote!(crate::spec::Y { crate::output });
    /* crate::spec /* nested */ crate::output */
    super::super::super::output::write(b"crate::spec", 'x');
}
mod tests {
    use super::super::super::super::settings::Settings;
    fn g<'a>(x: &'a str) {}
}
use self::helper;
"##;
    let expected = [("emit", 2), ("ir", 3), ("spec", 3), ("output", 8), ("settings", 11), ("emit", 14)];
    let expected: Vec<(String, usize)> = expected.iter().map(|(m, l)| ((*m).to_owned(), *l)).collect();
    assert_eq!(targets("generator/src/emit/ops/request.rs", source), expected);
}

#[test]
fn scan_resolves_crate_roots() {
    // The library root names its modules bare; items of the root count as `lib`.
    assert_eq!(
        targets("generator/src/lib.rs", "pub mod emit;\nfn f() { ir::lower::lower_spec(); emit::emit_crate(); }"),
        [("ir".to_owned(), 2), ("emit".to_owned(), 2)]
    );
    assert_eq!(targets("generator/src/build.rs", "fn f() { crate::generate(); }"), [("lib".to_owned(), 1)]);
    // The binary reaches the library through `authgen::`, its own modules through `crate::` or bare.
    assert_eq!(
        targets(
            "generator/src/main.rs",
            "mod cli;\nuse authgen::output::X;\nfn f() { authgen::generate(); cli::Args::parse(); }"
        ),
        [("output".to_owned(), 2), ("lib".to_owned(), 3), ("cli".to_owned(), 3)]
    );
    assert_eq!(targets("generator/src/cli.rs", "use authgen::config::Config;"), [("config".to_owned(), 1)]);
}

#[test]
fn layering_rules_catch_upward_uses_and_cycles() {
    let nodes: BTreeSet<String> = ["emit", "ir", "lib", "build", "spec", "render"].map(str::to_owned).into();
    let edge = |from: &str, to: &str| ((from.to_owned(), to.to_owned()), format!("{from}.rs:1"));
    let graph: BTreeMap<_, _> =
        [edge("emit", "spec"), edge("emit", "render"), edge("build", "lib"), edge("lib", "build"), edge("emit", "ir")]
            .into();
    let problems = layering_violations(&nodes, &graph);
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems[0].starts_with("top-level module `render` has no place in the layering"), "{problems:#?}");
    assert!(problems[1].starts_with("`emit` uses `render` at emit.rs:1"), "{problems:#?}");
    assert!(problems[2].starts_with("`emit` uses `spec` at emit.rs:1"), "{problems:#?}");
    assert!(
        problems[3].starts_with("cycle between the generator's top-level modules: build -> lib -> build"),
        "{problems:#?}"
    );
}
