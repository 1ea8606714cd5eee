//! Emits `types.rs`: one struct or enum per named type, with serde attributes that keep wire names.

use heck::ToSnakeCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::validate::Checks;
use super::{EmitCtx, doc_attrs, doc_or, ident, type_tokens};
use crate::ir::{DefaultValue, EnumVariant, Field, Presence, PresenceRule, TypeDef, TypeKind, TypeRef};

/// Emits every named type, sorted by Rust name.
pub fn emit_types(ctx: EmitCtx<'_>) -> TokenStream {
    let mut checks = Checks::new(&ctx.api.types);
    let mut items = Vec::new();
    for def in ctx.api.types.values() {
        items.push(emit_type(def, ctx.settings.lenient_null()));
        if let Some(v) = emit_validate(def, &mut checks) {
            items.push(v);
        }
    }
    let statics = checks.statics();
    let prose = super::spec_prose_allows();
    let deprecated = super::deprecated_schema_allows(ctx.api);
    quote! {
        //! Types for the schemas of the spec, and for inline request and response shapes.
        #![allow(clippy::large_enum_variant, reason = "wire types mirror the spec's shapes")]
        #prose
        #deprecated
        #statics
        #(#items)*
    }
}

/// The `Validate` impl of a named type (none for aliases, which validate as their target).
fn emit_validate(def: &TypeDef, checks: &mut Checks<'_>) -> Option<TokenStream> {
    let name = ident(&def.rust_name);
    let mut extra_fns = quote!();
    let body = match &def.kind {
        TypeKind::Newtype(_) => return None,
        TypeKind::StringEnum { .. } | TypeKind::IntEnum { .. } => quote!(),
        TypeKind::Struct { fields, additional, rules, .. } => {
            let mut parts = Vec::new();
            // What the spec gives its own message for, checked at the root by `spec_message`.
            let mut own_messages = Vec::new();
            if let Some(broken_rule) = emit_presence(fields, rules) {
                parts.push(quote! {
                    if let ::std::option::Option::Some(rule) = crate::runtime::Validate::broken_rule(self) {
                        errors.push(crate::runtime::message_at(path, rule.message));
                    }
                });
                own_messages.push(quote! {
                    if let ::std::option::Option::Some(rule) =
                        crate::runtime::Validate::broken_rule(self).filter(|rule| rule.from_spec)
                    {
                        return ::std::option::Option::Some(rule.message);
                    }
                });
                extra_fns = broken_rule;
            }
            for f in fields {
                let field = ident(&f.rust_name);
                let wire = &f.api_name;
                let value = quote!(value);
                let own = checks.checks(value, &f.ty, &f.constraints, &format!("{}_{}", def.rust_name, f.rust_name));
                let nested = checks.nests(&f.ty);
                if own.is_empty() && !nested {
                    continue;
                }
                let present = f.required || (f.default.is_some() && !f.nullable);
                let own = match (own.is_empty(), present, f.nullable) {
                    (true, _, _) => quote!(),
                    (false, true, false) => quote! {{ let value = &self.#field; #own }},
                    (false, false, true) => quote! {
                        if let ::std::option::Option::Some(::std::option::Option::Some(value)) = &self.#field { #own }
                    },
                    (false, _, _) => quote! { if let ::std::option::Option::Some(value) = &self.#field { #own } },
                };
                // With the spec's message, the field's violations are that one message.
                let own = match &f.constraints.message {
                    Some(m) if !own.is_empty() => {
                        own_messages.push(quote! {{
                            let path = ::std::string::String::new();
                            let mut broken = ::std::vec::Vec::new();
                            {
                                let errors = &mut broken;
                                #own
                            }
                            if !broken.is_empty() {
                                return ::std::option::Option::Some(#m);
                            }
                        }});
                        quote! {
                            let mut broken = ::std::vec::Vec::new();
                            {
                                let errors = &mut broken;
                                #own
                            }
                            if !broken.is_empty() {
                                errors.push(crate::runtime::message_at(&path, #m));
                            }
                        }
                    }
                    _ => own,
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
            if !own_messages.is_empty() {
                extra_fns = quote! {
                    #extra_fns
                    fn spec_message(&self) -> ::std::option::Option<&'static str> {
                        #(#own_messages)*
                        ::std::option::Option::None
                    }
                };
            }
            if let Some(ty) = additional
                && checks.nests(ty)
            {
                parts.push(quote!(crate::runtime::Validate::validate_into(&self.additional_properties, path, errors);));
            }
            quote!(#(#parts)*)
        }
        TypeKind::Tagged { variants, .. } => {
            union_validation(checks, variants.iter().map(|v| (v.rust_name.as_str(), &v.ty)))
        }
        TypeKind::Untagged { variants } => {
            union_validation(checks, variants.iter().map(|v| (v.rust_name.as_str(), &v.ty)))
        }
    };
    let (path, errors) =
        if body.is_empty() { (quote!(_path), quote!(_errors)) } else { (quote!(path), quote!(errors)) };
    Some(quote! {
        impl crate::runtime::Validate for #name {
            fn validate_into(&self, #path: &str, #errors: &mut ::std::vec::Vec<::std::string::String>) {
                #body
            }
            #extra_fns
        }
    })
}

/// `broken_rule` of a struct with presence rules: the flags of the properties the rules name (a property the
/// type always holds counts as present) and the rules over them, as data the runtime evaluates.
fn emit_presence(fields: &[Field], rules: &[PresenceRule]) -> Option<TokenStream> {
    if rules.is_empty() {
        return None;
    }
    let mut named: Vec<&str> = Vec::new();
    for r in rules {
        for f in r.expr.fields() {
            if !named.contains(&f) {
                named.push(f);
            }
        }
    }
    let flags = named.iter().map(|n| match fields.iter().find(|f| f.api_name == *n) {
        Some(f) if !(f.required || (f.default.is_some() && !f.nullable)) => {
            let field = ident(&f.rust_name);
            quote!(self.#field.is_some())
        }
        _ => quote!(true),
    });
    fn condition(p: &Presence, named: &[&str]) -> TokenStream {
        let (variant, xs) = match p {
            Presence::Field(f) => {
                let i = named.iter().position(|n| n == f).expect("every named property has a flag");
                return quote!(crate::runtime::Presence::Field(#i));
            }
            Presence::Not(x) => {
                let inner = condition(x, named);
                return quote!(crate::runtime::Presence::Not(&#inner));
            }
            Presence::All(xs) => ("All", xs),
            Presence::Any(xs) => ("Any", xs),
            Presence::One(xs) => ("One", xs),
        };
        let variant = format_ident!("{variant}");
        let items = xs.iter().map(|x| condition(x, named));
        quote!(crate::runtime::Presence::#variant(&[#(#items),*]))
    }
    let rules = rules.iter().map(|r| {
        let holds = condition(&r.expr, &named);
        let (message, from_spec) = match &r.message {
            Some(m) => (m.clone(), true),
            None => (r.expr.requirement(), false),
        };
        quote!(crate::runtime::Rule { holds: #holds, message: #message, from_spec: #from_spec })
    });
    Some(quote! {
        fn broken_rule(&self) -> ::std::option::Option<&'static crate::runtime::Rule> {
            static RULES: &[crate::runtime::Rule] = &[#(#rules),*];
            crate::runtime::first_broken_rule(&[#(#flags),*], RULES)
        }
    })
}

/// The struct's presence rules in its documentation.
fn rules_doc(rules: &[PresenceRule]) -> TokenStream {
    if rules.is_empty() {
        return quote!();
    }
    let mut text = String::from("\nPresence rules (checked in this order):");
    for r in rules {
        text.push_str(&format!("\n- {}", r.expr.requirement()));
        if let Some(m) = &r.message {
            text.push_str(&format!(" (otherwise 400 \"{m}\")"));
        }
    }
    doc_attrs(&text)
}

/// The body of a union's `validate_into`: members with rules of their own validate, the others (strings,
/// numbers, typed formats such as `DateTime`, which have no `Validate` impl) have nothing to check. Empty when
/// no member has rules.
fn union_validation<'t>(checks: &Checks<'_>, variants: impl Iterator<Item = (&'t str, &'t TypeRef)>) -> TokenStream {
    let mut any = false;
    let arms: Vec<TokenStream> = variants
        .map(|(rust_name, ty)| {
            let vn = ident(rust_name);
            if checks.nests(ty) {
                any = true;
                quote!(Self::#vn(v) => crate::runtime::Validate::validate_into(v, path, errors),)
            } else {
                quote!(Self::#vn(_) => {})
            }
        })
        .collect();
    if any { quote!(match self { #(#arms)* }) } else { quote!() }
}

fn deprecated(flag: bool) -> TokenStream {
    if flag { quote!(#[deprecated]) } else { quote!() }
}

fn emit_type(def: &TypeDef, lenient_null: bool) -> TokenStream {
    let name = ident(&def.rust_name);
    let doc = doc_or(def.doc.as_deref(), &format!("`{}` (defined at `{}`).", def.rust_name, def.source));
    let dep = deprecated(def.deprecated);
    match &def.kind {
        TypeKind::Struct { fields, deny_unknown, additional, rules } => {
            let rules_doc = rules_doc(rules);
            let deny = if *deny_unknown { quote!(#[serde(deny_unknown_fields)]) } else { quote!() };
            let fields_ts: Vec<TokenStream> =
                fields.iter().map(|f| emit_field(&def.rust_name, f, lenient_null)).collect();
            let default_fns = fields.iter().filter_map(|f| emit_default_fn(&def.rust_name, f));
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
                #rules_doc
                #dep
                #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
                #deny
                pub struct #name {
                    #(#fields_ts)*
                    #extra
                }

                #(#default_fns)*
            }
        }
        TypeKind::StringEnum { variants, open } => emit_enum(&doc, &dep, &name, variants, *open, false),
        TypeKind::IntEnum { variants, open } => emit_enum(&doc, &dep, &name, variants, *open, true),
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

/// A string or integer enum: `as_str`/`as_i64`, `Display`, `FromStr` and serde impls written out, so that an
/// open enum keeps unknown values in `Other` and a closed one names the allowed values in its error.
fn emit_enum(
    doc: &TokenStream,
    dep: &TokenStream,
    name: &proc_macro2::Ident,
    variants: &[EnumVariant],
    open: bool,
    int: bool,
) -> TokenStream {
    let vars = variants.iter().map(|v| {
        let vn = ident(&v.rust_name);
        let d = match &v.doc {
            Some(doc) => doc_attrs(&format!("`{}`: {doc}", v.api_name)),
            None => doc_attrs(&format!("`{}`", v.api_name)),
        };
        quote! { #d #vn, }
    });
    let all_str = variants.iter().map(|v| &v.api_name);
    let (other_variant, derives) = match (open, int) {
        (true, false) => (
            quote! {
                /// A value this version of the spec does not list.
                Other(::std::string::String),
            },
            quote!(#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]),
        ),
        (true, true) => (
            quote! {
                /// A value this version of the spec does not list.
                Other(i64),
            },
            quote!(#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]),
        ),
        (false, _) => (quote!(), quote!(#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)])),
    };
    let unknown = |value: TokenStream| {
        if open {
            quote!(::std::result::Result::Ok(Self::Other(#value)))
        } else {
            quote! {
                ::std::result::Result::Err(crate::runtime::UnknownVariant {
                    value: #value.to_string(),
                    expected: Self::VALUES,
                })
            }
        }
    };
    if int {
        let numbers: Vec<i64> = variants.iter().map(|v| v.api_name.parse().unwrap_or_default()).collect();
        let to_arms = variants.iter().zip(&numbers).map(|(v, n)| {
            let vn = ident(&v.rust_name);
            quote! { Self::#vn => #n, }
        });
        let from_arms = variants.iter().zip(&numbers).map(|(v, n)| {
            let vn = ident(&v.rust_name);
            quote! { #n => ::std::result::Result::Ok(Self::#vn), }
        });
        let other_to = if open { quote!(Self::Other(n) => *n,) } else { quote!() };
        let unknown_n = unknown(quote!(n));
        return quote! {
            #doc
            #dep
            #derives
            pub enum #name {
                #(#vars)*
                #other_variant
            }

            impl #name {
                /// Every listed value, in spec order.
                pub const VALUES: &'static [&'static str] = &[#(#all_str),*];

                /// The wire value.
                pub fn as_i64(&self) -> i64 {
                    match self {
                        #(#to_arms)*
                        #other_to
                    }
                }

                /// The variant for a wire value.
                pub fn from_i64(n: i64) -> ::std::result::Result<Self, crate::runtime::UnknownVariant> {
                    match n {
                        #(#from_arms)*
                        _ => #unknown_n,
                    }
                }
            }

            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    write!(f, "{}", self.as_i64())
                }
            }

            impl ::std::str::FromStr for #name {
                type Err = crate::runtime::UnknownVariant;

                fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                    let n: i64 = value.parse().map_err(|_| crate::runtime::UnknownVariant {
                        value: value.to_owned(),
                        expected: Self::VALUES,
                    })?;
                    Self::from_i64(n)
                }
            }

            impl ::serde::Serialize for #name {
                fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                    serializer.serialize_i64(self.as_i64())
                }
            }

            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                    let n = <i64 as ::serde::Deserialize>::deserialize(deserializer)?;
                    Self::from_i64(n).map_err(::serde::de::Error::custom)
                }
            }
        };
    }
    let to_arms = variants.iter().map(|v| {
        let vn = ident(&v.rust_name);
        let wire = &v.api_name;
        quote! { Self::#vn => #wire, }
    });
    let from_arms = variants.iter().map(|v| {
        let vn = ident(&v.rust_name);
        let wire = &v.api_name;
        quote! { #wire => ::std::result::Result::Ok(Self::#vn), }
    });
    let other_to = if open { quote!(Self::Other(s) => s.as_str(),) } else { quote!() };
    let unknown_s = unknown(quote!(value));
    let unknown_s = if open { quote!(::std::result::Result::Ok(Self::Other(value.to_owned()))) } else { unknown_s };
    quote! {
        #doc
        #dep
        #derives
        pub enum #name {
            #(#vars)*
            #other_variant
        }

        impl #name {
            /// Every listed wire value, in spec order.
            pub const VALUES: &'static [&'static str] = &[#(#all_str),*];

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#to_arms)*
                    #other_to
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
                    #(#from_arms)*
                    _ => #unknown_s,
                }
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let value = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                value.parse().map_err(|_: crate::runtime::UnknownVariant| {
                    ::serde::de::Error::unknown_variant(&value, Self::VALUES)
                })
            }
        }
    }
}

fn default_fn_name(type_name: &str, f: &Field) -> proc_macro2::Ident {
    format_ident!("default_{}_{}", type_name.to_snake_case(), f.rust_name)
}

/// The function serde calls for an absent field with a `default`.
fn emit_default_fn(type_name: &str, f: &Field) -> Option<TokenStream> {
    let expr = default_expr(f)?;
    let name = default_fn_name(type_name, f);
    let ty = type_tokens(&f.ty);
    let doc = doc_attrs(&format!("The default of `{}.{}`.", type_name, f.api_name));
    Some(quote! {
        #doc
        fn #name() -> #ty {
            #expr
        }
    })
}

/// The value of an absent field with a `default` (not for nullable fields, which default to `None`).
pub(crate) fn default_expr(f: &Field) -> Option<TokenStream> {
    let value = f.default.as_ref().filter(|_| !f.nullable)?;
    let ty = type_tokens(&f.ty);
    let expr = match value {
        DefaultValue::String(s) => quote!(::std::string::String::from(#s)),
        DefaultValue::Bool(b) => quote!(#b),
        DefaultValue::Int(i) => match f.ty {
            crate::ir::TypeRef::I32 => {
                let v = i32::try_from(*i).unwrap_or_default();
                quote!(#v)
            }
            _ => quote!(#i),
        },
        DefaultValue::Float(x) => match f.ty {
            crate::ir::TypeRef::F32 => {
                let v = *x as f32;
                quote!(#v)
            }
            _ => quote!(#x),
        },
        DefaultValue::Variant(v) => {
            let v = ident(v);
            quote!(#ty::#v)
        }
    };
    Some(expr)
}

/// One struct field. An optional field that is not nullable refuses an explicit `null` unless `lenient_null`.
fn emit_field(type_name: &str, f: &Field, lenient_null: bool) -> TokenStream {
    let name = ident(&f.rust_name);
    let wire = &f.api_name;
    let base = type_tokens(&f.ty);
    let doc = doc_or(f.doc.as_deref(), &format!("`{wire}`."));
    let dep = deprecated(f.deprecated);
    let rename = if f.rust_name != f.api_name { quote!(#[serde(rename = #wire)]) } else { quote!() };
    if f.default.is_some() && !f.nullable {
        let path = default_fn_name(type_name, f).to_string();
        return quote! {
            #doc
            #dep
            #rename
            #[serde(default = #path)]
            pub #name: #base,
        };
    }
    let (ty, attrs) = match (f.required, f.nullable) {
        (true, false) => (base, quote!()),
        (true, true) => {
            (quote!(::std::option::Option<#base>), quote!(#[serde(deserialize_with = "crate::runtime::nullable")]))
        }
        (false, false) if lenient_null => (
            quote!(::std::option::Option<#base>),
            quote!(#[serde(default, skip_serializing_if = "::std::option::Option::is_none")]),
        ),
        (false, false) => (
            quote!(::std::option::Option<#base>),
            quote!(#[serde(
                default,
                skip_serializing_if = "::std::option::Option::is_none",
                deserialize_with = "crate::runtime::not_null"
            )]),
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
