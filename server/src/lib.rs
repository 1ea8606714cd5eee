//! The reference authgen server, as a library so that tests can start it in-process: [`Settings`] (what the
//! command line configures), [`app`] (settings → axum router: recipes, generated routes, the example
//! `/sessioninfo` route and CORS) and [`serve_with`] (router → listening server with graceful shutdown and the
//! [`ConnectionLimits`]).

mod limits;
pub mod metrics;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_api::cors::{CorsConfig, CorsError};
use authgen_recipes::config::FlowType;
use authgen_recipes::delivery::{Delivery, DeliveryError, LogDelivery, SmtpDelivery, SplitDelivery};
use authgen_recipes::ratelimit::{RateLimits, RedisCounters};
use authgen_recipes::store::{AnyStore, AnyStoreError, Store, StoreError};
use authgen_recipes::tenants::{TenantConfig, TenantsFileError, parse_tenants_toml};
use authgen_recipes::thirdparty::{ProviderConfig, ProviderConfigError, parse_providers_toml};
use authgen_recipes::{
    AuthRecipes, Config, ConfigError, ContactMethod, EmailVerificationMode, InitError, SessionRejection, VerifySession,
};
use axum::Json;
use axum::routing::get;
pub use limits::ConnectionLimits;
use limits::{BodyDeadline, ConnectionWatch};

/// How codes are delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliverySettings {
    /// One line per message on stderr.
    Log,
    /// Email through an SMTP server without TLS; text messages still go to the log.
    Smtp {
        /// The server's host name or address.
        host: String,
        /// The server's port.
        port: u16,
        /// The sender address.
        from: String,
    },
}

/// The web framework that serves the application. Both run the same recipes through the adapters generated
/// from spec/auth.yaml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Framework {
    /// axum (the default).
    #[default]
    Axum,
    /// actix-web.
    ActixWeb,
}

/// Everything the server is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The database URL: `sqlite://PATH` (one instance) or `postgres://…` (shared by several instances).
    pub database: String,
    /// The PostgreSQL connection pool size of this instance.
    pub database_max_connections: u32,
    /// How long an access-token signing key signs before the next one replaces it.
    pub signing_key_rotation: Duration,
    /// The website's origin.
    pub website_domain: String,
    /// The API's origin as the browser sees it.
    pub api_domain: String,
    /// Which contacts are accepted.
    pub contact_method: ContactMethod,
    /// Email verification: off, optional or required.
    pub email_verification: EmailVerificationMode,
    /// Code, magic link or both.
    pub flow_type: FlowType,
    /// How codes are delivered.
    pub delivery: DeliverySettings,
    /// Code lifetime.
    pub code_lifetime: Duration,
    /// Codes a device keeps across resends.
    pub live_codes_per_device: u32,
    /// How often expired devices and sessions are deleted.
    pub prune_interval: Duration,
    /// Access token lifetime.
    pub access_token_lifetime: Duration,
    /// How long a session's liveness, as read from the store, is reused by protected routes and sign-out.
    pub session_check_ttl: Duration,
    /// The web framework.
    pub framework: Framework,
    /// The third-party sign-in providers (none by default).
    pub third_party_providers: Vec<ProviderConfig>,
    /// The tenants served besides `public` (none by default), e.g. from [`load_tenants_file`].
    pub tenants: Vec<TenantConfig>,
    /// Timeouts and the connection cap.
    pub limits: ConnectionLimits,
    /// The reverse proxies whose forwarding header names the client (none by default).
    pub trusted_proxies: auth_api::runtime::TrustedProxies,
    /// The rate limits ([`RateLimits::RECOMMENDED`] by default).
    pub rate_limits: RateLimits,
    /// Count the rate limits in this Redis (`redis://…`) instead of the database.
    pub redis: Option<String>,
    /// The prefix of the rate-limit keys in Redis.
    pub redis_prefix: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3001)),
            database: "sqlite://auth.db".to_owned(),
            database_max_connections: authgen_recipes::store::postgres::DEFAULT_MAX_CONNECTIONS,
            signing_key_rotation: Duration::from_secs(7 * 24 * 3600),
            website_domain: "http://localhost:3000".to_owned(),
            api_domain: "http://localhost:3001".to_owned(),
            contact_method: ContactMethod::EmailOrPhone,
            email_verification: EmailVerificationMode::Off,
            flow_type: FlowType::UserInputCodeAndMagicLink,
            delivery: DeliverySettings::Log,
            code_lifetime: Duration::from_millis(900_000),
            live_codes_per_device: 3,
            prune_interval: Duration::from_secs(600),
            access_token_lifetime: Duration::from_secs(3600),
            session_check_ttl: authgen_recipes::config::DEFAULT_SESSION_CHECK_TTL,
            third_party_providers: Vec::new(),
            tenants: Vec::new(),
            framework: Framework::Axum,
            limits: ConnectionLimits::default(),
            trusted_proxies: auth_api::runtime::TrustedProxies::default(),
            rate_limits: RateLimits::RECOMMENDED,
            redis: None,
            redis_prefix: DEFAULT_REDIS_PREFIX.to_owned(),
        }
    }
}

