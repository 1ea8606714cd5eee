//! Emits `types.rs`: one struct or enum per named type, with serde attributes that keep wire names.

use proc_macro2::TokenStream;
use quote::quote;

use super::validate::Checks;
use super::{EmitCtx, doc_attrs, doc_or, ident, type_tokens};
use crate::ir::{Field, TypeDef, TypeKind};

/// Emits every named type, sorted by Rust name.
pub fn emit_types(ctx: EmitCtx<'_>) -> TokenStream {
    let mut checks = Checks::new(&ctx.api.types);
    let mut items = Vec::new();
    for def in ctx.api.types.values() {
        items.push(emit_type(def));
        if let Some(v) = emit_validate(def, &mut checks) {
            items.push(v);
        }
    }
    let statics = checks.statics();
    quote! {
        //! Types for the schemas of the spec, and for inline request and response shapes.
        #![allow(clippy::large_enum_variant, reason = "wire types mirror the spec's shapes")]
        #statics
        #(#items)*
    }
}

/// The `Validate` impl of a named type (none for aliases, which validate as their target).
fn emit_validate(def: &TypeDef, checks: &mut Checks<'_>) -> Option<TokenStream> {
    let name = ident(&def.rust_name);
    let body = match &def.kind {
        TypeKind::Newtype(_) => return None,
        TypeKind::StringEnum { .. } => quote!(),
        TypeKind::Struct { fields, additional, .. } => {
            let mut parts = Vec::new();
            for f in fields {
                let field = ident(&f.rust_name);
                let wire = &f.api_name;
                let value = quote!(value);
                let own = checks.checks(value, &f.ty, &f.constraints, &format!("{}_{}", def.rust_name, f.rust_name));
                let nested = checks.nests(&f.ty);
                if own.is_empty() && !nested {
                    continue;
                }
                let own = match (own.is_empty(), f.required, f.nullable) {
                    (true, _, _) => quote!(),
                    (false, true, false) => quote! {{ let value = &self.#field; #own }},
                    (false, false, true) => quote! {
                        if let ::std::option::Option::Some(::std::option::Option::Some(value)) = &self.#field { #own }
                    },
                    (false, _, _) => quote! { if let ::std::option::Option::Some(value) = &self.#field { #own } },
                };
                let nested = if nested {
                    quote!(crate::runtime::Validate::validate_into(&self.#field, &path, errors);)
                } else {
                    quote!()
                };
                parts.push(quote! {{
                    let path = crate::runtime::join_path(path, #wire);
                    #own
                    #nested
                }});
            }
            if let Some(ty) = additional {
                if checks.nests(ty) {
                    parts.push(
                        quote!(crate::runtime::Validate::validate_into(&self.additional_properties, path, errors);),
                    );
                }
            }
            quote!(#(#parts)*)
        }
        TypeKind::Tagged { variants, .. } => {
            let arms = variants.iter().map(|v| {
                let vn = ident(&v.rust_name);
                quote!(Self::#vn(v) => crate::runtime::Validate::validate_into(v, path, errors),)
            });
            quote!(match self { #(#arms)* })
        }
        TypeKind::Untagged { variants } => {
            let arms = variants.iter().map(|v| {
                let vn = ident(&v.rust_name);
                quote!(Self::#vn(v) => crate::runtime::Validate::validate_into(v, path, errors),)
            });
            quote!(match self { #(#arms)* })
        }
    };
    let (path, errors) =
        if body.is_empty() { (quote!(_path), quote!(_errors)) } else { (quote!(path), quote!(errors)) };
    Some(quote! {
        impl crate::runtime::Validate for #name {
            fn validate_into(&self, #path: &str, #errors: &mut ::std::vec::Vec<::std::string::String>) {
                #body
            }
        }
    })
}

fn deprecated(flag: bool) -> TokenStream {
    if flag { quote!(#[deprecated]) } else { quote!() }
}

fn emit_type(def: &TypeDef) -> TokenStream {
    let name = ident(&def.rust_name);
    let doc = doc_or(def.doc.as_deref(), &format!("`{}` (defined at `{}`).", def.rust_name, def.source));
    let dep = deprecated(def.deprecated);
    match &def.kind {
        TypeKind::Struct { fields, deny_unknown, additional } => {
            let deny = if *deny_unknown { quote!(#[serde(deny_unknown_fields)]) } else { quote!() };
            let fields_ts = fields.iter().map(emit_field);
            let extra = additional.as_ref().map(|ty| {
                let ty = type_tokens(ty);
                quote! {
                    /// Properties not listed in the schema (`additionalProperties`).
                    #[serde(flatten)]
                    pub additional_properties: ::std::collections::BTreeMap<::std::string::String, #ty>,
                }
            });
            quote! {
                #doc
                #dep
                #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
                #deny
                pub struct #name {
                    #(#fields_ts)*
                    #extra
                }
            }
        }
        TypeKind::StringEnum { variants } => {
            let vars = variants.iter().map(|v| {
                let vn = ident(&v.rust_name);
                let wire = &v.api_name;
                let d = doc_attrs(&format!("`{wire}`"));
                quote! { #d #[serde(rename = #wire)] #vn, }
            });
            let arms = variants.iter().map(|v| {
                let vn = ident(&v.rust_name);
                let wire = &v.api_name;
                quote! { Self::#vn => #wire, }
            });
            let parse_arms = variants.iter().map(|v| {
                let vn = ident(&v.rust_name);
                let wire = &v.api_name;
                quote! { #wire => ::std::result::Result::Ok(Self::#vn), }
            });
            let all = variants.iter().map(|v| &v.api_name);
            quote! {
                #doc
                #dep
                #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
                pub enum #name {
                    #(#vars)*
                }

                impl #name {
                    /// Every wire value, in spec order.
                    pub const VALUES: &'static [&'static str] = &[#(#all),*];

                    /// The wire value.
                    pub fn as_str(&self) -> &'static str {
                        match self {
                            #(#arms)*
                        }
                    }
                }

                impl ::std::fmt::Display for #name {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(self.as_str())
                    }
                }

                impl ::std::str::FromStr for #name {
                    type Err = crate::runtime::UnknownVariant;

                    fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                        match value {
                            #(#parse_arms)*
                            _ => ::std::result::Result::Err(crate::runtime::UnknownVariant {
                                value: value.to_owned(),
                                expected: Self::VALUES,
                            }),
                        }
                    }
                }
            }
        }
        TypeKind::Tagged { tag, variants } => {
            let vars = variants.iter().map(|v| {
                let vn = ident(&v.rust_name);
                let wire = &v.api_name;
                let ty = type_tokens(&v.ty);
                let d = doc_attrs(&format!("`{tag}: \"{wire}\"`"));
                quote! { #d #[serde(rename = #wire)] #vn(#ty), }
            });
            let tag_doc = doc_attrs(&format!("\nTagged by the `{tag}` property."));
            quote! {
                #doc
                #tag_doc
                #dep
                #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
                #[serde(tag = #tag)]
                pub enum #name {
                    #(#vars)*
                }
            }
        }
        TypeKind::Untagged { variants } => {
            let vars = variants.iter().map(|v| {
                let vn = ident(&v.rust_name);
                let ty = type_tokens(&v.ty);
                let d = doc_attrs(&format!("The `{}` shape.", v.rust_name));
                quote! { #d #vn(#ty), }
            });
            quote! {
                #doc
                #dep
                #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
                #[serde(untagged)]
                pub enum #name {
                    #(#vars)*
                }
            }
        }
        TypeKind::Newtype(inner) => {
            let inner = type_tokens(inner);
            quote! {
                #doc
                pub type #name = #inner;
            }
        }
    }
}

fn emit_field(f: &Field) -> TokenStream {
    let name = ident(&f.rust_name);
    let wire = &f.api_name;
    let base = type_tokens(&f.ty);
    let doc = doc_or(f.doc.as_deref(), &format!("`{wire}`."));
    let dep = deprecated(f.deprecated);
    let rename = if f.rust_name != f.api_name { quote!(#[serde(rename = #wire)]) } else { quote!() };
    let (ty, attrs) = match (f.required, f.nullable) {
        (true, false) => (base, quote!()),
        (true, true) => {
            (quote!(::std::option::Option<#base>), quote!(#[serde(deserialize_with = "crate::runtime::nullable")]))
        }
        (false, false) => (
            quote!(::std::option::Option<#base>),
            quote!(#[serde(default, skip_serializing_if = "::std::option::Option::is_none")]),
        ),
        (false, true) => (
            quote!(::std::option::Option<::std::option::Option<#base>>),
            quote!(#[serde(
                default,
                skip_serializing_if = "::std::option::Option::is_none",
                deserialize_with = "crate::runtime::double_option"
            )]),
        ),
    };
    quote! {
        #doc
        #dep
        #rename
        #attrs
        pub #name: #ty,
    }
}
