//! Emits an operation's `Response`: the enum with one variant per status, its response-header structs,
//! `status`, `into_raw` (server side: encodes the body and headers) and `from_raw` (client side: decodes them).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::super::{EmitCtx, doc_attrs, doc_or, ident, type_tokens, wire_text};
use super::newtype_target;
use crate::ir::{BodyKind, Operation, Response, ResponseStatus};

fn lit(n: u16) -> TokenStream {
    let l = proc_macro2::Literal::u16_unsuffixed(n);
    quote!(#l)
}

/// How a response variant is shaped.
enum Shape {
    Unit,
    Tuple,
    Struct { status: bool, body: bool, headers: bool },
}

fn shape(r: &Response) -> Shape {
    let fixed = matches!(r.status, ResponseStatus::Code(_));
    match (fixed, r.body.is_some(), !r.headers.is_empty()) {
        (true, false, false) => Shape::Unit,
        (true, true, false) => Shape::Tuple,
        (fixed, body, headers) => Shape::Struct { status: !fixed, body, headers },
    }
}

fn headers_ident(r: &Response) -> proc_macro2::Ident {
    format_ident!("{}Headers", r.variant)
}

pub(super) fn emit_response(ctx: EmitCtx<'_>, op: &Operation) -> TokenStream {
    let mut header_structs = Vec::new();
    let mut variants = Vec::new();
    let mut status_arms = Vec::new();
    let mut into_arms = Vec::new();
    let mut from_code_arms = Vec::new();
    let mut from_range_arms = Vec::new();
    let mut from_default = None;

    for r in &op.responses {
        let v = ident(&r.variant);
        let status_text = match r.status {
            ResponseStatus::Code(c) => format!("`{c}`"),
            ResponseStatus::Range(n) => format!("`{n}XX`"),
            ResponseStatus::Default => "any other status (`default`)".to_owned(),
        };
        let doc = doc_attrs(&format!("{status_text}: {}", r.doc.clone().unwrap_or_default()));
        let body_ty = r.body.as_ref().map(|b| type_tokens(&b.ty));
        let h_ident = headers_ident(r);

        if !r.headers.is_empty() {
            let mut h_fields = Vec::new();
            let mut h_push = Vec::new();
            let mut h_read = Vec::new();
            for h in &r.headers {
                let name = ident(&h.rust_name);
                let wire = h.api_name.to_ascii_lowercase();
                let base = type_tokens(&h.ty);
                let doc = doc_or(h.doc.as_deref(), &format!("The `{}` header.", h.api_name));
                if h.multi {
                    h_fields.push(quote! { #doc pub #name: ::std::vec::Vec<::std::string::String>, });
                    h_push
                        .push(quote! { for v in &headers.#name { raw.headers.push((#wire.to_owned(), v.clone())); } });
                    h_read.push(quote! { #name: raw.header_values(#wire), });
                } else if h.required {
                    h_fields.push(quote! { #doc pub #name: #base, });
                    let text = wire_text(newtype_target(ctx, &h.ty), quote!(headers.#name));
                    h_push.push(quote! { raw.headers.push((#wire.to_owned(), #text)); });
                    h_read.push(quote! { #name: crate::runtime::required_response_header::<#base>(raw, #wire)?, });
                } else {
                    h_fields.push(quote! { #doc pub #name: ::std::option::Option<#base>, });
                    let text = wire_text(newtype_target(ctx, &h.ty), quote!(v));
                    h_push.push(quote! {
                        if let ::std::option::Option::Some(v) = &headers.#name { raw.headers.push((#wire.to_owned(), #text)); }
                    });
                    h_read.push(quote! { #name: crate::runtime::response_header::<#base>(raw, #wire)?, });
                }
            }
            let hdoc = doc_attrs(&format!("Response headers of the {status_text} response."));
            header_structs.push(quote! {
                #hdoc
                #[derive(Debug, Clone, Default, PartialEq)]
                pub struct #h_ident {
                    #(#h_fields)*
                }

                impl #h_ident {
                    fn write(headers: &Self, raw: &mut crate::runtime::RawResponse) {
                        #(#h_push)*
                    }

                    fn read(raw: &crate::runtime::RawResponse) -> ::std::result::Result<Self, crate::runtime::ClientError> {
                        ::std::result::Result::Ok(Self { #(#h_read)* })
                    }
                }
            });
        }

        // Encoding the body (server side) and decoding it (client side).
        let (encode, decode) = match &r.body {
            None => (quote!(), quote!()),
            Some(b) => {
                let ct = &b.content_type;
                let enc = match b.kind {
                    BodyKind::Json => quote! {
                        match crate::runtime::encode_json(&body) {
                            ::std::result::Result::Ok(bytes) => raw.body = bytes,
                            ::std::result::Result::Err(e) => return e.into_raw(),
                        }
                    },
                    BodyKind::Form => quote! {
                        match crate::runtime::encode_form(&body) {
                            ::std::result::Result::Ok(bytes) => raw.body = bytes,
                            ::std::result::Result::Err(e) => return e.into_raw(),
                        }
                    },
                    BodyKind::Text => quote! { raw.body = ::bytes::Bytes::from(body); },
                    // Lowering keeps multipart responses as raw bytes.
                    BodyKind::Bytes | BodyKind::Multipart => quote! { raw.body = body; },
                };
                let dec = match b.kind {
                    BodyKind::Json | BodyKind::Form => quote!(crate::runtime::decode_json(&raw)?),
                    BodyKind::Text => quote!(crate::runtime::decode_text(&raw)?),
                    BodyKind::Bytes | BodyKind::Multipart => quote!(raw.body.clone()),
                };
                (quote! { raw.headers.push(("content-type".to_owned(), #ct.to_owned())); #enc }, dec)
            }
        };
        let status_value = match r.status {
            ResponseStatus::Code(c) => lit(c),
            _ => quote!(status),
        };
        let write_headers = if r.headers.is_empty() { quote!() } else { quote!(#h_ident::write(&headers, &mut raw);) };
        let read_headers = if r.headers.is_empty() { quote!() } else { quote!(let headers = #h_ident::read(&raw)?;) };

        let (variant_def, pattern, construct) = match shape(r) {
            Shape::Unit => (quote!(#v,), quote!(Self::#v), quote!(Self::#v)),
            Shape::Tuple => {
                let t = body_ty.clone().expect("tuple has a body");
                (quote!(#v(#t),), quote!(Self::#v(body)), quote!(Self::#v(#decode)))
            }
            Shape::Struct { status, body, headers } => {
                let mut defs = Vec::new();
                let mut pats = Vec::new();
                let mut cons = Vec::new();
                if status {
                    defs.push(quote!(/// The status code received or to send.
                        status: u16,));
                    pats.push(quote!(status));
                    cons.push(quote!(status: raw.status));
                }
                if body {
                    let t = body_ty.clone().expect("struct has a body");
                    defs.push(quote!(/// The body.
                        body: #t,));
                    pats.push(quote!(body));
                    cons.push(quote!(body: #decode));
                }
                if headers {
                    defs.push(quote!(/// The response headers.
                        headers: #h_ident,));
                    pats.push(quote!(headers));
                    cons.push(quote!(headers));
                }
                (quote!(#v { #(#defs)* },), quote!(Self::#v { #(#pats),* }), quote!(Self::#v { #(#cons),* }))
            }
        };
        variants.push(quote! { #doc #variant_def });
        let status_pattern = match shape(r) {
            Shape::Unit => quote!(Self::#v),
            Shape::Tuple => quote!(Self::#v(_)),
            Shape::Struct { status: true, .. } => quote!(Self::#v { status, .. }),
            Shape::Struct { .. } => quote!(Self::#v { .. }),
        };
        let status_expr = match r.status {
            ResponseStatus::Code(c) => lit(c),
            _ => quote!(*status),
        };
        status_arms.push(quote! { #status_pattern => #status_expr, });
        into_arms.push(if r.body.is_none() && r.headers.is_empty() {
            quote! { #pattern => crate::runtime::RawResponse::new(#status_value), }
        } else {
            quote! {
                #pattern => {
                    let mut raw = crate::runtime::RawResponse::new(#status_value);
                    #encode
                    #write_headers
                    raw
                }
            }
        });
        let arm_body = quote! {{ #read_headers ::std::result::Result::Ok(#construct) }};
        match r.status {
            ResponseStatus::Code(c) => {
                let c = lit(c);
                from_code_arms.push(quote! { #c => #arm_body });
            }
            ResponseStatus::Range(n) => {
                let lo = lit(u16::from(n) * 100);
                let hi = lit(u16::from(n) * 100 + 99);
                from_range_arms.push(quote! { #lo..=#hi => #arm_body });
            }
            ResponseStatus::Default => from_default = Some(quote! { _ => #arm_body }),
        }
    }
    let fallback = from_default.unwrap_or_else(
        || quote! { _ => ::std::result::Result::Err(crate::runtime::ClientError::UnexpectedStatus(raw)), },
    );
    let response_doc = doc_attrs(&format!("Every response of `{}`, one variant per status.", op.api_id));
    quote! {
        #(#header_structs)*

        #response_doc
        #[derive(Debug, Clone, PartialEq)]
        pub enum Response {
            #(#variants)*
        }

        impl Response {
            /// The HTTP status of this response.
            pub fn status(&self) -> u16 {
                match self {
                    #(#status_arms)*
                }
            }

            /// Encodes the response (server side).
            pub fn into_raw(self) -> crate::runtime::RawResponse {
                match self {
                    #(#into_arms)*
                }
            }

            /// Decodes a raw response (client side).
            pub fn from_raw(raw: crate::runtime::RawResponse) -> ::std::result::Result<Self, crate::runtime::ClientError> {
                match raw.status {
                    #(#from_code_arms)*
                    #(#from_range_arms)*
                    #fallback
                }
            }
        }
    }
}
