//! Framework-neutral plumbing shared by every server adapter and by the client.
//!
//! Adapters turn a framework request into a [`RawRequest`], the generated `ops` code parses it into a typed
//! request, the server trait answers with a typed response, and that becomes a [`RawResponse`] the adapter
//! writes back. The client runs the same conversions in the other direction, so both sides agree on the wire.
//! This file is the same for every spec.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The default limit on request bodies read by the server adapters: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// An HTTP request, independent of any web framework.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawRequest {
    /// Upper-case method.
    pub method: String,
    /// The request path without the query, e.g. `/pets/5`.
    pub path: String,
    /// Path parameters matched by the router, percent-decoded.
    pub path_params: Vec<(String, String)>,
    /// The raw query string, without `?`.
    pub query: String,
    /// Headers with lower-case names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl RawRequest {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// A path parameter.
    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of a query parameter, decoded, in order.
    pub fn query_values(&self, name: &str) -> Vec<String> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&self.query)
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect()
    }

    /// The first value of a query parameter.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query_values(name).into_iter().next()
    }

    /// The properties of an object query parameter as decoded `(property, value)` pairs, or `None` when the
    /// query holds none of them. `keys` are the object's property names: the query keys themselves for
    /// [`ObjectStyle::Exploded`]; for the other styles every property present is returned (a map's keys are
    /// not known in advance).
    pub fn query_object(
        &self,
        name: &str,
        style: ObjectStyle,
        keys: &[&str],
    ) -> Result<Option<Vec<(String, String)>>, RequestError> {
        let all = serde_urlencoded::from_str::<Vec<(String, String)>>(&self.query).unwrap_or_default();
        let pairs: Vec<(String, String)> = match style {
            ObjectStyle::Deep => all
                .into_iter()
                .filter_map(|(k, v)| {
                    let property = k.strip_prefix(name)?.strip_prefix('[')?.strip_suffix(']')?;
                    Some((property.to_owned(), v))
                })
                .collect(),
            ObjectStyle::Exploded => all.into_iter().filter(|(k, _)| keys.contains(&k.as_str())).collect(),
            ObjectStyle::Joined => {
                let Some((_, joined)) = all.into_iter().find(|(k, _)| k == name) else { return Ok(None) };
                if joined.is_empty() {
                    // `sort=`: the object, with none of its properties.
                    return Ok(Some(Vec::new()));
                }
                let parts: Vec<&str> = joined.split(',').collect();
                if !parts.len().is_multiple_of(2) {
                    return Err(RequestError::bad_request(format!(
                        "invalid query parameter `{name}`: expected comma-separated property,value pairs"
                    )));
                }
                parts.chunks(2).map(|kv| (kv[0].to_owned(), kv[1].to_owned())).collect()
            }
        };
        Ok(if pairs.is_empty() { None } else { Some(pairs) })
    }

    /// A cookie from the `cookie` header(s).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim().trim_matches('"').to_owned())
    }

    /// The token of an `Authorization: Bearer <token>` header.
    pub fn bearer_token(&self) -> Option<String> {
        self.authorization("bearer")
    }

    /// The base64 credentials of an `Authorization: Basic <credentials>` header.
    pub fn basic_credentials(&self) -> Option<String> {
        self.authorization("basic")
    }

    fn authorization(&self, scheme: &str) -> Option<String> {
        let value = self.header("authorization")?.trim();
        let (given, rest) = value.split_once(' ')?;
        let rest = rest.trim();
        (given.eq_ignore_ascii_case(scheme) && !rest.is_empty()).then(|| rest.to_owned())
    }

    /// The media type of the body, without parameters, lower case.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|ct| ct.split(';').next().unwrap_or(ct).trim().to_ascii_lowercase())
    }
}

/// An HTTP response, independent of any web framework.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// Headers in order; a name may repeat (`set-cookie`).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl RawResponse {
    /// An empty response with `status`.
    pub fn new(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: Bytes::new() }
    }

    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every value of a header.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).collect()
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why a request was answered before it reached the implementation: 400, 413 or 415, with a JSON
/// `{"message": ...}` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// Status code.
    pub status: u16,
    /// The message sent as `{"message": ...}`.
    pub message: String,
}

