//! Emits `client.rs`: one async method per operation on the runtime's `Client`.

use proc_macro2::TokenStream;
use quote::quote;

use super::ops::op_doc;
use super::{EmitCtx, doc_attrs, ident};

/// Emits the client methods.
pub fn emit_client(ctx: EmitCtx<'_>) -> TokenStream {
    let methods = ctx.api.operations.iter().map(|op| {
        let name = ident(&op.rust_name);
        let doc = doc_attrs(&op_doc(op));
        let deprecated = if op.deprecated { quote!(#[deprecated]) } else { quote!() };
        quote! {
            #doc
            #deprecated
            pub async fn #name(
                &self,
                request: crate::ops::#name::Request,
            ) -> ::std::result::Result<crate::ops::#name::Response, crate::runtime::ClientError> {
                let raw = request.to_raw()?;
                let response = self.send(raw).await?;
                crate::ops::#name::Response::from_raw(response)
            }
        }
    });
    quote! {
        //! The typed client: `Client::new(base_url)` over HTTP, or `Client::in_process(router)` without a
        //! socket. Each method returns the same response enum the server trait returns.

        pub use crate::runtime::{Client, ClientError};

        impl Client {
            #(#methods)*
        }
    }
}