/// The default of [`Settings::redis_prefix`].
pub const DEFAULT_REDIS_PREFIX: &str = "authgen:ratelimit:";

impl Settings {
    /// The recipe configuration these settings describe.
    pub fn recipe_config(&self) -> Result<Config, ConfigError> {
        let config = Config::new(&self.website_domain, &self.api_domain)?
            .with_contact_method(self.contact_method)
            .with_flow_type(self.flow_type)
            .with_email_verification(self.email_verification)
            .with_code_lifetime(self.code_lifetime)
            .with_live_codes_per_device(self.live_codes_per_device)
            .with_prune_interval(self.prune_interval)
            .with_access_token_lifetime(self.access_token_lifetime)
            .with_session_check_ttl(self.session_check_ttl)
            .with_trusted_proxies(self.trusted_proxies.clone())
            .with_rate_limits(self.rate_limits)
            .with_signing_key_rotation_interval(self.signing_key_rotation);
        let config = match &self.redis {
            Some(url) => {
                config.with_rate_limit_redis(RedisCounters { url: url.clone(), prefix: self.redis_prefix.clone() })
            }
            None => config,
        };
        let config = self.third_party_providers.iter().cloned().fold(config, Config::with_third_party_provider);
        let config = self.tenants.iter().cloned().fold(config, Config::with_tenant);
        config.validate()?;
        if config.cookie_same_site() == authgen_recipes::SameSite::None {
            tracing::warn!(
                website_domain = %config.website_domain,
                api_domain = %config.api_domain,
                "the website and the API are on different sites: session cookies are third-party cookies there, \
                 which browsers increasingly block; header-based sessions (the SDK's tokenTransferMethod \"header\") \
                 keep working, or serve the API from the website's site"
            );
        }
        Ok(config)
    }

    /// The configured third-party provider ids, comma-separated (`none` without any), for logs.
    pub fn third_party_provider_ids(&self) -> String {
        let ids: Vec<&str> = self.third_party_providers.iter().map(|p| p.id.as_str()).collect();
        if ids.is_empty() { "none".to_owned() } else { ids.join(",") }
    }

    /// The database URL without its password, for logs.
    pub fn database_for_log(&self) -> String {
        match url::Url::parse(&self.database) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("***"));
                url.to_string()
            }
            _ => self.database.clone(),
        }
    }

    /// The delivery these settings describe.
    pub fn delivery(&self) -> Result<Arc<dyn Delivery>, DeliveryError> {
        Ok(match &self.delivery {
            DeliverySettings::Log => Arc::new(LogDelivery),
            DeliverySettings::Smtp { host, port, from } => Arc::new(SplitDelivery {
                email: Arc::new(SmtpDelivery::unencrypted(host, *port, from)?),
                sms: Arc::new(LogDelivery),
            }),
        })
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated, or its URL names no supported backend.
    #[error("database: {0}")]
    Store(#[from] AnyStoreError),
    /// The recipes could not start.
    #[error("recipes: {0}")]
    Init(#[from] InitError),
    /// The CORS policy is invalid.
    #[error("cors: {0}")]
    Cors(#[from] CorsError),
    /// The delivery could not be set up.
    #[error("delivery: {0}")]
    Delivery(#[from] DeliveryError),
    /// A third-party providers file could not be read or parsed.
    #[error("third-party providers: {0}")]
    Providers(#[from] ProviderConfigError),
    /// A tenants file could not be parsed, or a tenant in it is misconfigured.
    #[error("tenants: {0}")]
    Tenants(#[from] TenantsFileError),
    /// Binding or serving failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Reads a third-party providers file: TOML with one `[[provider]]` table per provider (see the README).
pub fn load_providers_file(path: &std::path::Path) -> Result<Vec<ProviderConfig>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display())))?;
    Ok(parse_providers_toml(&text, &path.display().to_string())?)
}

/// Reads a tenants file: TOML with one `[[tenant]]` table per tenant besides `public`, each with its own
/// `[[tenant.provider]]` tables (see the README). `defaults` are the server's contact method and flow type,
/// which a tenant keeps unless it sets its own.
pub fn load_tenants_file(
    path: &std::path::Path,
    defaults: (ContactMethod, FlowType),
) -> Result<Vec<TenantConfig>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display())))?;
    Ok(parse_tenants_toml(&text, &path.display().to_string(), defaults)?)
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        Self::Store(error.into())
    }
}

