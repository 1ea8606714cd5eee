//! Errors: [`RequestError`] (a request answered before the implementation), [`ClientError`] (a failed client
//! call) and [`UnknownVariant`] (a string enum value the spec does not list).

use std::fmt;

use bytes::Bytes;

use super::RawResponse;

/// Why a request was answered before it reached the implementation: 400, 404, 413 or 415, with a JSON
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

    /// 404 with `message`: the path is not one the API serves.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self { status: 404, message: message.into() }
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

/// 405 for a method the spec does not declare on a path, the same from every adapter: `Allow` lists the
/// declared methods, and the body is the JSON `{"message": ...}` every error has.
pub fn method_not_allowed(allow: &str) -> RawResponse {
    let mut raw = error_response(405, "method not allowed");
    raw.headers.push(("allow".to_owned(), allow.to_owned()));
    raw
}

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