impl RequestError {
    /// 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self { status: 400, message: message.into() }
    }

    /// 413 for a body over `limit` bytes.
    pub fn too_large(limit: usize) -> Self {
        Self { status: 413, message: format!("request body is larger than the limit of {limit} bytes") }
    }

    /// 415 for a body in the wrong media type.
    pub fn unsupported_media_type(got: Option<&str>, expected: &str) -> Self {
        let got = got.unwrap_or("none");
        Self { status: 415, message: format!("unsupported content type `{got}`; this operation expects `{expected}`") }
    }

    /// 500: the response could not be encoded.
    pub fn internal(message: impl Into<String>) -> Self {
        Self { status: 500, message: message.into() }
    }

    /// The JSON response for this error.
    pub fn into_raw(self) -> RawResponse {
        error_response(self.status, &self.message)
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl std::error::Error for RequestError {}

/// A JSON `{"message": ...}` response.
pub fn error_response(status: u16, message: &str) -> RawResponse {
    let body = serde_json::json!({ "message": message }).to_string();
    RawResponse {
        status,
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: Bytes::from(body),
    }
}

/// Fails with 400 when a required parameter is absent.
pub fn required<T>(value: Option<T>, location: &str, name: &str) -> Result<T, RequestError> {
    value.ok_or_else(|| RequestError::bad_request(format!("missing required {location} parameter `{name}`")))
}

/// Fails with 400 and the spec's own `message` when a required parameter is absent.
pub fn required_with<T>(value: Option<T>, message: &str) -> Result<T, RequestError> {
    value.ok_or_else(|| RequestError::bad_request(message))
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

/// Parses a comma-separated or repeated list parameter; `expected` as for [`parse_formatted`].
pub fn parse_list<T>(
    location: &str,
    name: &str,
    values: Vec<String>,
    explode: bool,
    expected: Option<&str>,
) -> Result<Vec<T>, RequestError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    let items: Vec<String> =
        if explode { values } else { values.iter().flat_map(|v| v.split(',')).map(str::to_owned).collect() };
    items.iter().map(|v| parse_formatted(location, name, v, expected)).collect()
}

fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

/// Parses a JSON body. An empty body reads as `{}` (as the reference backend does); a non-empty body must
/// be sent as JSON (415 otherwise); a body that does not match the schema gives 400 naming the field.
pub fn parse_json_body<T: DeserializeOwned>(req: &RawRequest) -> Result<T, RequestError> {
    parse_json_body_with(req, &[])
}

/// Like [`parse_json_body`], with the spec's own messages for missing required properties, keyed by path
/// (`deviceId`, `redirectURIInfo.redirectURIOnProviderDashboard`).
pub fn parse_json_body_with<T: DeserializeOwned>(
    req: &RawRequest,
    missing_messages: &[(&str, &str)],
) -> Result<T, RequestError> {
    let body: &[u8] = if req.body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        match req.media_type() {
            Some(m) if is_json(&m) => &req.body,
            other => return Err(RequestError::unsupported_media_type(other.as_deref(), "application/json")),
        }
    };
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let what =
            if inner.is_syntax() || inner.is_eof() { "malformed JSON in request body" } else { "invalid request body" };
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
    })
}

/// Parses an optional JSON body: `None` when the body is empty.
pub fn parse_optional_json_body<T: DeserializeOwned>(req: &RawRequest) -> Result<Option<T>, RequestError> {
    if req.body.iter().all(u8::is_ascii_whitespace) { Ok(None) } else { parse_json_body(req).map(Some) }
}

/// How an object query parameter is spelled (OpenAPI's `style` and `explode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectStyle {
    /// `style: deepObject`: `filter[kind]=cat&filter[max]=3`.
    Deep,
    /// `style: form`, exploded (the default): `kind=cat&max=3`.
    Exploded,
    /// `style: form`, `explode: false`: `filter=kind,cat,max,3`.
    Joined,
}

/// Builds an object query parameter from its `(property, value)` pairs (see [`RawRequest::query_object`]):
/// 400 naming the parameter and the property at fault.
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

/// Parses an `application/x-www-form-urlencoded` body.
pub fn parse_form_body<T: DeserializeOwned>(req: &RawRequest) -> Result<T, RequestError> {
    match req.media_type() {
        Some(m) if m == "application/x-www-form-urlencoded" => {}
        other if !req.body.is_empty() => {
            return Err(RequestError::unsupported_media_type(other.as_deref(), "application/x-www-form-urlencoded"));
        }
        _ => {}
    }
    serde_urlencoded::from_bytes(&req.body).map_err(|e| RequestError::bad_request(format!("invalid form body: {e}")))
}

/// Reads a text body.
pub fn parse_text_body(req: &RawRequest) -> Result<String, RequestError> {
    String::from_utf8(req.body.to_vec()).map_err(|_| RequestError::bad_request("request body is not valid UTF-8"))
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Serializes a JSON body.
pub fn encode_json<T: Serialize>(value: &T) -> Result<Bytes, RequestError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| RequestError::internal(format!("response could not be encoded: {e}")))
}

/// Serializes a form body.
pub fn encode_form<T: Serialize>(value: &T) -> Result<Bytes, RequestError> {
    serde_urlencoded::to_string(value)
        .map(Bytes::from)
        .map_err(|e| RequestError::internal(format!("form could not be encoded: {e}")))
}

/// A file part of a `multipart/form-data` body (a `type: string, format: binary` property).
///
/// In JSON (when a body type is also used as JSON) it is `{"fileName": .., "contentType": .., "data": ..}`
/// with the bytes in standard base64.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilePart {
    /// The `filename` of the part's `Content-Disposition`, as sent.
    pub file_name: Option<String>,
    /// The part's `Content-Type`; the client sends `application/octet-stream` (or the spec's
    /// `encoding.contentType`) when it is `None`.
    pub content_type: Option<String>,
    /// The bytes.
    pub data: Bytes,
}

impl FilePart {
    /// A file part with a name and a media type.
    pub fn new(file_name: impl Into<String>, content_type: impl Into<String>, data: impl Into<Bytes>) -> Self {
        Self { file_name: Some(file_name.into()), content_type: Some(content_type.into()), data: data.into() }
    }
}

impl Serialize for FilePart {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut s = serializer.serialize_struct("FilePart", 3)?;
        s.serialize_field("fileName", &self.file_name)?;
        s.serialize_field("contentType", &self.content_type)?;
        s.serialize_field("data", &base64_encode(&self.data))?;
        s.end()
    }
}

impl<'de> serde::Deserialize<'de> for FilePart {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire {
            #[serde(default)]
            file_name: Option<String>,
            #[serde(default)]
            content_type: Option<String>,
            data: String,
        }
        let wire = Wire::deserialize(deserializer)?;
        let data = base64_decode(&wire.data).ok_or_else(|| serde::de::Error::custom("`data` is not base64"))?;
        Ok(Self { file_name: wire.file_name, content_type: wire.content_type, data: Bytes::from(data) })
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = BASE64.iter().position(|b| *b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    /// The `name` of its `Content-Disposition`.
    pub name: String,
    /// The `filename` of its `Content-Disposition`.
    pub file_name: Option<String>,
    /// Its `Content-Type`.
    pub content_type: Option<String>,
    /// Its bytes.
    pub data: Bytes,
}

/// A parsed `multipart/form-data` body: its parts in arrival order. The generated request parsers read the
/// typed fields from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Multipart {
    /// The parts.
    pub parts: Vec<Part>,
}

