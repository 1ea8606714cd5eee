//! Load stage, multi-file specs: what `$ref`s to other files name is pulled into the root document, so every
//! later stage sees one document whose references are all `#/...`.
//!
//! How: the document is walked knowing what each node is (a schema, a parameter, a path item, ...). A `$ref`
//! to another file (`./schemas/user.yaml#/User`, `../common.yaml`, `other.json#/components/schemas/X`) is
//! resolved relative to the file that holds it; each file is read once (YAML or JSON by content), and the node
//! at the fragment (the whole file without one) becomes a component of the root, in the section of its kind
//! (`schemas`, `parameters`, `responses`, `requestBodies`, `headers`, `examples`, `links`, `callbacks`,
//! `securitySchemes`), and the `$ref` is rewritten to point there. Path items and operations have no
//! components section in 3.0, so they are copied in place. A pulled-in part is walked in turn, relative to its
//! own file (its `#/...` references mean its own file; one back into the root becomes a plain `#/...`). Each
//! (file, fragment) is pulled in once, so references that go round between files end as references between
//! components: recursive types, not endless copying.
//!
//! Names: the fragment's last segment (`#/components/schemas/User` -> `User`), or the file's stem for a
//! whole-file reference (`schemas/user.yaml` -> `user`); characters a component name cannot hold become `_`.
//! A name already taken in that section (by the root's own components, or by a part pulled in earlier) is
//! qualified with the file's stem (`common_Error`; with the folder's name for a whole-file reference), then
//! numbered (`common_Error_2`). Parts are named in the order they are first referenced, in document order.
//!
//! Refused, each an error at the `$ref` in the file that holds it: a file that cannot be read (E0202), a
//! fragment that names nothing (E0212), a URL or an absolute path (E0213: there is no network, and a spec
//! should not depend on where it is checked out). References inside `x-` extensions are not followed: they
//! are documentation (code samples in other languages, say). A reference may leave the spec's folder
//! (`../common.yaml`): files shared by several specs sit beside them, and a file read is only ever parsed.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use yaml_serde::{Mapping, Value};

use super::diag::{Diagnostic, Diagnostics, Severity, escape_segment};
use super::load::{SourceFile, parse_value};

#[cfg(test)]
mod tests;

/// The index of the root file in [`Bundler::files`].
const ROOT: usize = 0;

/// What a node of an OpenAPI document is, as far as references go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Doc,
    Components,
    PathItem,
    Operation,
    Responses,
    Response,
    Parameter,
    Header,
    RequestBody,
    MediaType,
    Encoding,
    Schema,
    Example,
    Link,
    Callback,
    SecurityScheme,
    /// Somewhere this walk does not model: references are followed and copied in place.
    Unknown,
}

/// What the value under a key is: one node of a kind, or a map or list of them.
enum Child {
    One(Kind),
    Each(Kind),
}

