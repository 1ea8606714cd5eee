//! Shape errors: when the text is well-formed YAML or JSON but not an OpenAPI 3.0 document, find the node
//! that is wrong.
//!
//! serde cannot say where: openapiv3 buffers almost every object (`#[serde(flatten)]` extensions, untagged
//! `ReferenceOr`), so the parser's position is that of the outermost buffered node, typically the start
//! of `paths`. Instead the document, as a JSON value, is checked piece by piece: first the objects whose
//! openapiv3 type is known from their position ("anchors": a path item, an operation, a schema...), the
//! deepest failing one wins; then, inside it, the child whose removal makes the error go away (or change)
//! is followed down, until no single child is to blame.

use openapiv3::{
    Components, Example, ExternalDocumentation, Header, Info, OpenAPI, Operation, Parameter, PathItem, Paths,
    ReferenceOr, RequestBody, Response, Responses, Schema, SecurityRequirement, SecurityScheme, Server, Tag,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::diag::escape_segment;

type Check = fn(&Value) -> Result<(), String>;

fn check<T: DeserializeOwned>(v: &Value) -> Result<(), String> {
    T::deserialize(v).map(drop).map_err(|e| e.to_string())
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// The openapiv3 type of the node at `path`, when its position determines it.
fn anchor(path: &[String]) -> Option<Check> {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    let method = |m: &str| METHODS.contains(&m);
    Some(match p.as_slice() {
        [] => check::<OpenAPI>,
        ["openapi"] => check::<String>,
        ["info"] => check::<Info>,
        ["servers"] => check::<Vec<Server>>,
        ["servers", _] => check::<Server>,
        ["paths"] => check::<Paths>,
        ["paths", _] => check::<ReferenceOr<PathItem>>,
        ["paths", _, "parameters"] => check::<Vec<ReferenceOr<Parameter>>>,
        ["paths", _, "parameters", _] => check::<ReferenceOr<Parameter>>,
        ["paths", _, m] if method(m) => check::<Operation>,
        ["paths", _, m, "parameters"] if method(m) => check::<Vec<ReferenceOr<Parameter>>>,
        ["paths", _, m, "parameters", _] if method(m) => check::<ReferenceOr<Parameter>>,
        ["paths", _, m, "requestBody"] if method(m) => check::<ReferenceOr<RequestBody>>,
        ["paths", _, m, "responses"] if method(m) => check::<Responses>,
        ["paths", _, m, "responses", _] if method(m) => check::<ReferenceOr<Response>>,
        ["paths", _, m, "security"] if method(m) => check::<Vec<SecurityRequirement>>,
        ["components"] => check::<Components>,
        ["components", "schemas", _] => check::<ReferenceOr<Schema>>,
        ["components", "responses", _] => check::<ReferenceOr<Response>>,
        ["components", "parameters", _] => check::<ReferenceOr<Parameter>>,
        ["components", "examples", _] => check::<ReferenceOr<Example>>,
        ["components", "requestBodies", _] => check::<ReferenceOr<RequestBody>>,
        ["components", "headers", _] => check::<ReferenceOr<Header>>,
        ["components", "securitySchemes", _] => check::<ReferenceOr<SecurityScheme>>,
        ["security"] => check::<Vec<SecurityRequirement>>,
        ["tags"] => check::<Vec<Tag>>,
        ["externalDocs"] => check::<ExternalDocumentation>,
        _ => return None,
    })
}

fn children(node: &Value) -> Vec<(String, &Value)> {
    match node {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items.iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect(),
        _ => Vec::new(),
    }
}

/// The deepest failing anchor below `node` (the first one, when several fail). A failing anchor is blamed on
/// a failing anchor inside it only when both report the same error: an object of the wrong kind (a list
/// where a map belongs) makes its children fail too, for the wrong reason.
fn deepest_failing_anchor(
    node: &Value,
    path: &mut Vec<String>,
    outer_error: Option<&str>,
    best: &mut Option<(Vec<String>, Check, String)>,
) -> bool {
    let mut error = outer_error.map(str::to_owned);
    let mut here = false;
    if let Some(check) = anchor(path) {
        match check(node) {
            Ok(()) => return false,
            Err(message) if outer_error.is_none_or(|outer| outer == message) => {
                *best = Some((path.clone(), check, message.clone()));
                error = Some(message);
                here = true;
            }
            Err(_) => return false,
        }
    }
    for (key, child) in children(node) {
        path.push(key);
        let found = deepest_failing_anchor(child, path, error.as_deref(), best);
        path.pop();
        if found {
            return true;
        }
    }
    here
}

fn get<'v>(node: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(node, |n, seg| match n {
        Value::Object(map) => map.get(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn get_mut<'v>(node: &'v mut Value, path: &[String]) -> Option<&'v mut Value> {
    path.iter().try_fold(node, |n, seg| match n {
        Value::Object(map) => map.get_mut(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    })
}

fn without(root: &Value, path: &[String], key: &str) -> Value {
    let mut copy = root.clone();
    match get_mut(&mut copy, path) {
        Some(Value::Object(map)) => {
            map.remove(key);
        }
        Some(Value::Array(items)) => {
            if let Ok(i) = key.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        _ => {}
    }
    copy
}

/// Inside a failing anchor, follows the child that carries the error.
fn narrow(root: &Value, check: Check, error: &str) -> Vec<String> {
    let mut path: Vec<String> = Vec::new();
    let mut budget = 400usize;
    while let Some(node) = get(root, &path) {
        let mut fixed = None;
        let mut changed = None;
        let mut required = Vec::new();
        for (key, _) in children(node) {
            if budget == 0 {
                break;
            }
            budget -= 1;
            match check(&without(root, &path, &key)) {
                Ok(()) => {
                    fixed = Some(key);
                    break;
                }
                Err(e) if e == error => {}
                // Removing a required field changes the error without saying anything about where it is.
                Err(e) if e == format!("missing field `{key}`") => required.push(key),
                Err(_) => {
                    changed.get_or_insert(key);
                }
            }
        }
        let next = fixed.or(changed).or(if required.len() == 1 { required.pop() } else { None });
        match next {
            Some(key) => path.push(key),
            None => break,
        }
    }
    path
}

/// The JSON pointer of the node that makes `doc` fail to deserialize as an OpenAPI document, and the error
/// for that node. `None` when the value deserializes (the failure came from elsewhere).
pub(crate) fn locate_shape_error(doc: &Value) -> Option<(String, String)> {
    let mut best = None;
    deepest_failing_anchor(doc, &mut Vec::new(), None, &mut best);
    let (mut path, check, message) = best?;
    let anchor_value = get(doc, &path)?;
    path.extend(narrow(anchor_value, check, &message));
    let pointer = path.iter().map(|s| format!("/{}", escape_segment(s))).collect::<String>();
    Some((pointer, message))
}
