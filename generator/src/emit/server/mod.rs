//! Emits `server/mod.rs`: the framework-neutral server trait, the operation list and `dispatch`, which every
//! framework adapter calls.
//!
//! # Adding a framework
//!
//! An adapter sees only the IR (through [`EmitCtx`]) and the runtime's raw types. To add one:
//! 1. add a variant to [`Framework`] (its `name()` is the CLI value and the cargo feature) and to the CLI's
//!    `FrameworkArg`;
//! 2. write `emit/server/<framework>.rs` with one `emit_*` function: routes from `api.operations` (method and
//!    path), each handler lending the framework's request as a `RequestView`, calling `dispatch_view`, and writing
//!    the `RawResponse` back (the conversions go in `runtime/<framework>_glue.rs`, declared in `runtime/mod.rs`
//!    inside an `authgen:if <framework>` region and behind the feature, and listed in `emit/runtime.rs`);
//! 3. list its dependencies in `templates/crate/Cargo.toml` behind the feature, and a CORS builder in
//!    `emit/cors.rs` from `api.cors`;
//! 4. add the framework to the parameterised round-trip and malformed-request tests in `tests/`.
//!
//! Parsing, validation and encoding are not per framework: they live in the generated `ops` module, so every
//! adapter answers the same input with the same bytes.

pub mod actix;
pub mod axum;

use proc_macro2::TokenStream;
use quote::quote;

use super::ops::op_doc;
use super::{EmitCtx, doc_attrs, ident};
use crate::settings::Framework;

/// The operations grouped by path, paths and methods in spec order, with the `Allow` value a 405 on that path
/// answers: the declared methods, and `HEAD` wherever `GET` is declared (both adapters serve it). Every
/// adapter registers one route per path from this, so all of them answer an undeclared method alike.
///
/// The paths with an optional segment (`/auth/{tenantId}/signinup`) come after every path as written, so that a
/// router matching in order (actix-web) prefers an exact route, as one preferring literal segments (axum) does.
pub(crate) fn routes_by_path(api: &crate::ir::Api) -> Vec<(String, Vec<&crate::ir::Operation>, String)> {
    let mut paths: Vec<(String, Vec<&crate::ir::Operation>)> = Vec::new();
    let written = api.operations.iter().map(|op| (op.path.clone(), op));
    let with_segment = api.operations.iter().filter_map(|op| Some((op.segment_path()?, op)));
    for (path, op) in written.chain(with_segment) {
        match paths.iter_mut().find(|(p, _)| *p == path) {
            Some((_, ops)) => ops.push(op),
            None => paths.push((path, vec![op])),
        }
    }
    paths
        .into_iter()
        .map(|(path, ops)| {
            let mut allow: Vec<&str> = ops.iter().map(|op| op.method.as_str()).collect();
            if allow.contains(&"GET") && !allow.contains(&"HEAD") {
                allow.push("HEAD");
            }
            let allow = allow.join(", ");
            (path, ops, allow)
        })
        .collect()
}

