//! Integers wider than 64 bits: JSON and YAML allow them, openapiv3's types do not, and neither did the value
//! loading builds (the whole document was refused). Loading marks each one (see [`wide_integer`]) and
//! [`settle_wide_integers`] decides, with the place known, what it becomes: a bound (`minimum`, `maxLength`,
//! ...) is dropped (W0006); anything else (an `example`, a `default`, an `enum` value) is kept as its digits
//! in a string (W0007), which examples, being documentation, lose nothing by.

use yaml_serde::Value;
use yaml_serde::value::{Tag, TaggedValue};

use super::diag::{Diagnostics, escape_segment};

/// The tag of the marker; a spec cannot contain it, as tagged YAML values do not load.
const WIDE: &str = "authgen-wide-integer";

/// The keywords whose value is a bound on the value: without it, the value is simply checked less.
const BOUNDS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
];

/// The marker loading puts in place of an integer that does not fit in 64 bits.
pub(crate) fn wide_integer(digits: String) -> Value {
    Value::Tagged(Box::new(TaggedValue { tag: Tag::new(WIDE), value: Value::String(digits) }))
}

/// Replaces every marker under `node`, with a warning at each. JSON input has no markers (serde_json reads a
/// wide integer as the nearest `f64`), so an integral bound of an integer schema that does not fit in an `i64`
/// (an `f64`, or a `u64` above `i64::MAX`) is dropped too, and so is a length that does not fit in a `u64`.
pub(crate) fn settle_wide_integers(node: &mut Value, ptr: &str, diags: &mut Diagnostics) {
    match node {
        Value::Mapping(m) => {
            let integer = m.get("type").and_then(Value::as_str) == Some("integer");
            let mut dropped = Vec::new();
            for (k, v) in m.iter_mut() {
                let Some(key) = k.as_str() else { continue };
                let at = format!("{ptr}/{}", escape_segment(key));
                let bound = BOUNDS.contains(&key);
                if let Some(digits) = marker(v) {
                    if bound {
                        dropped.push(key.to_owned());
                        drop_bound(diags, &at, key, &digits);
                    } else {
                        diags
                            .warning("W0007", &at, format!("integer `{digits}` does not fit in 64 bits"))
                            .label("wider than 64 bits")
                            .help("authgen keeps it as text; as an `example` it is documentation only");
                        *v = Value::String(digits);
                    }
                    continue;
                }
                // openapiv3 holds an integer schema's bounds in an `i64` and lengths in a `usize`; a bound beyond
                // those would make the schema untyped JSON without a word.
                let length =
                    bound && (key.ends_with("Length") || key.ends_with("Items") || key.ends_with("Properties"));
                if let Value::Number(n) = v
                    && n.as_i64().is_none()
                    && (n.as_u64().is_some() || n.as_f64().is_some_and(|f| f.fract() == 0.0))
                    && ((bound && !length && integer) || (length && n.as_u64().is_none()))
                {
                    dropped.push(key.to_owned());
                    drop_bound(diags, &at, key, &n.to_string());
                    continue;
                }
                settle_wide_integers(v, &at, diags);
            }
            for key in dropped {
                m.shift_remove(key.as_str());
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                let at = format!("{ptr}/{i}");
                match marker(v) {
                    Some(digits) => {
                        diags
                            .warning("W0007", &at, format!("integer `{digits}` does not fit in 64 bits"))
                            .label("wider than 64 bits")
                            .help("authgen keeps it as text; as an `example` it is documentation only");
                        *v = Value::String(digits);
                    }
                    None => settle_wide_integers(v, &at, diags),
                }
            }
        }
        _ => {}
    }
}

fn marker(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(t) if t.tag == Tag::new(WIDE) => t.value.as_str().map(str::to_owned),
        _ => None,
    }
}

fn drop_bound(diags: &mut Diagnostics, at: &str, key: &str, digits: &str) {
    diags
        .warning("W0006", at, format!("`{key}: {digits}` does not fit in 64 bits"))
        .label("wider than 64 bits")
        .help(format!("authgen drops this `{key}`, so the value is not checked against it"));
}
