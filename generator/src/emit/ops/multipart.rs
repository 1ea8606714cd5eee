//! Emits the conversions of a `multipart/form-data` request body: `body_from_multipart` (server side),
//! `body_to_multipart` (client side), and the list of parts in the body's docs.

use proc_macro2::TokenStream;
use quote::quote;

use super::super::types::default_expr;
use super::super::{EmitCtx, ident, type_tokens, wire_text};
use super::newtype_target;
use crate::ir::{DefaultValue, Part, PartKind, RequestBody, TypeDef, TypeKind, TypeRef};

/// The body docs' list of parts.
pub(super) fn parts_doc(parts: &[Part]) -> String {
    let mut out = String::from("\nSent as `multipart/form-data`, one part per field:");
    for p in parts {
        let what = match p.kind {
            PartKind::File => "a file",
            PartKind::Files => "files, one part each",
            PartKind::Text => "text",
            PartKind::Texts => "text, one part per item",
            PartKind::Json => "JSON",
        };
        let ct = p.content_type.as_ref().map(|c| format!(", `{c}`")).unwrap_or_default();
        out.push_str(&format!("\n- `{}`: {what}{ct}", p.api_name));
    }
    out
}

/// The media type a file or JSON part is sent with: the spec's `encoding.contentType` when it names one
/// type, else the default.
fn part_content_type(part: &Part, default: &str) -> String {
    match &part.content_type {
        Some(ct) if !ct.contains('*') && !ct.contains(',') => ct.trim().to_owned(),
        _ => default.to_owned(),
    }
}

/// `body_from_multipart` (server side) and `body_to_multipart` (client side) for a multipart body struct.
pub(super) fn emit_multipart(ctx: EmitCtx<'_>, body: &RequestBody) -> TokenStream {
    let ty = type_tokens(&body.ty);
    let TypeRef::Named(name) = &body.ty else { return quote!() };
    let Some(TypeDef { kind: TypeKind::Struct { fields, deny_unknown, additional, .. }, .. }) = ctx.api.types.get(name)
    else {
        return quote!();
    };
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    let wires: Vec<&str> = body.parts.iter().map(|p| p.api_name.as_str()).collect();
    for part in &body.parts {
        let Some(f) = fields.iter().find(|f| f.rust_name == part.rust_name) else { continue };
        let field = ident(&f.rust_name);
        let wire = &f.api_name;
        let inner = match &f.ty {
            TypeRef::Vec(inner) => type_tokens(inner),
            other => type_tokens(other),
        };
        let found = match part.kind {
            PartKind::File => quote!(form.file(#wire)?),
            PartKind::Files => quote!(form.files(#wire)),
            PartKind::Text => quote!(form.text::<#inner>(#wire)?),
            PartKind::Texts => quote!(form.texts::<#inner>(#wire)?),
            PartKind::Json => {
                let t = type_tokens(&f.ty);
                quote!(form.json::<#t>(#wire)?)
            }
        };
        let value = match (default_expr(f), f.required, f.nullable) {
            // A string default allocates, so only it is lazy (clippy's `or_fun_call` and
            // `unnecessary_lazy_evaluations` each want one of the two).
            (Some(default), _, _) if matches!(f.default, Some(DefaultValue::String(_))) => {
                quote!(#found.unwrap_or_else(|| #default))
            }
            (Some(default), _, _) => quote!(#found.unwrap_or(#default)),
            (None, true, false) => quote!(crate::runtime::required_part(#found, #wire)?),
            (None, true, true) => quote!(::std::option::Option::Some(crate::runtime::required_part(#found, #wire)?)),
            (None, false, false) => found,
            (None, false, true) => quote!(#found.map(::std::option::Option::Some)),
        };
        // Straight into the struct literal: a local per field could shadow `form` (a property called `form`).
        reads.push(quote!(#field: #value,));
        let write = match part.kind {
            PartKind::File => {
                let ct = part_content_type(part, "application/octet-stream");
                quote!(form.file(#wire, v, #ct);)
            }
            PartKind::Files => {
                let ct = part_content_type(part, "application/octet-stream");
                quote!(for file in v { form.file(#wire, file, #ct); })
            }
            PartKind::Text => {
                let text = wire_text(newtype_target(ctx, &f.ty), quote!(v));
                quote!(form.text(#wire, &#text);)
            }
            PartKind::Texts => {
                let item_ty = match &f.ty {
                    TypeRef::Vec(inner) => newtype_target(ctx, inner),
                    other => other,
                };
                let text = wire_text(item_ty, quote!(item));
                quote!(for item in v { form.text(#wire, &#text); })
            }
            PartKind::Json => {
                let ct = part_content_type(part, "application/json");
                quote!(form.json(#wire, v, #ct)?;)
            }
        };
        let present = (f.required || f.default.is_some()) && !f.nullable;
        writes.push(match (present, f.nullable && !f.required) {
            (true, _) => quote! {{ let v = &value.#field; #write }},
            (false, false) => quote! { if let ::std::option::Option::Some(v) = &value.#field { #write } },
            (false, true) => quote! {
                if let ::std::option::Option::Some(::std::option::Option::Some(v)) = &value.#field { #write }
            },
        });
    }
    let deny = if *deny_unknown { quote!(form.deny_unknown(&[#(#wires),*])?;) } else { quote!() };
    let (extra_read, extra_field, extra_write) = match additional {
        Some(extra) => {
            let t = type_tokens(extra);
            let text = wire_text(newtype_target(ctx, extra), quote!(v));
            (
                quote! {
                    let mut additional = ::std::collections::BTreeMap::new();
                    for (name, v) in form.others::<#t>(&[#(#wires),*])? {
                        additional.insert(name, v);
                    }
                },
                quote!(additional_properties: additional,),
                quote! {
                    for (name, v) in &value.additional_properties {
                        form.text(name, &#text);
                    }
                },
            )
        }
        None => (quote!(), quote!(), quote!()),
    };
    quote! {
        /// Reads the body's fields from the parts of a `multipart/form-data` body (server side).
        fn body_from_multipart(
            form: &crate::runtime::Multipart,
        ) -> ::std::result::Result<#ty, crate::runtime::RequestError> {
            #deny
            #extra_read
            ::std::result::Result::Ok(#ty { #(#reads)* #extra_field })
        }

        /// Writes the body's fields as the parts of a `multipart/form-data` body (client side).
        fn body_to_multipart(
            value: &#ty,
        ) -> ::std::result::Result<crate::runtime::MultipartWriter, crate::runtime::ClientError> {
            let mut form = crate::runtime::MultipartWriter::new();
            #(#writes)*
            #extra_write
            ::std::result::Result::Ok(form)
        }
    }
}
