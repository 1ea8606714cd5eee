//! Emits `client.rs`: one async method per operation on the runtime's `Client`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::ops::op_doc;
use super::{EmitCtx, doc_attrs, ident};

/// Emits the client methods.
pub fn emit_client(ctx: EmitCtx<'_>) -> TokenStream {
    let setters = ctx.api.security_schemes.iter().map(|s| {
        let setter = format_ident!("with_{}", s.rust_name);
        let scheme = &s.api_name;
        let doc = doc_attrs(&format!(
            "Sends `value` as the `{scheme}` credential with every call whose request does not set its own."
        ));
        quote! {
            #doc
            pub fn #setter(self, value: impl ::std::convert::Into<::std::string::String>) -> Self {
                self.with_credential(#scheme, value)
            }
        }
    });
    let methods = ctx.api.operations.iter().map(|op| {
        let name = ident(&op.rust_name);
        let doc = doc_attrs(&op_doc(op));
        let deprecated = if op.deprecated { quote!(#[deprecated]) } else { quote!() };
        let fills =
            op.security.iter().filter_map(|n| ctx.api.security_schemes.iter().find(|s| &s.api_name == n)).map(|s| {
                let field = ident(&s.rust_name);
                let scheme = &s.api_name;
                quote! {
                    if request.#field.is_none() {
                        request.#field = self.credential(#scheme);
                    }
                }
            });
        let fills: Vec<TokenStream> = fills.collect();
        let binding = if fills.is_empty() { quote!(request) } else { quote!(mut request) };
        quote! {
            #doc
            #deprecated
            pub async fn #name(
                &self,
                #binding: crate::ops::#name::Request,
            ) -> ::std::result::Result<crate::ops::#name::Response, crate::runtime::ClientError> {
                #(#fills)*
                let raw = request.to_raw()?;
                let response = self.send(raw).await?;
                crate::ops::#name::Response::from_raw(response)
            }
        }
    });
    let prose = super::spec_prose_allows();
    quote! {
        //! The typed client: `Client::new(base_url)` over HTTP, or `Client::in_process(router)` without a
        //! socket. Each method returns the same response enum the server trait returns.
        #prose

        pub use crate::runtime::{Client, ClientError};

        impl Client {
            #(#setters)*

            #(#methods)*
        }
    }
}
