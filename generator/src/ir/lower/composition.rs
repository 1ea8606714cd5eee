//! Lowers the composition keywords: `oneOf`/`anyOf` to tagged enums (with a `discriminator`) or untagged ones,
//! and `allOf` to one struct that merges its members.

use openapiv3::{AdditionalProperties, ReferenceOr, Schema, SchemaKind, Type};
use serde_json::Value;

use super::presence;
use super::schemas::{ObjectParts, unbox};
use super::{Lowerer, SCHEMA_PREFIX, ptr_join};
use crate::ir::names::{Scope, pascal, variant};
use crate::ir::{TaggedVariant, TypeKind, UntaggedVariant};

impl<'a> Lowerer<'a> {
    /// Finds every `oneOf` + `discriminator` and records which member schemas carry the tag property,
    /// so their structs leave it to the enum.
    pub(super) fn find_tagged_members(&mut self) {
        let Ok(doc) = serde_json::to_value(self.doc) else { return };
        let mut stack = vec![&doc];
        while let Some(node) = stack.pop() {
            match node {
                Value::Object(map) => {
                    if let (Some(Value::Array(members)), Some(disc)) = (map.get("oneOf"), map.get("discriminator"))
                        && let Some(prop) = disc.get("propertyName").and_then(Value::as_str)
                        && members.iter().all(|m| m.get("$ref").is_some() || pinned_tag(m, prop).is_some())
                    {
                        for m in members {
                            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                                self.stripped_tags.insert(r.to_owned(), prop.to_owned());
                            }
                        }
                    }
                    stack.extend(map.iter().filter(|(k, _)| *k != "example" && *k != "examples").map(|(_, v)| v));
                }
                Value::Array(items) => stack.extend(items.iter()),
                _ => {}
            }
        }
    }

    pub(super) fn lower_union(
        &mut self,
        rust: &str,
        members: &[ReferenceOr<Schema>],
        discriminator: Option<&openapiv3::Discriminator>,
        ptr: &str,
        keyword: &str,
    ) -> TypeKind {
        let mut scope = Scope::with_reserved(&[]);
        // Inline members can still be told apart by the tag when each pins it to one value; otherwise the union
        // is untagged, its members tried in order.
        let tags: Vec<Option<String>> = members
            .iter()
            .map(|m| match m {
                ReferenceOr::Reference { .. } => None,
                ReferenceOr::Item(_) => discriminator
                    .and_then(|d| pinned_tag(&serde_json::to_value(m).unwrap_or_default(), &d.property_name)),
            })
            .collect();
        let tagged = members.iter().zip(&tags).all(|(m, t)| matches!(m, ReferenceOr::Reference { .. }) || t.is_some());
        if let Some(disc) = discriminator {
            for (i, m) in members.iter().enumerate() {
                if let ReferenceOr::Item(_) = m {
                    let prop = &disc.property_name;
                    let help = match &tags[i] {
                        Some(value) if tagged => format!(
                            "authgen still generates a tagged enum, with this member as `{prop}: {value}`; to follow \
                             OpenAPI, move the schema to `components/schemas` and reference it"
                        ),
                        _ => format!(
                            "authgen generates an untagged enum instead (its members tried in order); pin `{prop}` \
                             with a one-value `enum` in every inline member, or move the schema to \
                             `components/schemas` and reference it"
                        ),
                    };
                    self.diags
                        .warning(
                            "W0113",
                            &format!("{ptr}/{keyword}/{i}"),
                            "a `oneOf` with a `discriminator` lists an inline schema",
                        )
                        .label("inline schema")
                        .help(help);
                }
            }
        }
        if let Some(disc) = discriminator.filter(|_| tagged) {
            let mut variants = Vec::new();
            for (i, m) in members.iter().enumerate() {
                let m_ptr = format!("{ptr}/{keyword}/{i}");
                let reference = match (m, &tags[i]) {
                    (ReferenceOr::Reference { reference }, _) => reference,
                    (ReferenceOr::Item(schema), Some(value)) => {
                        let name = scope.claim(variant(value));
                        let ty = self.new_named_without(&format!("{rust}{name}"), schema, &m_ptr, &disc.property_name);
                        variants.push(TaggedVariant { rust_name: name, api_name: value.clone(), ty });
                        continue;
                    }
                    (ReferenceOr::Item(_), None) => continue,
                };
                let schema_name = reference.rsplit('/').next().unwrap_or(reference).to_owned();
                // Mapping keys whose value names this member, by full reference or by schema name.
                let mut wire: Vec<&String> = disc
                    .mapping
                    .iter()
                    .filter(|(_, target)| *target == reference || **target == schema_name)
                    .map(|(k, _)| k)
                    .collect();
                if wire.is_empty() {
                    wire.push(&schema_name);
                }
                let ty = self.ensure_component(reference);
                for value in wire {
                    variants.push(TaggedVariant {
                        rust_name: scope.claim(variant(value)),
                        api_name: value.clone(),
                        ty: unbox(ty.clone()),
                    });
                }
            }
            for (key, target) in &disc.mapping {
                let target_ref =
                    if target.starts_with('#') { target.clone() } else { format!("{SCHEMA_PREFIX}{target}") };
                let listed = members
                    .iter()
                    .any(|m| matches!(m, ReferenceOr::Reference { reference } if *reference == target_ref));
                if !listed {
                    self.diags
                        .error(
                            "E0104",
                            &ptr_join(&ptr_join(&format!("{ptr}/discriminator"), "mapping"), key),
                            format!("discriminator mapping `{key}` points to `{target}`, which is not in `oneOf`"),
                        )
                        .help("add the schema to `oneOf` or remove the mapping entry");
                }
            }
            return TypeKind::Tagged { tag: disc.property_name.clone(), variants };
        }
        let mut variants = Vec::new();
        for (i, m) in members.iter().enumerate() {
            let m_ptr = format!("{ptr}/{keyword}/{i}");
            let name = match m {
                ReferenceOr::Reference { reference } => variant(reference.rsplit('/').next().unwrap_or("Variant")),
                ReferenceOr::Item(s) => match &s.schema_kind {
                    // A typed format names its member: `DateTime(DateTime<Utc>)`, not `String(DateTime<Utc>)`.
                    SchemaKind::Type(Type::String(st)) => match self.string_type(&st.format).format_name() {
                        Some(format) => pascal(format),
                        None => "String".to_owned(),
                    },
                    SchemaKind::Type(Type::Integer(_)) => "Integer".to_owned(),
                    SchemaKind::Type(Type::Number(_)) => "Number".to_owned(),
                    SchemaKind::Type(Type::Boolean(_)) => "Boolean".to_owned(),
                    SchemaKind::Type(Type::Array(_)) => "Array".to_owned(),
                    _ => format!("Variant{i}"),
                },
            };
            let name = scope.claim(name.trim_end_matches('_').to_owned());
            let ty = self.inline_type(m, &format!("{rust}{name}"), &m_ptr);
            variants.push(UntaggedVariant { rust_name: name, ty });
        }
        TypeKind::Untagged { variants }
    }

    /// Merges `members` into one struct; `own_rules` are the presence rules written beside the `allOf`, checked
    /// after the members' own.
    pub(super) fn lower_all_of(
        &mut self,
        rust: &str,
        members: &[ReferenceOr<Schema>],
        ptr: &str,
        own_rules: Vec<presence::FoundRule>,
    ) -> TypeKind {
        let mut merged = Merged::default();
        self.merge_all_of(members, ptr, 0, &mut merged);
        merged.rules.extend(own_rules);
        let parts = ObjectParts {
            properties: &merged.properties,
            required: &merged.required,
            additional: merged.additional.as_ref(),
            rules: merged.rules,
        };
        self.lower_struct(rust, parts, ptr, None)
    }

    /// Collects the properties of every object member, following nested `allOf`s (a member that references
    /// a schema which is itself an `allOf`) up to a fixed depth, which also stops reference cycles.
    fn merge_all_of(&mut self, members: &[ReferenceOr<Schema>], ptr: &str, depth: usize, out: &mut Merged) {
        for (i, m) in members.iter().enumerate() {
            let m_ptr = format!("{ptr}/allOf/{i}");
            if annotation_only(m) {
                continue;
            }
            if let (Some(expr), ReferenceOr::Item(s)) = (presence::presence_of(m), m) {
                let message = self.rule_message(&s.schema_data.extensions, &m_ptr);
                match (presence::plain_required(&expr), message) {
                    // `allOf: [{$ref: Base}, {required: [id]}]`: the fields are required, in the type itself.
                    (Some(names), None) => out.required.extend(names),
                    (_, message) => out.rules.push(presence::FoundRule { expr, message, ptr: m_ptr }),
                }
                continue;
            }
            let Some(s) = self.resolve(m) else { continue };
            match &s.schema_kind {
                SchemaKind::Type(Type::Object(o)) => {
                    out.properties.extend(o.properties.iter().map(|(k, v)| (k.clone(), v.clone())));
                    out.required.extend(o.required.iter().cloned());
                    if o.additional_properties.is_some() {
                        out.additional = o.additional_properties.clone();
                    }
                }
                SchemaKind::Any(a) if !a.properties.is_empty() => {
                    out.properties.extend(a.properties.iter().map(|(k, v)| (k.clone(), v.clone())));
                    out.required.extend(a.required.iter().cloned());
                }
                SchemaKind::AllOf { all_of } if depth < 8 => {
                    let nested_ptr = match m {
                        ReferenceOr::Reference { reference } => reference.trim_start_matches('#').to_owned(),
                        ReferenceOr::Item(_) => m_ptr,
                    };
                    self.merge_all_of(all_of, &nested_ptr, depth + 1, out);
                }
                SchemaKind::AllOf { .. } => {
                    self.diags
                        .warning(
                            "W0103",
                            &m_ptr,
                            "`allOf` nested too deeply is not merged; its properties are left out",
                        )
                        .help("flatten the nested `allOf` into its parent");
                }
                _ => {
                    self.diags
                        .warning("W0104", &m_ptr, "`allOf` member is not an object; it is ignored")
                        .help("allOf merges object schemas; express other constraints on the properties");
                }
            }
        }
    }
}