impl Kind {
    /// The `components` section a referenced node of this kind goes to; `None` when it is copied in place.
    fn section(self) -> Option<&'static str> {
        Some(match self {
            Kind::Schema => "schemas",
            Kind::Parameter => "parameters",
            Kind::Response => "responses",
            Kind::RequestBody => "requestBodies",
            Kind::Header => "headers",
            Kind::Example => "examples",
            Kind::Link => "links",
            Kind::Callback => "callbacks",
            Kind::SecurityScheme => "securitySchemes",
            _ => return None,
        })
    }

    fn of_section(section: &str) -> Kind {
        match section {
            "schemas" => Kind::Schema,
            "parameters" => Kind::Parameter,
            "responses" => Kind::Response,
            "requestBodies" => Kind::RequestBody,
            "headers" => Kind::Header,
            "examples" => Kind::Example,
            "links" => Kind::Link,
            "callbacks" => Kind::Callback,
            "securitySchemes" => Kind::SecurityScheme,
            "pathItems" => Kind::PathItem,
            _ => Kind::Unknown,
        }
    }

    /// What the value under `key` of a node of this kind is; `None` for data, where no reference is followed.
    fn child(self, key: &str) -> Option<Child> {
        use Child::{Each, One};
        if key.starts_with("x-") {
            return None;
        }
        Some(match (self, key) {
            (Kind::Doc, "paths" | "webhooks") => Each(Kind::PathItem),
            (Kind::Doc, "components") => One(Kind::Components),
            (Kind::Components, section) => Each(Kind::of_section(section)),
            (Kind::PathItem, "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace") => {
                One(Kind::Operation)
            }
            (Kind::PathItem | Kind::Operation, "parameters") => Each(Kind::Parameter),
            (Kind::Operation, "requestBody") => One(Kind::RequestBody),
            (Kind::Operation, "responses") => One(Kind::Responses),
            (Kind::Operation, "callbacks") => Each(Kind::Callback),
            (Kind::Responses, _) => One(Kind::Response),
            (Kind::Callback, _) => One(Kind::PathItem),
            (Kind::Response | Kind::Encoding, "headers") => Each(Kind::Header),
            (Kind::Response | Kind::Parameter | Kind::Header | Kind::RequestBody, "content") => Each(Kind::MediaType),
            (Kind::Response, "links") => Each(Kind::Link),
            (Kind::Parameter | Kind::Header | Kind::MediaType, "schema") => One(Kind::Schema),
            (Kind::Parameter | Kind::Header | Kind::MediaType, "examples") => Each(Kind::Example),
            (Kind::MediaType, "encoding") => Each(Kind::Encoding),
            (Kind::Schema, "properties" | "patternProperties" | "dependentSchemas" | "$defs" | "definitions") => {
                Each(Kind::Schema)
            }
            (Kind::Schema, "allOf" | "oneOf" | "anyOf" | "prefixItems") => Each(Kind::Schema),
            (
                Kind::Schema,
                "items"
                | "additionalProperties"
                | "not"
                | "contains"
                | "if"
                | "then"
                | "else"
                | "propertyNames"
                | "unevaluatedProperties"
                | "unevaluatedItems"
                | "additionalItems"
                | "contentSchema",
            ) => One(Kind::Schema),
            (Kind::Unknown, "example" | "examples" | "default" | "enum" | "const") => return None,
            (Kind::Unknown, _) => One(Kind::Unknown),
            _ => return None,
        })
    }
}

/// One file of the spec.
struct File {
    source: Arc<SourceFile>,
    /// The path it was read from (lexically normalised, relative when the spec's path is); `None` for a spec
    /// given as text.
    path: Option<PathBuf>,
    /// Its parsed content (`Null` for the root, whose content is the document being walked).
    value: Value,
}

/// A `$ref` as written: its text, the file holding it and the pointer of the `$ref` key there.
struct Written<'a> {
    target: &'a str,
    file: usize,
    ref_at: &'a str,
}

/// A node to pull into the root's components: the file, the pointer in it, its kind, section and name.
struct Pending {
    file: usize,
    pointer: String,
    kind: Kind,
    section: &'static str,
    name: String,
}

