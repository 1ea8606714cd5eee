//! Swagger 2.0 input: rewrites a `swagger: "2.0"` document into the OpenAPI 3.0 shape before the typed parse,
//! as `v31.rs` does for 3.1, and records where every moved node came from so diagnostics on the converted
//! document still point at the 2.0 file.
//!
//! Translated: `definitions` -> `components/schemas`, top-level `parameters` and `responses` ->
//! `components/parameters` and `components/responses`, `securityDefinitions` -> `components/securitySchemes`
//! (`basic` -> HTTP basic, `apiKey` as is, the `oauth2` flows `implicit`, `password`, `application` ->
//! `clientCredentials` and `accessCode` -> `authorizationCode`), with every `$ref` rewritten; an `in: body`
//! parameter -> `requestBody` under each media type of `consumes` (the operation's, else the document's, else
//! `application/json`); `in: formData` parameters -> one object `requestBody`, `multipart/form-data` when a
//! parameter is a file or `consumes` lists only multipart, else `application/x-www-form-urlencoded`; the
//! `type`/`format`/`items`/`enum`/... of other parameters and of response headers -> `schema`;
//! `collectionFormat` -> `style`/`explode`; a response `schema` -> `content` under each media type of
//! `produces` (with its `examples` entry as `example`); `type: file` -> a binary string; a string
//! `discriminator` -> `{propertyName}`; `x-nullable` -> `nullable`; `host` and `schemes` -> `servers`.
//!
//! `basePath` is prepended to every path rather than put into `servers`: authgen routes on the path keys alone,
//! and a 2.0 API with `basePath: /v2` serves `/v2/pet`, so that is the route the generated router and client use.
//!
//! Every moved node is recorded in a [`PointerMap`] (3.0 pointer -> 2.0 pointer), which the source file keeps,
//! so a later diagnostic at `/components/schemas/Pet` is reported at `/definitions/Pet`, and one inside a
//! converted body at the `in: body` parameter it came from. What has no 3.0 equivalent is a `W0005` warning at
//! its 2.0 location.

use std::collections::BTreeMap;

use yaml_serde::{Mapping, Value};

use super::diag::{Diagnostics, escape_segment};

#[cfg(test)]
mod tests;

/// Where the nodes of a converted document came from: 3.0 pointer -> 2.0 pointer, for the roots of moved
/// subtrees. A pointer below a recorded one is translated by its longest recorded prefix.
#[derive(Debug, Default, Clone)]
pub(crate) struct PointerMap {
    moved: BTreeMap<String, String>,
}

impl PointerMap {
    fn add(&mut self, new: String, old: String) {
        self.moved.insert(new, old);
    }

    /// The 2.0 pointer of a node of the converted document.
    pub(crate) fn original(&self, pointer: &str) -> String {
        let mut prefix = pointer;
        loop {
            if let Some(old) = self.moved.get(prefix) {
                return format!("{old}{}", &pointer[prefix.len()..]);
            }
            match prefix.rfind('/') {
                Some(cut) => prefix = &prefix[..cut],
                None => return pointer.to_owned(),
            }
        }
    }
}

/// True when the document declares `swagger` (any version) at its root.
pub(crate) fn is_swagger(doc: &Value) -> bool {
    matches!(doc, Value::Mapping(m) if m.contains_key("swagger") && !m.contains_key("openapi"))
}

fn key(s: &str) -> Value {
    Value::String(s.to_owned())
}

fn join(ptr: &str, segment: &str) -> String {
    format!("{ptr}/{}", escape_segment(segment))
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    match v {
        Some(Value::Sequence(items)) => {
            Some(items.iter().filter_map(Value::as_str).map(str::to_owned).collect::<Vec<_>>())
                .filter(|v: &Vec<String>| !v.is_empty())
        }
        _ => None,
    }
}

fn str_of<'v>(m: &'v Mapping, k: &str) -> Option<&'v str> {
    m.get(k).and_then(Value::as_str)
}

/// The keywords of a 2.0 non-body parameter (or header, or `items`) that describe its value, so belong in a
/// 3.0 `schema`.
const SCHEMA_KEYS: &[&str] = &[
    "type",
    "format",
    "items",
    "enum",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
    "x-nullable",
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];