fn malformed(detail: &str) -> RequestError {
    RequestError::bad_request(format!("malformed multipart body: {detail}"))
}

fn part_error(name: &str, detail: impl fmt::Display) -> RequestError {
    RequestError::bad_request(format!("invalid request body: part `{name}`: {detail}"))
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > haystack.len() {
        return None;
    }
    haystack[from..].windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

/// The value of a `; name=value` parameter of a header (`boundary`, `name`, `filename`); quoted strings
/// lose their quotes, and a backslash escapes only `"` and `\` (browsers send file names such as `C:\a.txt`
/// without escaping). `None` when absent.
pub fn header_param(header: &str, name: &str) -> Option<String> {
    let mut rest = header.split_once(';')?.1;
    loop {
        let (key, after) = rest.split_once('=')?;
        // A parameter without a value (`form-data; flag; name=x`) is skipped.
        let key = key.rsplit(';').next().unwrap_or(key).trim();
        let after = after.trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' if matches!(quoted[i + 1..].chars().next(), Some('"' | '\\')) => {
                        value.extend(chars.next().map(|(_, c)| c));
                    }
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let next = &quoted[end?..];
            (value, next.split_once(';').map_or("", |(_, n)| n))
        } else {
            let (value, next) = after.split_once(';').unwrap_or((after, ""));
            (value.trim().to_owned(), next)
        };
        if key.eq_ignore_ascii_case(name) {
            return Some(value);
        }
        if next.is_empty() {
            return None;
        }
        rest = next;
    }
}

/// Parses a fully buffered `multipart/form-data` body (RFC 7578): 415 for another media type, 400 for a
/// missing boundary, unterminated part headers, a part without a name or a missing closing delimiter. The
/// preamble and the epilogue are ignored.
pub fn parse_multipart(req: &RawRequest) -> Result<Multipart, RequestError> {
    let content_type = req.header("content-type");
    if req.media_type().as_deref() != Some("multipart/form-data") {
        return Err(RequestError::unsupported_media_type(content_type, "multipart/form-data"));
    }
    let boundary = content_type
        .and_then(|ct| header_param(ct, "boundary"))
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or_else(|| malformed("the `Content-Type` has no `boundary` parameter"))?;
    let body = &req.body[..];
    let delimiter = format!("--{boundary}").into_bytes();
    // The first delimiter starts the body or a line.
    let mut at = if body.starts_with(&delimiter) {
        0
    } else {
        let mut crlf = [b'\r', b'\n'].to_vec();
        crlf.extend_from_slice(&delimiter);
        find(body, &crlf, 0).map(|i| i + 2).ok_or_else(|| malformed("the opening boundary is missing"))?
    };
    let mut next_line = b"\r\n".to_vec();
    next_line.extend_from_slice(&delimiter);
    let mut parts = Vec::new();
    loop {
        let mut pos = at + delimiter.len();
        if body[pos..].starts_with(b"--") {
            return Ok(Multipart { parts });
        }
        while body.get(pos).is_some_and(|b| *b == b' ' || *b == b'\t') {
            pos += 1;
        }
        if !body[pos..].starts_with(b"\r\n") {
            return Err(malformed("the body ends without the closing boundary"));
        }
        let head_start = pos + 2;
        let (head, content_start) = if body[head_start..].starts_with(b"\r\n") {
            (&body[head_start..head_start], head_start + 2)
        } else {
            let end = find(body, b"\r\n\r\n", head_start)
                .ok_or_else(|| malformed("the headers of a part are not terminated by an empty line"))?;
            (&body[head_start..end], end + 4)
        };
        // The part ends at the next delimiter line: `CRLF--boundary` followed by `--`, spaces or CRLF.
        let mut search = content_start;
        let end = loop {
            let i = find(body, &next_line, search)
                .ok_or_else(|| malformed("the body ends without the closing boundary"))?;
            let after = &body[i + next_line.len()..];
            let rest = after.iter().position(|b| *b != b' ' && *b != b'\t').map_or(after, |p| &after[p..]);
            if after.starts_with(b"--") || rest.starts_with(b"\r\n") {
                break i;
            }
            search = i + 1;
        };
        parts.push(parse_part(head, req.body.slice(content_start..end))?);
        at = end + 2;
    }
}

fn parse_part(head: &[u8], data: Bytes) -> Result<Part, RequestError> {
    let head = std::str::from_utf8(head).map_err(|_| malformed("part headers are not valid UTF-8"))?;
    let mut disposition = None;
    let mut content_type = None;
    for line in head.split("\r\n") {
        let (name, value) = line.split_once(':').ok_or_else(|| malformed("a part header has no `:`"))?;
        if name.trim().eq_ignore_ascii_case("content-disposition") {
            disposition = Some(value.trim().to_owned());
        } else if name.trim().eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_owned());
        }
    }
    let disposition = disposition.ok_or_else(|| malformed("a part has no `Content-Disposition` header"))?;
    let kind = disposition.split(';').next().unwrap_or_default().trim();
    if !kind.eq_ignore_ascii_case("form-data") {
        return Err(malformed("a part's `Content-Disposition` is not `form-data`"));
    }
    let name = header_param(&disposition, "name").ok_or_else(|| malformed("a part has no `name`"))?;
    let file_name = header_param(&disposition, "filename");
    Ok(Part { name, file_name, content_type, data })
}