/// Opens the store named by a database URL: `sqlite://PATH` or `postgres://…` (with the default pool size).
pub async fn open_store(database: &str) -> Result<AnyStore, Error> {
    open_store_with(database, authgen_recipes::store::postgres::DEFAULT_MAX_CONNECTIONS).await
}

/// Opens the store named by a database URL, with at most `max_connections` PostgreSQL connections.
pub async fn open_store_with(database: &str, max_connections: u32) -> Result<AnyStore, Error> {
    Ok(AnyStore::open(database, max_connections).await?)
}

/// The whole application for `settings`.
pub async fn app(settings: &Settings) -> Result<axum::Router, Error> {
    let config = settings.recipe_config()?;
    let delivery = settings.delivery()?;
    let store = open_store_with(&settings.database, settings.database_max_connections).await?;
    app_with(config, store, delivery).await
}

/// The application over an already opened store and a chosen delivery: the generated FDI routes under
/// `/auth`, the example `GET /sessioninfo`, and CORS for the website domain with credentials.
pub async fn app_with<S: Store>(config: Config, store: S, delivery: Arc<dyn Delivery>) -> Result<axum::Router, Error> {
    let cors = CorsConfig::new([config.website_domain.clone()]).axum_layer()?;
    let recipes = AuthRecipes::new(config, store, delivery).await?;
    let verifier = recipes.session_verifier();
    let app = axum::Router::new()
        .route("/sessioninfo", get(session_info))
        .route("/{tenant_id}/sessioninfo", get(tenant_session_info))
        .merge(recipes.into_router())
        .layer(axum::Extension(verifier))
        .layer(cors);
    Ok(match metrics::installed() {
        Some(metrics) => app.layer(axum::middleware::from_fn_with_state(metrics, metrics::track_axum)),
        None => app,
    })
}

/// The example protected route: who is signed in, and the access token payload.
async fn session_info(session: VerifySession) -> Json<serde_json::Value> {
    Json(session_info_body(&session))
}

/// The example protected route of a tenant: as `/sessioninfo`, for a session of that tenant only.
async fn tenant_session_info(
    axum::extract::Path(tenant_id): axum::extract::Path<String>,
    session: VerifySession,
) -> Result<Json<serde_json::Value>, SessionRejection> {
    Ok(Json(session_info_body(&session.for_tenant(&tenant_id)?)))
}

fn session_info_body(session: &VerifySession) -> serde_json::Value {
    serde_json::json!({
        "userId": session.user_id,
        "accessTokenPayload": session.access_token_payload,
    })
}

/// The same application on actix-web, serving on `listener` with the default [`ConnectionLimits`]; see
/// [`actix_server_with_limits`].
pub async fn actix_server_with<S: Store>(
    config: Config,
    store: S,
    delivery: Arc<dyn Delivery>,
    listener: std::net::TcpListener,
) -> Result<actix_web::dev::Server, Error> {
    actix_server_with_limits(config, store, delivery, listener, &ConnectionLimits::default()).await
}

