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
use authgen_recipes::store::StoreError;
use authgen_recipes::store::sqlite::SqliteStore;
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

/// Everything the server is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The database URL: `sqlite://PATH`.
    pub database: String,
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
    /// Access token lifetime.
    pub access_token_lifetime: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3001)),
            database: "sqlite://auth.db".to_owned(),
            website_domain: "http://localhost:3000".to_owned(),
            api_domain: "http://localhost:3001".to_owned(),
            contact_method: ContactMethod::EmailOrPhone,
            flow_type: FlowType::UserInputCodeAndMagicLink,
            delivery: DeliverySettings::Log,
            code_lifetime: Duration::from_millis(900_000),
            access_token_lifetime: Duration::from_secs(3600),
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
            .with_access_token_lifetime(self.access_token_lifetime);
        config.validate()?;
        Ok(config)
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
    /// The database URL names a backend without a store yet.
    #[error("database `{0}` is not supported yet: only sqlite://PATH is (a PostgreSQL store is planned)")]
    UnsupportedDatabase(String),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The recipes could not start.
    #[error("recipes: {0}")]
    Init(#[from] InitError),
    /// The CORS policy is invalid.
    #[error("cors: {0}")]
    Cors(#[from] CorsError),
    /// The delivery could not be set up.
    #[error("delivery: {0}")]
    Delivery(#[from] DeliveryError),
    /// Binding or serving failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Opens the store named by a database URL.
pub async fn open_store(database: &str) -> Result<SqliteStore, Error> {
    if database.starts_with("sqlite:") {
        Ok(SqliteStore::open_url(database).await?)
    } else {
        let scheme = database.split_once("://").map_or(database, |(scheme, _)| scheme);
        Err(Error::UnsupportedDatabase(format!("{scheme}://…")))
    }
}

/// The whole application for `settings`.
pub async fn app(settings: &Settings) -> Result<axum::Router, Error> {
    let config = settings.recipe_config()?;
    let delivery = settings.delivery()?;
    let store = open_store(&settings.database).await?;
    app_with(config, store, delivery).await
}

/// The application over an already opened store and a chosen delivery: the generated FDI routes under
/// `/auth`, the example `GET /sessioninfo`, and CORS for the website domain with credentials.
pub async fn app_with(config: Config, store: SqliteStore, delivery: Arc<dyn Delivery>) -> Result<axum::Router, Error> {
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
    Json(serde_json::json!({
        "userId": session.user_id,
        "accessTokenPayload": session.access_token_payload,
    }))
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
