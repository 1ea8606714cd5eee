//! Path, query, header and cookie parameters: parsed on the server side, written into the query on the client
//! side.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{ClientError, ObjectStyle, RequestError};

/// Fails with 400 when a required parameter is absent.
pub fn required<T>(value: Option<T>, location: &str, name: &str) -> Result<T, RequestError> {
    value.ok_or_else(|| RequestError::bad_request(format!("missing required {location} parameter `{name}`")))
}

/// Fails with 400 and the spec's own `message` when a required parameter is absent.
pub fn required_with<T>(value: Option<T>, message: &str) -> Result<T, RequestError> {
    value.ok_or_else(|| RequestError::bad_request(message))
}

/// The value of an optional path segment: `default` when the route matched has none, else the segment, which
/// must pass `check` (called with the parameter's name, the value and the list to push broken rules to). A
/// segment that does not is not a value of the parameter, so the path is not this route: 404, as for a path no
/// route matches.
pub fn optional_segment(
    segment: Option<&str>,
    name: &str,
    default: &str,
    check: impl FnOnce(&str, &String, &mut Vec<String>),
) -> Result<String, RequestError> {
    let Some(segment) = segment else { return Ok(default.to_owned()) };
    let value = segment.to_owned();
    let mut errors = Vec::new();
    check(name, &value, &mut errors);
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(RequestError::not_found(format!("no route for this path: `{segment}` is not a `{name}` segment")))
    }
}

/// Parses a parameter value, failing with 400 naming the parameter.
pub fn parse_param<T>(location: &str, name: &str, value: &str) -> Result<T, RequestError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    parse_formatted(location, name, value, None)
}

/// Parses a parameter value of a string `format` (`date-time`, `uuid`, ...); the 400 says what was expected.
pub fn parse_formatted<T>(location: &str, name: &str, value: &str, expected: Option<&str>) -> Result<T, RequestError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    value.parse::<T>().map_err(|e| {
        let expected = expected.map(|x| format!(" expected {x};")).unwrap_or_default();
        RequestError::bad_request(format!("invalid {location} parameter `{name}`:{expected} {e}"))
    })
}

/// Parses the items of a list parameter (see [`RawRequest::query_list`](super::RawRequest::query_list));
/// `expected` as for [`parse_formatted`].
pub fn parse_list<T>(location: &str, name: &str, items: Vec<String>, expected: Option<&str>) -> Result<Vec<T>, RequestError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    items.iter().map(|v| parse_formatted(location, name, v, expected)).collect()
}

/// Builds an object query parameter from its `(property, value)` pairs (see
/// [`RawRequest::query_object`](super::RawRequest::query_object)): 400 naming the parameter and the property at
/// fault.
pub fn parse_object<T: DeserializeOwned>(name: &str, pairs: &[(String, String)]) -> Result<T, RequestError> {
    let encoded = serde_urlencoded::to_string(pairs).map_err(|e| RequestError::internal(e.to_string()))?;
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let detail = e.into_inner().to_string();
        if path == "." || path.is_empty() {
            RequestError::bad_request(format!("invalid query parameter `{name}`: {detail}"))
        } else {
            RequestError::bad_request(format!("invalid query parameter `{name}`: at `{path}`: {detail}"))
        }
    })
}

/// Appends an object query parameter in `style` (client side).
pub fn push_object<T: Serialize>(
    query: &mut String,
    name: &str,
    style: ObjectStyle,
    value: &T,
) -> Result<(), ClientError> {
    let encoded = serde_urlencoded::to_string(value)
        .map_err(|e| ClientError::InvalidRequest(format!("query parameter `{name}`: {e}")))?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&encoded).unwrap_or_default();
    match style {
        ObjectStyle::Deep => pairs.iter().for_each(|(k, v)| push_query(query, &format!("{name}[{k}]"), v)),
        ObjectStyle::Exploded => pairs.iter().for_each(|(k, v)| push_query(query, k, v)),
        ObjectStyle::Joined => {
            if let Some((k, v)) = pairs.iter().find(|(k, v)| k.contains(',') || v.contains(',')) {
                return Err(ClientError::InvalidRequest(format!(
                    "query parameter `{name}`: `{k}={v}` holds a comma, which this style cannot carry"
                )));
            }
            let joined: Vec<String> = pairs.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect();
            push_query(query, name, &joined.join(","));
        }
    }
    Ok(())
}

/// Percent-encodes a path segment or query component (RFC 3986 unreserved characters stay as they are).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Appends a comma-separated list: each item encoded, the commas between them literal, so an item may hold a
/// comma of its own (`tags=a%2Cb,c`); an empty list is `name=`.
pub fn push_query_list(query: &mut String, name: &str, items: &[String]) {
    let encoded: Vec<String> = items.iter().map(|item| percent_encode(item)).collect();
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(&percent_encode(name));
    query.push('=');
    query.push_str(&encoded.join(","));
}

/// Appends `name=value` to a query string.
pub fn push_query(query: &mut String, name: &str, value: &str) {
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(&percent_encode(name));
    query.push('=');
    query.push_str(&percent_encode(value));
}