impl Multipart {
    fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Part> + 'a {
        self.parts.iter().filter(move |p| p.name == name)
    }

    fn single<'a>(&'a self, name: &'a str) -> Result<Option<&'a Part>, RequestError> {
        let mut found = self.named(name);
        let first = found.next();
        if found.next().is_some() {
            return Err(part_error(name, "sent more than once"));
        }
        Ok(first)
    }

    /// 400 for a part whose name is not in `known` (a schema with `additionalProperties: false`).
    pub fn deny_unknown(&self, known: &[&str]) -> Result<(), RequestError> {
        match self.parts.iter().find(|p| !known.contains(&p.name.as_str())) {
            Some(p) => Err(RequestError::bad_request(format!("invalid request body: unknown part `{}`", p.name))),
            None => Ok(()),
        }
    }

    /// The text parts whose names are not in `known` (a schema's `additionalProperties`), parsed with `FromStr`,
    /// in order of their first arrival; 400 for one sent twice or one that does not parse. Linear in the parts.
    pub fn others<T>(&self, known: &[&str]) -> Result<Vec<(String, T)>, RequestError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for p in self.parts.iter().filter(|p| !known.contains(&p.name.as_str())) {
            if !seen.insert(p.name.as_str()) {
                return Err(part_error(&p.name, "sent more than once"));
            }
            out.push((p.name.clone(), parse_text_part(p)?));
        }
        Ok(out)
    }

    /// The file part `name`.
    pub fn file(&self, name: &str) -> Result<Option<FilePart>, RequestError> {
        Ok(self.single(name)?.map(to_file))
    }

    /// Every file part named `name`, in order; `None` when there is none.
    pub fn files(&self, name: &str) -> Option<Vec<FilePart>> {
        let files: Vec<FilePart> = self.named(name).map(to_file).collect();
        (!files.is_empty()).then_some(files)
    }

    /// The text part `name`, parsed with `FromStr`.
    pub fn text<T>(&self, name: &str) -> Result<Option<T>, RequestError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.single(name)?.map(parse_text_part).transpose()
    }

    /// Every text part named `name`, parsed with `FromStr`, in order; `None` when there is none.
    pub fn texts<T>(&self, name: &str) -> Result<Option<Vec<T>>, RequestError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let texts = self.named(name).map(parse_text_part).collect::<Result<Vec<T>, _>>()?;
        Ok((!texts.is_empty()).then_some(texts))
    }

    /// The JSON part `name`.
    pub fn json<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, RequestError> {
        self.single(name)?
            .map(|p| serde_json::from_slice(&p.data).map_err(|e| part_error(name, strip_position(&e.to_string()))))
            .transpose()
    }
}

fn to_file(p: &Part) -> FilePart {
    FilePart { file_name: p.file_name.clone(), content_type: p.content_type.clone(), data: p.data.clone() }
}

fn parse_text_part<T>(p: &Part) -> Result<T, RequestError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    let text = std::str::from_utf8(&p.data).map_err(|_| part_error(&p.name, "not valid UTF-8"))?;
    text.parse::<T>().map_err(|e| part_error(&p.name, e))
}

/// Fails with 400 when a required part is absent.
pub fn required_part<T>(value: Option<T>, name: &str) -> Result<T, RequestError> {
    value.ok_or_else(|| RequestError::bad_request(format!("invalid request body: missing required part `{name}`")))
}

/// Builds a `multipart/form-data` body (client side).
#[derive(Debug, Clone, Default)]
pub struct MultipartWriter {
    parts: Vec<(String, Bytes)>,
}

/// A `name` or `filename` as a quoted string: `"` and `\` escaped with a backslash, CR and LF
/// percent-encoded (as browsers do), so a value can never end the header.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A header value without CR or LF.
fn one_line(value: &str) -> String {
    value.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

impl MultipartWriter {
    /// An empty body.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, name: &str, file_name: Option<&str>, content_type: Option<&str>, data: Bytes) {
        let mut head = format!("Content-Disposition: form-data; name={}", quoted(name));
        if let Some(f) = file_name {
            head.push_str("; filename=");
            head.push_str(&quoted(f));
        }
        head.push_str("\r\n");
        if let Some(ct) = content_type {
            head.push_str(&format!("Content-Type: {}\r\n", one_line(ct)));
        }
        self.parts.push((head, data));
    }

    /// Adds a text part.
    pub fn text(&mut self, name: &str, value: &impl fmt::Display) {
        self.push(name, None, None, Bytes::from(value.to_string()));
    }

    /// Adds a file part; `default_type` is sent when the file has no `content_type`.
    pub fn file(&mut self, name: &str, file: &FilePart, default_type: &str) {
        let ct = file.content_type.as_deref().unwrap_or(default_type);
        self.push(name, file.file_name.as_deref(), Some(ct), file.data.clone());
    }

    /// Adds a JSON part.
    pub fn json<T: Serialize>(&mut self, name: &str, value: &T, content_type: &str) -> Result<(), ClientError> {
        let data = serde_json::to_vec(value)
            .map_err(|e| ClientError::InvalidRequest(format!("part `{name}` could not be encoded: {e}")))?;
        self.push(name, None, Some(content_type), Bytes::from(data));
        Ok(())
    }

    /// The `Content-Type` (with a boundary found in none of the parts) and the body.
    pub fn finish(self) -> (String, Bytes) {
        let boundary = loop {
            let candidate = boundary_candidate();
            let clash = self.parts.iter().any(|(head, data)| {
                find(head.as_bytes(), candidate.as_bytes(), 0).is_some()
                    || find(data, candidate.as_bytes(), 0).is_some()
            });
            if !clash {
                break candidate;
            }
        };
        let mut body = Vec::new();
        for (head, data) in &self.parts {
            body.extend_from_slice(format!("--{boundary}\r\n{head}\r\n").as_bytes());
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), Bytes::from(body))
    }
}

