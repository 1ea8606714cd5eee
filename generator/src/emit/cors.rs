//! Emits `cors.rs`: the CORS policy derived from the spec, checked at run time and turned into framework
//! layers.

use proc_macro2::TokenStream;
use quote::quote;

use super::{EmitCtx, doc_attrs};
use crate::settings::Framework;

/// Emits the constants, `CorsConfig` and the framework layers.
pub fn emit_cors(ctx: EmitCtx<'_>) -> TokenStream {
    let cors = &ctx.api.cors;
    let allowed = &cors.allowed_headers;
    let exposed = &cors.exposed_headers;
    let methods = &cors.allowed_methods;
    let allowed_doc = doc_attrs(&format!(
        "Request headers a browser may send: `content-type`, every header parameter and the headers the \
         security schemes use.\n\nFor this spec: {}.",
        allowed.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ")
    ));
    let exposed_doc = doc_attrs(&format!(
        "Response headers a page may read: every response header of the spec except `set-cookie` and the \
         `access-control-*` headers, which browsers never expose, and the CORS-safelisted ones \
         (`cache-control`, `content-type`, ...), which they always do.\n\nFor this spec: {}.",
        if exposed.is_empty() {
            "none".to_owned()
        } else {
            exposed.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ")
        }
    ));
    let axum_gate = ctx.gate("axum");
    let actix_gate = ctx.gate("actix-web");
    let axum_layer = ctx.settings.frameworks().contains(&Framework::Axum).then(|| {
        quote! {
            /// A `tower_http` CORS layer for the axum router. Fails like [`CorsConfig::validate`].
            #axum_gate
            pub fn axum_layer(&self) -> ::std::result::Result<::tower_http::cors::CorsLayer, CorsError> {
                use ::tower_http::cors::{AllowOrigin, CorsLayer};
                self.validate()?;
                let origin = if self.allowed_origins.iter().any(|o| o == "*") {
                    AllowOrigin::any()
                } else {
                    let values = self
                        .allowed_origins
                        .iter()
                        .map(|o| ::http::HeaderValue::from_str(o).map_err(|_| CorsError::InvalidOrigin(o.clone())))
                        .collect::<::std::result::Result<::std::vec::Vec<_>, _>>()?;
                    AllowOrigin::list(values)
                };
                let headers: ::std::vec::Vec<::http::HeaderName> =
                    ALLOWED_HEADERS.iter().map(|h| ::http::HeaderName::from_static(h)).collect();
                let exposed: ::std::vec::Vec<::http::HeaderName> =
                    EXPOSED_HEADERS.iter().map(|h| ::http::HeaderName::from_static(h)).collect();
                let methods: ::std::vec::Vec<::http::Method> = ALLOWED_METHODS
                    .iter()
                    .filter_map(|m| ::http::Method::from_bytes(m.as_bytes()).ok())
                    .collect();
                let mut layer = CorsLayer::new()
                    .allow_origin(origin)
                    .allow_headers(headers)
                    .expose_headers(exposed)
                    .allow_methods(methods)
                    .allow_credentials(self.allow_credentials);
                if let ::std::option::Option::Some(secs) = self.max_age_secs {
                    layer = layer.max_age(::std::time::Duration::from_secs(secs));
                }
                ::std::result::Result::Ok(layer)
            }
        }
    });
    let actix_cors = ctx.settings.frameworks().contains(&Framework::ActixWeb).then(|| {
        quote! {
            /// An `actix_cors::Cors` middleware with the same policy. Fails like [`CorsConfig::validate`].
            #actix_gate
            pub fn actix_cors(&self) -> ::std::result::Result<::actix_cors::Cors, CorsError> {
                self.validate()?;
                let mut cors = ::actix_cors::Cors::default()
                    .allowed_methods(ALLOWED_METHODS.iter().copied())
                    .allowed_headers(ALLOWED_HEADERS.iter().copied())
                    .expose_headers(EXPOSED_HEADERS.iter().copied());
                for origin in &self.allowed_origins {
                    cors = if origin == "*" { cors.allow_any_origin() } else { cors.allowed_origin(origin) };
                }
                if self.allow_credentials {
                    cors = cors.supports_credentials();
                }
                cors = cors.max_age(self.max_age_secs.map(|s| usize::try_from(s).unwrap_or(usize::MAX)));
                ::std::result::Result::Ok(cors)
            }
        }
    });
    quote! {
        //! The CORS policy derived from the spec. Which headers and methods are allowed comes from the spec;
        //! which origins, and whether credentials are allowed, is given at run time. A wildcard origin with
        //! credentials is refused, never reflected.

        #allowed_doc
        pub const ALLOWED_HEADERS: &[&str] = &[#(#allowed),*];

        #exposed_doc
        pub const EXPOSED_HEADERS: &[&str] = &[#(#exposed),*];

        /// The methods the spec uses.
        pub const ALLOWED_METHODS: &[&str] = &[#(#methods),*];

        /// Run-time CORS settings: the origins (e.g. the website domain) and credentials.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct CorsConfig {
            /// Exact origins such as `http://localhost:3000`, or `*` (only without credentials).
            pub allowed_origins: ::std::vec::Vec<::std::string::String>,
            /// Send `Access-Control-Allow-Credentials: true` (cookies). Default: true.
            pub allow_credentials: bool,
            /// How long a browser may cache a preflight, in seconds.
            pub max_age_secs: ::std::option::Option<u64>,
        }

        /// Why a CORS configuration was refused.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum CorsError {
            /// `*` together with credentials: browsers reject it, and reflecting any origin instead would let
            /// every site make credentialed calls.
            WildcardWithCredentials,
            /// No origin was given.
            NoOrigins,
            /// An origin that is not `scheme://host[:port]`.
            InvalidOrigin(::std::string::String),
        }

        impl ::std::fmt::Display for CorsError {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    CorsError::WildcardWithCredentials => f.write_str(
                        "a wildcard origin `*` cannot be combined with credentials; list the allowed origins explicitly",
                    ),
                    CorsError::NoOrigins => f.write_str("no allowed origin given; add the website domain, e.g. http://localhost:3000"),
                    CorsError::InvalidOrigin(o) => write!(
                        f,
                        "invalid origin `{o}`: expected `scheme://host[:port]` without path or trailing slash"
                    ),
                }
            }
        }

        impl ::std::error::Error for CorsError {}

        impl CorsConfig {
            /// Credentialed CORS for `origins`.
            pub fn new<I, S>(origins: I) -> Self
            where
                I: ::std::iter::IntoIterator<Item = S>,
                S: ::std::convert::Into<::std::string::String>,
            {
                Self {
                    allowed_origins: origins.into_iter().map(::std::convert::Into::into).collect(),
                    allow_credentials: true,
                    max_age_secs: ::std::option::Option::None,
                }
            }

            /// Sets whether credentials are allowed.
            pub fn with_credentials(mut self, allow: bool) -> Self {
                self.allow_credentials = allow;
                self
            }

            /// Sets the preflight cache time.
            pub fn with_max_age_secs(mut self, secs: u64) -> Self {
                self.max_age_secs = ::std::option::Option::Some(secs);
                self
            }

            /// Checks the configuration: at least one origin, each `scheme://host[:port]`, and no `*` with
            /// credentials.
            pub fn validate(&self) -> ::std::result::Result<(), CorsError> {
                if self.allowed_origins.is_empty() {
                    return ::std::result::Result::Err(CorsError::NoOrigins);
                }
                for origin in &self.allowed_origins {
                    if origin == "*" {
                        if self.allow_credentials {
                            return ::std::result::Result::Err(CorsError::WildcardWithCredentials);
                        }
                        continue;
                    }
                    let valid = origin
                        .split_once("://")
                        .is_some_and(|(scheme, rest)| {
                            !scheme.is_empty()
                                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
                                && !rest.is_empty()
                                && !rest.contains(['/', '?', '#', '*', ' '])
                        });
                    if !valid {
                        return ::std::result::Result::Err(CorsError::InvalidOrigin(origin.clone()));
                    }
                }
                ::std::result::Result::Ok(())
            }

            /// True when `origin` is allowed.
            pub fn allows_origin(&self, origin: &str) -> bool {
                self.allowed_origins.iter().any(|o| o == "*" || o == origin)
            }

            #axum_layer

            #actix_cors
        }
    }
}
