//! Emits `server/axum.rs`: an axum `Router` serving any implementation of the server trait.

use proc_macro2::TokenStream;
use quote::quote;

use super::super::{EmitCtx, ident};

/// Emits `router` and `router_with` for axum 0.8.
pub fn emit_axum_router(ctx: EmitCtx<'_>) -> TokenStream {
    let api = ctx.api;
    let trait_name = ident(&api.trait_name);
    // One route per path, with every method of that path, in spec order, and the shared 405 for the rest.
    let routes = super::routes_by_path(api).into_iter().map(|(path, ops, allow)| {
        let mut chain = quote!(::axum::routing::MethodRouter::new());
        for op in ops {
            let filter = ident(&op.method);
            let variant = ident(&op.type_name);
            chain = quote!(endpoint(#chain, ::axum::routing::MethodFilter::#filter, &api, super::Operation::#variant, limit));
        }
        quote! { .route(#path, not_allowed(#chain, #allow)) }
    });
    quote! {
        //! The axum adapter: `router(api)` serves an implementation of the trait.

        use std::sync::Arc;

        use super::#trait_name;

        /// Options of the axum router.
        #[derive(Debug, Clone)]
        pub struct RouterOptions {
            /// Requests with a larger body get 413 with a JSON message. Default: 1 MiB.
            pub body_limit: usize,
        }

        impl Default for RouterOptions {
            fn default() -> Self {
                Self { body_limit: crate::runtime::DEFAULT_BODY_LIMIT }
            }
        }

        /// A router serving every operation with `api`, with default options. Add CORS with
        /// [`crate::cors::CorsConfig::axum_layer`].
        pub fn router<T: #trait_name>(api: T) -> ::axum::Router {
            router_with(Arc::new(api), RouterOptions::default())
        }

        /// A router serving every operation with a shared `api`.
        pub fn router_with<T: #trait_name>(api: Arc<T>, options: RouterOptions) -> ::axum::Router {
            let limit = options.body_limit;
            ::axum::Router::new()
                #(#routes)*
        }

        /// `router` serving `operation` for `filter` as well.
        fn endpoint<T: #trait_name>(
            router: ::axum::routing::MethodRouter,
            filter: ::axum::routing::MethodFilter,
            api: &Arc<T>,
            operation: super::Operation,
            limit: usize,
        ) -> ::axum::routing::MethodRouter {
            let api = api.clone();
            router.on(filter, move |request: ::axum::extract::Request| handle(api, operation, request, limit))
        }

        /// `router` answering the methods its path does not declare with the shared 405 (`allow` lists those
        /// it does).
        fn not_allowed(router: ::axum::routing::MethodRouter, allow: &'static str) -> ::axum::routing::MethodRouter {
            router.fallback(move || async move {
                crate::runtime::axum_glue::from_raw(crate::runtime::method_not_allowed(allow))
            })
        }

        async fn handle<T: #trait_name>(
            api: Arc<T>,
            operation: super::Operation,
            request: ::axum::extract::Request,
            limit: usize,
        ) -> ::axum::response::Response {
            let raw = match crate::runtime::axum_glue::Incoming::read(request, limit).await {
                ::std::result::Result::Ok(incoming) => {
                    let view = incoming.view();
                    crate::runtime::scope_axum(incoming.parts.clone(), super::dispatch_view(&*api, operation, &view)).await
                }
                ::std::result::Result::Err(error) => error.into_raw(),
            };
            crate::runtime::axum_glue::from_raw(raw)
        }
    }
}