/// The one value an inline `oneOf` member gives the discriminator property `prop` (`{enum: [cat]}`, or a 3.1
/// `const`, which loading turned into such an enum), in the JSON form of the member.
fn pinned_tag(member: &Value, prop: &str) -> Option<String> {
    let values = member.get("properties")?.get(prop)?.get("enum")?.as_array()?;
    match values.as_slice() {
        [Value::String(one)] => Some(one.clone()),
        _ => None,
    }
}

/// What `allOf` members contribute to the merged struct.
#[derive(Default)]
struct Merged {
    properties: indexmap::IndexMap<String, ReferenceOr<Box<Schema>>>,
    required: Vec<String>,
    additional: Option<AdditionalProperties>,
    /// Members that only say which properties are present.
    rules: Vec<presence::FoundRule>,
}

/// An `allOf` member that only annotates (`{description: ..}`, `{nullable: true}`): no type of its own.
fn annotation_only(member: &ReferenceOr<Schema>) -> bool {
    matches!(member, ReferenceOr::Item(s) if matches!(&s.schema_kind, SchemaKind::Any(a) if *a == openapiv3::AnySchema::default()))
}

/// The `allOf` members that constrain the value, with their index. `allOf: [{$ref: X}, {description: ..}]`,
/// the usual way to document a reference, has one: X.
pub(super) fn effective_all_of(members: &[ReferenceOr<Schema>]) -> Vec<(usize, &ReferenceOr<Schema>)> {
    members.iter().enumerate().filter(|(_, m)| !annotation_only(m)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::lower::testing::{HEAD, lower, lower_with_warnings};
    use crate::ir::{Api, TypeRef};

    #[test]
    fn discriminated_one_of_becomes_a_tagged_enum_honouring_mapping() {
        let api = lower(&format!(
            "{HEAD}paths: {{}}
components:
  schemas:
    R:
      oneOf: [{{$ref: '#/components/schemas/A'}}, {{$ref: '#/components/schemas/B'}}]
      discriminator:
        propertyName: status
        mapping: {{OK: '#/components/schemas/A', ERR: B}}
    A: {{type: object, required: [status, x], properties: {{status: {{type: string}}, x: {{type: integer}}}}}}
    B: {{type: object, properties: {{status: {{type: string}}}}}}
"
        ));
        let TypeKind::Tagged { tag, variants } = &api.types["R"].kind else { panic!("not tagged") };
        assert_eq!(tag, "status");
        let v: Vec<(&str, &str)> = variants.iter().map(|v| (v.rust_name.as_str(), v.api_name.as_str())).collect();
        assert_eq!(v, [("Ok", "OK"), ("Err", "ERR")]);
        // The tag property is carried by the enum, not by the variant structs.
        let TypeKind::Struct { fields, .. } = &api.types["A"].kind else { panic!() };
        assert_eq!(fields.iter().map(|f| f.api_name.as_str()).collect::<Vec<_>>(), ["x"]);
        assert_eq!(fields[0].ty, TypeRef::I64);
    }

    fn field_names(api: &Api, ty: &str) -> Vec<String> {
        let TypeKind::Struct { fields, .. } = &api.types[ty].kind else { panic!("{ty} is not a struct") };
        fields.iter().map(|f| format!("{}{}", f.api_name, if f.required { "!" } else { "" })).collect()
    }

    #[test]
    fn all_of_beside_properties_nested_and_documenting_a_reference_is_merged() {
        let (api, warnings) = lower_with_warnings(&format!(
            "{HEAD}paths: {{}}
components:
  schemas:
    Base: {{type: object, required: [id], properties: {{id: {{type: string}}}}}}
    Documented:
      allOf: [{{$ref: '#/components/schemas/Base'}}, {{description: the base, documented}}]
    Page:
      type: object
      required: [entries]
      allOf: [{{$ref: '#/components/schemas/Base'}}]
      properties: {{entries: {{type: array, items: {{type: string}}}}}}
    Nested:
      allOf: [{{$ref: '#/components/schemas/Page'}}, {{properties: {{extra: {{type: boolean}}}}}}]
"
        ));
        assert_eq!(warnings, Vec::<&str>::new());
        assert!(
            matches!(&api.types["Documented"].kind, TypeKind::Newtype(TypeRef::Named(n)) if n == "Base"),
            "a documented reference names the referenced type"
        );
        assert_eq!(field_names(&api, "Page"), ["id!", "entries!"], "the allOf beside `properties` is not dropped");
        assert_eq!(field_names(&api, "Nested"), ["id!", "entries!", "extra"], "nested allOf is merged");
    }
}
