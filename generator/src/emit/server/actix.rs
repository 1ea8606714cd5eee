//! Emits `server/actix.rs`: an actix-web `ServiceConfig` function serving any implementation of the trait.

use proc_macro2::TokenStream;
use quote::quote;

use super::super::{EmitCtx, ident};

/// Emits `configure` and `configure_with` for actix-web 4.
pub fn emit_actix_config(ctx: EmitCtx<'_>) -> TokenStream {
    let api = ctx.api;
    let trait_name = ident(&api.trait_name);
    // One resource per path: a route per declared method (HEAD served by GET, as axum does; actix-web leaves
    // the body out of HEAD responses), and the shared 405 for the rest.
    let routes = super::routes_by_path(api).into_iter().map(|(path, ops, allow)| {
        let mut methods = Vec::new();
        for op in &ops {
            methods.push((ident(&op.method), ident(&op.type_name)));
            if op.method == "GET" && !ops.iter().any(|o| o.method == "HEAD") {
                methods.push((ident("HEAD"), ident(&op.type_name)));
            }
        }
        let method_routes = methods.iter().map(|(method, variant)| {
            quote! { .route(route(&api, ::actix_web::http::Method::#method, super::Operation::#variant, limit)) }
        });
        quote! {
            cfg.service(::actix_web::web::resource(#path) #(#method_routes)* .default_service(not_allowed(#allow)));
        }
    });
    quote! {
        //! The actix-web adapter: `App::new().configure(configure(api))` serves an implementation of the trait.

        use std::sync::Arc;

        use super::#trait_name;

        /// Options of the actix-web service configuration.
        #[derive(Debug, Clone)]
        pub struct ConfigureOptions {
            /// Requests with a larger body get 413 with a JSON message. Default: 1 MiB.
            pub body_limit: usize,
        }

        impl Default for ConfigureOptions {
            fn default() -> Self {
                Self { body_limit: crate::runtime::DEFAULT_BODY_LIMIT }
            }
        }

        /// A configuration function registering every operation, for `App::configure`. It can be called once
        /// per worker (`HttpServer::new(move || App::new().configure(configure(api.clone())))`). Add CORS with
        /// [`crate::cors::CorsConfig::actix_cors`].
        pub fn configure<T: #trait_name>(api: Arc<T>) -> impl Fn(&mut ::actix_web::web::ServiceConfig) + Clone {
            configure_with(api, ConfigureOptions::default())
        }

        /// Like [`configure`], with options.
        pub fn configure_with<T: #trait_name>(
            api: Arc<T>,
            options: ConfigureOptions,
        ) -> impl Fn(&mut ::actix_web::web::ServiceConfig) + Clone {
            move |cfg: &mut ::actix_web::web::ServiceConfig| {
                let limit = options.body_limit;
                #(#routes)*
            }
        }

        /// The route serving `operation` for `method`.
        fn route<T: #trait_name>(
            api: &Arc<T>,
            method: ::actix_web::http::Method,
            operation: super::Operation,
            limit: usize,
        ) -> ::actix_web::Route {
            let api = api.clone();
            ::actix_web::web::method(method).to(
                move |request: ::actix_web::HttpRequest, payload: ::actix_web::web::Payload| {
                    handle(api.clone(), operation, request, payload, limit)
                },
            )
        }

        /// The 405 of a path for the methods it does not declare (`allow` lists those it does).
        fn not_allowed(allow: &'static str) -> ::actix_web::Route {
            ::actix_web::web::to(move || async move {
                crate::runtime::actix_glue::from_raw(crate::runtime::method_not_allowed(allow))
            })
        }

        async fn handle<T: #trait_name>(
            api: Arc<T>,
            operation: super::Operation,
            request: ::actix_web::HttpRequest,
            payload: ::actix_web::web::Payload,
            limit: usize,
        ) -> ::actix_web::HttpResponse {
            let raw = match crate::runtime::actix_glue::read_body(&request, payload, limit).await {
                ::std::result::Result::Ok(body) => {
                    let view = crate::runtime::actix_glue::view(&request, &body);
                    crate::runtime::scope_actix(request.clone(), super::dispatch_view(&*api, operation, &view)).await
                }
                ::std::result::Result::Err(error) => error.into_raw(),
            };
            crate::runtime::actix_glue::from_raw(raw)
        }
    }
}