/// A fresh boundary: two hashes of a process-wide counter under randomly keyed hashers.
fn boundary_candidate() -> String {
    use std::hash::BuildHasher as _;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let a = std::hash::RandomState::new().hash_one(n);
    let b = std::hash::RandomState::new().hash_one(n);
    format!("authgen-{a:016x}{b:016x}")
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

/// Appends `name=value` to a query string.
pub fn push_query(query: &mut String, name: &str, value: &str) {
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(&percent_encode(name));
    query.push('=');
    query.push_str(&percent_encode(value));
}

/// Deserializes a required, nullable field: present, possibly `null`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer)
}

/// Deserializes an optional, nullable field: absent is `None`, `null` is `Some(None)`.
pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// Checks a parsed value against the spec's validation rules (`minLength`, `pattern`, `minimum`, `maxItems`,
/// `format: email`, ...), appending one message per violation. Generated for every schema type; the server
/// adapters run it on every request body and answer violations with 400.
pub trait Validate {
    /// Appends violations under `path` (e.g. `user.emails[0]`; empty for the root).
    fn validate_into(&self, path: &str, errors: &mut Vec<String>);
}

macro_rules! nothing_to_validate {
    ($($t:ty),*) => { $( impl Validate for $t { fn validate_into(&self, _: &str, _: &mut Vec<String>) {} } )* };
}

nothing_to_validate!(String, bool, i32, i64, f32, f64, serde_json::Value, Bytes, FilePart);

impl<T: Validate> Validate for Option<T> {
    fn validate_into(&self, path: &str, errors: &mut Vec<String>) {
        if let Some(v) = self {
            v.validate_into(path, errors);
        }
    }
}

impl<T: Validate> Validate for Box<T> {
    fn validate_into(&self, path: &str, errors: &mut Vec<String>) {
        (**self).validate_into(path, errors);
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate_into(&self, path: &str, errors: &mut Vec<String>) {
        for (i, v) in self.iter().enumerate() {
            v.validate_into(&format!("{path}[{i}]"), errors);
        }
    }
}

impl<T: Validate> Validate for std::collections::BTreeMap<String, T> {
    fn validate_into(&self, path: &str, errors: &mut Vec<String>) {
        for (k, v) in self {
            v.validate_into(&join_path(path, k), errors);
        }
    }
}

/// `path.name`, or `name` at the root.
pub fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") }
}

/// Validates a parsed request body: 400 naming every violated rule.
pub fn validate_body<T: Validate>(body: &T) -> Result<(), RequestError> {
    let mut errors = Vec::new();
    body.validate_into("", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(RequestError::bad_request(format!("invalid request body: {}", errors.join("; "))))
    }
}

/// Validates one parameter value: 400 naming the parameter and the rule.
pub fn validate_param(location: &str, name: &str, check: impl FnOnce(&str, &mut Vec<String>)) -> Result<(), RequestError> {
    let mut errors = Vec::new();
    check(name, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(RequestError::bad_request(format!("invalid {location} parameter: {}", errors.join("; "))))
    }
}

fn shown(path: &str) -> &str {
    if path.is_empty() { "body" } else { path }
}

/// `minLength` / `maxLength`, counted in characters.
pub fn check_length(path: &str, value: &str, min: Option<usize>, max: Option<usize>, errors: &mut Vec<String>) {
    let n = value.chars().count();
    if let Some(min) = min.filter(|m| n < *m) {
        errors.push(format!("`{}`: length must be at least {min} (minLength), got {n}", shown(path)));
    }
    if let Some(max) = max.filter(|m| n > *m) {
        errors.push(format!("`{}`: length must be at most {max} (maxLength), got {n}", shown(path)));
    }
}

/// The message for a value that does not match `pattern` (unanchored, as in JSON Schema).
pub fn pattern_violation(path: &str, pattern: &str) -> String {
    format!("`{}`: must match the pattern `{pattern}` (pattern)", shown(path))
}

/// `minimum` / `maximum` and their exclusive forms.
pub fn check_range(
    path: &str,
    value: f64,
    min: Option<(f64, bool)>,
    max: Option<(f64, bool)>,
    errors: &mut Vec<String>,
) {
    if let Some((m, exclusive)) = min {
        if exclusive && value <= m {
            errors.push(format!("`{}`: must be greater than {m} (exclusiveMinimum), got {value}", shown(path)));
        } else if value < m {
            errors.push(format!("`{}`: must be at least {m} (minimum), got {value}", shown(path)));
        }
    }
    if let Some((m, exclusive)) = max {
        if exclusive && value >= m {
            errors.push(format!("`{}`: must be less than {m} (exclusiveMaximum), got {value}", shown(path)));
        } else if value > m {
            errors.push(format!("`{}`: must be at most {m} (maximum), got {value}", shown(path)));
        }
    }
}

