//! Sessions: signed JWT access tokens ([`tokens`]) with keys shared and rotated through the store ([`keys`]), opaque refresh tokens rotated on every refresh, the
//! cookies and headers that carry them ([`transport`]), and the [`VerifySession`] extractor that protects
//! the application's own routes, refusing the tokens of sessions that were signed out or revoked (`live.rs`
//! asks the store, with a short cache).

pub mod keys;
mod live;
pub mod tokens;
pub mod transport;
mod verify;

#[cfg(feature = "actix-web")]
pub use verify::OptionalSession;
pub use verify::{AccessTokenSources, SessionRejection, SessionVerifier, VerifySession};