/// The same application on actix-web, serving on `listener`: the generated FDI routes under `/auth`, the
/// example `GET /sessioninfo` and CORS for the website domain with credentials, within `limits`. Run the
/// returned server (it stops gracefully on SIGINT and SIGTERM, or through its handle) inside an actix-web
/// system.
pub async fn actix_server_with_limits<S: Store>(
    config: Config,
    store: S,
    delivery: Arc<dyn Delivery>,
    listener: std::net::TcpListener,
    limits: &ConnectionLimits,
) -> Result<actix_web::dev::Server, Error> {
    let cors = CorsConfig::new([config.website_domain.clone()]);
    cors.validate()?;
    let recipes = AuthRecipes::new(config, store, delivery).await?;
    let verifier = recipes.session_verifier();
    let routes = recipes.into_actix_config();
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let app_limits = limits.clone();
    let metrics = metrics::installed();
    let server = actix_web::HttpServer::new(move || {
        let limits = app_limits.clone();
        let metrics = metrics.clone();
        actix_web::App::new()
            .wrap(cors.actix_cors().expect("the CORS configuration was validated above"))
            .wrap(actix_web::middleware::from_fn(move |request, next| {
                actix_limits::request(limits.clone(), request, next)
            }))
            // Outermost: it times what the other middleware adds, and counts what CORS answers itself.
            .wrap(actix_web::middleware::from_fn(move |request, next| {
                metrics::track_actix(metrics.clone(), request, next)
            }))
            .app_data(verifier.clone())
            .route("/sessioninfo", actix_web::web::get().to(session_info_actix))
            .route("/{tenant_id}/sessioninfo", actix_web::web::get().to(tenant_session_info_actix))
            .configure(routes.clone())
    })
    .workers(workers)
    .max_connections((limits.max_connections / workers).max(1))
    .keep_alive(limits.keep_alive);
    // actix-web's own head timeout covers only a connection's first request: the watch replaces it (and
    // closes silently, like the axum server). Elsewhere the head timeout stands in for the watch.
    #[cfg(unix)]
    let server =
        server.client_request_timeout(std::time::Duration::ZERO).on_connect(actix_limits::watcher(limits.clone()));
    #[cfg(not(unix))]
    let server = server.client_request_timeout(limits.header_read_timeout);
    let server = server.listen(listener)?.run();
    // On this system's arbiter, which lives as long as the server.
    actix_web::rt::spawn(limits::release_memory_after_bursts());
    Ok(server)
}

/// The actix-web glue of the [`ConnectionLimits`].
mod actix_limits {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use actix_web::HttpMessage as _;
    use actix_web::body::{BoxBody, MessageBody};
    use actix_web::dev::{ServiceRequest, ServiceResponse};
    use actix_web::middleware::Next;

    use super::{BodyDeadline, ConnectionLimits, ConnectionWatch};

    /// Kept in a connection's data for as long as actix-web serves it; closes the watch when dropped.
    struct Watched(Arc<ConnectionWatch>);

    impl Drop for Watched {
        fn drop(&mut self) {
            self.0.close();
        }
    }

    /// The `on_connect` hook that watches every connection: one that misses its deadline is shut down under
    /// actix-web, which then reads the end of the stream and drops it.
    #[cfg(unix)]
    pub(super) fn watcher(
        limits: ConnectionLimits,
    ) -> impl Fn(&dyn std::any::Any, &mut actix_web::dev::Extensions) + Send + Sync + 'static {
        use std::os::fd::AsFd as _;
        move |connection, data| {
            let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() else { return };
            // A second descriptor of the socket, owned by the watch task, so that it never shuts down a
            // descriptor number that actix-web has closed and the system has handed to another connection.
            let socket = match stream.as_fd().try_clone_to_owned() {
                Ok(fd) => std::net::TcpStream::from(fd),
                Err(error) => {
                    tracing::warn!(%error, "connection not watched: cannot duplicate its socket");
                    return;
                }
            };
            let watch = ConnectionWatch::new(&limits);
            data.insert(Watched(watch.clone()));
            actix_web::rt::spawn(async move {
                if watch.expired().await {
                    tracing::debug!("closing a connection without a complete request in time");
                    let _ = socket.shutdown(std::net::Shutdown::Both);
                }
            });
        }
    }

    /// Reports the request to its connection's watch and gives its body the body-read deadline.
    pub(super) async fn request(
        limits: ConnectionLimits,
        mut request: ServiceRequest,
        next: Next<impl MessageBody + 'static>,
    ) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
        let _in_flight = request.conn_data::<Watched>().map(|watched| watched.0.request());
        let timed_out = Arc::new(AtomicBool::new(false));
        let payload = BodyDeadline::new(request.take_payload(), limits.body_read_timeout, timed_out.clone());
        request.set_payload(actix_web::dev::Payload::Stream { payload: Box::pin(payload) });
        let response = next.call(request).await?;
        if !timed_out.load(Ordering::Relaxed) {
            return Ok(response.map_into_boxed_body());
        }
        let raw = limits.body_timeout_response();
        let mut answer = actix_web::HttpResponse::build(
            actix_web::http::StatusCode::from_u16(raw.status).unwrap_or(actix_web::http::StatusCode::REQUEST_TIMEOUT),
        );
        for (name, value) in &raw.headers {
            answer.insert_header((name.as_str(), value.as_str()));
        }
        // The rest of the body may still be on its way: the connection cannot carry another request.
        answer.force_close();
        Ok(response.into_response(answer.body(raw.body)))
    }
}