/// `minItems` / `maxItems` / `uniqueItems`.
pub fn check_items<T: PartialEq>(
    path: &str,
    items: &[T],
    min: Option<usize>,
    max: Option<usize>,
    unique: bool,
    errors: &mut Vec<String>,
) {
    let n = items.len();
    if let Some(min) = min.filter(|m| n < *m) {
        errors.push(format!("`{}`: must have at least {min} items (minItems), got {n}", shown(path)));
    }
    if let Some(max) = max.filter(|m| n > *m) {
        errors.push(format!("`{}`: must have at most {max} items (maxItems), got {n}", shown(path)));
    }
    if unique && items.iter().enumerate().any(|(i, a)| items[..i].contains(a)) {
        errors.push(format!("`{}`: items must be unique (uniqueItems)", shown(path)));
    }
}

/// `format: email`: one `@`, a non-empty local part without spaces, and a dotted domain.
pub fn check_email(path: &str, value: &str, errors: &mut Vec<String>) {
    let valid = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.contains('@')
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            && domain.split('.').count() >= 2
            && domain.split('.').all(|label| {
                !label.is_empty() && !label.starts_with('-') && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
    });
    if !valid {
        errors.push(format!("`{}`: must be an email address (format: email)", shown(path)));
    }
}

/// `format: uri`: an absolute URI (RFC 3986): a scheme (a letter, then letters, digits, `+`, `-` or `.`), a
/// `:`, and only URI characters after it (ASCII, no spaces, well-formed `%XX` escapes).
pub fn check_uri(path: &str, value: &str, errors: &mut Vec<String>) {
    let valid = value.split_once(':').is_some_and(|(scheme, rest)| {
        scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            && rest.bytes().all(|b| b.is_ascii_graphic() && !b"\"<>\\^`{|}".contains(&b))
            && rest.split('%').skip(1).all(|esc| esc.len() >= 2 && esc.as_bytes()[..2].iter().all(u8::is_ascii_hexdigit))
    });
    if !valid {
        errors.push(format!("`{}`: must be an absolute URI (format: uri)", shown(path)));
    }
}

// authgen:if base64
/// `format: byte`: bytes that travel as standard base64 (RFC 4648, padding optional when read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Base64(pub Vec<u8>);

impl Base64 {
    const ENGINE: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
}

impl From<Vec<u8>> for Base64 {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl std::ops::Deref for Base64 {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Base64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&base64::Engine::encode(&Self::ENGINE, &self.0))
    }
}

impl FromStr for Base64 {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        base64::Engine::decode(&Self::ENGINE, s).map(Self).map_err(|e| format!("not base64 ({e})"))
    }
}

impl Serialize for Base64 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Base64 {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
// authgen:end

/// An error parsing a string enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariant {
    /// The value received.
    pub value: String,
    /// The values allowed.
    pub expected: &'static [&'static str],
}

impl fmt::Display for UnknownVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown value `{}`, expected one of {:?}", self.value, self.expected)
    }
}

impl std::error::Error for UnknownVariant {}

/// Why a client call failed.
#[derive(Debug)]
pub enum ClientError {
    /// The request could not be sent or the response not read.
    Transport(String),
    /// The request could not be built (for example a header value with a newline).
    InvalidRequest(String),
    /// The server answered with a status the spec does not list for this operation.
    UnexpectedStatus(RawResponse),
    /// The body did not match the spec.
    InvalidBody {
        /// The response as received.
        response: RawResponse,
        /// What was wrong.
        message: String,
    },
    /// A required response header was missing or did not parse.
    InvalidHeader {
        /// The response as received.
        response: RawResponse,
        /// The header name.
        name: String,
    },
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Transport(m) => write!(f, "transport error: {m}"),
            ClientError::InvalidRequest(m) => write!(f, "invalid request: {m}"),
            ClientError::UnexpectedStatus(r) => write!(f, "unexpected status {}: {}", r.status, r.text()),
            ClientError::InvalidBody { response, message } => {
                write!(f, "invalid response body (status {}): {message}", response.status)
            }
            ClientError::InvalidHeader { response, name } => {
                write!(f, "missing or invalid response header `{name}` (status {})", response.status)
            }
        }
    }
}

impl std::error::Error for ClientError {}

/// Decodes a JSON response body.
pub fn decode_json<T: DeserializeOwned>(raw: &RawResponse) -> Result<T, ClientError> {
    serde_json::from_slice(&raw.body)
        .map_err(|e| ClientError::InvalidBody { response: raw.clone(), message: e.to_string() })
}

/// Decodes a text response body.
pub fn decode_text(raw: &RawResponse) -> Result<String, ClientError> {
    String::from_utf8(raw.body.to_vec())
        .map_err(|e| ClientError::InvalidBody { response: raw.clone(), message: e.to_string() })
}

/// Reads an optional typed response header.
pub fn response_header<T: FromStr>(raw: &RawResponse, name: &str) -> Result<Option<T>, ClientError> {
    match raw.header(name) {
        None => Ok(None),
        Some(v) => v
            .parse::<T>()
            .map(Some)
            .map_err(|_| ClientError::InvalidHeader { response: raw.clone(), name: name.to_owned() }),
    }
}

/// Reads a required typed response header.
pub fn required_response_header<T: FromStr>(raw: &RawResponse, name: &str) -> Result<T, ClientError> {
    response_header(raw, name)?
        .ok_or_else(|| ClientError::InvalidHeader { response: raw.clone(), name: name.to_owned() })
}

// authgen:if axum
#[cfg(feature = "axum")]
pub(crate) mod axum_glue {
    //! Conversions between axum and the raw types.

    use super::{RawRequest, RawResponse, RequestError};
    use axum::extract::FromRequestParts as _;

