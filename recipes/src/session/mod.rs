//! Sessions: signed JWT access tokens ([`tokens`]), opaque refresh tokens rotated on every refresh, the
//! cookies and headers that carry them ([`transport`]), and the [`VerifySession`] extractor that protects
//! the application's own routes.

pub mod tokens;
pub mod transport;
mod verify;

pub use verify::{AccessTokenSources, SessionRejection, SessionVerifier, VerifySession};
