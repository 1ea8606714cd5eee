//! The framework-neutral response, [`RawResponse`], and what the generated client reads from it.

use std::str::FromStr;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::ClientError;

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