    /// Reads an axum request into a [`RawRequest`], enforcing the body limit.
    pub(crate) async fn to_raw(req: axum::extract::Request, limit: usize) -> Result<RawRequest, RequestError> {
        let (mut parts, body) = req.into_parts();
        let path_params = match axum::extract::RawPathParams::from_request_parts(&mut parts, &()).await {
            Ok(params) => params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
            Err(_) => return Err(RequestError::bad_request("path parameters are not valid UTF-8")),
        };
        let declared =
            parts.headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|l| l > limit) {
            return Err(RequestError::too_large(limit));
        }
        let body = axum::body::to_bytes(body, limit).await.map_err(|e| {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(s) = source {
                if s.is::<http_body_util::LengthLimitError>() {
                    return RequestError::too_large(limit);
                }
                source = s.source();
            }
            RequestError::bad_request(format!("request body could not be read: {e}"))
        })?;
        let headers = parts
            .headers
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_owned(), v.to_owned())))
            .collect();
        Ok(RawRequest {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            path_params,
            query: parts.uri.query().unwrap_or_default().to_owned(),
            headers,
            body,
        })
    }

    /// Turns a [`RawResponse`] into an axum response.
    pub(crate) fn from_raw(raw: RawResponse) -> axum::response::Response {
        let mut builder = http::Response::builder().status(raw.status);
        for (k, v) in &raw.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        builder.body(axum::body::Body::from(raw.body)).unwrap_or_else(|e| {
            let fallback = super::error_response(500, &format!("response could not be built: {e}"));
            let mut resp = axum::response::Response::new(axum::body::Body::from(fallback.body));
            *resp.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            resp
        })
    }
}
// authgen:end

// authgen:if client
#[cfg(feature = "client")]
pub use client_core::Client;
// authgen:end

// authgen:if client
#[cfg(feature = "client")]
mod client_core {
    //! The transport under the generated client: reqwest over the network, or an in-process axum router,
    //! with one cookie jar for both.

    use std::sync::Arc;

    use reqwest::cookie::CookieStore as _;

    use super::{ClientError, RawRequest, RawResponse};

    /// A typed client for the API. The operation methods are generated in `client.rs`; this part sends raw
    /// requests and keeps cookies (for cookie-mode sessions) in a jar shared by every call.
    #[derive(Clone)]
    pub struct Client {
        base: url::Url,
        transport: Transport,
        jar: Arc<reqwest::cookie::Jar>,
        default_headers: Vec<(String, String)>,
        credentials: Vec<(String, String)>,
    }

    #[derive(Clone)]
    enum Transport {
        Http(reqwest::Client),
        // authgen:if axum
        #[cfg(feature = "axum")]
        Router(axum::Router),
        // authgen:end
    }

