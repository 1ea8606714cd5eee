//! Emits an operation's `Request`: its fields (parameters, security credentials, body), `new`, `from_raw` and
//! `from_view` (server side: raw request -> typed, with validation) and `to_raw` (client side: typed -> raw request).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::super::validate::Checks;
use super::super::{EmitCtx, doc_attrs, doc_or, ident, type_tokens, wire_text};
use super::multipart::{emit_multipart, parts_doc};
use super::newtype_target;
use crate::ir::{
    BodyKind, ObjectStyle, Operation, Param, ParamLocation, SecurityKind, SecurityScheme, TypeDef, TypeKind, TypeRef,
};

fn param_field_type(p: &Param) -> TokenStream {
    let base = type_tokens(&p.ty);
    if p.required { base } else { quote!(::std::option::Option<#base>) }
}

fn op_schemes<'a>(ctx: EmitCtx<'a>, op: &'a Operation) -> Vec<&'a SecurityScheme> {
    op.security.iter().filter_map(|n| ctx.api.security_schemes.iter().find(|s| &s.api_name == n)).collect()
}

pub(super) fn emit_request(ctx: EmitCtx<'_>, op: &Operation) -> TokenStream {
    let schemes = op_schemes(ctx, op);
    let mut checks = Checks::new(&ctx.api.types);
    let mut fields = Vec::new();
    let mut parse = Vec::new();
    let mut build = Vec::new();
    let mut names = Vec::new();
    let mut ctor_args = Vec::new();
    let mut ctor_fields = Vec::new();

    if let (Some(segment), Some(with_segment)) = (&op.segment, op.segment_path()) {
        // The optional segment: the path's value or the default, first so the client picks the path with it
        // before the other path parameters fill their templates.
        let p = &segment.param;
        let name = ident(&p.rust_name);
        let wire = &p.api_name;
        let (after, default) = (&segment.after, &segment.default);
        let doc = doc_or(p.doc.as_deref(), &format!("The optional `{wire}` path segment."));
        let doc_loc = doc_attrs(&format!(
            "\nOptional path segment after `{after}` (`{with_segment}`); `{default}` when the path leaves it out, \
             and the client leaves it out when it is `{default}`."
        ));
        fields.push(quote! { #doc #doc_loc pub #name: ::std::string::String, });
        names.push(name.clone());
        ctor_fields.push(quote!(#name: ::std::string::String::from(#default)));
        let own = checks.checks(quote!(value), &p.ty, &p.constraints, &p.rust_name);
        let check = if own.is_empty() {
            quote!(|_, _, _| {})
        } else {
            quote!(|path, value, errors| {
                let path = path.to_owned();
                #own
            })
        };
        parse.push(
            quote!(let #name = crate::runtime::optional_segment(raw.path_param(#wire), #wire, #default, #check)?;),
        );
        let placeholder = format!("{{{wire}}}");
        build.push(quote! {
            if self.#name != #default {
                path = ::std::string::String::from(#with_segment)
                    .replace(#placeholder, &crate::runtime::percent_encode(&self.#name));
            }
        });
    }

    for p in &op.params {
        let name = ident(&p.rust_name);
        let wire = &p.api_name;
        let loc = p.location.as_str();
        let ty = param_field_type(p);
        let doc = doc_or(p.doc.as_deref(), &format!("The `{wire}` {loc} parameter."));
        let doc_loc =
            doc_attrs(&format!("\n{} `{wire}`{}.", capitalise(loc), if p.required { ", required" } else { "" }));
        let dep = if p.deprecated { quote!(#[deprecated]) } else { quote!() };
        fields.push(quote! { #doc #doc_loc #dep pub #name: #ty, });
        names.push(name.clone());
        if p.required {
            let base = type_tokens(&p.ty);
            ctor_args.push(quote!(#name: #base));
            ctor_fields.push(quote!(#name));
        } else {
            ctor_fields.push(quote!(#name: ::std::option::Option::None));
        }
        // Server side: raw -> typed.
        let object = p.object.map(|style| {
            let keys: Vec<&str> = match ctx.api.types.get(match &p.ty {
                TypeRef::Named(n) => n.as_str(),
                _ => "",
            }) {
                Some(TypeDef { kind: TypeKind::Struct { fields, .. }, .. }) => {
                    fields.iter().map(|f| f.api_name.as_str()).collect()
                }
                _ => Vec::new(),
            };
            let style = match style {
                ObjectStyle::Deep => quote!(crate::runtime::ObjectStyle::Deep),
                ObjectStyle::Exploded => quote!(crate::runtime::ObjectStyle::Exploded),
                ObjectStyle::Joined => quote!(crate::runtime::ObjectStyle::Joined),
            };
            (style, keys)
        });
        let value = match (&p.ty, p.location) {
            (ty, _) if object.is_some() => {
                let (style, keys) = object.as_ref().expect("checked");
                let t = type_tokens(ty);
                quote! {
                    raw.query_object(#wire, #style, &[#(#keys),*])?
                        .map(|pairs| crate::runtime::parse_object::<#t>(#wire, &pairs))
                        .transpose()?
                }
            }
            (TypeRef::Vec(inner), _) => {
                let inner_ty = type_tokens(inner);
                let expected =
                    expected_form(newtype_target(ctx, inner)).unwrap_or_else(|| quote!(::std::option::Option::None));
                let explode = p.explode;
                quote! {
                    raw.query_list(#wire, #explode)
                        .map(|items| crate::runtime::parse_list::<#inner_ty>(#loc, #wire, items, #expected))
                        .transpose()?
                }
            }
            (ty, location) => {
                let src = match location {
                    ParamLocation::Path => quote!(raw.path_param(#wire).map(str::to_owned)),
                    ParamLocation::Query => quote!(raw.query_value(#wire)),
                    ParamLocation::Header => quote!(raw.header(#wire).map(str::to_owned)),
                    ParamLocation::Cookie => quote!(raw.cookie(#wire)),
                };
                if *ty == TypeRef::String {
                    src
                } else {
                    let t = type_tokens(ty);
                    match expected_form(ty) {
                        Some(x) => quote! {
                            #src.map(|v| crate::runtime::parse_formatted::<#t>(#loc, #wire, &v, #x)).transpose()?
                        },
                        None => quote!(#src.map(|v| crate::runtime::parse_param::<#t>(#loc, #wire, &v)).transpose()?),
                    }
                }
            }
        };
        if p.required {
            match &p.missing_message {
                Some(m) => parse.push(quote!(let #name = crate::runtime::required_with(#value, #m)?;)),
                None => parse.push(quote!(let #name = crate::runtime::required(#value, #loc, #wire)?;)),
            }
        } else {
            parse.push(quote!(let #name = #value;));
        }
        let own = checks.checks(quote!(value), &p.ty, &p.constraints, &p.rust_name);
        if !own.is_empty() {
            let guarded = if p.required {
                quote! { let value = &#name; #own }
            } else {
                quote! { if let ::std::option::Option::Some(value) = #name.as_ref() { #own } }
            };
            let check = quote!(|path, errors| {
                let path = path.to_owned();
                #guarded
            });
            parse.push(match &p.constraints.message {
                Some(m) => quote!(crate::runtime::validate_param_as(#m, #check)?;),
                None => quote!(crate::runtime::validate_param(#loc, #wire, #check)?;),
            });
        }
        if object.is_some() && checks.nests(&p.ty) {
            // The object's own rules (`filter.max`: maximum ...), as for a body.
            parse.push(quote! {
                crate::runtime::validate_param(#loc, #wire, |path, errors| {
                    crate::runtime::Validate::validate_into(&#name, path, errors);
                })?;
            });
        }
        // Client side: typed -> raw.
        let access =
            if p.required { quote!(::std::option::Option::Some(&self.#name)) } else { quote!(self.#name.as_ref()) };
        let text = wire_text(&p.ty, quote!(value));
        let push = match (&p.ty, p.location) {
            _ if object.is_some() => {
                let (style, _) = object.as_ref().expect("checked");
                quote!(crate::runtime::push_object(&mut query, #wire, #style, value)?;)
            }
            (TypeRef::Vec(inner), _) => {
                let item = wire_text(newtype_target(ctx, inner), quote!(v));
                if p.explode {
                    quote! { for v in value { crate::runtime::push_query(&mut query, #wire, &#item); } }
                } else {
                    quote! {
                        let items: ::std::vec::Vec<::std::string::String> = value.iter().map(|v| #item).collect();
                        crate::runtime::push_query_list(&mut query, #wire, &items);
                    }
                }
            }
            (_, ParamLocation::Path) => {
                let placeholder = format!("{{{wire}}}");
                quote! { path = path.replace(#placeholder, &crate::runtime::percent_encode(&#text)); }
            }
            (_, ParamLocation::Query) => quote! { crate::runtime::push_query(&mut query, #wire, &#text); },
            (_, ParamLocation::Header) => {
                let lower = wire.to_ascii_lowercase();
                quote! { headers.push((#lower.to_owned(), #text)); }
            }
            (_, ParamLocation::Cookie) => quote! {
                let text: ::std::string::String = #text;
                cookies.push(format!("{}={text}", #wire));
            },
        };
        build.push(quote! { if let ::std::option::Option::Some(value) = #access { #push } });
    }

    for s in &schemes {
        let name = ident(&s.rust_name);
        let scheme_name = &s.api_name;
        let how = match &s.kind {
            SecurityKind::Bearer => "an `Authorization: Bearer` token".to_owned(),
            SecurityKind::Basic => "`Authorization: Basic` credentials (base64)".to_owned(),
            SecurityKind::ApiKeyHeader(h) => format!("the `{h}` header"),
            SecurityKind::ApiKeyQuery(q) => format!("the `{q}` query parameter"),
            SecurityKind::ApiKeyCookie(c) => format!("the `{c}` cookie"),
        };
        let doc = doc_or(s.doc.as_deref(), &format!("Credential of the `{scheme_name}` security scheme."));
        let doc2 = doc_attrs(&format!(
            "\nSecurity scheme `{scheme_name}`: {how}. The implementation decides what a missing or invalid credential means."
        ));
        fields.push(quote! { #doc #doc2 pub #name: ::std::option::Option<::std::string::String>, });
        names.push(name.clone());
        ctor_fields.push(quote!(#name: ::std::option::Option::None));
        let (src, push) = match &s.kind {
            SecurityKind::Bearer => (
                quote!(raw.bearer_token()),
                quote! { headers.push(("authorization".to_owned(), format!("Bearer {value}"))); },
            ),
            SecurityKind::Basic => (
                quote!(raw.basic_credentials()),
                quote! { headers.push(("authorization".to_owned(), format!("Basic {value}"))); },
            ),
            SecurityKind::ApiKeyHeader(h) => {
                let lower = h.to_ascii_lowercase();
                (
                    quote!(raw.header(#h).map(str::to_owned)),
                    quote! { headers.push((#lower.to_owned(), value.clone())); },
                )
            }
            SecurityKind::ApiKeyQuery(q) => {
                (quote!(raw.query_value(#q)), quote! { crate::runtime::push_query(&mut query, #q, value); })
            }
            SecurityKind::ApiKeyCookie(c) => {
                (quote!(raw.cookie(#c)), quote! { cookies.push(format!("{}={}", #c, value)); })
            }
        };
        parse.push(quote!(let #name = #src;));
        build.push(quote! { if let ::std::option::Option::Some(value) = &self.#name { #push } });
    }

    let mut multipart = quote!();
    if let Some(body) = &op.body {
        let base = type_tokens(&body.ty);
        let ct = &body.content_type;
        let doc = doc_or(body.doc.as_deref(), &format!("The request body (`{ct}`)."));
        let json_parse = if body.missing_messages.is_empty() {
            quote!(crate::runtime::parse_json_body(raw)?)
        } else {
            let paths = body.missing_messages.iter().map(|(p, _)| p);
            let messages = body.missing_messages.iter().map(|(_, m)| m);
            quote!(crate::runtime::parse_json_body_with(raw, &[#((#paths, #messages)),*])?)
        };
        // A body the spec also accepts as a form is parsed by the media type it arrives with.
        let is_form =
            quote!(raw.media_type().as_deref() == ::std::option::Option::Some("application/x-www-form-urlencoded"));
        let (ty, parse_expr) = match (body.kind, body.required) {
            (BodyKind::Json, true) if body.also_form => {
                (base.clone(), quote!(if #is_form { crate::runtime::parse_form_body(raw)? } else { #json_parse }))
            }
            (BodyKind::Json, true) => (base.clone(), json_parse),
            (BodyKind::Json, false) if body.also_form => (
                quote!(::std::option::Option<#base>),
                quote!(if #is_form && !raw.body.is_empty() {
                    ::std::option::Option::Some(crate::runtime::parse_form_body(raw)?)
                } else {
                    crate::runtime::parse_optional_json_body(raw)?
                }),
            ),
            (BodyKind::Json, false) => {
                (quote!(::std::option::Option<#base>), quote!(crate::runtime::parse_optional_json_body(raw)?))
            }
            (BodyKind::Form, true) => (base.clone(), quote!(crate::runtime::parse_form_body(raw)?)),
            (BodyKind::Form, false) => (
                quote!(::std::option::Option<#base>),
                quote!(if raw.body.is_empty() {
                    ::std::option::Option::None
                } else {
                    ::std::option::Option::Some(crate::runtime::parse_form_body(raw)?)
                }),
            ),
            (BodyKind::Text, true) => (base.clone(), quote!(crate::runtime::parse_text_body(raw)?)),
            (BodyKind::Text, false) => (
                quote!(::std::option::Option<#base>),
                quote!(if raw.body.is_empty() {
                    ::std::option::Option::None
                } else {
                    ::std::option::Option::Some(crate::runtime::parse_text_body(raw)?)
                }),
            ),
            (BodyKind::Multipart, true) => {
                (base.clone(), quote!(body_from_multipart(&crate::runtime::parse_multipart(raw)?)?))
            }
            (BodyKind::Multipart, false) => (
                quote!(::std::option::Option<#base>),
                quote!(if raw.body.is_empty() {
                    ::std::option::Option::None
                } else {
                    ::std::option::Option::Some(body_from_multipart(&crate::runtime::parse_multipart(raw)?)?)
                }),
            ),
            (BodyKind::Bytes, true) => (base.clone(), quote!(raw.body.clone())),
            (BodyKind::Bytes, false) => (
                quote!(::std::option::Option<#base>),
                quote!(if raw.body.is_empty() {
                    ::std::option::Option::None
                } else {
                    ::std::option::Option::Some(raw.body.clone())
                }),
            ),
        };
        let parts_doc = if body.kind == BodyKind::Multipart { doc_attrs(&parts_doc(&body.parts)) } else { quote!() };
        fields.push(quote! { #doc #parts_doc pub body: #ty, });
        names.push(format_ident!("body"));
        if body.required {
            ctor_args.push(quote!(body: #base));
            ctor_fields.push(quote!(body));
        } else {
            ctor_fields.push(quote!(body: ::std::option::Option::None));
        }
        parse.push(quote!(let body = #parse_expr;));
        if matches!(body.kind, BodyKind::Json | BodyKind::Form | BodyKind::Multipart) && checks.nests(&body.ty) {
            parse.push(quote!(crate::runtime::validate_body(&body)?;));
        }
        let encode = match body.kind {
            BodyKind::Json => quote!(
                crate::runtime::encode_json(value)
                    .map_err(|e| crate::runtime::ClientError::InvalidRequest(e.message))?
            ),
            BodyKind::Form => quote!(
                crate::runtime::encode_form(value)
                    .map_err(|e| crate::runtime::ClientError::InvalidRequest(e.message))?
            ),
            BodyKind::Text => quote!(::bytes::Bytes::from(value.clone())),
            BodyKind::Multipart => quote!(body_to_multipart(value)?),
            BodyKind::Bytes => quote!(value.clone()),
        };
        let access =
            if body.required { quote!(::std::option::Option::Some(&self.body)) } else { quote!(self.body.as_ref()) };
        // A multipart body (or one whose media type is a range such as `image/*`) is only usable with the exact
        // `Content-Type` it travels with: the boundary, the concrete image type. The request carries it.
        let essence = ct.split(';').next().unwrap_or(ct).trim().to_ascii_lowercase();
        let carries_type = body.kind == BodyKind::Bytes && (essence.starts_with("multipart/") || essence.contains('*'));
        let content_type = if carries_type {
            let doc = doc_attrs(&format!(
                "The `Content-Type` of the body, with its parameters (such as the multipart boundary). The \
                 client sends `{ct}` when it is `None`."
            ));
            fields.push(quote! { #doc pub body_content_type: ::std::option::Option<::std::string::String>, });
            names.push(format_ident!("body_content_type"));
            ctor_fields.push(quote!(body_content_type: ::std::option::Option::None));
            parse.push(quote! {
                let body_content_type = raw.header("content-type").map(::std::borrow::ToOwned::to_owned);
            });
            quote!(self.body_content_type.as_deref().unwrap_or(#ct))
        } else {
            quote!(#ct)
        };
        if body.kind == BodyKind::Multipart {
            build.push(quote! {
                if let ::std::option::Option::Some(value) = #access {
                    let (content_type, bytes) = #encode.finish();
                    body = bytes;
                    headers.push(("content-type".to_owned(), content_type));
                }
            });
            multipart = emit_multipart(ctx, body);
        } else {
            build.push(quote! {
                if let ::std::option::Option::Some(value) = #access {
                    body = #encode;
                    headers.push(("content-type".to_owned(), #content_type.to_owned()));
                }
            });
        }
    }

    let too_many = if ctor_args.len() > 7 {
        quote!(#[allow(clippy::too_many_arguments, reason = "one argument per required parameter of the spec")])
    } else {
        quote!()
    };
    let from_raw_doc = doc_attrs(if op.segment.is_some() {
        "Parses a raw request (server side). Failures are 400, 413 or 415 with a JSON message, and 404 for an \
         optional segment that is not one."
    } else {
        "Parses a raw request (server side). Failures are 400, 413 or 415 with a JSON message."
    });
    let statics = checks.statics();
    let request_doc = doc_attrs(&format!("The request of `{}` (`{} {}`).", op.api_id, op.method, op.path));
    let unused_raw = if names.is_empty() { quote!(let _ = raw;) } else { quote!() };
    let mutability_hint = quote!(#[allow(unused_mut, reason = "not every operation has every kind of parameter")]);
    // A segment's default is not `String::default()`: `Default` is `new()` then.
    let derive_default = if ctor_args.is_empty() && op.segment.is_none() { quote!(Default,) } else { quote!() };
    let impl_default = if ctor_args.is_empty() && op.segment.is_some() {
        quote! {
            impl ::std::default::Default for Request {
                fn default() -> Self {
                    Self::new()
                }
            }
        }
    } else {
        quote!()
    };
    quote! {
        #statics

        #request_doc
        #[derive(Debug, Clone, #derive_default PartialEq)]
        pub struct Request {
            #(#fields)*
        }

        impl Request {
            /// A request with the required parts; optional parameters start as `None`.
            #too_many
            pub fn new(#(#ctor_args),*) -> Self {
                Self { #(#ctor_fields),* }
            }

            #from_raw_doc
            pub fn from_raw(raw: &crate::runtime::RawRequest) -> ::std::result::Result<Self, crate::runtime::RequestError> {
                Self::from_view(&raw.view())
            }

            /// Parses a request lent by an adapter (server side), as [`Request::from_raw`].
            pub fn from_view(raw: &crate::runtime::RequestView<'_>) -> ::std::result::Result<Self, crate::runtime::RequestError> {
                #unused_raw
                #(#parse)*
                ::std::result::Result::Ok(Self { #(#names),* })
            }

            /// Builds the raw request (client side).
            #mutability_hint
            pub fn to_raw(&self) -> ::std::result::Result<crate::runtime::RawRequest, crate::runtime::ClientError> {
                let mut path = ::std::string::String::from(PATH);
                let mut query = ::std::string::String::new();
                let mut headers: ::std::vec::Vec<(::std::string::String, ::std::string::String)> = ::std::vec::Vec::new();
                let mut cookies: ::std::vec::Vec<::std::string::String> = ::std::vec::Vec::new();
                let mut body = ::bytes::Bytes::new();
                #(#build)*
                if !cookies.is_empty() {
                    headers.push(("cookie".to_owned(), cookies.join("; ")));
                }
                ::std::result::Result::Ok(crate::runtime::RawRequest {
                    method: METHOD.to_owned(),
                    path,
                    path_params: ::std::vec::Vec::new(),
                    query,
                    headers,
                    body,
                })
            }
        }

        #impl_default

        #multipart
    }
}

/// What a 400 for a malformed formatted parameter says was expected, as an `Option<&str>` expression.
fn expected_form(ty: &TypeRef) -> Option<TokenStream> {
    let text = match ty {
        TypeRef::DateTime => "an RFC 3339 date-time such as `2024-02-29T12:00:00Z` (format: date-time)",
        TypeRef::Date => "a date such as `2024-02-29` (format: date)",
        TypeRef::Uuid => "a UUID (format: uuid)",
        TypeRef::Base64 => "base64 (format: byte)",
        _ => return None,
    };
    Some(quote!(::std::option::Option::Some(#text)))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
