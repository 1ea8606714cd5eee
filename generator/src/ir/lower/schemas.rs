//! Lowers schemas to Rust types: component schemas to named [`TypeDef`]s (recursive references boxed),
//! objects to structs, and a schema used in place to its [`TypeRef`], naming a new type where it needs one.

use openapiv3::{AdditionalProperties, ReferenceOr, Schema, SchemaKind, Type, VariantOrUnknownOrEmpty};
use serde_json::Value;

use super::composition::effective_all_of;
use super::presence;
use super::{Lowerer, SCHEMA_PREFIX, join_doc, non_empty, ptr_join};
use crate::ir::names::{Scope, pascal, snake, variant};
use crate::ir::{Constraints, DefaultValue, Field, TypeDef, TypeKind, TypeRef};
use crate::spec::diag::escape_segment;

impl<'a> Lowerer<'a> {
    /// Lowers a component schema (once) and returns its type reference.
    pub(super) fn ensure_component(&mut self, reference: &str) -> TypeRef {
        let Some(rust) = self.component_names.get(reference).cloned() else {
            // Validation reports unresolved references; keep going with a JSON value.
            return TypeRef::Json;
        };
        if self.in_progress.contains(&rust) {
            return TypeRef::Boxed(Box::new(TypeRef::Named(rust)));
        }
        if self.types.contains_key(&rust) {
            return TypeRef::Named(rust);
        }
        let name = reference.trim_start_matches(SCHEMA_PREFIX);
        let ptr = format!("/components/schemas/{}", escape_segment(name));
        let entry = self.doc.components.as_ref().and_then(|c| c.schemas.get(name));
        let Some(entry) = entry else { return TypeRef::Json };
        self.in_progress.insert(rust.clone());
        let def = match entry {
            ReferenceOr::Reference { reference: target } => {
                let target_ty = self.ensure_component(target);
                Some(TypeDef {
                    rust_name: rust.clone(),
                    doc: None,
                    kind: TypeKind::Newtype(unbox(target_ty)),
                    deprecated: false,
                    source: ptr.clone(),
                })
            }
            ReferenceOr::Item(schema) => {
                let strip = self.stripped_tags.get(reference).cloned();
                self.define(&rust, schema, &ptr, strip.as_deref())
            }
        };
        self.in_progress.remove(&rust);
        if let Some(def) = def {
            self.types.insert(rust.clone(), def);
        }
        TypeRef::Named(rust)
    }

    /// Builds the definition of a named type from a schema.
    fn define(&mut self, rust: &str, schema: &Schema, ptr: &str, strip_tag: Option<&str>) -> Option<TypeDef> {
        let data = &schema.schema_data;
        let doc = join_doc(&[data.title.clone(), data.description.clone()]);
        let kind = match &schema.schema_kind {
            SchemaKind::Type(Type::Object(obj)) => self.lower_struct(
                rust,
                ObjectParts {
                    properties: &obj.properties,
                    required: &obj.required,
                    additional: obj.additional_properties.as_ref(),
                    rules: Vec::new(),
                },
                ptr,
                strip_tag,
            ),
            SchemaKind::Any(any)
                if !unknown_type(any) && (!any.properties.is_empty() || any.typ.as_deref() == Some("object")) =>
            {
                let rules = self.own_rules(any, &data.extensions, ptr);
                let parts = ObjectParts {
                    properties: &any.properties,
                    required: &any.required,
                    additional: any.additional_properties.as_ref(),
                    rules,
                };
                self.lower_struct(rust, parts, ptr, strip_tag)
            }
            SchemaKind::Type(Type::String(s)) if !s.enumeration.is_empty() => {
                let variants = self.enum_variants(&s.enumeration, &data.extensions, ptr, variant);
                if variants.is_empty() {
                    self.diags.warning("W0102", &ptr_join(ptr, "enum"), format!("enum `{rust}` has no string values"));
                }
                TypeKind::StringEnum { variants, open: self.open_enums }
            }
            SchemaKind::Type(Type::Integer(i)) if !i.enumeration.is_empty() => {
                let values: Vec<Option<String>> = i.enumeration.iter().map(|v| v.map(|v| v.to_string())).collect();
                let variants =
                    self.enum_variants(&values, &data.extensions, ptr, |v| format!("V{v}").replace('-', "Minus"));
                TypeKind::IntEnum { variants, open: self.open_enums }
            }
            SchemaKind::OneOf { one_of } => self.lower_union(rust, one_of, data.discriminator.as_ref(), ptr, "oneOf"),
            SchemaKind::AnyOf { any_of } => self.lower_union(rust, any_of, None, ptr, "anyOf"),
            // A documented reference (`allOf: [{$ref: X}, {description: ..}]`) names X; a lone member is
            // still merged into a struct of its own, as before.
            SchemaKind::AllOf { all_of } => match effective_all_of(all_of).as_slice() {
                [(i, only)] if all_of.len() > 1 => {
                    TypeKind::Newtype(unbox(self.inline_type(only, rust, &format!("{ptr}/allOf/{i}"))))
                }
                _ => self.lower_all_of(rust, all_of, ptr, Vec::new()),
            },
            // `allOf` with a presence rule beside it (`oneOf: [{required: [a]}, {required: [b]}]`).
            SchemaKind::Any(any) if presence::all_of_with_rule(any) => {
                let rules = self.own_rules(any, &data.extensions, ptr);
                self.lower_all_of(rust, &any.all_of, ptr, rules)
            }
            _ => TypeKind::Newtype(self.inline_type(&ReferenceOr::Item(schema.clone()), rust, ptr)),
        };
        Some(TypeDef { rust_name: rust.to_owned(), doc, kind, deprecated: data.deprecated, source: ptr.to_owned() })
    }

