//! The request's context beyond the spec's parameters: [`RequestContext`], the peer's socket address, every
//! header and the typed extensions the framework's middleware put on the request.
//!
//! The adapters keep the framework's own request (axum's `http::request::Parts`, actix-web's `HttpRequest`)
//! in a task-local for as long as the trait method runs, so nothing is copied for an implementation that
//! does not ask, and the trait's signatures stay those of the spec.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::client_addr::{ForwardedHeader, TrustedProxies};

tokio::task_local! {
    /// The request of an axum handler, or of a scope opened with [`RequestContext::scope`].
    static HTTP: HttpRequestParts;
}

// authgen:if actix-web
#[cfg(feature = "actix-web")]
tokio::task_local! {
    /// The request of an actix-web handler: `HttpRequest` is not `Send`, and actix-web runs a handler on the
    /// worker thread that accepted it, so it gets a key of its own.
    static ACTIX: actix_web::HttpRequest;
}
// authgen:end

/// The request as the `http` crate has it, with the peer's address when it is known without the framework.
#[derive(Debug)]
struct HttpRequestParts {
    parts: Arc<http::request::Parts>,
    peer: Option<SocketAddr>,
}

/// The context of the request an operation is answering: the peer's socket address, every header and the
/// typed extensions that middleware inserted (axum's request extensions and `Extension` layers, actix-web's
/// `HttpRequest::extensions`).
///
/// Read it inside a trait method with [`RequestContext::with`]; it is there for the whole method, on both
/// adapters and through the in-process client. It belongs to the task that runs the method, so read what
/// you need before handing work to `tokio::spawn`.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    inner: Inner<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Inner<'a> {
    Http(&'a HttpRequestParts),
    // authgen:if actix-web
    #[cfg(feature = "actix-web")]
    Actix(&'a actix_web::HttpRequest),
    // authgen:end
}

impl RequestContext<'_> {
    /// Calls `f` with the context of the request being answered, or returns `None` outside an adapter (for
    /// example when a test calls a trait method directly; [`RequestContext::scope`] gives it one).
    pub fn with<R>(f: impl FnOnce(&RequestContext<'_>) -> R) -> Option<R> {
        if HTTP.try_with(|_| ()).is_ok() {
            return HTTP.try_with(|request| f(&RequestContext { inner: Inner::Http(request) })).ok();
        }
        // authgen:if actix-web
        #[cfg(feature = "actix-web")]
        if ACTIX.try_with(|_| ()).is_ok() {
            return ACTIX.try_with(|request| f(&RequestContext { inner: Inner::Actix(request) })).ok();
        }
        // authgen:end
        None
    }

    /// Runs `future` with `parts` (and `peer`) as its request context: for tests of an implementation and
    /// for adapters of other frameworks.
    pub async fn scope<F: Future>(parts: http::request::Parts, peer: Option<SocketAddr>, future: F) -> F::Output {
        HTTP.scope(HttpRequestParts { parts: Arc::new(parts), peer }, future).await
    }

    /// The socket address of the peer: the client, or the last proxy in front of this server. On axum it
    /// comes from `ConnectInfo<SocketAddr>` (serve with `into_make_service_with_connect_info::<SocketAddr>()`)
    /// or a `MockConnectInfo<SocketAddr>` layer; a server of its own can insert a plain `SocketAddr`
    /// extension.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        match self.inner {
            Inner::Http(request) => request.peer.or_else(|| connect_info(&request.parts.extensions)),
            // authgen:if actix-web
            #[cfg(feature = "actix-web")]
            Inner::Actix(request) => request.peer_addr(),
            // authgen:end
        }
    }

    /// The client's address: the peer's, or, when the peer is one of the `trusted` proxies, the address its
    /// forwarding header names (see [`TrustedProxies`]). `None` when the peer is not known.
    pub fn client_ip(&self, trusted: &TrustedProxies) -> Option<IpAddr> {
        let peer = self.peer_addr()?.ip();
        let header = match trusted.header() {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        };
        Some(trusted.client_ip(peer, self.header_values(header)))
    }

    /// The upper-case method.
    pub fn method(&self) -> &str {
        match self.inner {
            Inner::Http(request) => request.parts.method.as_str(),
            // authgen:if actix-web
            #[cfg(feature = "actix-web")]
            Inner::Actix(request) => request.method().as_str(),
            // authgen:end
        }
    }

    /// The request path, without the query.
    pub fn path(&self) -> &str {
        match self.inner {
            Inner::Http(request) => request.parts.uri.path(),
            // authgen:if actix-web
            #[cfg(feature = "actix-web")]
            Inner::Actix(request) => request.path(),
            // authgen:end
        }
    }

    /// Every header as `(lower-case name, value bytes)`, in arrival order per name; a name sent several times
    /// is listed once per value.
    #[allow(clippy::let_and_return, reason = "where the actix-web adapter is generated its headers are chained on")]
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        let http = match self.inner {
            Inner::Http(request) => Some(request.parts.headers.iter().map(|(k, v)| (k.as_str(), v.as_bytes()))),
            // authgen:if actix-web
            #[cfg(feature = "actix-web")]
            Inner::Actix(_) => None,
            // authgen:end
        };
        // authgen:if actix-web
        #[cfg(feature = "actix-web")]
        let actix = match self.inner {
            Inner::Actix(request) => Some(request.headers().iter().map(|(k, v)| (k.as_str(), v.as_bytes()))),
            Inner::Http(_) => None,
        };
        // authgen:end
        let all = http.into_iter().flatten();
        // authgen:if actix-web
        #[cfg(feature = "actix-web")]
        let all = all.chain(actix.into_iter().flatten());
        // authgen:end
        all
    }

    /// Every value of the header `name` (any case) that is visible ASCII, in arrival order.
    pub fn header_values<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s str> {
        self.headers().filter(move |(k, _)| k.eq_ignore_ascii_case(name)).filter_map(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// The first value of the header `name` (any case), when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).next()
    }

    /// A copy of every header, as an `http::HeaderMap` (this clones them; [`RequestContext::headers`] does not).
    pub fn header_map(&self) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in self.headers() {
            if let (Ok(name), Ok(value)) =
                (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_bytes(value))
            {
                map.append(name, value);
            }
        }
        map
    }

    /// A clone of the extension of type `T` that middleware put on the request: an axum request extension
    /// (an axum `Extension` layer, `request.extensions_mut().insert(..)` in a tower layer) or an actix-web one
    /// (`HttpMessage::extensions_mut` in a middleware).
    pub fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        match self.inner {
            Inner::Http(request) => request.parts.extensions.get::<T>().cloned(),
            // authgen:if actix-web
            #[cfg(feature = "actix-web")]
            Inner::Actix(request) => actix_web::HttpMessage::extensions(request).get::<T>().cloned(),
            // authgen:end
        }
    }

    /// The request's head as the `http` crate has it: on axum, and in a [`RequestContext::scope`].
    pub fn http_parts(&self) -> Option<&http::request::Parts> {
        match self.inner {
            Inner::Http(request) => Some(&*request.parts),
            // authgen:if actix-web
            #[cfg(feature = "actix-web")]
            Inner::Actix(_) => None,
            // authgen:end
        }
    }

    // authgen:if actix-web
    /// actix-web's own request, on actix-web.
    #[cfg(feature = "actix-web")]
    pub fn actix_request(&self) -> Option<&actix_web::HttpRequest> {
        match self.inner {
            Inner::Actix(request) => Some(request),
            Inner::Http(_) => None,
        }
    }
    // authgen:end
}

