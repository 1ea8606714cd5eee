//! Lowers enum values to variants, named by `x-enum-varnames`/`x-enumNames` (else by the values themselves)
//! and documented by `x-enum-descriptions`.

use serde_json::Value;

use super::{Lowerer, ptr_join};
use crate::ir::EnumVariant;
use crate::ir::names::{Scope, variant};

impl<'a> Lowerer<'a> {
    /// The variants of an enum with wire `entries` (`None` for a `null` entry, which is not a variant):
    /// named by `x-enum-varnames` (or NSwag's `x-enumNames`) when it names every entry (or every non-null
    /// one), else by `fallback`; documented by `x-enum-descriptions` alike. A repeated value is one variant.
    pub(super) fn enum_variants(
        &mut self,
        entries: &[Option<String>],
        extensions: &indexmap::IndexMap<String, Value>,
        ptr: &str,
        fallback: impl Fn(&str) -> String,
    ) -> Vec<EnumVariant> {
        let strings = |name: &str| match extensions.get(name) {
            Some(Value::Array(items)) => {
                items.iter().map(|v| v.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>()
            }
            _ => None,
        };
        let values: Vec<&String> = entries.iter().flatten().collect();
        // One per entry, or one per non-null entry: either way, one per value.
        let align = |list: Vec<String>| -> Option<Vec<String>> {
            if list.len() == entries.len() {
                Some(entries.iter().zip(list).filter(|(e, _)| e.is_some()).map(|(_, n)| n).collect())
            } else if list.len() == values.len() {
                Some(list)
            } else {
                None
            }
        };
        let key = if extensions.contains_key("x-enum-varnames") { "x-enum-varnames" } else { "x-enumNames" };
        let names = match strings(key) {
            Some(names) => {
                let count = names.len();
                let aligned = align(names);
                if aligned.is_none() {
                    self.diags
                        .warning(
                            "W0109",
                            &ptr_join(ptr, key),
                            format!("{count} variant names for {} enum values; the names are not used", values.len()),
                        )
                        .help("give one name per value, in the order of `enum`");
                }
                aligned
            }
            None => None,
        };
        let docs = strings("x-enum-descriptions").and_then(align);
        let mut scope = Scope::with_reserved(&["Other"]);
        let mut seen = std::collections::BTreeSet::new();
        let mut variants = Vec::new();
        for (i, v) in values.iter().enumerate() {
            if !seen.insert(v.as_str()) {
                continue;
            }
            let name = match &names {
                Some(names) if !names[i].trim().is_empty() => variant(&names[i]),
                _ => fallback(v),
            };
            let doc = docs.as_ref().map(|d| d[i].trim().to_owned()).filter(|d| !d.is_empty());
            variants.push(EnumVariant { rust_name: scope.claim(name), api_name: (*v).clone(), doc });
        }
        variants
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::TypeKind;
    use crate::ir::lower::testing::lower_with_warnings;

    #[test]
    fn unions_of_consts_and_enum_name_extensions_name_the_variants() {
        let (api, warnings) = lower_with_warnings(
            "openapi: 3.1.0
info: {title: T, version: '1'}
paths: {}
components:
  schemas:
    ReactionTypes:
      type: integer
      format: int32
      oneOf:
        - {title: NORMAL, description: Normal reaction type, const: 0}
        - {title: BURST, const: 1}
    Colour:
      oneOf: [{const: red, title: Crimson}, {const: green}]
    Mixed:
      oneOf: [{const: a}, {type: integer}]
    Legacy:
      type: string
      enum: [a, b]
      x-enum-varnames: [Alpha]
    Nullable:
      type: string
      nullable: true
      enum: [a, b, null]
      x-enum-varnames: [Alpha, Beta, Nothing]
    Dup:
      oneOf: [{const: 1, title: A}, {const: 1, title: B}]
",
        );
        assert_eq!(warnings, ["W0109"], "names that do not match the values are reported, not used");
        let variants = |name: &str| match &api.types[name].kind {
            TypeKind::IntEnum { variants, .. } | TypeKind::StringEnum { variants, .. } => {
                variants.iter().map(|v| (v.rust_name.clone(), v.api_name.clone(), v.doc.clone())).collect::<Vec<_>>()
            }
            other => panic!("{name}: not an enum: {other:?}"),
        };
        let v = |r: &str, a: &str, d: Option<&str>| (r.to_owned(), a.to_owned(), d.map(str::to_owned));
        assert_eq!(
            variants("ReactionTypes"),
            [v("Normal", "0", Some("Normal reaction type")), v("Burst", "1", None)],
            "an integer enum named by the members' titles"
        );
        assert!(matches!(api.types["ReactionTypes"].kind, TypeKind::IntEnum { .. }));
        // Not every member has a title: the values name the variants.
        assert_eq!(variants("Colour"), [v("Red", "red", None), v("Green", "green", None)]);
        assert!(matches!(api.types["Mixed"].kind, TypeKind::Untagged { .. }), "a real union stays one");
        assert_eq!(variants("Legacy"), [v("A", "a", None), v("B", "b", None)]);
        assert_eq!(variants("Nullable"), [v("Alpha", "a", None), v("Beta", "b", None)], "names of null entries skip");
        assert_eq!(variants("Dup"), [v("A", "1", None)], "a repeated value is one variant");
    }
}