/// Emits the trait, the `Operation` enum and `dispatch`.
pub fn emit_server_trait(ctx: EmitCtx<'_>) -> TokenStream {
    let api = ctx.api;
    let trait_name = ident(&api.trait_name);
    let methods = api.operations.iter().map(|op| {
        let name = ident(&op.rust_name);
        let m = ident(&op.rust_name);
        let doc = doc_attrs(&op_doc(op));
        let deprecated = if op.deprecated { quote!(#[deprecated]) } else { quote!() };
        quote! {
            #doc
            #deprecated
            fn #name(&self, request: crate::ops::#m::Request) -> impl ::std::future::Future<Output = crate::ops::#m::Response> + Send;
        }
    });
    let variants: Vec<_> = api.operations.iter().map(|op| ident(&op.type_name)).collect();
    let variant_docs =
        api.operations.iter().map(|op| doc_attrs(&format!("`{} {}` (`{}`).", op.method, op.path, op.api_id)));
    let modules: Vec<_> = api.operations.iter().map(|op| ident(&op.rust_name)).collect();
    // In a crate each adapter is a file behind its cargo feature; in the module layout it is inline.
    let adapters = ctx.settings.frameworks().iter().map(|f| {
        let (name, body) = match f {
            Framework::Axum => (ident("axum"), axum::emit_axum_router(ctx)),
            Framework::ActixWeb => (ident("actix"), actix::emit_actix_config(ctx)),
        };
        if ctx.settings.module_root().is_some() {
            quote! { pub mod #name { #body } }
        } else {
            let gate = ctx.gate(f.name());
            quote! { #gate pub mod #name; }
        }
    });
    let trait_doc = doc_attrs(&format!(
        "The server side of {}: one method per operation, independent of any web framework.\n\n\
         Implement it once; every generated adapter serves the same implementation. Each method receives the \
         parsed and validated request and returns the response enum of its operation; status codes, headers, \
         cookies and bodies are written by the adapter. A method that needs more than the spec's parameters (the \
         peer's address, other headers, extensions set by middleware) reads them with [`RequestContext::with`].",
        api.title
    ));
    let any_deprecated = api.operations.iter().any(|op| op.deprecated);
    let allow_deprecated = if any_deprecated {
        quote!(#[allow(deprecated, reason = "deprecated operations are still served")])
    } else {
        quote!()
    };
    let prose = super::spec_prose_allows();
    quote! {
        //! The framework-neutral server: the trait to implement and the dispatcher the adapters share.
        #prose

        #(#adapters)*

        pub use crate::runtime::{Cidr, ForwardedHeader, RequestContext, TrustedProxies};

        #trait_doc
        pub trait #trait_name: Send + Sync + 'static {
            #(#methods)*
        }

        /// Every operation of the API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            #( #variant_docs #variants, )*
        }

        impl Operation {
            /// Every operation, in spec order.
            pub const ALL: &'static [Operation] = &[#(Operation::#variants),*];

            /// The HTTP method.
            pub fn method(self) -> &'static str {
                match self {
                    #( Operation::#variants => crate::ops::#modules::METHOD, )*
                }
            }

            /// The path template.
            pub fn path(self) -> &'static str {
                match self {
                    #( Operation::#variants => crate::ops::#modules::PATH, )*
                }
            }

            /// The path template with the optional path segment in place (`x-authgen-optional-segment`), when
            /// the operation has one: the operation is served at both templates.
            pub fn segment_path(self) -> ::std::option::Option<&'static str> {
                match self {
                    #( Operation::#variants => crate::ops::#modules::SEGMENT_PATH, )*
                }
            }

            /// The operationId.
            pub fn operation_id(self) -> &'static str {
                match self {
                    #( Operation::#variants => crate::ops::#modules::OPERATION_ID, )*
                }
            }
        }

        /// Parses `raw` for `operation`, calls the implementation and encodes its answer. A request that does
        /// not parse is answered with 400, 413 or 415 and a JSON `{"message": ...}` body; the implementation
        /// is not called.
        pub async fn dispatch<T: #trait_name + ?Sized>(
            api: &T,
            operation: Operation,
            raw: crate::runtime::RawRequest,
        ) -> crate::runtime::RawResponse {
            dispatch_view(api, operation, &raw.view()).await
        }

        /// [`dispatch`] for a request lent by an adapter: the generated adapters parse the framework's request
        /// in place.
        #allow_deprecated
        pub async fn dispatch_view<T: #trait_name + ?Sized>(
            api: &T,
            operation: Operation,
            raw: &crate::runtime::RequestView<'_>,
        ) -> crate::runtime::RawResponse {
            match operation {
                #(
                    Operation::#variants => match crate::ops::#modules::Request::from_view(raw) {
                        ::std::result::Result::Ok(request) => api.#modules(request).await.into_raw(),
                        ::std::result::Result::Err(error) => error.into_raw(),
                    },
                )*
            }
        }
    }
}
