//! OpenAPI 3.1 input: rewrites a 3.1 document into the 3.0 shape the rest of the pipeline reads, before the
//! typed parse. What has a 3.0 equivalent is translated; what does not is a diagnostic naming the construct.
//!
//! Translated: `type: [T, "null"]` -> `type: T` + `nullable: true`; `anyOf`/`oneOf` of one schema and
//! `{type: "null"}` -> that schema, nullable (null members of larger unions are dropped and the union made
//! nullable); `type: "null"` alone -> untyped, nullable; `const: v` -> `enum: [v]`; schema `examples: [..]` ->
//! `example`; numeric `exclusiveMinimum: n` -> `minimum: n` + `exclusiveMinimum: true` (and the maximum
//! alike); `$defs` inside schemas -> `components/schemas` (references rewritten); a missing `paths` -> `{}`;
//! a string with `contentEncoding: binary` or a non-text `contentMediaType` -> `format: binary`; a
//! `oneOf`/`anyOf` of `{const, title, description}` members -> `enum` + `x-enum-varnames`/`x-enum-descriptions`.
//! Ignored with a warning: `webhooks`, `jsonSchemaDialect`. Kept as untyped JSON with a warning: a type array
//! with several non-null types. Made a map with a warning: `patternProperties`. Ignored with a warning (values
//! are checked less strictly): `prefixItems`, `if`/`then`/`else`, `dependentSchemas`, `unevaluatedProperties`,
//! `$dynamicRef`.

use yaml_serde::{Mapping, Value};

use super::diag::{Diagnostics, escape_segment};

const UNSUPPORTED: &[&str] =
    &["prefixItems", "if", "then", "else", "dependentSchemas", "unevaluatedProperties", "$dynamicRef"];

fn key(s: &str) -> Value {
    Value::String(s.to_owned())
}

/// Rewrites `doc` (already known to declare `openapi: 3.1.x`) in place.
pub(crate) fn normalise(doc: &mut Value, diags: &mut Diagnostics) {
    let Value::Mapping(root) = doc else { return };
    root.insert(key("openapi"), key("3.0.3"));
    for ignored in ["webhooks", "jsonSchemaDialect"] {
        if root.contains_key(ignored) {
            diags
                .warning("W0003", &format!("/{ignored}"), format!("`{ignored}` (OpenAPI 3.1) is ignored"))
                .help("authgen generates code for `paths` only");
            root.shift_remove(ignored);
        }
    }
    if !root.contains_key("paths") {
        root.insert(key("paths"), Value::Mapping(Mapping::new()));
    }
    // Hoist `$defs` first, so the walk below also normalises the hoisted schemas.
    let mut hoisted: Vec<(String, String, Value)> = Vec::new();
    collect_defs(doc, String::new(), &mut hoisted);
    if !hoisted.is_empty() {
        let Value::Mapping(root) = doc else { return };
        let components = root.entry(key("components")).or_insert_with(|| Value::Mapping(Mapping::new()));
        if let Value::Mapping(c) = components {
            let schemas = c.entry(key("schemas")).or_insert_with(|| Value::Mapping(Mapping::new()));
            if let Value::Mapping(s) = schemas {
                let mut renames = Vec::new();
                for (from, name, schema) in hoisted {
                    let mut unique = name.clone();
                    let mut n = 2;
                    while s.contains_key(unique.as_str()) {
                        unique = format!("{name}{n}");
                        n += 1;
                    }
                    s.insert(key(&unique), schema);
                    renames.push((format!("#{from}"), format!("#/components/schemas/{}", escape_segment(&unique))));
                }
                rewrite_refs(doc, &renames);
            }
        }
    }
    walk(doc, String::new(), diags);
}