/// Rewrites `doc` (known to have a root `swagger` key) into the OpenAPI 3.0 shape, returning where the moved
/// nodes came from. A version other than 2.0 is an error (E0002) and leaves the document as it is.
pub(crate) fn convert(doc: &mut Value, diags: &mut Diagnostics) -> PointerMap {
    let Value::Mapping(root) = doc else { return PointerMap::default() };
    let version = match root.get("swagger") {
        Some(Value::String(v)) => v.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    if version != "2.0" {
        diags
            .error("E0002", "/swagger", format!("unsupported Swagger version `{version}`"))
            .label("this version")
            .help("authgen reads Swagger 2.0, OpenAPI 3.0.x and 3.1.x");
        return PointerMap::default();
    }
    diags
        .warning("W0004", "/swagger", "the spec is Swagger 2.0 and was converted to OpenAPI 3.0 to generate")
        .label("Swagger 2.0")
        .help("diagnostics point at this file; the generated README notes the conversion");
    let old = std::mem::take(root);
    let mut c = Converter {
        diags,
        map: PointerMap::default(),
        consumes: strings(old.get("consumes")).unwrap_or_else(|| vec!["application/json".to_owned()]),
        produces: strings(old.get("produces")).unwrap_or_else(|| vec!["application/json".to_owned()]),
        schemes: old
            .contains_key("host")
            .then(|| strings(old.get("schemes")).unwrap_or_else(|| vec!["https".to_owned()])),
        shared: match old.get("parameters") {
            Some(Value::Mapping(p)) => p.clone(),
            _ => Mapping::new(),
        },
    };
    *root = c.document(old);
    rewrite_refs(doc);
    c.map
}

struct Converter<'d> {
    diags: &'d mut Diagnostics,
    map: PointerMap,
    consumes: Vec<String>,
    produces: Vec<String>,
    /// The document's schemes when it names a `host` (so has servers).
    schemes: Option<Vec<String>>,
    /// The document's `parameters`, to see through `$ref`s to body and form parameters, which 3.0 cannot
    /// reference as parameters.
    shared: Mapping,
}