    pub(super) fn lower_struct(
        &mut self,
        rust: &str,
        object: ObjectParts<'_>,
        ptr: &str,
        strip_tag: Option<&str>,
    ) -> TypeKind {
        let ObjectParts { properties, required, additional, rules } = object;
        let mut scope = Scope::with_reserved(&[]);
        let mut fields = Vec::new();
        for (name, prop) in properties {
            if Some(name.as_str()) == strip_tag {
                continue;
            }
            let prop_ptr = ptr_join(&ptr_join(ptr, "properties"), name);
            let resolved = self.resolve_boxed(prop);
            let (read_only, write_only) =
                resolved.map_or((false, false), |s| (s.schema_data.read_only, s.schema_data.write_only));
            let (doc, nullable, deprecated) = match (prop, resolved) {
                (ReferenceOr::Item(s), _) => (
                    join_doc(&[s.schema_data.title.clone(), s.schema_data.description.clone()]),
                    s.schema_data.nullable,
                    s.schema_data.deprecated,
                ),
                (ReferenceOr::Reference { .. }, Some(s)) => {
                    (non_empty(&s.schema_data.description), s.schema_data.nullable, false)
                }
                (ReferenceOr::Reference { .. }, None) => (None, false, false),
            };
            let hint = format!("{rust}{}", pascal(name));
            let ty = self.inline_type(&unbox_ref(prop), &hint, &prop_ptr);
            let constraints = match resolved {
                Some(s) => self.constraints_of(s, &prop_ptr),
                None => Constraints::default(),
            };
            let listed = required.iter().any(|r| r == name);
            // A readOnly property is absent from requests and a writeOnly one from responses, so neither can
            // be required in both directions of one type.
            let required_here = listed && !read_only && !write_only;
            let default = match (required_here, resolved.and_then(|s| s.schema_data.default.as_ref())) {
                (false, Some(value)) => self.default_value(value, &ty, &ptr_join(&prop_ptr, "default")),
                _ => None,
            };
            let mut doc = doc;
            let mut notes = Vec::new();
            if read_only {
                notes.push("Read-only: sent by the server, ignored in requests.".to_owned());
            }
            if write_only {
                notes.push("Write-only: sent by clients, never in responses.".to_owned());
            }
            if let Some(value) = resolved.and_then(|s| s.schema_data.default.as_ref()) {
                notes.push(format!("Default: `{value}`."));
            }
            if !notes.is_empty() {
                let text = notes.join(" ");
                doc = Some(match doc {
                    Some(d) => format!("{d}\n\n{text}"),
                    None => text,
                });
            }
            fields.push(Field {
                rust_name: scope.claim(snake(name)),
                api_name: name.clone(),
                doc,
                ty,
                required: required_here,
                nullable,
                deprecated,
                constraints,
                default,
            });
        }
        for r in required {
            if !properties.contains_key(r) && Some(r.as_str()) != strip_tag {
                self.diags
                    .warning("W0101", &ptr_join(ptr, "required"), format!("required property `{r}` is not defined"))
                    .help(format!("add `{r}` under `properties` or remove it from `required`"));
            }
        }
        let (deny_unknown, additional) = match additional {
            Some(AdditionalProperties::Any(false)) => (true, None),
            Some(AdditionalProperties::Any(true)) => (false, Some(TypeRef::Json)),
            Some(AdditionalProperties::Schema(s)) => {
                let hint = format!("{rust}Value");
                (false, Some(self.inline_type(s, &hint, &ptr_join(ptr, "additionalProperties"))))
            }
            None => (false, None),
        };
        let rules = self.settle_rules(rules, |name| properties.contains_key(name));
        TypeKind::Struct { fields, deny_unknown, additional, rules }
    }