/// The peer's address among a request's extensions: axum's `ConnectInfo` or `MockConnectInfo`, or a plain
/// `SocketAddr`.
fn connect_info(extensions: &http::Extensions) -> Option<SocketAddr> {
    // authgen:if axum
    #[cfg(feature = "axum")]
    if let Some(info) = extensions.get::<axum::extract::ConnectInfo<SocketAddr>>() {
        return Some(info.0);
    }
    #[cfg(feature = "axum")]
    if let Some(info) = extensions.get::<axum::extract::connect_info::MockConnectInfo<SocketAddr>>() {
        return Some(info.0);
    }
    // authgen:end
    extensions.get::<SocketAddr>().copied()
}

// authgen:if axum
/// Runs `future` with the axum request's head as its context (shared with the adapter, which parses the
/// request from it).
#[cfg(feature = "axum")]
pub(crate) async fn scope_axum<F: Future>(parts: Arc<http::request::Parts>, future: F) -> F::Output {
    HTTP.scope(HttpRequestParts { parts, peer: None }, future).await
}
// authgen:end

// authgen:if actix-web
/// Runs `future` with the actix-web request as its context.
#[cfg(feature = "actix-web")]
pub(crate) async fn scope_actix<F: Future>(request: actix_web::HttpRequest, future: F) -> F::Output {
    ACTIX.scope(request, future).await
}
// authgen:end
