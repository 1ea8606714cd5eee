//! Conversions between axum and the runtime's types.

use std::borrow::Cow;

use super::{RawResponse, RequestError, RequestView};
use axum::extract::FromRequestParts as _;

/// An axum request read for the generated parsers: its head (for the request's context as well), its path
/// parameters and its body, enforcing the body limit. Nothing is copied out of the head.
pub(crate) struct Incoming {
    pub(crate) parts: std::sync::Arc<http::request::Parts>,
    path_params: axum::extract::RawPathParams,
    body: bytes::Bytes,
}

impl Incoming {
    /// Reads `req`'s body, up to `limit` bytes.
    pub(crate) async fn read(req: axum::extract::Request, limit: usize) -> Result<Self, RequestError> {
        let (mut parts, body) = req.into_parts();
        let Ok(path_params) = axum::extract::RawPathParams::from_request_parts(&mut parts, &()).await else {
            return Err(RequestError::bad_request("path parameters are not valid UTF-8"));
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
        Ok(Self { parts: std::sync::Arc::new(parts), path_params, body })
    }

    /// The request as the generated parsers read it.
    pub(crate) fn view(&self) -> RequestView<'_> {
        RequestView::from_http(
            &self.parts,
            self.path_params.iter().map(|(k, v)| (k, Cow::Borrowed(v))).collect(),
            &self.body,
        )
    }
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
