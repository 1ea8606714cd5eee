//! The reference authgen server, as a library so that tests can start it in-process: [`Settings`] (what the
//! command line configures), [`app`] (settings → axum router: recipes, generated routes, the example
//! `/sessioninfo` route and CORS) and [`serve`] (router → listening server with graceful shutdown).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_api::cors::{CorsConfig, CorsError};
use authgen_recipes::config::FlowType;
use authgen_recipes::delivery::{Delivery, DeliveryError, LogDelivery, SmtpDelivery, SplitDelivery};
use authgen_recipes::store::{AnyStore, AnyStoreError, Store, StoreError};
use authgen_recipes::thirdparty::{ProviderConfig, ProviderConfigError, parse_providers_toml};
use authgen_recipes::{AuthRecipes, Config, ConfigError, ContactMethod, InitError, VerifySession};
use axum::Json;
use axum::routing::get;

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
            flow_type: FlowType::UserInputCodeAndMagicLink,
            delivery: DeliverySettings::Log,
            code_lifetime: Duration::from_millis(900_000),
            live_codes_per_device: 3,
            prune_interval: Duration::from_secs(600),
            access_token_lifetime: Duration::from_secs(3600),
            session_check_ttl: authgen_recipes::config::DEFAULT_SESSION_CHECK_TTL,
            third_party_providers: Vec::new(),
            framework: Framework::Axum,
        }
    }
}

impl Settings {
    /// The recipe configuration these settings describe.
    pub fn recipe_config(&self) -> Result<Config, ConfigError> {
        let config = Config::new(&self.website_domain, &self.api_domain)?
            .with_contact_method(self.contact_method)
            .with_flow_type(self.flow_type)
            .with_code_lifetime(self.code_lifetime)
            .with_live_codes_per_device(self.live_codes_per_device)
            .with_prune_interval(self.prune_interval)
            .with_access_token_lifetime(self.access_token_lifetime)
            .with_session_check_ttl(self.session_check_ttl)
            .with_signing_key_rotation_interval(self.signing_key_rotation);
        let config = self.third_party_providers.iter().cloned().fold(config, Config::with_third_party_provider);
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
    Ok(axum::Router::new()
        .route("/sessioninfo", get(session_info))
        .merge(recipes.into_router())
        .layer(axum::Extension(verifier))
        .layer(cors))
}

/// The example protected route: who is signed in, and the access token payload.
async fn session_info(session: VerifySession) -> Json<serde_json::Value> {
    Json(session_info_body(&session))
}

fn session_info_body(session: &VerifySession) -> serde_json::Value {
    serde_json::json!({
        "userId": session.user_id,
        "accessTokenPayload": session.access_token_payload,
    })
}

/// The same application on actix-web, serving on `listener`: the generated FDI routes under `/auth`, the
/// example `GET /sessioninfo` and CORS for the website domain with credentials. Run the returned server
/// (it stops gracefully on SIGINT and SIGTERM, or through its handle) inside an actix-web system.
pub async fn actix_server_with<S: Store>(
    config: Config,
    store: S,
    delivery: Arc<dyn Delivery>,
    listener: std::net::TcpListener,
) -> Result<actix_web::dev::Server, Error> {
    let cors = CorsConfig::new([config.website_domain.clone()]);
    cors.validate()?;
    let recipes = AuthRecipes::new(config, store, delivery).await?;
    let verifier = recipes.session_verifier();
    let routes = recipes.into_actix_config();
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .wrap(cors.actix_cors().expect("the CORS configuration was validated above"))
            .app_data(verifier.clone())
            .route("/sessioninfo", actix_web::web::get().to(session_info_actix))
            .configure(routes.clone())
    })
    .listen(listener)?
    .run();
    Ok(server)
}

async fn session_info_actix(session: VerifySession) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(session_info_body(&session))
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    Ok(())
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
