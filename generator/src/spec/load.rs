//! Load stage: spec bytes -> `openapiv3::OpenAPI`, keeping the source text so later stages can point into it.
//! A spec split over several files is bundled into one document first (`bundle.rs`); the source of the root
//! file then also knows which parts of the document came from which file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use yaml_serde::{Mapping, Value as YamlValue};

use super::diag::{Diagnostic, Diagnostics, Location, Severity, escape_segment};
use super::shape;

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
    /// Set when the text is Swagger 2.0: where each node of the converted document came from.
    swagger2: OnceLock<super::swagger2::PointerMap>,
    /// For the root of a multi-file spec: bundled pointer -> the file and the pointer there it was taken from.
    origins: OnceLock<BTreeMap<String, (Arc<SourceFile>, String)>>,
}

/// A loaded spec: the parsed document plus the source it came from.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    /// The parsed OpenAPI document.
    pub document: openapiv3::OpenAPI,
    /// The source text, for diagnostics.
    pub source: Arc<SourceFile>,
    /// Warnings found while loading (for example OpenAPI 3.1 parts that were ignored).
    pub warnings: Diagnostics,
    /// Every file read to build the document: the spec itself first, then each file its `$ref`s reach, in the
    /// order they were first referenced. Empty when the spec was given as text ([`load_str`]).
    pub files: Vec<PathBuf>,
}

