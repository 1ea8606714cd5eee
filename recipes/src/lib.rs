//! Recipe logic for authgen: passwordless and third-party (OAuth2/OpenID Connect) sign-in/up and sessions, implemented once behind the generated
//! [`auth_api::AuthApi`] trait so that every generated framework adapter serves the same logic.
//!
//! - [`AuthRecipes`] implements the trait; build it with a [`Config`], a [`store::Store`]
//!   ([`store::sqlite::SqliteStore`] for one instance, [`store::postgres::PostgresStore`] for several sharing
//!   one database, or [`store::AnyStore`] chosen from a URL) and a [`delivery::Delivery`] (stderr log by
//!   default, SMTP with [`delivery::SmtpDelivery`]).
//! - [`thirdparty`] signs users in with Google, GitHub, Apple and the other built-in providers, or any
//!   OAuth2 or OpenID Connect provider: add them with [`Config::with_third_party_provider`].
//! - [`session::VerifySession`] protects your own axum routes with the sessions this crate issues.
//! - [`ids`] derives device ids, pre-auth session ids and link codes exactly as SuperTokens core does,
//!   so the values are interchangeable with SuperTokens'.
//!
//! Wire behaviour follows the SuperTokens Frontend Driver Interface as served by supertokens-node, so the
//! official frontend SDKs work unchanged.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use authgen_recipes::{AuthRecipes, Config, delivery::LogDelivery, store::sqlite::SqliteStore};
//!
//! let config = Config::new("http://localhost:3000", "http://localhost:3001")?;
//! let store = SqliteStore::open("auth.db").await?;
//! let recipes = AuthRecipes::new(config, store, Arc::new(LogDelivery)).await?;
//! let app = recipes.into_router();
//! # let _ = app; Ok(()) }
//! ```

mod api;
pub mod audit;
pub mod config;
pub mod contact;
pub mod delivery;
pub mod emailverification;
pub mod ids;
pub mod logsafe;
pub mod ratelimit;
mod schedule;
pub mod session;
pub mod store;
pub mod tenants;
pub mod thirdparty;

pub use api::{AuthRecipes, InitError};
pub use config::{AntiCsrf, Config, ConfigError, ContactMethod, SameSite};
pub use contact::Contact;
pub use emailverification::EmailVerificationMode;
#[cfg(feature = "actix-web")]
pub use session::OptionalSession;
pub use session::{SessionRejection, SessionVerifier, VerifySession};

/// The tenant of a request whose path has no tenant segment (`/auth/signinup` rather than
/// `/auth/<tenantId>/signinup`), and of the data stored before tenants.
pub const DEFAULT_TENANT: &str = "public";

/// Milliseconds since the Unix epoch, the unit SuperTokens uses on the wire and in its stores.
pub(crate) fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
