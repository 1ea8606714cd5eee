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
