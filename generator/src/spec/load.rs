//! Load stage: spec bytes -> `openapiv3::OpenAPI`, keeping the source text so later stages can point into it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use super::diag::{Diagnostic, Diagnostics, Location, Severity, escape_segment};

/// A spec file as read from disk: its display name, its text and a lazily built position index.
#[derive(Debug)]
pub struct SourceFile {
    /// The name shown in diagnostics and in the `@generated` header (the path as given).
    pub name: String,
    /// The whole text.
    pub text: String,
    /// True when the text is JSON (decided by content, not by the file extension).
    pub is_json: bool,
    index: OnceLock<BTreeMap<String, Location>>,
}

/// A loaded spec: the parsed document plus the source it came from.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    /// The parsed OpenAPI document.
    pub document: openapiv3::OpenAPI,
    /// The source text, for diagnostics.
    pub source: Arc<SourceFile>,
}

impl SourceFile {
    /// Wraps text read from `name`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let is_json = text.trim_start().starts_with('{');
        Self { name: name.into(), text, is_json, index: OnceLock::new() }
    }

    /// Finds the node at a JSON pointer. For a mapping entry the key is returned, so the
    /// report underlines `schema:` rather than the whole nested block.
    pub fn locate(&self, pointer: &str) -> Option<Location> {
        let index = self.index.get_or_init(|| build_index(&self.text));
        let mut pointer = pointer.to_owned();
        // Fall back to the closest ancestor that exists, so a missing key still points at its parent.
        loop {
            if let Some(loc) = index.get(&pointer) {
                return Some(*loc);
            }
            let cut = pointer.rfind('/')?;
            pointer.truncate(cut);
        }
    }

    /// The location of a byte offset, as reported by a parser.
    pub fn location_of_offset(&self, offset: usize, len: usize) -> Location {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = self.text[line_start..offset].chars().count() + 1;
        Location { offset, len, line, column }
    }
}

fn build_index(text: &str) -> BTreeMap<String, Location> {
    let mut index = BTreeMap::new();
    let Ok(docs) = MarkedYaml::load_from_str(text) else {
        return index;
    };
    let Some(root) = docs.first() else {
        return index;
    };
    // saphyr reports character indices; diagnostics need byte offsets.
    let char_to_byte: Vec<usize> = text.char_indices().map(|(b, _)| b).chain(std::iter::once(text.len())).collect();
    let to_loc = |m: &saphyr::Marker, end: &saphyr::Marker| {
        let start = char_to_byte.get(m.index()).copied().unwrap_or(text.len());
        let stop = char_to_byte.get(end.index()).copied().unwrap_or(text.len()).max(start);
        Location { offset: start, len: (stop - start).max(1), line: m.line(), column: m.col() + 1 }
    };
    let mut stack: Vec<(String, &MarkedYaml<'_>)> = vec![(String::new(), root)];
    index.insert(String::new(), to_loc(&root.span.start, &root.span.end));
    while let Some((ptr, node)) = stack.pop() {
        match &node.data {
            YamlData::Mapping(map) => {
                for (k, v) in map {
                    let Some(key) = key_text(k) else { continue };
                    let child = format!("{ptr}/{}", escape_segment(&key));
                    index.insert(child.clone(), to_loc(&k.span.start, &k.span.end));
                    stack.push((child, v));
                }
            }
            YamlData::Sequence(seq) => {
                for (i, v) in seq.iter().enumerate() {
                    let child = format!("{ptr}/{i}");
                    index.insert(child.clone(), to_loc(&v.span.start, &v.span.end));
                    stack.push((child, v));
                }
            }
            _ => {}
        }
    }
    index
}

fn key_text(node: &MarkedYaml<'_>) -> Option<String> {
    match &node.data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Value(Scalar::Integer(i)) => Some(i.to_string()),
        YamlData::Value(Scalar::Boolean(b)) => Some(b.to_string()),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.to_string()),
        YamlData::Value(Scalar::Null) => Some("null".to_owned()),
        YamlData::Representation(s, _, _) => Some(s.to_string()),
        _ => None,
    }
}

/// Reads and parses the spec at `path`. I/O errors are returned as `Err(io)`; a parse error as diagnostics.
pub fn load_file(path: &Path) -> Result<Result<LoadedSpec, Diagnostics>, std::io::Error> {
    let text = std::fs::read_to_string(path)?;
    let name = path.to_string_lossy().replace('\\', "/");
    Ok(load_str(&name, &text))
}

/// Parses spec text; JSON or YAML is decided by content. Never panics.
pub fn load_str(name: &str, text: &str) -> Result<LoadedSpec, Diagnostics> {
    let source = Arc::new(SourceFile::new(name, text));
    let mut diags = Diagnostics::new(source.clone());
    // YAML is a superset of JSON, but JSON gets its own parser for sharper messages.
    let parsed: Result<openapiv3::OpenAPI, (String, Option<Location>)> = if source.is_json {
        serde_json::from_str(text).map_err(|e| {
            let loc = line_col_to_location(&source, e.line(), e.column());
            (e.to_string(), Some(loc))
        })
    } else {
        yaml_serde::from_str(text).map_err(|e| {
            let loc = e.location().map(|l| source.location_of_offset(l.index(), 1));
            (e.to_string(), loc)
        })
    };
    match parsed {
        Ok(document) => {
            let version_ok = document.openapi.starts_with("3.0");
            if !version_ok {
                diags
                    .error("E0002", "/openapi", format!("unsupported OpenAPI version `{}`", document.openapi))
                    .label("this version")
                    .help("authgen reads OpenAPI 3.0.x; set `openapi: 3.0.3`");
                return Err(diags);
            }
            Ok(LoadedSpec { document, source })
        }
        Err((message, location)) => {
            let version = sniff_version(text);
            if let Some(v) = version.filter(|v| !v.starts_with("3.0")) {
                diags
                    .error("E0002", "/openapi", format!("unsupported OpenAPI version `{v}`"))
                    .label("this version")
                    .help("authgen reads OpenAPI 3.0.x; set `openapi: 3.0.3`");
                return Err(diags);
            }
            let message = tidy_serde_message(&message);
            diags.push_located(Diagnostic {
                severity: Severity::Error,
                code: "E0001",
                message: format!("the spec is not a valid OpenAPI 3.0 document: {message}"),
                pointer: String::new(),
                location,
                label: "here".to_owned(),
                help: Some(
                    "check the indentation and the field names against the OpenAPI 3.0 specification".to_owned(),
                ),
            });
            Err(diags)
        }
    }
}

fn sniff_version(text: &str) -> Option<String> {
    for line in text.lines() {
        let t = line.trim().trim_start_matches('"');
        if let Some(rest) = t.strip_prefix("openapi") {
            let rest = rest.trim_start_matches('"').trim_start().strip_prefix(':')?;
            return Some(rest.trim().trim_matches(|c| c == '"' || c == '\'' || c == ',').to_owned());
        }
    }
    None
}

fn line_col_to_location(source: &SourceFile, line: usize, column: usize) -> Location {
    let mut offset = 0;
    for (i, l) in source.text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col_bytes: usize = l.chars().take(column.saturating_sub(1)).map(char::len_utf8).sum();
            offset += col_bytes;
            break;
        }
        offset += l.len();
    }
    source.location_of_offset(offset, 1)
}

/// serde's messages end with " at line X column Y"; the location is reported separately.
fn tidy_serde_message(message: &str) -> String {
    let trimmed = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    trimmed.trim_end_matches('.').to_owned()
}
