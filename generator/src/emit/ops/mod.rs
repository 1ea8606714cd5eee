//! Emits `ops.rs`: per operation, a module with the typed `Request`, the `Response` enum (one variant per
//! status), their response-header structs, and the framework-neutral conversions to and from the raw types
//! that both the server adapters and the client use.
//!
//! The operation module itself is assembled here; `request.rs` emits its `Request`, `multipart.rs` the
//! conversions of a `multipart/form-data` request body, and `response.rs` its `Response`.

mod multipart;
mod request;
mod response;

use proc_macro2::TokenStream;
use quote::quote;

use super::{EmitCtx, doc_attrs, ident};
use crate::ir::{Operation, TypeRef};
use request::emit_request;
use response::emit_response;

/// Emits the `ops` module.
pub fn emit_ops(ctx: EmitCtx<'_>) -> TokenStream {
    let head = emit_ops_head(ctx);
    let modules = emit_op_modules(ctx, 0..ctx.api.operations.len());
    quote!(#head #modules)
}

/// The `ops` module's inner docs and attributes, without the operations.
pub(crate) fn emit_ops_head(ctx: EmitCtx<'_>) -> TokenStream {
    let prose = super::spec_prose_allows();
    let deprecated = super::deprecated_schema_allows(ctx.api);
    quote! {
        //! One module per operation: its typed request, its response enum, and the conversions between them
        //! and the raw HTTP types, shared by every server adapter and by the client.
        #![allow(clippy::large_enum_variant, reason = "responses are built once per request; boxing would cost every caller")]
        #prose
        #deprecated
    }
}

/// The modules of the operations in `range` (document order). Each is independent of the others, so the
/// file can be emitted in slices.
pub(crate) fn emit_op_modules(ctx: EmitCtx<'_>, range: std::ops::Range<usize>) -> TokenStream {
    let modules = ctx.api.operations[range].iter().map(|op| emit_op(ctx, op));
    quote!(#(#modules)*)
}

/// The one-paragraph description used for operation docs.
pub(crate) fn op_doc(op: &Operation) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &op.summary {
        parts.push(s.clone());
    }
    if let Some(d) = &op.description {
        parts.push(d.clone());
    }
    match op.segment_path() {
        Some(with_segment) => parts.push(format!(
            "Handles `{m} {}` and `{m} {with_segment}` (operation `{}`).",
            op.path,
            op.api_id,
            m = op.method
        )),
        None => parts.push(format!("Handles `{} {}` (operation `{}`).", op.method, op.path, op.api_id)),
    }
    parts.join("\n\n")
}

fn emit_op(ctx: EmitCtx<'_>, op: &Operation) -> TokenStream {
    let module = ident(&op.rust_name);
    let module_doc = doc_attrs(&op_doc(op));
    let method = &op.method;
    let path = &op.path;
    let op_id = &op.api_id;
    let request = emit_request(ctx, op);
    let response = emit_response(ctx, op);
    let segment_path = match op.segment_path() {
        Some(p) => quote!(::std::option::Option::Some(#p)),
        None => quote!(::std::option::Option::None),
    };
    quote! {
        #module_doc
        pub mod #module {
            /// The HTTP method.
            pub const METHOD: &str = #method;
            /// The path template.
            pub const PATH: &str = #path;
            /// The path template with the optional path segment in place, when the operation has one.
            pub const SEGMENT_PATH: ::std::option::Option<&str> = #segment_path;
            /// The operationId.
            pub const OPERATION_ID: &str = #op_id;

            #request
            #response
        }
    }
}

/// The type a named newtype (a `type` alias in the output) stands for; other types as they are.
fn newtype_target<'t>(ctx: EmitCtx<'t>, ty: &'t TypeRef) -> &'t TypeRef {
    crate::ir::through_newtypes(&ctx.api.types, ty)
}