struct Bundler<'d> {
    diags: &'d mut Diagnostics,
    files: Vec<File>,
    /// Canonical path -> index in `files`.
    by_path: BTreeMap<PathBuf, usize>,
    /// Files that could not be parsed (reported once).
    broken: BTreeSet<PathBuf>,
    /// Component names in use, per section.
    taken: BTreeMap<&'static str, BTreeSet<String>>,
    /// (file, pointer, section) -> the component name it was given.
    names: BTreeMap<(usize, String, &'static str), String>,
    pending: VecDeque<Pending>,
    /// Path items being copied in, to refuse one that includes itself.
    inlining: Vec<(usize, String)>,
    /// Bundled pointer -> the file and pointer it came from.
    origins: BTreeMap<String, (Arc<SourceFile>, String)>,
    /// The pulled-in components, in the order they were named.
    out: Vec<(&'static str, String, Value)>,
}

/// Pulls every part of other files that `doc`'s references reach into `doc` (see the module docs). `path` is
/// where the root was read from, `None` for text. Returns every file read, the root first.
pub(super) fn bundle(
    doc: &mut Value,
    source: &Arc<SourceFile>,
    path: Option<&Path>,
    diags: &mut Diagnostics,
) -> Vec<PathBuf> {
    if !refers_elsewhere(doc) {
        // Most specs are one file; they pay for one scan, not for the walk.
        return path.map(normalise).into_iter().collect();
    }
    let mut bundler = Bundler {
        diags,
        files: vec![File { source: source.clone(), path: path.map(normalise), value: Value::Null }],
        by_path: BTreeMap::new(),
        broken: BTreeSet::new(),
        taken: BTreeMap::new(),
        names: BTreeMap::new(),
        pending: VecDeque::new(),
        inlining: Vec::new(),
        origins: BTreeMap::new(),
        out: Vec::new(),
    };
    if let Some(canonical) = path.and_then(|p| std::fs::canonicalize(p).ok()) {
        bundler.by_path.insert(canonical, ROOT);
    }
    if let Some(Value::Mapping(components)) = doc.get("components") {
        for (section, entries) in components {
            let (Some(section), Value::Mapping(entries)) = (section.as_str(), entries) else { continue };
            let Some(section) = Kind::of_section(section).section() else { continue };
            let taken = bundler.taken.entry(section).or_default();
            taken.extend(entries.keys().filter_map(Value::as_str).map(str::to_owned));
        }
    }
    bundler.walk(doc, Kind::Doc, ROOT, "", "");
    while let Some(p) = bundler.pending.pop_front() {
        let Some(mut value) = lookup(&bundler.files[p.file].value, &p.pointer).cloned() else { continue };
        let at = format!("/components/{}/{}", p.section, escape_segment(&p.name));
        bundler.origins.insert(at.clone(), (bundler.files[p.file].source.clone(), p.pointer.clone()));
        bundler.walk(&mut value, p.kind, p.file, &p.pointer, &at);
        bundler.out.push((p.section, p.name, value));
    }
    if !bundler.out.is_empty()
        && let Value::Mapping(root) = doc
    {
        let components = root.entry(key("components")).or_insert_with(|| Value::Mapping(Mapping::new()));
        if let Value::Mapping(components) = components {
            for (section, name, value) in std::mem::take(&mut bundler.out) {
                let entries = components.entry(key(section)).or_insert_with(|| Value::Mapping(Mapping::new()));
                if let Value::Mapping(entries) = entries {
                    entries.insert(key(&name), value);
                }
            }
        }
    }
    source.set_origins(std::mem::take(&mut bundler.origins));
    bundler.files.into_iter().filter_map(|f| f.path).collect()
}

impl Bundler<'_> {
    /// Walks `node`, a `kind` at `local` in file `file` and at `at` in the bundled document, following and
    /// rewriting every reference.
    fn walk(&mut self, node: &mut Value, kind: Kind, file: usize, local: &str, at: &str) {
        if let Value::Sequence(items) = node {
            // `items: [..]` (old drafts) and lists met in unknown places.
            for (i, item) in items.iter_mut().enumerate() {
                self.walk(item, kind, file, &format!("{local}/{i}"), &format!("{at}/{i}"));
            }
            return;
        }
        let Value::Mapping(map) = node else { return };
        if let Some(Value::String(target)) = map.get("$ref") {
            let target = target.clone();
            self.reference(node, &target, kind, file, local, at);
            return;
        }
        for (k, v) in map.iter_mut() {
            let Some(k) = k.as_str() else { continue };
            let (local, at) = (format!("{local}/{}", escape_segment(k)), format!("{at}/{}", escape_segment(k)));
            if kind == Kind::Schema && k == "discriminator" {
                self.discriminator(v, file, &local);
                continue;
            }
            match kind.child(k) {
                None => {}
                Some(Child::One(child)) => self.walk(v, child, file, &local, &at),
                Some(Child::Each(child)) => match v {
                    Value::Mapping(entries) => {
                        for (name, entry) in entries.iter_mut() {
                            let Some(name) = name.as_str() else { continue };
                            let seg = escape_segment(name);
                            self.walk(entry, child, file, &format!("{local}/{seg}"), &format!("{at}/{seg}"));
                        }
                    }
                    Value::Sequence(_) => self.walk(v, child, file, &local, &at),
                    _ => {}
                },
            }
        }
    }

    /// A `$ref` node: rewritten to a component, copied in place, or left alone when it is internal to the root.
    fn reference(&mut self, node: &mut Value, target: &str, kind: Kind, file: usize, local: &str, at: &str) {
        if file == ROOT && target.starts_with('#') {
            return;
        }
        let ref_at = format!("{local}/$ref");
        let Some((to, pointer)) = self.resolve(target, file, &ref_at) else { return };
        let rewritten = if to == ROOT {
            format!("#{pointer}")
        } else if let Some(section) = kind.section() {
            let name = self.hoist(to, pointer, kind, section);
            format!("#/components/{section}/{}", escape_segment(&name))
        } else {
            let written = Written { target, file, ref_at: &ref_at };
            self.inline(node, &written, to, pointer, kind, at);
            return;
        };
        if let Value::Mapping(map) = node {
            map.insert(key("$ref"), Value::String(rewritten));
        }
    }

    /// The `mapping` of a discriminator holds references as plain strings.
    fn discriminator(&mut self, node: &mut Value, file: usize, local: &str) {
        let Some(Value::Mapping(mapping)) = node.get_mut("mapping") else { return };
        for (name, value) in mapping.iter_mut() {
            let Value::String(target) = value else { continue };
            // A bare name is a schema of the root's components.
            if !target.contains(['#', '/', '.']) || (file == ROOT && target.starts_with('#')) {
                continue;
            }
            let at = format!("{local}/mapping/{}", escape_segment(name.as_str().unwrap_or_default()));
            let Some((to, pointer)) = self.resolve(&target.clone(), file, &at) else { continue };
            *target = if to == ROOT {
                format!("#{pointer}")
            } else {
                let name = self.hoist(to, pointer, Kind::Schema, "schemas");
                format!("#/components/schemas/{}", escape_segment(&name))
            };
        }
    }

    /// The file and JSON pointer that `target`, written in `file` at `ref_at`, names; `None` once the reason
    /// it cannot be followed is reported.
    fn resolve(&mut self, target: &str, file: usize, ref_at: &str) -> Option<(usize, String)> {
        let (path, fragment) = split_reference(target);
        let to = if path.is_empty() {
            file
        } else if is_url(path) || Path::new(&percent_decode(path)).is_absolute() || path.starts_with('/') {
            let from = self.files[file].source.clone();
            self.diags
                .error_in(&from, "E0213", ref_at, format!("reference `{target}` leaves the spec's files"))
                .label("not a relative path")
                .help(
                    "authgen reads only local files, by a path relative to the file holding the reference (there \
                     is no network); download the file beside the spec and refer to it as `./file.yaml#/...`",
                );
            return None;
        } else {
            self.open(file, &percent_decode(path), target, ref_at)?
        };
        let pointer = percent_decode(fragment);
        if to == ROOT {
            // The root's own references are checked by the validate stage, as if written there.
            return Some((to, pointer));
        }
        if (!pointer.is_empty() && !pointer.starts_with('/')) || lookup(&self.files[to].value, &pointer).is_none() {
            let from = self.files[file].source.clone();
            let name = self.files[to].source.name.clone();
            self.diags
                .error_in(&from, "E0212", ref_at, format!("reference `{target}` names nothing in `{name}`"))
                .label("no such node")
                .help(format!(
                    "the part after `#` is a JSON pointer into `{name}`, such as `#/components/schemas/User`; \
                     without it the reference is the whole file"
                ));
            return None;
        }
        Some((to, pointer))
    }

    /// Reads and parses the file `relative` to `from` (once), reporting why when it cannot.
    fn open(&mut self, from: usize, relative: &str, target: &str, ref_at: &str) -> Option<usize> {
        let from_source = self.files[from].source.clone();
        let Some(from_path) = self.files[from].path.clone() else {
            self.diags
                .error_in(&from_source, "E0202", ref_at, format!("external reference `{target}` cannot be followed"))
                .label("points to another file")
                .help(
                    "the spec was given as text, so there is no folder to read other files from; load it from its file",
                );
            return None;
        };
        let path = normalise(&from_path.parent().unwrap_or(Path::new("")).join(relative));
        let name_base = Path::new(&from_source.name).parent().unwrap_or(Path::new(""));
        let name = normalise(&name_base.join(relative)).to_string_lossy().replace('\\', "/");
        let canonical = std::fs::canonicalize(&path).ok();
        if let Some(canonical) = &canonical {
            if let Some(&index) = self.by_path.get(canonical) {
                return Some(index);
            }
            if self.broken.contains(canonical) {
                return None;
            }
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                // The systems word the common case differently; the report should not.
                let why =
                    if e.kind() == std::io::ErrorKind::NotFound { "no such file".to_owned() } else { e.to_string() };
                self.diags
                    .error_in(
                        &from_source,
                        "E0202",
                        ref_at,
                        format!("cannot read `{name}`, which `{target}` names: {why}"),
                    )
                    .label("this reference")
                    .help(format!(
                        "a reference to another file is relative to the file that holds it, here `{}`",
                        from_source.name
                    ));
                return None;
            }
        };
        let source = Arc::new(SourceFile::new(name, text));
        match parse_value(&source) {
            Ok(value) => {
                let index = self.files.len();
                self.files.push(File { source, path: Some(path), value });
                if let Some(canonical) = canonical {
                    self.by_path.insert(canonical, index);
                }
                Some(index)
            }
            Err((message, location)) => {
                let message = message.rfind(" at line ").map_or(message.as_str(), |i| &message[..i]).to_owned();
                self.diags.push_located(Diagnostic {
                    severity: Severity::Error,
                    code: "E0001",
                    message: format!("`{}` is not valid YAML or JSON: {message}", source.name),
                    pointer: String::new(),
                    location,
                    label: "here".to_owned(),
                    help: Some(format!("`{target}` (in `{}`) refers to this file", from_source.name)),
                    file: Some(source.clone()),
                });
                if let Some(canonical) = canonical {
                    self.broken.insert(canonical);
                }
                // Still a file the spec depends on, though nothing can refer into it.
                self.files.push(File { source, path: Some(path), value: Value::Null });
                None
            }
        }
    }

    /// The component name for `pointer` in file `file`, claimed and queued the first time it is asked for.
    fn hoist(&mut self, file: usize, pointer: String, kind: Kind, section: &'static str) -> String {
        let key = (file, pointer, section);
        if let Some(name) = self.names.get(&key) {
            return name.clone();
        }
        let name = self.claim(section, file, &key.1);
        self.pending.push_back(Pending { file, pointer: key.1.clone(), kind, section, name: name.clone() });
        self.names.insert(key, name.clone());
        name
    }

    /// A component name that is free in `section` (the naming rule is in the module docs).
    fn claim(&mut self, section: &'static str, file: usize, pointer: &str) -> String {
        let path = Path::new(&self.files[file].source.name);
        let stem = sanitise(&path.file_stem().unwrap_or_default().to_string_lossy());
        let folder = path.parent().and_then(Path::file_name).map(|f| sanitise(&f.to_string_lossy()));
        let last = pointer.rsplit('/').next().map(unescape).filter(|s| !pointer.is_empty() && !s.is_empty());
        let (base, qualifier) = match last {
            Some(seg) if seg.chars().all(|c| c.is_ascii_digit()) => (format!("{stem}_{seg}"), stem.clone()),
            Some(seg) => (sanitise(&seg), stem.clone()),
            None => (stem.clone(), folder.unwrap_or_else(|| "file".to_owned())),
        };
        let taken = self.taken.entry(section).or_default();
        let qualified = format!("{qualifier}_{base}");
        let chosen = [base, qualified.clone()]
            .into_iter()
            .chain((2..).map(|n| format!("{qualified}_{n}")))
            .find(|candidate| !taken.contains(candidate))
            .unwrap_or(qualified);
        taken.insert(chosen.clone());
        chosen
    }

    /// Replaces the `$ref` node with a copy of what it names (path items, operations, unknown places).
    fn inline(&mut self, node: &mut Value, written: &Written<'_>, file: usize, pointer: String, kind: Kind, at: &str) {
        let Some(mut value) = lookup(&self.files[file].value, &pointer).cloned() else { return };
        if self.inlining.iter().any(|(f, p)| *f == file && *p == pointer) {
            let holder = self.files[written.file].source.clone();
            self.diags
                .error_in(
                    &holder,
                    "E0211",
                    written.ref_at,
                    format!("reference cycle: `{}` includes itself", written.target),
                )
                .label("this reference leads back to where it is")
                .help("a path item or an operation cannot contain itself; remove the reference");
            return;
        }
        self.inlining.push((file, pointer.clone()));
        self.origins.insert(at.to_owned(), (self.files[file].source.clone(), pointer.clone()));
        self.walk(&mut value, kind, file, &pointer, at);
        self.inlining.pop();
        // Keys written beside the `$ref` (a summary, a description) stay, over the referenced ones.
        if let (Value::Mapping(beside), Value::Mapping(copied)) = (&*node, &mut value) {
            for (k, v) in beside {
                if k.as_str() != Some("$ref") {
                    copied.insert(k.clone(), v.clone());
                }
            }
        }
        *node = value;
    }
}

