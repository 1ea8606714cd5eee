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
    /// The router, and the peer address its requests come from (`ConnectInfo`).
    #[cfg(feature = "axum")]
    Router(axum::Router, Option<std::net::SocketAddr>),
    // authgen:end
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let transport = match &self.transport {
            Transport::Http(_) => "http",
            // authgen:if axum
            #[cfg(feature = "axum")]
            Transport::Router(..) => "in-process router",
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

    // authgen:if axum
    /// A client that calls `router` directly, without a socket: for fast tests of a server.
    #[cfg(feature = "axum")]
    pub fn in_process(router: axum::Router) -> Self {
        let base = url::Url::parse("http://localhost").expect("constant URL parses");
        Self {
            base,
            transport: Transport::Router(router, None),
            jar: Arc::default(),
            default_headers: Vec::new(),
            credentials: Vec::new(),
        }
    }

    /// The in-process client's requests as if they came from `peer`: the router sees it as
    /// `axum::extract::ConnectInfo<SocketAddr>`, and the request's context as its peer address. A client over
    /// HTTP keeps its own.
    #[cfg(feature = "axum")]
    pub fn with_peer_addr(mut self, peer: std::net::SocketAddr) -> Self {
        if let Transport::Router(_, at) = &mut self.transport {
            *at = Some(peer);
        }
        self
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
            Transport::Router(router, peer) => send_router(router, *peer, &url, req).await?,
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
async fn send_router(
    router: &axum::Router,
    peer: Option<std::net::SocketAddr>,
    url: &url::Url,
    req: RawRequest,
) -> Result<RawResponse, ClientError> {
    use tower::ServiceExt as _;
    let mut request = build_http(url, req)?.map(axum::body::Body::from);
    if let Some(peer) = peer {
        request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
    }
    let resp = router.clone().oneshot(request).await.map_err(|e| ClientError::Transport(e.to_string()))?;
    let status = resp.status().as_u16();
    let headers = collect_headers(resp.headers());
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .map_err(|e| ClientError::Transport(e.to_string()))?;
    Ok(RawResponse { status, headers, body })
}
// authgen:end
