//! Framework-neutral plumbing shared by every server adapter and by the client.
//!
//! Adapters lend the framework's request to the generated `ops` code as a [`RequestView`] (a [`RawRequest`]
//! lends itself the same way), which parses it into a typed request, the server trait answers with a typed
//! response, and that becomes a [`RawResponse`] the adapter writes back. The client runs the same conversions in the other direction, so both sides agree on the wire.
//! These files are the same for every spec. Everything the generated code uses is re-exported here, one file
//! per concern behind it.

mod body;
mod client_addr;
mod context;
mod error;
// authgen:if base64
mod formats;
// authgen:end
mod multipart;
mod params;
mod request;
mod response;
mod validate;

pub use body::{
    double_option, encode_form, encode_json, not_null, nullable, parse_form_body, parse_json_body, parse_json_body_with,
    parse_optional_json_body, parse_text_body,
};
pub use client_addr::{Cidr, ForwardedHeader, TrustedProxies};
pub use context::RequestContext;
pub use error::{ClientError, RequestError, UnknownVariant, error_response, method_not_allowed};
// authgen:if base64
pub use formats::Base64;
// authgen:end
pub use multipart::{FilePart, Multipart, MultipartWriter, Part, header_param, parse_multipart, required_part};
pub use params::{
    optional_segment, parse_formatted, parse_list, parse_object, parse_param, percent_encode, push_object, push_query,
    push_query_list, required, required_with,
};
pub use request::{DEFAULT_BODY_LIMIT, HeaderValues, ObjectStyle, RawRequest, RequestView};
pub use response::{RawResponse, decode_json, decode_text, required_response_header, response_header};
pub use validate::{
    Presence, Rule, Validate, check_email, check_items, check_length, check_range, check_uri, first_broken_rule,
    join_path, message_at, pattern_violation, validate_body, validate_param, validate_param_as,
};

// authgen:if axum
#[cfg(feature = "axum")]
pub(crate) mod axum_glue;
#[cfg(feature = "axum")]
pub(crate) use context::scope_axum;
// authgen:end

// authgen:if client
#[cfg(feature = "client")]
mod client_core;
#[cfg(feature = "client")]
pub use client_core::Client;
// authgen:end

// authgen:if actix-web
#[cfg(feature = "actix-web")]
pub(crate) mod actix_glue;
#[cfg(feature = "actix-web")]
pub(crate) use context::scope_actix;
// authgen:end
