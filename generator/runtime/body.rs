//! JSON, form and text bodies: parsed on the server side, encoded on both; and the serde helpers for nullable
//! fields.

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{RequestError, RequestView};

/// Whether a media type (without parameters, any case) is JSON: `application/json` or a `+json` suffix.
fn is_json(media: &str) -> bool {
    media.eq_ignore_ascii_case("application/json")
        || media.len() >= 5 && media.as_bytes()[media.len() - 5..].eq_ignore_ascii_case(b"+json")
}

/// The media type of a `content-type` value: without parameters, trimmed, in the case it was sent.
pub(super) fn media_type_of(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or(content_type).trim()
}

/// Parses a JSON body. An empty body reads as `{}` (as the reference backend does); a non-empty body must
/// be sent as JSON (415 otherwise); a body that does not match the schema gives 400 naming the field.
pub fn parse_json_body<T: DeserializeOwned>(req: &RequestView<'_>) -> Result<T, RequestError> {
    parse_json_body_with(req, &[])
}

/// Like [`parse_json_body`], with the spec's own messages for missing required properties, keyed by path
/// (`deviceId`, `redirectURIInfo.redirectURIOnProviderDashboard`).
pub fn parse_json_body_with<T: DeserializeOwned>(
    req: &RequestView<'_>,
    missing_messages: &[(&str, &str)],
) -> Result<T, RequestError> {
    let body: &[u8] = if req.body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else if req.header("content-type").is_some_and(|ct| is_json(media_type_of(ct))) {
        req.body
    } else {
        return Err(RequestError::unsupported_media_type(req.media_type().as_deref(), "application/json"));
    };
    // A valid body is parsed once, without tracking where the parser is; only a body that fails is parsed
    // again with its path tracked, to name the field at fault.
    T::deserialize(&mut serde_json::Deserializer::from_slice(body)).map_err(|_| body_error::<T>(body, missing_messages))
}

/// The 400 for a JSON body that does not parse into `T`: the failure, at the path where it happened.
#[cold]
fn body_error<T: DeserializeOwned>(body: &[u8], missing_messages: &[(&str, &str)]) -> RequestError {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let Err(e) = serde_path_to_error::deserialize::<_, T>(de) else {
        // Both parsers read the same input with the same deserializer; they cannot disagree.
        return RequestError::bad_request("invalid request body");
    };
    let path = e.path().to_string();
    let inner = e.into_inner();
    let what = if inner.is_syntax() || inner.is_eof() { "malformed JSON in request body" } else { "invalid request body" };
    let detail = strip_position(&inner.to_string());
    if let Some(field) = detail.strip_prefix("missing field `").and_then(|r| r.strip_suffix('`')) {
        let full = if path == "." || path.is_empty() { field.to_owned() } else { format!("{path}.{field}") };
        if let Some((_, message)) = missing_messages.iter().find(|(p, _)| *p == full) {
            return RequestError::bad_request(*message);
        }
    }
    if path == "." || path.is_empty() {
        RequestError::bad_request(format!("{what}: {detail}"))
    } else {
        RequestError::bad_request(format!("{what}: at `{path}`: {detail}"))
    }
}

/// Parses an optional JSON body: `None` when the body is empty.
pub fn parse_optional_json_body<T: DeserializeOwned>(req: &RequestView<'_>) -> Result<Option<T>, RequestError> {
    if req.body.iter().all(u8::is_ascii_whitespace) { Ok(None) } else { parse_json_body(req).map(Some) }
}

/// Parses an `application/x-www-form-urlencoded` body.
pub fn parse_form_body<T: DeserializeOwned>(req: &RequestView<'_>) -> Result<T, RequestError> {
    match req.media_type() {
        Some(m) if m == "application/x-www-form-urlencoded" => {}
        other if !req.body.is_empty() => {
            return Err(RequestError::unsupported_media_type(other.as_deref(), "application/x-www-form-urlencoded"));
        }
        _ => {}
    }
    serde_urlencoded::from_bytes(req.body).map_err(|e| RequestError::bad_request(format!("invalid form body: {e}")))
}

/// Reads a text body.
pub fn parse_text_body(req: &RequestView<'_>) -> Result<String, RequestError> {
    String::from_utf8(req.body.to_vec()).map_err(|_| RequestError::bad_request("request body is not valid UTF-8"))
}

pub(super) fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Serializes a JSON body.
pub fn encode_json<T: Serialize>(value: &T) -> Result<Bytes, RequestError> {
    // Most bodies fit in 256 bytes: room for them up front saves growing the buffer on the way.
    let mut out = Vec::with_capacity(256);
    serde_json::to_writer(&mut out, value)
        .map(|()| Bytes::from(out))
        .map_err(|e| RequestError::internal(format!("response could not be encoded: {e}")))
}

/// Serializes a form body.
pub fn encode_form<T: Serialize>(value: &T) -> Result<Bytes, RequestError> {
    serde_urlencoded::to_string(value)
        .map(Bytes::from)
        .map_err(|e| RequestError::internal(format!("form could not be encoded: {e}")))
}

/// Deserializes a required, nullable field: present, possibly `null`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer)
}

/// Deserializes an optional field that is not nullable: absent is `None` (`#[serde(default)]`), a value is
/// `Some`, and an explicit `null` is refused like any other value of the wrong type, naming the field.
pub fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Deserializes an optional, nullable field: absent is `None`, `null` is `Some(None)`.
pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}