impl Converter<'_> {
    fn document(&mut self, old: Mapping) -> Mapping {
        let mut out = Mapping::new();
        out.insert(key("openapi"), key("3.0.3"));
        self.map.add("/openapi".to_owned(), "/swagger".to_owned());
        if let Some(info) = old.get("info") {
            out.insert(key("info"), info.clone());
        }
        if let Some(servers) = servers(&old) {
            out.insert(key("servers"), servers);
            self.map.add("/servers".to_owned(), "/host".to_owned());
        }
        let base = base_path(&old);
        let mut components = Mapping::new();
        for (k, v) in old {
            let Value::String(name) = &k else { continue };
            match (name.as_str(), v) {
                ("swagger" | "info" | "consumes" | "produces" | "host" | "basePath" | "schemes", _) => {}
                ("definitions", Value::Mapping(defs)) => {
                    let defs = defs.into_iter().map(|(n, s)| (n, convert_schema(s))).collect();
                    components.insert(key("schemas"), Value::Mapping(defs));
                    self.map.add("/components/schemas".to_owned(), "/definitions".to_owned());
                }
                ("parameters", Value::Mapping(params)) => {
                    let mut kept = Mapping::new();
                    for (n, p) in params {
                        let (Value::String(pname), Value::Mapping(p)) = (&n, p) else { continue };
                        if matches!(str_of(&p, "in"), Some("body" | "formData")) {
                            // Inlined into each operation that references it (see `operation`).
                            continue;
                        }
                        let new = join("/components/parameters", pname);
                        let old = join("/parameters", pname);
                        kept.insert(n.clone(), self.parameter(p, &new, &old));
                    }
                    if !kept.is_empty() {
                        components.insert(key("parameters"), Value::Mapping(kept));
                    }
                    self.map.add("/components/parameters".to_owned(), "/parameters".to_owned());
                }
                ("responses", Value::Mapping(responses)) => {
                    let produces = self.produces.clone();
                    let mut kept = Mapping::new();
                    for (n, r) in responses {
                        let Value::String(rname) = &n else { continue };
                        let new = join("/components/responses", rname);
                        let old = join("/responses", rname);
                        self.map.add(new.clone(), old.clone());
                        let r = self.response(r, &new, &old, &produces);
                        kept.insert(n, r);
                    }
                    components.insert(key("responses"), Value::Mapping(kept));
                }
                ("securityDefinitions", Value::Mapping(schemes)) => {
                    let mut kept = Mapping::new();
                    for (n, s) in schemes {
                        let (Value::String(sname), Value::Mapping(s)) = (&n, s) else { continue };
                        let new = join("/components/securitySchemes", sname);
                        let old = join("/securityDefinitions", sname);
                        self.map.add(new.clone(), old.clone());
                        kept.insert(n.clone(), self.security_scheme(s, &new, &old));
                    }
                    components.insert(key("securitySchemes"), Value::Mapping(kept));
                }
                ("paths", Value::Mapping(paths)) => {
                    let paths = self.paths(paths, &base);
                    out.insert(k, Value::Mapping(paths));
                }
                (_, v) => {
                    out.insert(k, v);
                }
            }
        }
        if !out.contains_key("paths") {
            out.insert(key("paths"), Value::Mapping(Mapping::new()));
        }
        if !components.is_empty() {
            out.insert(key("components"), Value::Mapping(components));
        }
        out
    }

    fn paths(&mut self, paths: Mapping, base: &str) -> Mapping {
        let mut out = Mapping::new();
        for (k, item) in paths {
            let Value::String(path) = &k else { continue };
            if path.starts_with("x-") {
                out.insert(k, item);
                continue;
            }
            let full = format!("{base}{path}");
            let new = join("/paths", &full);
            let old = join("/paths", path);
            self.map.add(new.clone(), old.clone());
            let item = match item {
                Value::Mapping(item) => Value::Mapping(self.path_item(item, &new, &old)),
                other => other,
            };
            out.insert(key(&full), item);
        }
        out
    }

    fn path_item(&mut self, item: Mapping, new: &str, old: &str) -> Mapping {
        // Path-level body and form parameters have no 3.0 place but the operations' bodies.
        let mut inherited = Vec::new();
        let mut params = Vec::new();
        if let Some(Value::Sequence(list)) = item.get("parameters") {
            for (i, p) in list.iter().enumerate() {
                let p_old = format!("{old}/parameters/{i}");
                let (resolved, at) = self.resolve(p, &p_old);
                if matches!(str_of(&resolved, "in"), Some("body" | "formData")) {
                    inherited.push((resolved, at));
                } else {
                    let p_new = format!("{new}/parameters/{}", params.len());
                    self.map.add(p_new.clone(), p_old.clone());
                    params.push(self.plain_parameter(p, &p_new, &p_old));
                }
            }
        }
        let mut out = Mapping::new();
        for (k, v) in item {
            let Value::String(name) = &k else { continue };
            match (name.as_str(), v) {
                ("parameters", _) => {
                    if !params.is_empty() {
                        out.insert(k, Value::Sequence(std::mem::take(&mut params)));
                    }
                }
                (m, Value::Mapping(op)) if METHODS.contains(&m) => {
                    let op = self.operation(op, &join(new, m), &join(old, m), &inherited);
                    out.insert(k, Value::Mapping(op));
                }
                (_, v) => {
                    out.insert(k, v);
                }
            }
        }
        out
    }

    /// A parameter as written, or the shared parameter its `$ref` names, with the 2.0 pointer of the node
    /// that defines it.
    fn resolve(&self, p: &Value, at: &str) -> (Mapping, String) {
        let Value::Mapping(m) = p else { return (Mapping::new(), at.to_owned()) };
        if let Some(name) = str_of(m, "$ref").and_then(|r| r.strip_prefix("#/parameters/")) {
            let name = name.replace("~1", "/").replace("~0", "~");
            if let Some(Value::Mapping(shared)) = self.shared.get(name.as_str()) {
                return (shared.clone(), join("/parameters", &name));
            }
        }
        (m.clone(), at.to_owned())
    }

    /// A non-body parameter of an operation or path item: a `$ref` stays one (rewritten later).
    fn plain_parameter(&mut self, p: &Value, new: &str, old: &str) -> Value {
        match p {
            Value::Mapping(m) if !m.contains_key("$ref") => self.parameter(m.clone(), new, old),
            other => other.clone(),
        }
    }

    fn operation(&mut self, op: Mapping, new: &str, old: &str, inherited: &[(Mapping, String)]) -> Mapping {
        let consumes = strings(op.get("consumes")).unwrap_or_else(|| self.consumes.clone());
        let produces = strings(op.get("produces")).unwrap_or_else(|| self.produces.clone());
        let mut body: Option<(Mapping, String)> = None;
        let mut form: Vec<(Mapping, String)> = Vec::new();
        let mut params = Vec::new();
        if let Some(Value::Sequence(list)) = op.get("parameters") {
            for (i, p) in list.iter().enumerate() {
                let p_old = format!("{old}/parameters/{i}");
                let (resolved, at) = self.resolve(p, &p_old);
                match str_of(&resolved, "in") {
                    Some("body") if body.is_none() => body = Some((resolved, at)),
                    Some("body") => {
                        self.diags
                            .warning("W0005", &p_old, "a second `in: body` parameter is ignored")
                            .label("second body")
                            .help("Swagger 2.0 allows one body parameter per operation");
                    }
                    Some("formData") => form.push((resolved, at)),
                    _ => {
                        let p_new = format!("{new}/parameters/{}", params.len());
                        self.map.add(p_new.clone(), p_old.clone());
                        params.push(self.plain_parameter(p, &p_new, &p_old));
                    }
                }
            }
        }
        for (p, at) in inherited {
            let name = str_of(p, "name");
            match str_of(p, "in") {
                Some("body") if body.is_none() => body = Some((p.clone(), at.clone())),
                Some("formData") if !form.iter().any(|(f, _)| str_of(f, "name") == name) => {
                    form.push((p.clone(), at.clone()));
                }
                _ => {}
            }
        }
        let request_body = match body {
            Some((p, at)) => {
                for (_, f_at) in &form {
                    self.diags
                        .warning("W0005", f_at, "an `in: formData` parameter next to an `in: body` one is ignored")
                        .label("form parameter")
                        .help("an operation has either a body parameter or form parameters");
                }
                Some(self.json_body(p, &at, new, &consumes))
            }
            None if !form.is_empty() => Some(self.form_body(form, new, &consumes)),
            None => None,
        };
        let mut out = Mapping::new();
        for (k, v) in op {
            let Value::String(name) = &k else { continue };
            match (name.as_str(), v) {
                ("consumes" | "produces" | "parameters", _) => {}
                ("schemes", v) => {
                    // Without a `host` there are no servers to differ from; the same schemes say nothing new.
                    let own = strings(Some(&v)).unwrap_or_default();
                    if self.schemes.as_ref().is_none_or(|all| own.iter().all(|s| all.contains(s))) {
                        continue;
                    }
                    self.diags
                        .warning("W0005", &join(old, "schemes"), "the schemes of one operation are ignored")
                        .label("ignored")
                        .help("the document's `host` and `schemes` are its servers, for every operation");
                }
                ("responses", Value::Mapping(responses)) => {
                    let responses =
                        self.responses(responses, &join(new, "responses"), &join(old, "responses"), &produces);
                    out.insert(k, Value::Mapping(responses));
                }
                (_, v) => {
                    out.insert(k, v);
                }
            }
        }
        if !params.is_empty() {
            out.insert(key("parameters"), Value::Sequence(params));
        }
        if let Some(rb) = request_body {
            out.insert(key("requestBody"), rb);
        }
        out
    }

    fn json_body(&mut self, p: Mapping, at: &str, new: &str, consumes: &[String]) -> Value {
        let rb_ptr = join(new, "requestBody");
        self.map.add(rb_ptr.clone(), at.to_owned());
        let schema = convert_schema(p.get("schema").cloned().unwrap_or_else(|| Value::Mapping(Mapping::new())));
        let mut content = Mapping::new();
        for media in consumes {
            let media_ptr = join(&join(&rb_ptr, "content"), media);
            self.map.add(join(&media_ptr, "schema"), format!("{at}/schema"));
            self.map.add(media_ptr, at.to_owned());
            let mut m = Mapping::new();
            m.insert(key("schema"), schema.clone());
            content.insert(key(media), Value::Mapping(m));
        }
        let mut rb = Mapping::new();
        for (k, v) in p {
            match k.as_str() {
                Some("description" | "required") => {
                    rb.insert(k, v);
                }
                Some(x) if x.starts_with("x-") => {
                    rb.insert(k, v);
                }
                _ => {}
            }
        }
        rb.insert(key("content"), Value::Mapping(content));
        Value::Mapping(rb)
    }

    fn form_body(&mut self, form: Vec<(Mapping, String)>, new: &str, consumes: &[String]) -> Value {
        let has_file = form.iter().any(|(p, _)| str_of(p, "type") == Some("file"));
        let lists = |m: &str| consumes.iter().any(|c| c.eq_ignore_ascii_case(m));
        let multipart = has_file || (lists("multipart/form-data") && !lists("application/x-www-form-urlencoded"));
        let media = if multipart { "multipart/form-data" } else { "application/x-www-form-urlencoded" };
        let rb_ptr = join(new, "requestBody");
        let schema_ptr = join(&join(&rb_ptr, "content"), media) + "/schema";
        if let Some((_, first)) = form.first() {
            self.map.add(rb_ptr.clone(), first.clone());
            self.map.add(join(&rb_ptr, "content"), first.clone());
        }
        let mut properties = Mapping::new();
        let mut required = Vec::new();
        for (p, at) in form {
            let Some(name) = str_of(&p, "name").map(str::to_owned) else { continue };
            self.map.add(join(&format!("{schema_ptr}/properties"), &name), at.clone());
            if p.get("required") == Some(&Value::Bool(true)) {
                required.push(key(&name));
            }
            let mut schema = value_schema(&p);
            if let Some(d) = p.get("description") {
                schema.insert(key("description"), d.clone());
            }
            properties.insert(key(&name), Value::Mapping(schema));
        }
        let any_required = !required.is_empty();
        let mut schema = Mapping::new();
        schema.insert(key("type"), key("object"));
        schema.insert(key("properties"), Value::Mapping(properties));
        if any_required {
            schema.insert(key("required"), Value::Sequence(required));
        }
        let mut m = Mapping::new();
        m.insert(key("schema"), Value::Mapping(schema));
        let mut content = Mapping::new();
        content.insert(key(media), Value::Mapping(m));
        let mut rb = Mapping::new();
        if any_required {
            rb.insert(key("required"), Value::Bool(true));
        }
        rb.insert(key("content"), Value::Mapping(content));
        Value::Mapping(rb)
    }

    /// A query, header, path or cookie parameter: its value keywords move into `schema`, `collectionFormat`
    /// becomes `style` and `explode`.
    fn parameter(&mut self, p: Mapping, new: &str, old: &str) -> Value {
        let location = str_of(&p, "in").unwrap_or_default().to_owned();
        let mut out = Mapping::new();
        for (k, v) in &p {
            let Some(name) = k.as_str() else { continue };
            if SCHEMA_KEYS.contains(&name) || name == "collectionFormat" {
                continue;
            }
            if name == "allowEmptyValue" && location != "query" {
                continue;
            }
            out.insert(k.clone(), v.clone());
        }
        self.map.add(join(new, "schema"), old.to_owned());
        if str_of(&p, "type") == Some("array") {
            let at = if p.contains_key("collectionFormat") { join(old, "collectionFormat") } else { old.to_owned() };
            self.map.add(join(new, "style"), at.clone());
            self.map.add(join(new, "explode"), at.clone());
            let format = str_of(&p, "collectionFormat").unwrap_or("csv");
            let style = match (format, location.as_str()) {
                ("csv", "query" | "cookie") => Some(("form", false)),
                ("csv", _) => None,
                ("multi", "query") => Some(("form", true)),
                ("ssv", "query") => Some(("spaceDelimited", false)),
                ("pipes", "query") => Some(("pipeDelimited", false)),
                (other, _) => {
                    let read =
                        if matches!(location.as_str(), "query" | "cookie") { Some(("form", false)) } else { None };
                    self.diags
                        .warning(
                            "W0005",
                            &at,
                            format!("`collectionFormat: {other}` has no OpenAPI 3.0 equivalent in a {location} parameter; it is read comma-separated"),
                        )
                        .label("not convertible")
                        .help("use `csv`, or `multi`, `ssv` or `pipes` in a query parameter");
                    read
                }
            };
            if let Some((style, explode)) = style {
                out.insert(key("style"), key(style));
                out.insert(key("explode"), Value::Bool(explode));
            }
        }
        out.insert(key("schema"), Value::Mapping(value_schema(&p)));
        Value::Mapping(out)
    }

    fn responses(&mut self, responses: Mapping, new: &str, old: &str, produces: &[String]) -> Mapping {
        let mut out = Mapping::new();
        for (k, r) in responses {
            let code = match &k {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            if code.starts_with("x-") {
                out.insert(k, r);
                continue;
            }
            let r = self.response(r, &join(new, &code), &join(old, &code), produces);
            out.insert(key(&code), r);
        }
        out
    }

    fn response(&mut self, r: Value, new: &str, old: &str, produces: &[String]) -> Value {
        let Value::Mapping(r) = r else { return r };
        if r.contains_key("$ref") {
            return Value::Mapping(r);
        }
        let mut out = Mapping::new();
        out.insert(key("description"), r.get("description").cloned().unwrap_or_else(|| key("")));
        if let Some(Value::Mapping(headers)) = r.get("headers") {
            let mut converted = Mapping::new();
            for (h, spec) in headers {
                let (Some(name), Value::Mapping(spec)) = (h.as_str(), spec) else { continue };
                self.map.add(join(&join(&join(new, "headers"), name), "schema"), join(&join(old, "headers"), name));
                let mut header = Mapping::new();
                for (k, v) in spec {
                    if matches!(k.as_str(), Some("description")) || k.as_str().is_some_and(|k| k.starts_with("x-")) {
                        header.insert(k.clone(), v.clone());
                    }
                }
                header.insert(key("schema"), Value::Mapping(value_schema(spec)));
                converted.insert(h.clone(), Value::Mapping(header));
            }
            out.insert(key("headers"), Value::Mapping(converted));
        }
        if let Some(schema) = r.get("schema") {
            let schema = convert_schema(schema.clone());
            let examples = match r.get("examples") {
                Some(Value::Mapping(e)) => e.clone(),
                _ => Mapping::new(),
            };
            let content_ptr = join(new, "content");
            self.map.add(content_ptr.clone(), join(old, "schema"));
            let mut content = Mapping::new();
            for media in produces {
                self.map.add(join(&join(&content_ptr, media), "schema"), join(old, "schema"));
                self.map.add(join(&content_ptr, media), join(old, "schema"));
                let mut m = Mapping::new();
                m.insert(key("schema"), schema.clone());
                if let Some(example) = examples.get(media.as_str()) {
                    m.insert(key("example"), example.clone());
                }
                content.insert(key(media), Value::Mapping(m));
            }
            out.insert(key("content"), Value::Mapping(content));
        }
        for (k, v) in r {
            if k.as_str().is_some_and(|k| k.starts_with("x-")) {
                out.insert(k, v);
            }
        }
        Value::Mapping(out)
    }

    fn security_scheme(&mut self, s: Mapping, new: &str, old: &str) -> Value {
        let mut out = Mapping::new();
        match str_of(&s, "type") {
            Some("basic") => {
                out.insert(key("type"), key("http"));
                out.insert(key("scheme"), key("basic"));
            }
            Some("oauth2") => {
                out.insert(key("type"), key("oauth2"));
                let flow = str_of(&s, "flow").unwrap_or_default();
                let (name, urls): (&str, &[&str]) = match flow {
                    "implicit" => ("implicit", &["authorizationUrl"]),
                    "password" => ("password", &["tokenUrl"]),
                    "application" => ("clientCredentials", &["tokenUrl"]),
                    "accessCode" => ("authorizationCode", &["authorizationUrl", "tokenUrl"]),
                    other => {
                        self.diags
                            .warning("W0005", &join(old, "flow"), format!("unknown OAuth2 flow `{other}` is left out"))
                            .label("unknown flow")
                            .help("Swagger 2.0 flows are `implicit`, `password`, `application` and `accessCode`");
                        ("", &[])
                    }
                };
                let mut flows = Mapping::new();
                if !name.is_empty() {
                    self.map.add(join(&join(new, "flows"), name), old.to_owned());
                    let mut f = Mapping::new();
                    for url in urls {
                        f.insert(key(url), s.get(*url).cloned().unwrap_or_else(|| key("")));
                    }
                    f.insert(key("scopes"), s.get("scopes").cloned().unwrap_or_else(|| Value::Mapping(Mapping::new())));
                    flows.insert(key(name), Value::Mapping(f));
                }
                out.insert(key("flows"), Value::Mapping(flows));
            }
            _ => {
                // `apiKey` (and anything unknown, which the typed parse then reports here) is kept as is.
                return Value::Mapping(s);
            }
        }
        for (k, v) in s {
            if k.as_str() == Some("description") || k.as_str().is_some_and(|k| k.starts_with("x-")) {
                out.insert(k, v);
            }
        }
        Value::Mapping(out)
    }
}