/// True when some reference (or discriminator mapping) might name another file.
fn refers_elsewhere(node: &Value) -> bool {
    match node {
        Value::Mapping(map) => map.iter().any(|(k, v)| match (k.as_str(), v) {
            (Some("$ref"), Value::String(target)) => !target.starts_with('#'),
            (Some("mapping"), Value::Mapping(m)) => {
                m.values().any(|t| t.as_str().is_some_and(|t| !t.starts_with('#') && t.contains(['/', '.'])))
                    || refers_elsewhere(v)
            }
            _ => refers_elsewhere(v),
        }),
        Value::Sequence(items) => items.iter().any(refers_elsewhere),
        _ => false,
    }
}

fn key(s: &str) -> Value {
    Value::String(s.to_owned())
}

/// Splits a reference into the file part and the fragment (the JSON pointer after `#`). A `#` followed by
/// something other than `/` is part of a file name (real specs have files named `flows#clone+json.yaml`).
fn split_reference(target: &str) -> (&str, &str) {
    if let Some(fragment) = target.strip_prefix('#') {
        return ("", fragment);
    }
    for (i, _) in target.match_indices('#') {
        let rest = &target[i + 1..];
        if rest.is_empty() || rest.starts_with('/') {
            return (&target[..i], rest);
        }
    }
    (target, "")
}

/// `http://..`, `file:..`, `//host/..`; a Windows drive letter (`C:`) is not a scheme but an absolute path.
fn is_url(path: &str) -> bool {
    if path.starts_with("//") {
        return true;
    }
    match path.split_once(':') {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// Decodes `%XX` escapes; text that does not decode to UTF-8 is kept as written.
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) if bytes[i] == b'%' => {
                out.push(b);
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// The node at a JSON pointer (`""` is the whole value).
fn lookup<'v>(value: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() {
        return Some(value);
    }
    let mut cur = value;
    for segment in pointer.strip_prefix('/')?.split('/') {
        let segment = unescape(segment);
        cur = match cur {
            Value::Mapping(m) => m.get(segment.as_str())?,
            Value::Sequence(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// A component name holds `A-Z a-z 0-9 . - _` only.
fn sanitise(name: &str) -> String {
    let out: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    if out.is_empty() { "Component".to_owned() } else { out }
}

/// `a/./b/../c` -> `a/c`, without touching the file system (`..` at the start is kept).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
