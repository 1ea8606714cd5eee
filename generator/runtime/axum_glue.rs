//! Conversions between axum and the raw types.

use super::{RawRequest, RawResponse, RequestError};
use axum::extract::FromRequestParts as _;

/// Reads an axum request into a [`RawRequest`], enforcing the body limit, and hands back its head for the
/// request's context.
pub(crate) async fn to_raw(
    req: axum::extract::Request,
    limit: usize,
) -> Result<(RawRequest, http::request::Parts), RequestError> {
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
    let raw = RawRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        path_params,
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers,
        body,
    };
    Ok((raw, parts))
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
