//! Emit stage: IR -> token streams (Rust) and rendered templates (everything else). Emitters never see
//! openapiv3; they read only [`crate::ir`].

pub mod client;
pub mod cors;
pub mod format;
pub mod ops;
mod runtime;
pub mod server;
pub mod templates;
pub mod types;
pub(crate) mod validate;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::ir::{Api, TypeRef};
use crate::output::GeneratedFile;
use crate::settings::{Framework, Settings};

/// What every emitter gets: the IR and the settings.
#[derive(Debug, Clone, Copy)]
pub struct EmitCtx<'a> {
    /// The API.
    pub api: &'a Api,
    /// The settings.
    pub settings: &'a Settings,
}

impl EmitCtx<'_> {
    /// `#[cfg(feature = "name")]` in the crate layout; nothing in the module layout, where the including
    /// crate's features are its own business.
    pub(crate) fn gate(&self, feature: &str) -> TokenStream {
        if self.settings.module_root().is_some() { quote!() } else { quote!(#[cfg(feature = #feature)]) }
    }
}

/// Emits every file of the generated crate, in a fixed order; in the module layout, the one file.
pub fn emit_crate(ctx: EmitCtx<'_>) -> Result<Vec<GeneratedFile>, String> {
    if let Some(root) = ctx.settings.module_root() {
        return emit_module_file(ctx, root).map(|f| vec![f]);
    }
    let header = format::header_line(ctx.settings);
    type Emitter = fn(EmitCtx<'_>) -> TokenStream;
    let mut rust_files: Vec<(&str, Emitter)> = vec![
        ("src/lib.rs", emit_lib),
        ("src/types.rs", types::emit_types),
        // Emitted in slices below: by far the largest file for a large spec.
        ("src/ops.rs", ops::emit_ops_head),
        ("src/server/mod.rs", server::emit_server_trait),
    ];
    for framework in ctx.settings.frameworks() {
        match framework {
            Framework::Axum => rust_files.push(("src/server/axum.rs", server::axum::emit_axum_router)),
            Framework::ActixWeb => rust_files.push(("src/server/actix.rs", server::actix::emit_actix_config)),
        }
    }
    rust_files.push(("src/client.rs", client::emit_client));
    rust_files.push(("src/cors.rs", cors::emit_cors));

    // Each file is emitted and pretty-printed on a thread of its own (token streams cannot cross threads, so
    // the whole of a file's work happens there); for a large spec this is most of the time. The results are
    // joined in the fixed order above, so the output does not depend on scheduling.
    // `ops.rs` is also split into a fixed number of slices of operations (a constant, not the machine's core
    // count, though the joined text is the same either way).
    const OPS_SLICES: usize = 4;
    let n = ctx.api.operations.len();
    let slices: Vec<std::ops::Range<usize>> =
        (0..OPS_SLICES).map(|i| i * n / OPS_SLICES..(i + 1) * n / OPS_SLICES).filter(|r| !r.is_empty()).collect();
    /// A pretty-printed file or slice of one, or why it could not be printed.
    type Printed = Result<String, String>;
    let (bodies, ops_slices): (Vec<Printed>, Vec<Printed>) = std::thread::scope(|scope| {
        let file_handles: Vec<_> = rust_files
            .iter()
            .map(|&(path, emit)| scope.spawn(move || format::unparse(emit(ctx)).map_err(|e| format!("{path}: {e}"))))
            .collect();
        let slice_handles: Vec<_> = slices
            .iter()
            .map(|range| {
                let range = range.clone();
                scope.spawn(move || {
                    format::unparse(ops::emit_op_modules(ctx, range)).map_err(|e| format!("ops.rs: {e}"))
                })
            })
            .collect();
        // A panic in an emitter is a bug; it goes on in the caller's thread, exactly as without the threads,
        // so the never-panics tests (which catch it there) still see it.
        let join =
            |h: std::thread::ScopedJoinHandle<'_, Printed>| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (file_handles.into_iter().map(join).collect(), slice_handles.into_iter().map(join).collect())
    });

    let mut files = Vec::new();
    files.push(templates::render_cargo_toml(ctx)?);
    files.push(templates::render_readme(ctx)?);
    files.push(templates::render_nginx(ctx)?);
    for ((path, _), body) in rust_files.iter().zip(bodies) {
        let mut body = body?;
        if *path == "src/ops.rs" {
            for slice in &ops_slices {
                body.push_str(slice.as_ref().map_err(Clone::clone)?);
            }
        }
        files.push(GeneratedFile::new(*path, format::finish(&body, &header)));
    }
    files.extend(runtime::emit_runtime_files(ctx, &header)?);
    Ok(files)
}

/// The module layout: `types`, `ops`, `server` (with the adapters inline), `client` (when asked for), `cors`
/// and `runtime` as inline modules of one file, every `crate::` path re-rooted at `root`.
fn emit_module_file(ctx: EmitCtx<'_>, root: &str) -> Result<GeneratedFile, String> {
    let runtime = runtime::runtime_file(ctx)?;
    let runtime_items = &runtime.items;
    let runtime_attrs = &runtime.attrs;
    let types = types::emit_types(ctx);
    let ops = ops::emit_ops(ctx);
    let server = server::emit_server_trait(ctx);
    let cors = cors::emit_cors(ctx);
    let client = ctx.settings.module_client().then(|| {
        let c = client::emit_client(ctx);
        quote!(pub mod client { #c })
    });
    let trait_ident = ident(&ctx.api.trait_name);
    // No inner attributes: `include!` does not accept them.
    let tokens = quote! {
        pub mod types { #types }
        pub mod ops { #ops }
        pub mod server { #server }
        #client
        pub mod cors { #cors }
        pub mod runtime {
            #(#runtime_attrs)*
            #(#runtime_items)*
        }
        pub use server::#trait_ident;
    };
    let tokens =
        reroot(tokens, &syn::parse_str::<syn::Path>(root).map_err(|e| format!("invalid module root `{root}`: {e}"))?);
    let name = format!("{}.rs", ctx.settings.crate_name().replace('-', "_"));
    let text = format::format_rust(tokens, &format::header_line(ctx.settings)).map_err(|e| format!("{name}: {e}"))?;
    Ok(GeneratedFile::new(name, text))
}

/// Replaces every path that starts with `crate::` by one that starts with `root::`, including the paths serde
/// takes as strings (`deserialize_with = "crate::runtime::nullable"`).
fn reroot(tokens: TokenStream, root: &syn::Path) -> TokenStream {
    use proc_macro2::{Group, Literal, TokenTree};
    let root_text = quote!(#root).to_string().replace(' ', "");
    let root = quote!(#root);
    let mut out = Vec::new();
    let mut iter = tokens.into_iter().peekable();
    while let Some(tt) = iter.next() {
        match tt {
            TokenTree::Ident(i) if i == "crate" => {
                let followed_by_path = matches!(iter.peek(), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                if followed_by_path {
                    out.extend(root.clone());
                } else {
                    out.push(TokenTree::Ident(i));
                }
            }
            TokenTree::Group(g) => {
                let mut ng =
                    Group::new(g.delimiter(), reroot(g.stream(), &syn::parse2(root.clone()).expect("root is a path")));
                ng.set_span(g.span());
                out.push(TokenTree::Group(ng));
            }
            TokenTree::Literal(l) => {
                let text = l.to_string();
                match text.strip_prefix("\"crate::") {
                    Some(rest) if !text.contains(' ') => {
                        let value = format!("{root_text}::{}", rest.trim_end_matches('"'));
                        let mut nl = Literal::string(&value);
                        nl.set_span(l.span());
                        out.push(TokenTree::Literal(nl));
                    }
                    _ => out.push(TokenTree::Literal(l)),
                }
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

fn emit_lib(ctx: EmitCtx<'_>) -> TokenStream {
    let api = ctx.api;
    let mut doc = vec![format!("{} (version {}).", api.title, api.version)];
    if let Some(d) = &api.description {
        doc.push(String::new());
        doc.push(d.clone());
    }
    doc.push(String::new());
    doc.push(format!(
        "Modules: [`types`] (schemas), [`ops`] (one module per operation with its request and response), \
         [`server`] (the [`server::{}`] trait and its framework adapters), [`client`] (a typed client) and \
         [`cors`] (the CORS policy derived from the spec).",
        api.trait_name
    ));
    let docs = inner_doc_attrs(&doc.join("\n"));
    let trait_ident = ident(&api.trait_name);
    quote! {
        #docs
        #![deny(missing_docs)]

        #[rustfmt::skip]
        pub mod types;
        #[rustfmt::skip]
        pub mod ops;
        #[rustfmt::skip]
        pub mod server;
        #[cfg(feature = "client")]
        #[rustfmt::skip]
        pub mod client;
        #[rustfmt::skip]
        pub mod cors;
        #[rustfmt::skip]
        pub mod runtime;

        pub use server::#trait_ident;
    }
}

/// The inner attribute of every module whose docs are the spec's descriptions: that prose is Markdown written
/// for API portals, not for rustdoc's list-indentation lints.
pub(crate) fn spec_prose_allows() -> TokenStream {
    quote! {
        #![allow(
            clippy::doc_lazy_continuation,
            clippy::doc_overindented_list_items,
            reason = "doc comments are the spec's descriptions, kept as written"
        )]
    }
}

/// The inner attribute of the modules that name schema types, when the spec deprecates a schema: the
/// generated code itself must use the type (its impls, the fields and bodies that hold it); a user's code that
/// uses it still gets the warning.
pub(crate) fn deprecated_schema_allows(api: &Api) -> TokenStream {
    if api.types.values().any(|t| t.deprecated) {
        quote!(#![allow(deprecated, reason = "deprecated schemas are still part of the API; uses outside the generated code still warn")])
    } else {
        quote!()
    }
}

/// `#[doc = "..."]` attributes, one per line, for an item.
pub(crate) fn doc_attrs(text: &str) -> TokenStream {
    let lines = text.trim_end().lines().map(|l| format!(" {l}").trim_end().to_owned());
    quote! { #( #[doc = #lines] )* }
}

/// `#![doc = "..."]` attributes for a module.
pub(crate) fn inner_doc_attrs(text: &str) -> TokenStream {
    let lines = text.trim_end().lines().map(|l| format!(" {l}").trim_end().to_owned());
    quote! { #( #![doc = #lines] )* }
}

/// Doc attributes from an optional text, or a fallback.
pub(crate) fn doc_or(text: Option<&str>, fallback: &str) -> TokenStream {
    match text {
        Some(t) if !t.trim().is_empty() => doc_attrs(t),
        _ => doc_attrs(fallback),
    }
}

/// An identifier; raw identifiers are never needed since names.rs escapes keywords.
pub(crate) fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// The Rust type of a [`TypeRef`], fully qualified.
pub(crate) fn type_tokens(t: &TypeRef) -> TokenStream {
    match t {
        TypeRef::String => quote!(::std::string::String),
        TypeRef::Bool => quote!(bool),
        TypeRef::I32 => quote!(i32),
        TypeRef::I64 => quote!(i64),
        TypeRef::F32 => quote!(f32),
        TypeRef::F64 => quote!(f64),
        TypeRef::Json => quote!(::serde_json::Value),
        TypeRef::Named(n) => {
            let n = ident(n);
            quote!(crate::types::#n)
        }
        TypeRef::Vec(inner) => {
            let inner = type_tokens(inner);
            quote!(::std::vec::Vec<#inner>)
        }
        TypeRef::Map(inner) => {
            let inner = type_tokens(inner);
            quote!(::std::collections::BTreeMap<::std::string::String, #inner>)
        }
        TypeRef::Boxed(inner) => {
            let inner = type_tokens(inner);
            quote!(::std::boxed::Box<#inner>)
        }
        TypeRef::Bytes => quote!(::bytes::Bytes),
        TypeRef::DateTime => quote!(::chrono::DateTime<::chrono::Utc>),
        TypeRef::Date => quote!(::chrono::NaiveDate),
        TypeRef::Uuid => quote!(::uuid::Uuid),
        TypeRef::Base64 => quote!(crate::runtime::Base64),
        TypeRef::File => quote!(crate::runtime::FilePart),
    }
}

/// The wire text of a scalar parameter or header `value` (an expression of type `&T`): its `Display`,
/// except for a date-time, whose `Display` is not RFC 3339.
pub(crate) fn wire_text(ty: &TypeRef, value: TokenStream) -> TokenStream {
    match ty {
        TypeRef::DateTime => quote!(#value.to_rfc3339_opts(::chrono::SecondsFormat::AutoSi, true)),
        _ => quote!(#value.to_string()),
    }
}
