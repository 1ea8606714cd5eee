//! Conversions between actix-web and the runtime's types.

use std::borrow::Cow;

use super::{RawResponse, RequestError, RequestView};

/// Reads an actix-web request's body, enforcing the body limit.
pub(crate) async fn read_body(
    req: &actix_web::HttpRequest,
    payload: actix_web::web::Payload,
    limit: usize,
) -> Result<bytes::Bytes, RequestError> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|l| l > limit) {
        return Err(RequestError::too_large(limit));
    }
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(e)) => Err(RequestError::bad_request(format!("request body could not be read: {e}"))),
        Err(_) => Err(RequestError::too_large(limit)),
    }
}

/// An actix-web request and its body as the generated parsers read them: its headers are listed, not
/// copied, and only the path parameters that hold percent-escapes are copied (decoded).
pub(crate) fn view<'a>(req: &'a actix_web::HttpRequest, body: &'a bytes::Bytes) -> RequestView<'a> {
    RequestView::from_parts(
        req.method().as_str(),
        req.path(),
        req.query_string(),
        req.headers().iter().filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))).collect(),
        req.match_info().iter().map(|(k, v)| (k, percent_decode(v))).collect(),
        body,
    )
}

/// actix-web leaves most percent-escapes in path segments; decode them as axum does.
fn percent_decode(value: &str) -> Cow<'_, str> {
    if !value.contains('%') {
        return Cow::Borrowed(value);
    }
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
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
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