/// `https://host` per scheme when the document names a host; none otherwise (3.0's default, the host that
/// serves the document, is 2.0's too).
fn servers(old: &Mapping) -> Option<Value> {
    let host = str_of(old, "host")?.trim_end_matches('/');
    let schemes = strings(old.get("schemes")).unwrap_or_else(|| vec!["https".to_owned()]);
    let list = schemes
        .iter()
        .map(|scheme| {
            let mut server = Mapping::new();
            server.insert(key("url"), key(&format!("{scheme}://{host}")));
            Value::Mapping(server)
        })
        .collect();
    Some(Value::Sequence(list))
}

/// `basePath` without its trailing slash, with a leading one; empty for `/` or none.
fn base_path(old: &Mapping) -> String {
    let base = str_of(old, "basePath").unwrap_or_default().trim().trim_end_matches('/');
    if base.is_empty() || base.starts_with('/') { base.to_owned() } else { format!("/{base}") }
}

/// The value keywords of a non-body parameter, header or `items` as a 3.0 schema.
fn value_schema(p: &Mapping) -> Mapping {
    let mut schema = Mapping::new();
    for k in SCHEMA_KEYS {
        let Some(v) = p.get(*k) else { continue };
        let v = match (*k, v) {
            ("items", Value::Mapping(items)) => Value::Mapping(value_schema(items)),
            (_, v) => v.clone(),
        };
        schema.insert(key(k), v);
    }
    match convert_schema(Value::Mapping(schema)) {
        Value::Mapping(m) => m,
        _ => Mapping::new(),
    }
}