    /// The type of a schema used in place: primitives inline, objects/enums/unions as new named types.
    pub(super) fn inline_type(&mut self, schema: &ReferenceOr<Schema>, hint: &str, ptr: &str) -> TypeRef {
        let schema = match schema {
            ReferenceOr::Reference { reference } => {
                if reference.starts_with(SCHEMA_PREFIX) {
                    return self.ensure_component(reference);
                }
                self.diags.warning("W0206", ptr, format!("`{reference}` is not a schema reference")).help(
                    "authgen uses a free-form JSON value (`serde_json::Value`) here; schemas must reference \
                         `#/components/schemas/...`",
                );
                return TypeRef::Json;
            }
            ReferenceOr::Item(s) => s,
        };
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => {
                if s.enumeration.is_empty() {
                    self.string_type(&s.format)
                } else {
                    self.new_named(hint, schema, ptr)
                }
            }
            SchemaKind::Type(Type::Integer(i)) if !i.enumeration.is_empty() => self.new_named(hint, schema, ptr),
            SchemaKind::Type(Type::Integer(i)) => match i.format {
                VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int32) => TypeRef::I32,
                _ => TypeRef::I64,
            },
            SchemaKind::Type(Type::Number(n)) => match n.format {
                VariantOrUnknownOrEmpty::Item(openapiv3::NumberFormat::Float) => TypeRef::F32,
                _ => TypeRef::F64,
            },
            SchemaKind::Type(Type::Boolean(_)) => TypeRef::Bool,
            SchemaKind::Type(Type::Array(a)) => match &a.items {
                Some(items) => {
                    let item_ty = self.inline_type(&unbox_ref(items), &format!("{hint}Item"), &ptr_join(ptr, "items"));
                    TypeRef::Vec(Box::new(unbox(item_ty)))
                }
                None => TypeRef::Vec(Box::new(TypeRef::Json)),
            },
            SchemaKind::Type(Type::Object(o)) if o.properties.is_empty() => match &o.additional_properties {
                Some(AdditionalProperties::Schema(s)) => {
                    let v = self.inline_type(s, &format!("{hint}Value"), &ptr_join(ptr, "additionalProperties"));
                    TypeRef::Map(Box::new(unbox(v)))
                }
                Some(AdditionalProperties::Any(false)) => self.new_named(hint, schema, ptr),
                _ => TypeRef::Map(Box::new(TypeRef::Json)),
            },
            SchemaKind::Type(Type::Object(_)) | SchemaKind::OneOf { .. } | SchemaKind::AnyOf { .. } => {
                self.new_named(hint, schema, ptr)
            }
            SchemaKind::AllOf { all_of } => match effective_all_of(all_of).as_slice() {
                [(i, only)] => self.inline_type(only, hint, &format!("{ptr}/allOf/{i}")),
                _ => self.new_named(hint, schema, ptr),
            },
            SchemaKind::Any(a) if unknown_type(a) => {
                let typ = a.typ.as_deref().unwrap_or_default();
                self.diags
                    .error("E0101", &ptr_join(ptr, "type"), format!("unknown schema type `{typ}`"))
                    .label("not a JSON Schema type")
                    .help("use `string`, `number`, `integer`, `boolean`, `array` or `object`");
                TypeRef::Json
            }
            SchemaKind::Any(a) if !a.properties.is_empty() || presence::all_of_with_rule(a) => {
                self.new_named(hint, schema, ptr)
            }
            // `additionalProperties` without `type: object` (common in 3.1 specs) is still a map.
            SchemaKind::Any(a)
                if a.typ.is_none() && a.one_of.is_empty() && a.any_of.is_empty() && a.all_of.is_empty() =>
            {
                match &a.additional_properties {
                    Some(AdditionalProperties::Schema(s)) => {
                        let v = self.inline_type(s, &format!("{hint}Value"), &ptr_join(ptr, "additionalProperties"));
                        TypeRef::Map(Box::new(unbox(v)))
                    }
                    Some(AdditionalProperties::Any(true)) => TypeRef::Map(Box::new(TypeRef::Json)),
                    _ => TypeRef::Json,
                }
            }
            SchemaKind::Not { .. } => {
                self.diags
                    .warning("W0105", ptr, "`not` schemas are not checked; the value is kept as JSON")
                    .help("describe the allowed values positively, for example with `enum`");
                TypeRef::Json
            }
            _ => TypeRef::Json,
        }
    }

    pub(super) fn new_named(&mut self, hint: &str, schema: &Schema, ptr: &str) -> TypeRef {
        let rust = self.type_scope.claim(pascal(hint));
        if let Some(def) = self.define(&rust, schema, ptr, None) {
            self.types.insert(rust.clone(), def);
        }
        TypeRef::Named(rust)
    }

    /// A new named type for `schema` whose struct leaves property `tag` to the enum that carries it.
    pub(super) fn new_named_without(&mut self, hint: &str, schema: &Schema, ptr: &str, tag: &str) -> TypeRef {
        let rust = self.type_scope.claim(pascal(hint));
        if let Some(def) = self.define(&rust, schema, ptr, Some(tag)) {
            self.types.insert(rust.clone(), def);
        }
        TypeRef::Named(rust)
    }

    /// A `default` as a Rust value of `ty`, when it is a scalar or an enum value; other defaults stay
    /// documentation (with a warning) and the field stays optional.
    fn default_value(&mut self, value: &Value, ty: &TypeRef, ptr: &str) -> Option<DefaultValue> {
        let found = match (ty, value) {
            (TypeRef::String, Value::String(s)) => Some(DefaultValue::String(s.clone())),
            (TypeRef::Bool, Value::Bool(b)) => Some(DefaultValue::Bool(*b)),
            (TypeRef::I32 | TypeRef::I64, Value::Number(n)) => n.as_i64().map(DefaultValue::Int),
            (TypeRef::F32 | TypeRef::F64, Value::Number(n)) => n.as_f64().map(DefaultValue::Float),
            (TypeRef::Named(name), v) => match self.types.get(name).map(|d| &d.kind) {
                Some(TypeKind::StringEnum { variants, .. } | TypeKind::IntEnum { variants, .. }) => {
                    let wire = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    variants
                        .iter()
                        .find(|var| var.api_name == wire)
                        .map(|var| DefaultValue::Variant(var.rust_name.clone()))
                }
                _ => None,
            },
            _ => None,
        };
        if found.is_none() {
            self.diags
                .warning("W0107", ptr, format!("default `{value}` is kept as documentation only"))
                .help("defaults are applied for strings, numbers, booleans and enum values of the property's type");
        }
        found
    }
}

