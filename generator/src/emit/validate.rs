//! Emits the validation the server adapters run after parsing: `Validate` impls for the types and the checks
//! for fields and parameters with `minLength`, `pattern`, `minimum`, `maxItems`, `format: email`, ...

use std::collections::BTreeMap;

use heck::ToShoutySnakeCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ir::{Constraints, TypeDef, TypeKind, TypeRef};

/// Collects the checks of one file and the `static` regexes they use.
pub(crate) struct Checks<'a> {
    types: &'a BTreeMap<String, TypeDef>,
    statics: Vec<TokenStream>,
}

impl<'a> Checks<'a> {
    pub(crate) fn new(types: &'a BTreeMap<String, TypeDef>) -> Self {
        Self { types, statics: Vec::new() }
    }

    /// The `static` regexes, to emit once at the top of the file or module.
    pub(crate) fn statics(&self) -> TokenStream {
        let s = &self.statics;
        quote!(#(#s)*)
    }

    /// Follows type aliases (`pub type Email = String`) to the type that is checked.
    fn underlying<'t>(&self, ty: &'t TypeRef) -> &'t TypeRef
    where
        'a: 't,
    {
        let mut cur = ty;
        for _ in 0..32 {
            match cur {
                TypeRef::Named(n) => match self.types.get(n).map(|d| &d.kind) {
                    Some(TypeKind::Newtype(inner)) => cur = inner,
                    _ => return cur,
                },
                TypeRef::Boxed(inner) => cur = inner,
                _ => return cur,
            }
        }
        cur
    }

    /// Checks of `value` (an expression of type `&T`) against `c`, reporting under the `path` variable.
    /// `name` makes the regex statics unique.
    pub(crate) fn checks(&mut self, value: TokenStream, ty: &TypeRef, c: &Constraints, name: &str) -> TokenStream {
        let mut out = Vec::new();
        let ty = self.underlying(ty).clone();
        match &ty {
            TypeRef::String => {
                if c.min_length.is_some() || c.max_length.is_some() {
                    let min = opt_usize(c.min_length);
                    let max = opt_usize(c.max_length);
                    out.push(quote!(crate::runtime::check_length(&path, #value, #min, #max, errors);));
                }
                if c.email {
                    out.push(quote!(crate::runtime::check_email(&path, #value, errors);));
                }
                if c.uri {
                    out.push(quote!(crate::runtime::check_uri(&path, #value, errors);));
                }
                if let Some(p) = &c.pattern {
                    let stat = format_ident!("PATTERN_{}", name.to_shouty_snake_case());
                    self.statics.push(quote! {
                        static #stat: ::std::sync::LazyLock<::regex::Regex> = ::std::sync::LazyLock::new(|| {
                            ::regex::Regex::new(#p).expect("authgen checked that the pattern compiles")
                        });
                    });
                    // An expression statement, not an `if`: nested in `if let Some(value)` for optional fields,
                    // an `if` would trip clippy's `collapsible_if` in the generated code.
                    out.push(quote! {
                        errors.extend((!#stat.is_match(#value)).then(|| crate::runtime::pattern_violation(&path, #p)));
                    });
                }
            }
            // A 32-bit float is checked even without bounds: JSON numbers beyond its range read as infinite.
            TypeRef::I32 | TypeRef::I64 | TypeRef::F32 | TypeRef::F64
                if (c.minimum.is_some() || c.maximum.is_some() || matches!(ty, TypeRef::F32)) =>
            {
                let as_f64 = match ty {
                    TypeRef::I32 | TypeRef::F32 => quote!(f64::from(*#value)),
                    TypeRef::I64 => quote!(*#value as f64),
                    _ => quote!(*#value),
                };
                let bound = |v: Option<f64>, excl: bool| match v {
                    Some(v) => quote!(::std::option::Option::Some((#v, #excl))),
                    None => quote!(::std::option::Option::None),
                };
                let min = bound(c.minimum, c.exclusive_minimum);
                let max = bound(c.maximum, c.exclusive_maximum);
                out.push(quote!(crate::runtime::check_range(&path, #as_f64, #min, #max, errors);));
            }
            TypeRef::Vec(inner) => {
                if c.min_items.is_some() || c.max_items.is_some() || c.unique_items {
                    let min = opt_usize(c.min_items);
                    let max = opt_usize(c.max_items);
                    let unique = c.unique_items;
                    out.push(quote!(crate::runtime::check_items(&path, #value, #min, #max, #unique, errors);));
                }
                if let Some(items) = &c.items {
                    let inner_checks = self.checks(quote!(item), inner, items, &format!("{name}_items"));
                    if !inner_checks.is_empty() {
                        out.push(quote! {
                            for (i, item) in #value.iter().enumerate() {
                                let path = format!("{path}[{i}]");
                                #inner_checks
                            }
                        });
                    }
                }
            }
            _ => {}
        }
        quote!(#(#out)*)
    }

    /// Whether values of `ty` may contain named types that validate themselves.
    pub(crate) fn nests(&self, ty: &TypeRef) -> bool {
        match self.underlying(ty) {
            TypeRef::Named(n) => !matches!(self.types.get(n).map(|d| &d.kind), Some(TypeKind::StringEnum { .. })),
            TypeRef::Vec(inner) | TypeRef::Map(inner) | TypeRef::Boxed(inner) => self.nests(inner),
            _ => false,
        }
    }
}

fn opt_usize(v: Option<usize>) -> TokenStream {
    match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    }
}