/// A 2.0 schema in 3.0 terms: `type: file` -> binary string, a string `discriminator` -> `{propertyName}`,
/// `x-nullable: true` -> `nullable: true`, in every nested schema.
fn convert_schema(mut v: Value) -> Value {
    fix_schema(&mut v);
    v
}

fn fix_schema(v: &mut Value) {
    let Value::Mapping(m) = v else { return };
    if str_of(m, "type") == Some("file") {
        m.insert(key("type"), key("string"));
        m.insert(key("format"), key("binary"));
    }
    if let Some(Value::String(property)) = m.get("discriminator").cloned() {
        let mut d = Mapping::new();
        d.insert(key("propertyName"), Value::String(property));
        m.insert(key("discriminator"), Value::Mapping(d));
    }
    if m.get("x-nullable") == Some(&Value::Bool(true)) && !m.contains_key("nullable") {
        m.insert(key("nullable"), Value::Bool(true));
    }
    for k in ["items", "additionalProperties", "not"] {
        if let Some(child) = m.get_mut(k) {
            fix_schema(child);
        }
    }
    for k in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Sequence(members)) = m.get_mut(k) {
            members.iter_mut().for_each(fix_schema);
        }
    }
    if let Some(Value::Mapping(props)) = m.get_mut("properties") {
        props.values_mut().for_each(fix_schema);
    }
}

/// `#/definitions/`, `#/parameters/` and `#/responses/` references -> their `#/components/...` places.
fn rewrite_refs(node: &mut Value) {
    match node {
        Value::Mapping(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref") {
                for (from, to) in [
                    ("#/definitions/", "#/components/schemas/"),
                    ("#/parameters/", "#/components/parameters/"),
                    ("#/responses/", "#/components/responses/"),
                ] {
                    if let Some(rest) = r.strip_prefix(from) {
                        *r = format!("{to}{rest}");
                        break;
                    }
                }
            }
            m.values_mut().for_each(rewrite_refs);
        }
        Value::Sequence(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}