    impl std::fmt::Debug for Client {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let transport = match &self.transport {
                Transport::Http(_) => "http",
                // authgen:if axum
                #[cfg(feature = "axum")]
                Transport::Router(_) => "in-process router",
                // authgen:end
            };
            f.debug_struct("Client").field("base", &self.base.as_str()).field("transport", &transport).finish()
        }
    }

    impl Client {
        /// A client for the API served at `base_url` (e.g. `http://127.0.0.1:3001`).
        ///
        /// Redirects are not followed: a `303` is an answer of the API, returned as its typed variant.
        pub fn new(base_url: &str) -> Result<Self, ClientError> {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| ClientError::Transport(e.to_string()))?;
            Self::with_reqwest(base_url, client)
        }

        /// A client that sends through a configured `reqwest::Client` (timeouts, proxies, TLS). Cookies
        /// are handled by this client's own jar, so do not enable reqwest's cookie store as well; disable
        /// redirects (`reqwest::redirect::Policy::none()`) so redirect responses reach their typed variants.
        pub fn with_reqwest(base_url: &str, client: reqwest::Client) -> Result<Self, ClientError> {
            let base = url::Url::parse(base_url)
                .map_err(|e| ClientError::InvalidRequest(format!("invalid base URL `{base_url}`: {e}")))?;
            Ok(Self {
                base,
                transport: Transport::Http(client),
                jar: Arc::default(),
                default_headers: Vec::new(),
                credentials: Vec::new(),
            })
        }

        /// A client that calls `router` directly, without a socket: for fast tests of a server.
        // authgen:if axum
        #[cfg(feature = "axum")]
        pub fn in_process(router: axum::Router) -> Self {
            let base = url::Url::parse("http://localhost").expect("constant URL parses");
            Self {
                base,
                transport: Transport::Router(router),
                jar: Arc::default(),
                default_headers: Vec::new(),
                credentials: Vec::new(),
            }
        }
        // authgen:end

        /// Adds a header sent with every request (for example `origin`).
        pub fn with_default_header(mut self, name: &str, value: &str) -> Self {
            self.default_headers.push((name.to_ascii_lowercase(), value.to_owned()));
            self
        }

        /// Sets the credential of a security scheme (by its name in the spec), used by every call whose
        /// request does not carry one itself. The generated `with_<scheme>` methods call this.
        pub fn with_credential(mut self, scheme: &str, value: impl Into<String>) -> Self {
            self.credentials.retain(|(k, _)| k != scheme);
            self.credentials.push((scheme.to_owned(), value.into()));
            self
        }

        /// The credential of a security scheme set with [`Client::with_credential`].
        pub fn credential(&self, scheme: &str) -> Option<String> {
            self.credentials.iter().find(|(k, _)| k == scheme).map(|(_, v)| v.clone())
        }

        /// The base URL requests are sent to.
        pub fn base_url(&self) -> &url::Url {
            &self.base
        }

        /// The value of a cookie the jar would send to `path` (e.g. `/auth/session/refresh`).
        pub fn cookie_for_path(&self, path: &str, name: &str) -> Option<String> {
            let url = self.url_for(path, "").ok()?;
            let header = self.jar.cookies(&url)?;
            let header = header.to_str().ok()?.to_owned();
            header
                .split(';')
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_owned())
        }

        /// The value of a cookie the jar would send to `/`.
        pub fn cookie(&self, name: &str) -> Option<String> {
            self.cookie_for_path("/", name)
        }

        /// Forgets every cookie.
        pub fn clear_cookies(&mut self) {
            self.jar = Arc::default();
        }

        fn url_for(&self, path: &str, query: &str) -> Result<url::Url, ClientError> {
            let mut s = self.base.as_str().trim_end_matches('/').to_owned();
            s.push_str(path);
            if !query.is_empty() {
                s.push('?');
                s.push_str(query);
            }
            url::Url::parse(&s).map_err(|e| ClientError::InvalidRequest(format!("invalid URL `{s}`: {e}")))
        }

        /// Sends a raw request, adding cookies from the jar and storing the ones the response sets.
        pub async fn send(&self, mut req: RawRequest) -> Result<RawResponse, ClientError> {
            let url = self.url_for(&req.path, &req.query)?;
            for (k, v) in &self.default_headers {
                if req.header(k).is_none() {
                    req.headers.push((k.clone(), v.clone()));
                }
            }
            if let Some(jar_cookies) = self.jar.cookies(&url).and_then(|v| v.to_str().ok().map(str::to_owned)) {
                match req.headers.iter_mut().find(|(k, _)| k == "cookie") {
                    Some((_, v)) => {
                        v.push_str("; ");
                        v.push_str(&jar_cookies);
                    }
                    None => req.headers.push(("cookie".to_owned(), jar_cookies)),
                }
            }
            let resp = match &self.transport {
                Transport::Http(client) => send_http(client, &url, req).await?,
                // authgen:if axum
                #[cfg(feature = "axum")]
                Transport::Router(router) => send_router(router, &url, req).await?,
                // authgen:end
            };
            let set: Vec<http::HeaderValue> =
                resp.header_values("set-cookie").iter().filter_map(|v| http::HeaderValue::from_str(v).ok()).collect();
            if !set.is_empty() {
                self.jar.set_cookies(&mut set.iter(), &url);
            }
            Ok(resp)
        }
    }

    fn error_chain(e: &dyn std::error::Error) -> String {
        let mut text = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    }

    fn build_http(url: &url::Url, req: RawRequest) -> Result<http::Request<bytes::Bytes>, ClientError> {
        let mut builder = http::Request::builder().method(req.method.as_str()).uri(url.as_str());
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        builder.body(req.body).map_err(|e| ClientError::InvalidRequest(e.to_string()))
    }

    fn collect_headers(headers: &http::HeaderMap) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect()
    }

    async fn send_http(client: &reqwest::Client, url: &url::Url, req: RawRequest) -> Result<RawResponse, ClientError> {
        let request = build_http(url, req)?;
        let request = reqwest::Request::try_from(request).map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let resp = client.execute(request).await.map_err(|e| ClientError::Transport(error_chain(&e)))?;
        let status = resp.status().as_u16();
        let headers = collect_headers(resp.headers());
        let body = resp.bytes().await.map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(RawResponse { status, headers, body })
    }

    // authgen:if axum
    #[cfg(feature = "axum")]
    async fn send_router(router: &axum::Router, url: &url::Url, req: RawRequest) -> Result<RawResponse, ClientError> {
        use tower::ServiceExt as _;
        let request = build_http(url, req)?.map(axum::body::Body::from);
        let resp = router.clone().oneshot(request).await.map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let headers = collect_headers(resp.headers());
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(RawResponse { status, headers, body })
    }
    // authgen:end
}
// authgen:end

// authgen:if actix-web
#[cfg(feature = "actix-web")]
pub(crate) mod actix_glue {
    //! Conversions between actix-web and the raw types.

    use super::{RawRequest, RawResponse, RequestError};

    /// Reads an actix-web request into a [`RawRequest`], enforcing the body limit.
    pub(crate) async fn to_raw(
        req: &actix_web::HttpRequest,
        payload: actix_web::web::Payload,
        limit: usize,
    ) -> Result<RawRequest, RequestError> {
        let declared = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|l| l > limit) {
            return Err(RequestError::too_large(limit));
        }
        let body = match payload.to_bytes_limited(limit).await {
            Ok(Ok(body)) => body,
            Ok(Err(e)) => return Err(RequestError::bad_request(format!("request body could not be read: {e}"))),
            Err(_) => return Err(RequestError::too_large(limit)),
        };
        let headers = req
            .headers()
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_owned(), v.to_owned())))
            .collect();
        let path_params = req.match_info().iter().map(|(k, v)| (k.to_owned(), percent_decode(v))).collect();
        Ok(RawRequest {
            method: req.method().as_str().to_owned(),
            path: req.path().to_owned(),
            path_params,
            query: req.query_string().to_owned(),
            headers,
            body,
        })
    }

    /// actix-web leaves most percent-escapes in path segments; decode them as axum does.
    fn percent_decode(value: &str) -> String {
        let bytes = value.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && i + 2 < bytes.len()
                && let Some(b) =
                    std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Turns a [`RawResponse`] into an actix-web response.
    pub(crate) fn from_raw(raw: RawResponse) -> actix_web::HttpResponse {
        let status = actix_web::http::StatusCode::from_u16(raw.status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
        let mut builder = actix_web::HttpResponse::build(status);
        for (k, v) in &raw.headers {
            builder.append_header((k.as_str(), v.as_str()));
        }
        builder.body(raw.body)
    }
}
// authgen:end
