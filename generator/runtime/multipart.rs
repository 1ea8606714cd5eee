//! `multipart/form-data` bodies: [`FilePart`], the parser ([`parse_multipart`], [`Multipart`]) and the
//! client's [`MultipartWriter`].

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::body::strip_position;
use super::{ClientError, RequestError, RequestView};

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
pub fn parse_multipart(req: &RequestView<'_>) -> Result<Multipart, RequestError> {
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