/// A `type` that is none of the six OpenAPI 3.0 types (openapiv3 keeps such a schema as "any").
/// What an object schema (or an `allOf` merged into one) gives its struct.
pub(super) struct ObjectParts<'s> {
    pub(super) properties: &'s indexmap::IndexMap<String, ReferenceOr<Box<Schema>>>,
    pub(super) required: &'s [String],
    pub(super) additional: Option<&'s AdditionalProperties>,
    /// Presence rules, before their properties are checked.
    pub(super) rules: Vec<presence::FoundRule>,
}

pub(super) fn unknown_type(schema: &openapiv3::AnySchema) -> bool {
    schema.typ.as_deref().is_some_and(|t| !["string", "number", "integer", "boolean", "array", "object"].contains(&t))
}

pub(super) fn unbox(t: TypeRef) -> TypeRef {
    match t {
        TypeRef::Boxed(inner) => *inner,
        other => other,
    }
}

fn unbox_ref(r: &ReferenceOr<Box<Schema>>) -> ReferenceOr<Schema> {
    match r {
        ReferenceOr::Item(s) => ReferenceOr::Item((**s).clone()),
        ReferenceOr::Reference { reference } => ReferenceOr::Reference { reference: reference.clone() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::lower::testing::{HEAD, lower, lower_with_warnings};

    #[test]
    fn fields_know_required_and_nullable() {
        let api = lower(&format!(
            "{HEAD}paths: {{}}
components:
  schemas:
    P:
      type: object
      required: [a, b]
      properties:
        a: {{type: string}}
        b: {{type: string, nullable: true}}
        c: {{type: integer, format: int32}}
        d: {{type: number, nullable: true}}
        type: {{type: boolean}}
"
        ));
        let TypeKind::Struct { fields, .. } = &api.types["P"].kind else { panic!() };
        let got: Vec<(&str, &str, bool, bool)> =
            fields.iter().map(|f| (f.rust_name.as_str(), f.api_name.as_str(), f.required, f.nullable)).collect();
        assert_eq!(
            got,
            [
                ("a", "a", true, false),
                ("b", "b", true, true),
                ("c", "c", false, false),
                ("d", "d", false, true),
                ("type_", "type", false, false)
            ]
        );
        assert_eq!(fields[2].ty, TypeRef::I32);
    }

    #[test]
    fn recursive_references_are_boxed() {
        let api = lower(&format!(
            "{HEAD}paths: {{}}
components:
  schemas:
    Node:
      type: object
      properties:
        next: {{$ref: '#/components/schemas/Node'}}
        children: {{type: array, items: {{$ref: '#/components/schemas/Node'}}}}
"
        ));
        let TypeKind::Struct { fields, .. } = &api.types["Node"].kind else { panic!() };
        assert_eq!(fields[0].ty, TypeRef::Boxed(Box::new(TypeRef::Named("Node".into()))));
        assert_eq!(fields[1].ty, TypeRef::Vec(Box::new(TypeRef::Named("Node".into()))), "a Vec needs no Box");
    }

    #[test]
    fn openapi_31_null_types_and_keyword_named_properties_are_read() {
        let (api, warnings) = lower_with_warnings(
            "openapi: 3.1.0
info: {title: T, version: '1'}
paths: {}
components:
  schemas:
    S:
      type: object
      properties:
        default: {type: [boolean, 'null']}
        enum: {type: 'null'}
        either: {type: [string, integer]}
        union: {oneOf: [{type: string}, {type: integer}, {type: 'null'}]}
",
        );
        assert_eq!(warnings, ["W0108"]);
        let TypeKind::Struct { fields, .. } = &api.types["S"].kind else { panic!("not a struct") };
        let shape: Vec<(&str, &TypeRef, bool)> =
            fields.iter().map(|f| (f.api_name.as_str(), &f.ty, f.nullable)).collect();
        assert_eq!(shape[0], ("default", &TypeRef::Bool, true), "a property called `default` is a schema");
        assert_eq!(shape[1], ("enum", &TypeRef::Json, true));
        assert_eq!(shape[2], ("either", &TypeRef::Json, false));
        assert_eq!((shape[3].0, shape[3].2), ("union", true));
        let TypeRef::Named(union) = shape[3].1 else { panic!("the union is a named type") };
        let TypeKind::Untagged { variants } = &api.types[union].kind else { panic!("not untagged") };
        assert_eq!(variants.len(), 2, "the null member is dropped");
    }
}
