//! The HTTP client for provider calls: hyper over rustls (ring, the system's root certificates), no
//! redirects followed, a timeout per request and a cap on the response size.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A provider response: status and body.
pub(crate) struct Response {
    pub(crate) status: http::StatusCode,
    pub(crate) body: Bytes,
}

/// Why a provider call failed before a response was read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    #[error("{0} is not a valid request URL")]
    Url(String),
    #[error("the request failed: {0}")]
    Send(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the response could not be read or is larger than {0} bytes")]
    Body(usize),
}

#[derive(Clone)]
pub(crate) struct Http {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
    max_body: usize,
}

impl Http {
    pub(crate) fn new(timeout: Duration, max_body: usize) -> Self {
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let connector = match builder.with_provider_and_native_roots(provider.clone()) {
            Ok(builder) => builder.https_or_http().enable_http1().build(),
            Err(error) => {
                // Without a root store https providers fail at connect time, with this logged once here.
                tracing::warn!(%error, "no system root certificates: https providers cannot be verified");
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map(|b| b.with_root_certificates(rustls::RootCertStore::empty()).with_no_client_auth());
                match config {
                    Ok(config) => hyper_rustls::HttpsConnectorBuilder::new()
                        .with_tls_config(config)
                        .https_or_http()
                        .enable_http1()
                        .build(),
                    Err(_) => unreachable!("ring supports the default protocol versions"),
                }
            }
        };
        Self { client: Client::builder(TokioExecutor::new()).build(connector), timeout, max_body }
    }

    /// Sends a request with a body (empty for GET) and reads the whole response.
    pub(crate) async fn send(
        &self,
        method: http::Method,
        url: &url::Url,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Result<Response, HttpError> {
        let mut request = http::Request::builder().method(method).uri(url.as_str());
        request = request.header("user-agent", concat!("authgen-recipes/", env!("CARGO_PKG_VERSION")));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|_| HttpError::Url(url.to_string()))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| HttpError::Send(error_chain(&e)))?;
            let status = response.status();
            let body = Limited::new(response.into_body(), self.max_body)
                .collect()
                .await
                .map_err(|_| HttpError::Body(self.max_body))?
                .to_bytes();
            Ok(Response { status, body })
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| HttpError::Timeout(self.timeout))?
    }
}

/// An error with its sources, `: `-separated (hyper's top-level message alone says little).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
