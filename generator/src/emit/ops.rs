//! Emits `ops.rs`: per operation, a module with the typed `Request`, the `Response` enum (one variant per
//! status), their response-header structs, and the framework-neutral conversions to and from the raw types
//! that both the server adapters and the client use.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::validate::Checks;
use super::{EmitCtx, doc_attrs, doc_or, ident, type_tokens, wire_text};
use crate::ir::{
    BodyKind, DefaultValue, ObjectStyle, Operation, Param, ParamLocation, Part, PartKind, RequestBody, Response,
    ResponseStatus, SecurityKind, SecurityScheme, TypeDef, TypeKind, TypeRef,
};

/// Emits the `ops` module.
pub fn emit_ops(ctx: EmitCtx<'_>) -> TokenStream {
    let head = emit_ops_head();
    let modules = emit_op_modules(ctx, 0..ctx.api.operations.len());
    quote!(#head #modules)
}

/// The `ops` module's inner docs and attributes, without the operations.
pub(crate) fn emit_ops_head() -> TokenStream {
    let prose = super::spec_prose_allows();
    quote! {
        //! One module per operation: its typed request, its response enum, and the conversions between them
        //! and the raw HTTP types, shared by every server adapter and by the client.
        #![allow(clippy::large_enum_variant, reason = "responses are built once per request; boxing would cost every caller")]
        #prose
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
    parts.push(format!("Handles `{} {}` (operation `{}`).", op.method, op.path, op.api_id));
    parts.join("\n\n")
}

fn param_field_type(p: &Param) -> TokenStream {
    let base = type_tokens(&p.ty);
    if p.required { base } else { quote!(::std::option::Option<#base>) }
}

fn op_schemes<'a>(ctx: EmitCtx<'a>, op: &'a Operation) -> Vec<&'a SecurityScheme> {
    op.security.iter().filter_map(|n| ctx.api.security_schemes.iter().find(|s| &s.api_name == n)).collect()
}

fn emit_op(ctx: EmitCtx<'_>, op: &Operation) -> TokenStream {
    let module = ident(&op.rust_name);
    let module_doc = doc_attrs(&op_doc(op));
    let method = &op.method;
    let path = &op.path;
    let op_id = &op.api_id;
    let request = emit_request(ctx, op);
    let response = emit_response(op);
    quote! {
        #module_doc
        pub mod #module {
            /// The HTTP method.
            pub const METHOD: &str = #method;
            /// The path template.
            pub const PATH: &str = #path;
            /// The operationId.
            pub const OPERATION_ID: &str = #op_id;

            #request
            #response
        }
    }
}

fn emit_request(ctx: EmitCtx<'_>, op: &Operation) -> TokenStream {
    let schemes = op_schemes(ctx, op);
    let mut checks = Checks::new(&ctx.api.types);
    let mut fields = Vec::new();
    let mut parse = Vec::new();
    let mut build = Vec::new();
    let mut names = Vec::new();
    let mut ctor_args = Vec::new();
    let mut ctor_fields = Vec::new();

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
                quote! {{
                    let values = raw.query_values(#wire);
                    if values.is_empty() {
                        ::std::option::Option::None
                    } else {
                        ::std::option::Option::Some(crate::runtime::parse_list::<#inner_ty>(#loc, #wire, values, #explode, #expected)?)
                    }
                }}
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
            parse.push(quote! {
                crate::runtime::validate_param(#loc, #wire, |path, errors| {
                    let path = path.to_owned();
                    #guarded
                })?;
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
                        let joined: ::std::vec::Vec<::std::string::String> = value.iter().map(|v| #item).collect();
                        crate::runtime::push_query(&mut query, #wire, &joined.join(","));
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
    let statics = checks.statics();
    let request_doc = doc_attrs(&format!("The request of `{}` (`{} {}`).", op.api_id, op.method, op.path));
    let unused_raw = if names.is_empty() { quote!(let _ = raw;) } else { quote!() };
    let mutability_hint = quote!(#[allow(unused_mut, reason = "not every operation has every kind of parameter")]);
    let derive_default = if ctor_args.is_empty() { quote!(Default,) } else { quote!() };
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

            /// Parses a raw request (server side). Failures are 400, 413 or 415 with a JSON message.
            pub fn from_raw(raw: &crate::runtime::RawRequest) -> ::std::result::Result<Self, crate::runtime::RequestError> {
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

        #multipart
    }
}

/// The body docs' list of parts.
fn parts_doc(parts: &[Part]) -> String {
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

/// The type a named newtype (a `type` alias in the output) stands for; other types as they are.
fn newtype_target<'t>(ctx: EmitCtx<'t>, ty: &'t TypeRef) -> &'t TypeRef {
    crate::ir::through_newtypes(&ctx.api.types, ty)
}

/// `body_from_multipart` (server side) and `body_to_multipart` (client side) for a multipart body struct.
fn emit_multipart(ctx: EmitCtx<'_>, body: &RequestBody) -> TokenStream {
    let ty = type_tokens(&body.ty);
    let TypeRef::Named(name) = &body.ty else { return quote!() };
    let Some(TypeDef { kind: TypeKind::Struct { fields, deny_unknown, additional }, .. }) = ctx.api.types.get(name)
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
        let value = match (super::types::default_expr(f), f.required, f.nullable) {
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

fn lit(n: u16) -> TokenStream {
    let l = proc_macro2::Literal::u16_unsuffixed(n);
    quote!(#l)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
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

fn emit_response(op: &Operation) -> TokenStream {
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
                    let text = wire_text(&h.ty, quote!(headers.#name));
                    h_push.push(quote! { raw.headers.push((#wire.to_owned(), #text)); });
                    h_read.push(quote! { #name: crate::runtime::required_response_header::<#base>(raw, #wire)?, });
                } else {
                    h_fields.push(quote! { #doc pub #name: ::std::option::Option<#base>, });
                    let text = wire_text(&h.ty, quote!(v));
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
