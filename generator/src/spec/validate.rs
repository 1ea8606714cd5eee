//! Validate stage: checks that hold across the whole document (references resolve, operation names are
//! unique, path templates match their parameters). All problems are collected before stopping. Two defects are
//! warnings, worked around by lowering: a reference to a schema that is not defined (W0205, any JSON value) and
//! a path parameter missing from its template (W0304, left out).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::diag::{Diagnostics, escape_segment};
use super::load::LoadedSpec;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Runs every document-wide check; returns the warnings, or every error found.
pub fn validate_spec(spec: &LoadedSpec) -> Result<Diagnostics, Diagnostics> {
    let mut diags = Diagnostics::new(spec.source.clone());
    // Working on the JSON form keeps pointers identical to the source's structure.
    let doc = match serde_json::to_value(&spec.document) {
        Ok(v) => v,
        Err(e) => {
            diags.error("E0001", "", format!("the spec could not be re-read: {e}"));
            return Err(diags);
        }
    };
    check_refs(&doc, &doc, String::new(), &mut diags);
    check_ref_cycles(&doc, &mut diags);
    check_operations(&doc, &mut diags);
    diags.propagate()
}

fn check_refs(root: &Value, node: &Value, ptr: String, diags: &mut Diagnostics) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let at = format!("{ptr}/$ref");
                match target.strip_prefix('#') {
                    Some(local) => {
                        if root.pointer(local).is_none() && local.starts_with("/components/schemas/") {
                            // A missing schema has a stand-in every Rust type can hold: any JSON value.
                            let name = local.trim_start_matches("/components/schemas/");
                            diags
                                .warning("W0205", &at, format!("unresolved reference `{target}`"))
                                .label("nothing is defined at this reference")
                                .help(format!(
                                    "authgen uses a free-form JSON value (`serde_json::Value`) here; define `{name}` \
                                     under `components/schemas` or fix the reference"
                                ));
                        } else if root.pointer(local).is_none() {
                            let name = local.rsplit('/').next().unwrap_or(local);
                            let section = local.rsplit_once('/').map_or("", |(s, _)| s);
                            diags
                                .error("E0201", &at, format!("unresolved reference `{target}`"))
                                .label("nothing is defined at this reference")
                                .help(format!(
                                    "define `{name}` under `{}` or fix the reference",
                                    section.trim_start_matches('/')
                                ));
                        }
                    }
                    None => {
                        diags
                            .error("E0202", &at, format!("external reference `{target}` is not supported"))
                            .label("points outside this file")
                            .help("bundle the spec into one file (for example with `redocly bundle`) and use `#/components/...` references");
                    }
                }
            }
            for (k, v) in map {
                // Examples are data, and extensions are documentation whose references are not followed.
                if k == "example" || k == "examples" || k.starts_with("x-") {
                    continue;
                }
                check_refs(root, v, format!("{ptr}/{}", escape_segment(k)), diags);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check_refs(root, v, format!("{ptr}/{i}"), diags);
            }
        }
        _ => {}
    }
}

/// Components that are references leading back to themselves (`A: {$ref: A}`, or `A -> B -> A`): they
/// define nothing, and resolving them never ends.
fn check_ref_cycles(doc: &Value, diags: &mut Diagnostics) {
    let Some(components) = doc.get("components").and_then(Value::as_object) else { return };
    // A cycle cannot be longer than the number of components.
    let bound = components.values().filter_map(Value::as_object).map(|m| m.len()).sum::<usize>() + 1;
    for (section, entries) in components {
        let Some(entries) = entries.as_object() else { continue };
        for (name, entry) in entries {
            let start = format!("/components/{}/{}", escape_segment(section), escape_segment(name));
            let mut cur = entry;
            for _ in 0..bound {
                let Some(next) = cur.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) else {
                    break;
                };
                if next == start {
                    diags
                        .error(
                            "E0211",
                            &format!("{start}/$ref"),
                            format!("reference cycle: `#{start}` leads back to itself"),
                        )
                        .label("this reference never reaches a definition")
                        .help("replace one of the references in the cycle with a definition");
                    break;
                }
                let Some(target) = doc.pointer(next) else { break };
                cur = target;
            }
        }
    }
}

fn deref<'a>(root: &'a Value, v: &'a Value) -> &'a Value {
    let mut cur = v;
    for _ in 0..32 {
        match cur.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
            Some(p) => match root.pointer(p) {
                Some(next) => cur = next,
                None => return cur,
            },
            None => return cur,
        }
    }
    cur
}

fn check_operations(doc: &Value, diags: &mut Diagnostics) {
    // operationId -> where it is used; `doc` is sorted by key, so document order is restored from the source.
    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else { return };
    for (path, item) in paths {
        let path_ptr = format!("/paths/{}", escape_segment(path));
        if !path.starts_with('/') {
            diags
                .error("E0301", &path_ptr, format!("path `{path}` does not start with `/`"))
                .help("write paths as `/resource/{id}`");
        }
        let template_params = match template_params(path) {
            Ok(p) => p,
            Err(msg) => {
                diags.error("E0302", &path_ptr, msg).help("path parameters look like `/pets/{petId}`");
                continue;
            }
        };
        let item = deref(doc, item);
        let shared_params = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let op_ptr = format!("{path_ptr}/{method}");
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                ids.entry(id.to_owned()).or_default().push(format!("{op_ptr}/operationId"));
            }
            let mut declared = BTreeSet::new();
            let op_params = op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
            for (i, p) in shared_params.iter().chain(op_params.iter()).enumerate() {
                let p = deref(doc, p);
                if p.get("in").and_then(Value::as_str) == Some("path")
                    && let Some(name) = p.get("name").and_then(Value::as_str)
                {
                    declared.insert(name.to_owned());
                    if !template_params.contains(name) {
                        let at = if i < shared_params.len() {
                            format!("{path_ptr}/parameters/{i}")
                        } else {
                            format!("{op_ptr}/parameters/{}", i - shared_params.len())
                        };
                        diags
                            .warning("W0304", &at, format!("path parameter `{name}` does not appear in `{path}`"))
                            .help(format!(
                                "authgen leaves the parameter out of the operation; add `{{{name}}}` to the path or \
                                 change `in: path`"
                            ));
                    }
                }
            }
            for name in &template_params {
                if !declared.contains(name) {
                    diags
                        .error(
                            "E0305",
                            &op_ptr,
                            format!("`{{{name}}}` in `{path}` has no path parameter in `{method}`"),
                        )
                        .label("operation without the parameter")
                        .help(format!(
                            "declare `- {{name: {name}, in: path, required: true, schema: {{type: string}}}}`"
                        ));
                }
            }
        }
    }
    for (id, mut uses) in ids {
        if uses.len() < 2 {
            continue;
        }
        uses.sort_by_key(|p| diags.source().locate(p).map_or(usize::MAX, |l| l.offset));
        for again in &uses[1..] {
            diags
                .error("E0303", again, format!("duplicate operationId `{id}`"))
                .label("used again here")
                .help(format!("operationIds must be unique; the first use is at {}", uses[0]));
        }
    }
}

/// The `{name}`s of a path template, or a message when the braces do not balance.
pub(crate) fn template_params(path: &str) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    let mut rest = path;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err(format!("unbalanced `}}` in path `{path}`"));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("unclosed `{{` in path `{path}`"));
        };
        let name = &after[..close];
        if name.is_empty() || name.contains('{') {
            return Err(format!("empty or nested parameter in path `{path}`"));
        }
        out.insert(name.to_owned());
        rest = &after[close + 1..];
    }
    Ok(out)
}