async fn session_info_actix(session: VerifySession) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(session_info_body(&session))
}

async fn tenant_session_info_actix(
    tenant_id: actix_web::web::Path<String>,
    session: VerifySession,
) -> Result<actix_web::HttpResponse, SessionRejection> {
    Ok(actix_web::HttpResponse::Ok().json(session_info_body(&session.for_tenant(&tenant_id)?)))
}

/// Serves `app` on `listener` with the default [`ConnectionLimits`] until `shutdown` completes; see
/// [`serve_with`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    serve_with(listener, app, &ConnectionLimits::default(), shutdown).await
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then stops accepting, lets the
/// requests in flight finish and closes every connection.
pub async fn serve_with(
    mut listener: tokio::net::TcpListener,
    app: axum::Router,
    limits: &ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let slots = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX);
    let permits = Arc::new(tokio::sync::Semaphore::new(slots as usize));
    let (stop, stopping) = tokio::sync::watch::channel(());
    let trimming = tokio::spawn(limits::release_memory_after_bursts());
    tokio::pin!(shutdown);
    loop {
        // Beyond the cap, clients wait in the listen queue until a connection closes.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permit else { break };
        let stream = tokio::select! {
            // axum's accept retries, and waits out a lack of file descriptors.
            accepted = axum::serve::Listener::accept(&mut listener) => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = stream;
        let connection = serve_connection(stream, peer, app.clone(), limits.clone(), stopping.clone());
        tokio::spawn(async move {
            connection.await;
            drop(permit);
        });
    }
    drop(listener);
    stop.send_replace(());
    // Every connection holds a permit until it ends.
    let _ = permits.acquire_many(slots).await;
    trimming.abort();
    Ok(())
}

/// One HTTP/1 connection of [`serve_with`]: closed when its watch expires, drained on shutdown.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: axum::Router,
    limits: ConnectionLimits,
    mut stopping: tokio::sync::watch::Receiver<()>,
) {
    use tower::ServiceExt as _;
    let watch = ConnectionWatch::new(&limits);
    let service = {
        let watch = watch.clone();
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let in_flight = watch.request();
            let timed_out = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let deadline = limits.body_read_timeout;
            let mut request =
                request.map(|body| axum::body::Body::new(BodyDeadline::new(body, deadline, timed_out.clone())));
            // The peer, for the request's context (and axum's `ConnectInfo` extractor).
            request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            let app = app.clone();
            let limits = limits.clone();
            async move {
                let response = match app.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                drop(in_flight);
                if !timed_out.load(std::sync::atomic::Ordering::Relaxed) {
                    return Ok::<_, std::convert::Infallible>(response);
                }
                Ok(body_timeout_answer(&limits))
            }
        })
    };
    let connection = hyper::server::conn::http1::Builder::new()
        .max_header_size(limits::MAX_HEAD_BYTES)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(connection);
    let mut draining = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            _ = watch.expired() => {
                tracing::debug!("closing a connection without a complete request in time");
                return;
            }
            _ = stopping.changed(), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// The 408 of [`ConnectionLimits::body_timeout_response`] as an axum response that closes the connection.
fn body_timeout_answer(limits: &ConnectionLimits) -> axum::response::Response {
    let raw = limits.body_timeout_response();
    let mut answer = axum::response::Response::new(axum::body::Body::from(raw.body));
    *answer.status_mut() =
        axum::http::StatusCode::from_u16(raw.status).unwrap_or(axum::http::StatusCode::REQUEST_TIMEOUT);
    for (name, value) in &raw.headers {
        if let (Ok(name), Ok(value)) =
            (axum::http::HeaderName::try_from(name.as_str()), axum::http::HeaderValue::try_from(value.as_str()))
        {
            answer.headers_mut().insert(name, value);
        }
    }
    // The rest of the body may still be on its way: the connection cannot carry another request.
    answer.headers_mut().insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    answer
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