impl SourceFile {
    /// Wraps text read from `name`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let is_json = text.trim_start().starts_with('{');
        Self {
            name: name.into(),
            text,
            is_json,
            index: OnceLock::new(),
            swagger2: OnceLock::new(),
            origins: OnceLock::new(),
        }
    }

    /// Where a pointer of the bundled document really is, when a `$ref` to another file brought that part in:
    /// the file and the pointer within it. `None` for the parts written in this file.
    pub fn origin(&self, pointer: &str) -> Option<(&Arc<SourceFile>, String)> {
        let origins = self.origins.get().filter(|o| !o.is_empty())?;
        let mut prefix = pointer;
        loop {
            if let Some((file, local)) = origins.get(prefix) {
                return Some((file, format!("{local}{}", &pointer[prefix.len()..])));
            }
            prefix = &prefix[..prefix.rfind('/')?];
        }
    }

    /// Records where the parts a bundle pulled in came from (once, right after bundling).
    pub(super) fn set_origins(&self, origins: BTreeMap<String, (Arc<SourceFile>, String)>) {
        let _ = self.origins.set(origins);
    }

    /// Finds the node at a JSON pointer. For a mapping entry the key is returned, so the
    /// report underlines `schema:` rather than the whole nested block.
    pub fn locate(&self, pointer: &str) -> Option<Location> {
        let index = self.index.get_or_init(|| build_index(&self.text));
        let mut pointer = self.original_pointer(pointer);
        // Fall back to the closest ancestor that exists, so a missing key still points at its parent.
        loop {
            if let Some(loc) = index.get(&pointer) {
                return Some(*loc);
            }
            let cut = pointer.rfind('/')?;
            pointer.truncate(cut);
        }
    }

    /// The pointer in this text of a node of the loaded document: the same pointer, unless the text is
    /// Swagger 2.0 and the node was moved by the conversion to 3.0.
    pub fn original_pointer(&self, pointer: &str) -> String {
        self.swagger2.get().map_or_else(|| pointer.to_owned(), |map| map.original(pointer))
    }

    /// True when the text is a Swagger 2.0 document, converted to OpenAPI 3.0 while loading.
    pub fn is_swagger2(&self) -> bool {
        self.swagger2.get().is_some()
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

/// Reads and parses the spec at `path`, and every file its `$ref`s reach (relative to the file holding the
/// reference). I/O errors on `path` itself are returned as `Err(io)`; everything else as diagnostics.
pub fn load_file(path: &Path) -> Result<Result<LoadedSpec, Diagnostics>, std::io::Error> {
    let name = path.to_string_lossy().replace('\\', "/");
    load_file_named(path, &name)
}

/// [`load_file`], with `name` shown for the spec in diagnostics instead of `path` (the files it references are
/// named relative to it).
pub fn load_file_named(path: &Path, name: &str) -> Result<Result<LoadedSpec, Diagnostics>, std::io::Error> {
    let text = std::fs::read_to_string(path)?;
    Ok(load(name, &text, Some(path)))
}

/// Parses spec text; JSON or YAML is decided by content. Never panics. A `$ref` to another file is an error,
/// since there is no file to resolve it against (use [`load_file`]).
pub fn load_str(name: &str, text: &str) -> Result<LoadedSpec, Diagnostics> {
    load(name, text, None)
}

fn load(name: &str, text: &str, path: Option<&Path>) -> Result<LoadedSpec, Diagnostics> {
    let source = Arc::new(SourceFile::new(name, text));
    let mut diags = Diagnostics::new(source.clone());
    // Syntax first: text -> value (in document order). YAML is a superset of JSON, but JSON gets its own
    // parser for sharper messages.
    let value = match parse_value(&source) {
        Ok(value) => value,
        Err((message, location)) => {
            if let Some(v) = sniff_version(text).filter(|v| !v.starts_with("3.0") && !v.starts_with("3.1")) {
                unsupported_version(&mut diags, &v);
                return Err(diags);
            }
            not_openapi(&mut diags, None, String::new(), &message, location);
            return Err(diags);
        }
    };
    let version = match value.get("openapi") {
        Some(YamlValue::String(v)) => Some(v.clone()),
        Some(YamlValue::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let mut value = value;
    if super::swagger2::is_swagger(&value) {
        let moved = super::swagger2::convert(&mut value, &mut diags);
        if diags.has_errors() {
            return Err(diags);
        }
        let _ = source.swagger2.set(moved);
    }
    if let Some(v) = version.as_deref().filter(|v| !v.starts_with("3.0") && !v.starts_with("3.1")) {
        unsupported_version(&mut diags, v);
        return Err(diags);
    }
    // Other files first, so that everything below sees one document.
    let files = super::bundle::bundle(&mut value, &source, path, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    super::numbers::settle_wide_integers(&mut value, "", &mut diags);
    if version.as_deref().is_some_and(|v| v.starts_with("3.1")) {
        super::v31::normalise(&mut value, &mut diags);
        if diags.has_errors() {
            return Err(diags);
        }
    }
    fold_all_of_siblings(&mut value);
    // Then the shape.
    match openapiv3::OpenAPI::deserialize(&value) {
        Ok(document) => Ok(LoadedSpec { document, source, warnings: diags, files }),
        Err(e) => {
            // serde cannot tell where; find the node (as JSON, which the value is by construction).
            let located = serde_json::to_value(&value).ok().and_then(|json| shape::locate_shape_error(&json));
            match located {
                Some((pointer, message)) => {
                    // The node may be in a file that a `$ref` pulled in, or moved by a Swagger 2.0 conversion.
                    let (file, pointer) = match source.origin(&pointer) {
                        Some((file, local)) => (Some(file.clone()), local),
                        None => (None, pointer),
                    };
                    let location = file.as_deref().unwrap_or(&source).locate(&pointer);
                    let pointer = if file.is_none() { source.original_pointer(&pointer) } else { pointer };
                    not_openapi(&mut diags, file, pointer, &message, location);
                }
                None => not_openapi(&mut diags, None, String::new(), &e.to_string(), None),
            }
            Err(diags)
        }
    }
}

fn unsupported_version(diags: &mut Diagnostics, version: &str) {
    diags
        .error("E0002", "/openapi", format!("unsupported OpenAPI version `{version}`"))
        .label("this version")
        .help("authgen reads OpenAPI 3.0.x and 3.1.x; set `openapi: 3.0.3` or `openapi: 3.1.0`");
}

fn not_openapi(
    diags: &mut Diagnostics,
    file: Option<Arc<SourceFile>>,
    pointer: String,
    message: &str,
    location: Option<Location>,
) {
    let message = tidy_serde_message(message);
    diags.push_located(Diagnostic {
        severity: Severity::Error,
        code: "E0001",
        message: format!("the spec is not a valid OpenAPI 3.0 document: {message}"),
        pointer,
        location,
        label: "here".to_owned(),
        help: Some("check the indentation and the field names against the OpenAPI 3.0 specification".to_owned()),
        file,
    });
}

/// Parses the text into a value, rejecting what JSON cannot hold (duplicate keys, non-finite numbers such as
/// `.nan` and `.inf`) and turning every mapping key into a string, as JSON does.
///
/// Besides being wrong in a spec, duplicate keys and non-finite numbers would crash the typed parse:
/// openapiv3 parses a `ReferenceOr` that fails a second time from a `serde_json::Value` and panics when that
/// second attempt succeeds, which is exactly what happens once the JSON value has dropped the duplicate key
/// or turned `.nan` into `null`. On a value built here, both attempts see the same data.
pub(super) fn parse_value(source: &SourceFile) -> Result<YamlValue, (String, Option<Location>)> {
    if source.is_json {
        let mut de = serde_json::Deserializer::from_str(&source.text);
        JsonLike.deserialize(&mut de).and_then(|v| de.end().map(|()| v)).map_err(|e| json_error(source, &e))
    } else {
        JsonLike.deserialize(yaml_serde::Deserializer::from_str(&source.text)).map_err(|e| yaml_error(source, &e))
    }
}

fn yaml_error(source: &SourceFile, e: &yaml_serde::Error) -> (String, Option<Location>) {
    (e.to_string(), e.location().map(|l| source.location_of_offset(l.index(), 1)))
}

fn json_error(source: &SourceFile, e: &serde_json::Error) -> (String, Option<Location>) {
    let message = e.to_string();
    if e.line() == 0 {
        return (message, None);
    }
    // serde_json counts columns in bytes: the column is the number of bytes of the line read so far.
    let line_start: usize = source.text.split_inclusive('\n').take(e.line() - 1).map(str::len).sum();
    let mut offset = (line_start + e.column().saturating_sub(1)).min(source.text.len());
    while !source.text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source.text[..offset];
    if message.starts_with("trailing comma") {
        // Reported at the closing bracket; the comma is the mistake.
        let comma = before.trim_end();
        if comma.ends_with(',') {
            offset = comma.len() - 1;
        }
    } else if let Some(key) = message.strip_prefix("duplicate key `").and_then(|m| m.split('`').next()) {
        // Reported at the end of the key; point at its opening quote.
        let head = source.text.get(..(offset + 1).min(source.text.len())).unwrap_or(before);
        if let Some(at) = head.rfind(&format!("\"{key}\"")) {
            offset = at;
        }
    }
    (message, Some(source.location_of_offset(offset, 1)))
}

/// A value built from any self-describing format, in document order, that JSON could hold.
struct JsonLike;

impl<'de> DeserializeSeed<'de> for JsonLike {
    type Value = YamlValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<YamlValue, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonLike {
    type Value = YamlValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value that JSON can represent")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<YamlValue, E> {
        Ok(YamlValue::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<YamlValue, E> {
        Ok(YamlValue::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<YamlValue, E> {
        Ok(YamlValue::Number(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<YamlValue, E> {
        Ok(i64::try_from(v)
            .map_or_else(|_| super::numbers::wide_integer(v.to_string()), |v| YamlValue::Number(v.into())))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<YamlValue, E> {
        Ok(u64::try_from(v)
            .map_or_else(|_| super::numbers::wide_integer(v.to_string()), |v| YamlValue::Number(v.into())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<YamlValue, E> {
        if v.is_finite() {
            Ok(YamlValue::Number(v.into()))
        } else {
            Err(E::custom(format!("`{v}` is not a number JSON can represent")))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<YamlValue, E> {
        Ok(YamlValue::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<YamlValue, E> {
        Ok(YamlValue::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<YamlValue, E> {
        Ok(YamlValue::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<YamlValue, E> {
        Ok(YamlValue::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<YamlValue, D::Error> {
        JsonLike.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<YamlValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(JsonLike)? {
            items.push(item);
        }
        Ok(YamlValue::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<YamlValue, A::Error> {
        let mut out = Mapping::new();
        while let Some(key) = map.next_key_seed(Key(&out))? {
            let value = map.next_value_seed(JsonLike)?;
            out.insert(YamlValue::String(key), value);
        }
        Ok(YamlValue::Mapping(out))
    }
}

/// A mapping key, refused when the mapping already has it (so the error points at the repeated key).
struct Key<'m>(&'m Mapping);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        if self.0.contains_key(v) { Err(E::custom(format!("duplicate key `{v}`"))) } else { Ok(v.to_owned()) }
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

/// serde's messages end with " at line X column Y"; the location is reported separately.
fn tidy_serde_message(message: &str) -> String {
    let trimmed = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    trimmed.trim_end_matches('.').to_owned()
}

/// `{type: object, allOf: [..], properties: {..}, required: [..]}` is common in real specs, and openapiv3
/// would read it as a plain object and silently drop the `allOf`. The object's own keywords become one more
/// `allOf` member instead, so every property is merged.
fn fold_all_of_siblings(node: &mut YamlValue) {
    match node {
        YamlValue::Mapping(m) => {
            if matches!(m.get("allOf"), Some(YamlValue::Sequence(_)))
                && ["type", "properties", "required", "additionalProperties"].iter().any(|k| m.contains_key(*k))
            {
                let mut own = yaml_serde::Mapping::new();
                for k in ["type", "properties", "required", "additionalProperties"] {
                    if let Some(v) = m.shift_remove(k) {
                        own.insert(YamlValue::String(k.to_owned()), v);
                    }
                }
                let object_like = own.keys().any(|k| k.as_str() != Some("type"))
                    || own.get("type").and_then(YamlValue::as_str) == Some("object");
                if object_like && let Some(YamlValue::Sequence(members)) = m.get_mut("allOf") {
                    members.push(YamlValue::Mapping(own));
                }
            }
            for (_, v) in m.iter_mut() {
                fold_all_of_siblings(v);
            }
        }
        YamlValue::Sequence(items) => items.iter_mut().for_each(fold_all_of_siblings),
        _ => {}
    }
}