/// Removes every `$defs` map, returning (pointer of the definition, name, schema).
fn collect_defs(node: &mut Value, ptr: String, out: &mut Vec<(String, String, Value)>) {
    match node {
        Value::Mapping(m) => {
            if let Some(Value::Mapping(defs)) = m.shift_remove("$defs") {
                for (k, v) in defs {
                    if let Value::String(name) = k {
                        let def_ptr = format!("{ptr}/$defs/{}", escape_segment(&name));
                        let mut v = v;
                        collect_defs(&mut v, def_ptr.clone(), out);
                        out.push((def_ptr, name, v));
                    }
                }
            }
            for (k, v) in m.iter_mut() {
                if let Value::String(k) = k {
                    let child = format!("{ptr}/{}", escape_segment(k));
                    collect_defs(v, child, out);
                }
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                collect_defs(v, format!("{ptr}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn rewrite_refs(node: &mut Value, renames: &[(String, String)]) {
    match node {
        Value::Mapping(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref")
                && let Some((_, to)) = renames.iter().find(|(from, _)| from == r)
            {
                *r = to.clone();
            }
            for v in m.values_mut() {
                rewrite_refs(v, renames);
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(|v| rewrite_refs(v, renames)),
        _ => {}
    }
}

fn is_null_schema(v: &Value) -> bool {
    matches!(v, Value::Mapping(m) if m.len() == 1 && m.get("type") == Some(&key("null")))
}

fn walk(node: &mut Value, ptr: String, diags: &mut Diagnostics) {
    walk_in(node, ptr, diags, false);
}

/// `names` is true when the keys of this mapping are names chosen by the author (properties, responses,
/// component schemas), so a key such as `default` is a property or the default response, not data.
fn walk_in(node: &mut Value, ptr: String, diags: &mut Diagnostics, names: bool) {
    match node {
        Value::Mapping(m) => {
            if !names {
                normalise_schema(m, &ptr, diags);
            }
            for (k, v) in m.iter_mut() {
                let Value::String(k) = k else { continue };
                // Examples are data, not schemas.
                if !names && (k == "example" || k == "examples" || k == "default" || k == "enum") {
                    continue;
                }
                let child_names =
                    !names && matches!(k.as_str(), "properties" | "patternProperties" | "responses" | "schemas");
                walk_in(v, format!("{ptr}/{}", escape_segment(k)), diags, child_names);
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                walk_in(v, format!("{ptr}/{i}"), diags, false);
            }
        }
        _ => {}
    }
}

/// A member of a `oneOf` that names one value: `{const: 0, title: NORMAL, description: ...}`.
fn is_const_member(v: &Value) -> bool {
    let Value::Mapping(m) = v else { return false };
    let scalar = match m.get("const") {
        Some(Value::String(_)) => true,
        Some(Value::Number(n)) => n.is_i64() || n.is_u64(),
        _ => false,
    };
    scalar && m.keys().all(|k| matches!(k.as_str(), Some("const" | "title" | "description" | "type" | "deprecated")))
}

/// `oneOf`/`anyOf` whose members are each one `const` (the 3.1 way to name enum values, as Discord's spec does)
/// -> `enum` with the titles as `x-enum-varnames` and the descriptions as `x-enum-descriptions`, the
/// extensions openapi-generator reads too.
fn const_union_to_enum(m: &mut Mapping) {
    for keyword in ["oneOf", "anyOf"] {
        let Some(Value::Sequence(members)) = m.get(keyword) else { continue };
        if members.is_empty() || !members.iter().all(is_const_member) {
            continue;
        }
        let field = |member: &Value, name: &str| member.get(name).cloned();
        let values: Vec<Value> = members.iter().filter_map(|v| field(v, "const")).collect();
        let strings = values.iter().all(Value::is_string);
        if !strings && !values.iter().all(Value::is_number) {
            continue;
        }
        let titles: Vec<Value> = members.iter().filter_map(|v| field(v, "title")).filter(Value::is_string).collect();
        let docs: Vec<Value> =
            members.iter().map(|v| field(v, "description").filter(Value::is_string).unwrap_or(key(""))).collect();
        let members = members.len();
        m.shift_remove(keyword);
        m.insert(key("enum"), Value::Sequence(values));
        if !m.contains_key("type") {
            m.insert(key("type"), key(if strings { "string" } else { "integer" }));
        }
        if titles.len() == members && !m.contains_key("x-enum-varnames") {
            m.insert(key("x-enum-varnames"), Value::Sequence(titles));
        }
        if docs.iter().any(|d| d != &key("")) && !m.contains_key("x-enum-descriptions") {
            m.insert(key("x-enum-descriptions"), Value::Sequence(docs));
        }
        return;
    }
}

/// Rewrites one mapping if it looks like a 3.1 schema.
fn normalise_schema(m: &mut Mapping, ptr: &str, diags: &mut Diagnostics) {
    if let Some(Value::Sequence(types)) = m.get("type").cloned() {
        let non_null: Vec<&Value> = types.iter().filter(|t| **t != key("null")).collect();
        match non_null.as_slice() {
            [one] => {
                let one = (*one).clone();
                if types.len() > 1 {
                    m.insert(key("nullable"), Value::Bool(true));
                }
                m.insert(key("type"), one);
            }
            [] => {
                m.shift_remove("type");
                m.insert(key("nullable"), Value::Bool(true));
            }
            _ => {
                diags
                    .warning(
                        "W0108",
                        &format!("{ptr}/type"),
                        "a type array with several non-null types is kept as untyped JSON",
                    )
                    .label("several types")
                    .help("use `oneOf` with one schema per type to get a typed union");
                m.shift_remove("type");
                if types.len() > non_null.len() {
                    m.insert(key("nullable"), Value::Bool(true));
                }
            }
        }
    }
    if m.get("type") == Some(&key("null")) {
        // `type: "null"` alone: the value is always null, which the 3.0 shape spells as an untyped nullable.
        m.shift_remove("type");
        m.insert(key("nullable"), Value::Bool(true));
    }
    for keyword in ["anyOf", "oneOf"] {
        if let Some(Value::Sequence(members)) = m.get(keyword).cloned()
            && members.len() > 2
            && members.iter().any(is_null_schema)
        {
            // A union of several schemas and null: the union of the others, nullable.
            let others: Vec<Value> = members.into_iter().filter(|v| !is_null_schema(v)).collect();
            m.insert(key(keyword), Value::Sequence(others));
            m.insert(key("nullable"), Value::Bool(true));
        }
        if let Some(Value::Sequence(members)) = m.get(keyword).cloned()
            && members.len() == 2
            && members.iter().any(is_null_schema)
        {
            let other = members.into_iter().find(|v| !is_null_schema(v)).unwrap_or(Value::Null);
            m.shift_remove(keyword);
            match other {
                Value::Mapping(o) if !o.contains_key("$ref") => {
                    for (k, v) in o {
                        m.insert(k, v);
                    }
                }
                reference => {
                    m.insert(key("allOf"), Value::Sequence(vec![reference]));
                }
            }
            m.insert(key("nullable"), Value::Bool(true));
        }
    }
    // A binary string is `format: binary` in 3.0: `contentEncoding: binary` (outside the standard, but
    // common), or a `contentMediaType` that is not text without a `contentEncoding` such as base64.
    if m.get("type") == Some(&key("string")) && !m.contains_key("format") {
        let encoding = m.get("contentEncoding").and_then(Value::as_str).map(str::to_ascii_lowercase);
        let media = m.get("contentMediaType").and_then(Value::as_str).map(str::to_ascii_lowercase);
        let binary = match (encoding.as_deref(), media.as_deref()) {
            (Some("binary"), _) => true,
            (None, Some(media)) => {
                !(media.starts_with("text/") || media == "application/json" || media.ends_with("+json"))
            }
            _ => false,
        };
        if binary {
            m.insert(key("format"), key("binary"));
        }
    }
    const_union_to_enum(m);
    if let Some(value) = m.shift_remove("const") {
        m.insert(key("enum"), Value::Sequence(vec![value]));
    }
    if let Some(Value::Sequence(examples)) = m.get("examples").cloned() {
        m.shift_remove("examples");
        if let Some(first) = examples.into_iter().next() {
            m.insert(key("example"), first);
        }
    }
    for (exclusive, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if let Some(Value::Number(n)) = m.get(exclusive).cloned() {
            m.insert(key(bound), Value::Number(n));
            m.insert(key(exclusive), Value::Bool(true));
        }
    }
    let schema_like = m.contains_key("type") || m.contains_key("properties") || m.contains_key("items");
    for keyword in UNSUPPORTED {
        if m.contains_key(*keyword) && schema_like {
            diags
                .warning(
                    "W0111",
                    &format!("{ptr}/{}", escape_segment(keyword)),
                    format!("`{keyword}` (JSON Schema 2020-12) is not supported"),
                )
                .label("not supported")
                .help(format!(
                    "authgen ignores `{keyword}`, so values are checked less strictly than the schema says; express \
                     the schema with `properties`, `items`, `oneOf` or `allOf`"
                ));
            m.shift_remove(*keyword);
        }
    }
    pattern_properties_to_map(m, ptr, schema_like || m.contains_key("additionalProperties"), diags);
}

/// `patternProperties` becomes `additionalProperties`: a map of the patterns' value schema when they (and any
/// `additionalProperties` schema) share one, otherwise a map of any JSON value. The key patterns are not checked.
fn pattern_properties_to_map(m: &mut Mapping, ptr: &str, schema_like: bool, diags: &mut Diagnostics) {
    let Some(Value::Mapping(patterns)) = m.get("patternProperties") else { return };
    if !schema_like && !patterns.values().all(|v| matches!(v, Value::Mapping(_) | Value::Bool(_))) {
        return;
    }
    let mut values: Vec<Value> = patterns.values().cloned().collect();
    if let Some(extra @ Value::Mapping(_)) = m.get("additionalProperties") {
        values.push(extra.clone());
    }
    let (value, what) = match values.split_first() {
        Some((one, rest)) if rest.iter().all(|v| v == one) => (one.clone(), "a map of its value schema"),
        _ => (Value::Bool(true), "a map of any JSON value (the patterns have different schemas)"),
    };
    diags
        .warning(
            "W0112",
            &format!("{ptr}/patternProperties"),
            "`patternProperties` (JSON Schema 2020-12) is not supported",
        )
        .label("not supported")
        .help(format!("authgen generates {what} and does not check the keys against the patterns"));
    m.shift_remove("patternProperties");
    m.insert(key("additionalProperties"), value);
    if !m.contains_key("type") {
        m.insert(key("type"), key("object"));
    }
}
