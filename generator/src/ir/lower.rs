//! Lower stage: `openapiv3::OpenAPI` -> [`Api`]. The only module that names openapiv3 types.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{
    APIKeyLocation, AdditionalProperties, OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema,
    SchemaKind, StatusCode, Type, VariantOrUnknownOrEmpty,
};
use serde_json::Value;

use super::names::{Scope, derived_operation_id, pascal, snake, status_variant, variant};
use super::{
    Api, BodyKind, Constraints, CorsPolicy, DefaultValue, EnumVariant, Field, HeaderDef, ObjectStyle, Operation, Param,
    ParamLocation, Part, PartKind, RequestBody, Response, ResponseBody, ResponseStatus, SecurityKind, SecurityScheme,
    TaggedVariant, TypeDef, TypeKind, TypeRef, UntaggedVariant, is_scalar_or_enum, through_newtypes,
};
use crate::settings::Settings;
use crate::spec::diag::{Diagnostics, Severity, escape_segment};
use crate::spec::load::LoadedSpec;

const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// Lowers a validated spec. Returns the IR and the warnings, or every error found.
pub fn lower_spec(spec: &LoadedSpec, settings: &Settings) -> Result<(Api, Diagnostics), Diagnostics> {
    let mut lowerer = Lowerer::new(spec);
    lowerer.open_enums = settings.open_enums();
    lowerer.string_formats = settings.string_formats();
    let api = lowerer.lower(settings);
    let diags = lowerer.diags.propagate()?;
    Ok((api, diags))
}

struct Lowerer<'a> {
    doc: &'a OpenAPI,
    diags: Diagnostics,
    types: BTreeMap<String, TypeDef>,
    type_scope: Scope,
    /// `#/components/schemas/X` -> Rust name.
    component_names: BTreeMap<String, String>,
    /// Component schemas being lowered right now, to box recursive references.
    in_progress: BTreeSet<String>,
    /// Component schemas whose `status`-like property is carried by a tagged enum: ref -> property.
    stripped_tags: BTreeMap<String, String>,
    /// Enums get a catch-all variant.
    open_enums: bool,
    /// `date-time`, `date`, `uuid` and `byte` stay `String`.
    string_formats: bool,
}

/// A media type without its parameters, lower case.
fn media_essence(ct: &str) -> String {
    ct.split(';').next().unwrap_or(ct).trim().to_ascii_lowercase()
}

/// `type: string, format: binary`: a file part in a multipart body (3.1's `contentEncoding: binary` and
/// `contentMediaType` are rewritten to this when the document is read).
fn is_binary(schema: &Schema) -> bool {
    matches!(
        &schema.schema_kind,
        SchemaKind::Type(Type::String(s)) if s.format == VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Binary)
    )
}

fn ptr_join(base: &str, seg: &str) -> String {
    format!("{base}/{}", escape_segment(seg))
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn join_doc(parts: &[Option<String>]) -> Option<String> {
    let parts: Vec<String> = parts.iter().filter_map(non_empty).collect();
    if parts.is_empty() { None } else { Some(parts.join("\n\n")) }
}

impl<'a> Lowerer<'a> {
    fn new(spec: &'a LoadedSpec) -> Self {
        Self {
            doc: &spec.document,
            diags: Diagnostics::new(spec.source.clone()),
            types: BTreeMap::new(),
            type_scope: Scope::with_reserved(&[]),
            component_names: BTreeMap::new(),
            in_progress: BTreeSet::new(),
            stripped_tags: BTreeMap::new(),
            open_enums: false,
            string_formats: false,
        }
    }

    fn lower(&mut self, settings: &Settings) -> Api {
        let doc = self.doc;
        self.find_tagged_members();
        if let Some(components) = &doc.components {
            for name in components.schemas.keys() {
                let rust = self.type_scope.claim(pascal(name));
                self.component_names.insert(format!("{SCHEMA_PREFIX}{name}"), rust);
            }
            for name in components.schemas.keys() {
                self.ensure_component(&format!("{SCHEMA_PREFIX}{name}"));
            }
        }
        let security_schemes = self.lower_security_schemes();
        let operations = self.lower_operations(&security_schemes);
        let cors = derive_cors(&operations, &security_schemes);
        let trait_name = match settings.trait_name() {
            Some(t) => t.to_owned(),
            None => {
                let base = pascal(&doc.info.title);
                if base.ends_with("Api") { base } else { format!("{base}Api") }
            }
        };
        Api {
            title: doc.info.title.clone(),
            description: non_empty(&doc.info.description),
            version: doc.info.version.clone(),
            trait_name,
            types: std::mem::take(&mut self.types),
            operations,
            security_schemes,
            cors,
        }
    }

    /// Finds every `oneOf` + `discriminator` and records which member schemas carry the tag property,
    /// so their structs leave it to the enum.
    fn find_tagged_members(&mut self) {
        let Ok(doc) = serde_json::to_value(self.doc) else { return };
        let mut stack = vec![&doc];
        while let Some(node) = stack.pop() {
            match node {
                Value::Object(map) => {
                    if let (Some(Value::Array(members)), Some(disc)) = (map.get("oneOf"), map.get("discriminator"))
                        && let Some(prop) = disc.get("propertyName").and_then(Value::as_str)
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

    fn component_schema(&self, reference: &str) -> Option<&'a Schema> {
        let name = reference.strip_prefix(SCHEMA_PREFIX)?;
        match self.doc.components.as_ref()?.schemas.get(name)? {
            ReferenceOr::Item(s) => Some(s),
            ReferenceOr::Reference { reference } => self.component_schema(reference),
        }
    }

    /// Resolves a schema reference chain to the schema itself.
    fn resolve<'s>(&self, schema: &'s ReferenceOr<Schema>) -> Option<&'s Schema>
    where
        'a: 's,
    {
        match schema {
            ReferenceOr::Item(s) => Some(s),
            ReferenceOr::Reference { reference } => self.component_schema(reference),
        }
    }

    fn resolve_boxed<'s>(&self, schema: &'s ReferenceOr<Box<Schema>>) -> Option<&'s Schema>
    where
        'a: 's,
    {
        match schema {
            ReferenceOr::Item(s) => Some(s),
            ReferenceOr::Reference { reference } => self.component_schema(reference),
        }
    }

    /// Lowers a component schema (once) and returns its type reference.
    fn ensure_component(&mut self, reference: &str) -> TypeRef {
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
                &obj.properties,
                &obj.required,
                obj.additional_properties.as_ref(),
                ptr,
                strip_tag,
            ),
            SchemaKind::Any(any)
                if !unknown_type(any) && (!any.properties.is_empty() || any.typ.as_deref() == Some("object")) =>
            {
                self.lower_struct(
                    rust,
                    &any.properties,
                    &any.required,
                    any.additional_properties.as_ref(),
                    ptr,
                    strip_tag,
                )
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
                _ => self.lower_all_of(rust, all_of, ptr),
            },
            _ => TypeKind::Newtype(self.inline_type(&ReferenceOr::Item(schema.clone()), rust, ptr)),
        };
        Some(TypeDef { rust_name: rust.to_owned(), doc, kind, deprecated: data.deprecated, source: ptr.to_owned() })
    }

    fn lower_struct(
        &mut self,
        rust: &str,
        properties: &indexmap::IndexMap<String, ReferenceOr<Box<Schema>>>,
        required: &[String],
        additional: Option<&AdditionalProperties>,
        ptr: &str,
        strip_tag: Option<&str>,
    ) -> TypeKind {
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
        TypeKind::Struct { fields, deny_unknown, additional }
    }

    /// The variants of an enum with wire `entries` (`None` for a `null` entry, which is not a variant):
    /// named by `x-enum-varnames` (or NSwag's `x-enumNames`) when it names every entry (or every non-null
    /// one), else by `fallback`; documented by `x-enum-descriptions` alike. A repeated value is one variant.
    fn enum_variants(
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

    fn lower_union(
        &mut self,
        rust: &str,
        members: &[ReferenceOr<Schema>],
        discriminator: Option<&openapiv3::Discriminator>,
        ptr: &str,
        keyword: &str,
    ) -> TypeKind {
        let mut scope = Scope::with_reserved(&[]);
        if let Some(disc) = discriminator {
            let mut variants = Vec::new();
            for (i, m) in members.iter().enumerate() {
                let m_ptr = format!("{ptr}/{keyword}/{i}");
                let ReferenceOr::Reference { reference } = m else {
                    self.diags
                        .error("E0103", &m_ptr, "a `oneOf` with a `discriminator` must list `$ref`s only")
                        .label("inline schema")
                        .help("move this schema to `components/schemas` and reference it");
                    continue;
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
                    SchemaKind::Type(Type::String(_)) => "String".to_owned(),
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

    fn lower_all_of(&mut self, rust: &str, members: &[ReferenceOr<Schema>], ptr: &str) -> TypeKind {
        let mut merged = Merged::default();
        self.merge_all_of(members, ptr, 0, &mut merged);
        self.lower_struct(rust, &merged.properties, &merged.required, merged.additional.as_ref(), ptr, None)
    }

    /// Collects the properties of every object member, following nested `allOf`s (a member that references
    /// a schema which is itself an `allOf`) up to a fixed depth, which also stops reference cycles.
    fn merge_all_of(&mut self, members: &[ReferenceOr<Schema>], ptr: &str, depth: usize, out: &mut Merged) {
        for (i, m) in members.iter().enumerate() {
            let m_ptr = format!("{ptr}/allOf/{i}");
            if annotation_only(m) {
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

    /// The type of a schema used in place: primitives inline, objects/enums/unions as new named types.
    fn inline_type(&mut self, schema: &ReferenceOr<Schema>, hint: &str, ptr: &str) -> TypeRef {
        let schema = match schema {
            ReferenceOr::Reference { reference } => {
                if reference.starts_with(SCHEMA_PREFIX) {
                    return self.ensure_component(reference);
                }
                self.diags
                    .error("E0203", ptr, format!("`{reference}` is not a schema reference"))
                    .help("schemas must reference `#/components/schemas/...`");
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
            SchemaKind::Any(a) if !a.properties.is_empty() => self.new_named(hint, schema, ptr),
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

    /// The Rust type of a string by its `format`: `date-time`, `date`, `uuid` and `byte` are typed unless
    /// the settings ask for plain strings; every other format (`email`, `uri`, `binary`, `password`, ...)
    /// is a `String`, checked by validation where the format has a rule.
    fn string_type(&self, format: &VariantOrUnknownOrEmpty<openapiv3::StringFormat>) -> TypeRef {
        use openapiv3::StringFormat;
        if self.string_formats {
            return TypeRef::String;
        }
        match format {
            VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => TypeRef::DateTime,
            VariantOrUnknownOrEmpty::Item(StringFormat::Date) => TypeRef::Date,
            VariantOrUnknownOrEmpty::Item(StringFormat::Byte) => TypeRef::Base64,
            VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid" => TypeRef::Uuid,
            _ => TypeRef::String,
        }
    }

    fn new_named(&mut self, hint: &str, schema: &Schema, ptr: &str) -> TypeRef {
        let rust = self.type_scope.claim(pascal(hint));
        if let Some(def) = self.define(&rust, schema, ptr, None) {
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

    /// The validation rules of a (resolved) schema. A `pattern` the regex crate cannot compile is an error
    /// here rather than a panic in the generated code.
    fn constraints_of(&mut self, schema: &Schema, ptr: &str) -> Constraints {
        let mut c = Constraints::default();
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => {
                c.min_length = s.min_length;
                c.max_length = s.max_length;
                c.pattern = s.pattern.clone();
                c.email = matches!(&s.format, VariantOrUnknownOrEmpty::Unknown(f) if f == "email");
                c.uri = matches!(&s.format, VariantOrUnknownOrEmpty::Unknown(f) if f == "uri");
                if let Some(format) = self.string_type(&s.format).format_name()
                    && (c.min_length.is_some() || c.max_length.is_some() || c.pattern.is_some())
                {
                    // The value is parsed (a date, a UUID, bytes): its text rules have nothing to check.
                    self.diags
                        .warning(
                            "W0110",
                            ptr,
                            format!(
                                "`minLength`, `maxLength` and `pattern` are not checked on a `format: {format}` string; \
                                 parsing it as a {format} is the check"
                            ),
                        )
                        .help("the value must parse as its format; use `--string-formats` to check its text instead");
                    (c.min_length, c.max_length, c.pattern) = (None, None, None);
                }
            }
            SchemaKind::Type(Type::Integer(i)) => {
                c.minimum = i.minimum.map(|v| v as f64);
                c.maximum = i.maximum.map(|v| v as f64);
                c.exclusive_minimum = i.exclusive_minimum;
                c.exclusive_maximum = i.exclusive_maximum;
            }
            SchemaKind::Type(Type::Number(n)) => {
                c.minimum = n.minimum;
                c.maximum = n.maximum;
                c.exclusive_minimum = n.exclusive_minimum;
                c.exclusive_maximum = n.exclusive_maximum;
            }
            SchemaKind::Type(Type::Array(a)) => {
                c.min_items = a.min_items;
                c.max_items = a.max_items;
                c.unique_items = a.unique_items;
                if let Some(items) = &a.items
                    && let Some(item) = self.resolve_boxed(items)
                {
                    let inner = self.constraints_of(item, &ptr_join(ptr, "items"));
                    if !inner.is_empty() {
                        c.items = Some(Box::new(inner));
                    }
                }
            }
            _ => {}
        }
        if let Some(p) = &c.pattern
            && let Err(e) = regex::Regex::new(p)
        {
            let text = e.to_string();
            let last = text.lines().last().unwrap_or_default().trim();
            let detail = last.strip_prefix("error: ").unwrap_or(last).to_owned();
            self.diags
                .error("E0106", &ptr_join(ptr, "pattern"), format!("pattern `{p}` is not supported: {detail}"))
                .label("this pattern")
                .help("patterns are compiled with the Rust regex crate: no look-around and no backreferences");
            c.pattern = None;
        }
        c
    }

    fn lower_security_schemes(&mut self) -> Vec<SecurityScheme> {
        let mut out = Vec::new();
        let Some(components) = &self.doc.components else { return out };
        let mut scope = Scope::with_reserved(&["body", "body_content_type"]);
        for (name, scheme) in &components.security_schemes {
            let ptr = format!("/components/securitySchemes/{}", escape_segment(name));
            let ReferenceOr::Item(scheme) = scheme else {
                self.diags
                    .error("E0204", &ptr, "security scheme references are not supported")
                    .help("define the scheme inline");
                continue;
            };
            let (kind, doc) = match scheme {
                openapiv3::SecurityScheme::HTTP { scheme, description, .. } => {
                    let kind = match scheme.to_ascii_lowercase().as_str() {
                        "bearer" => SecurityKind::Bearer,
                        "basic" => SecurityKind::Basic,
                        other => {
                            self.diags
                                .warning(
                                    "W0106",
                                    &ptr_join(&ptr, "scheme"),
                                    format!("http scheme `{other}` is passed as the raw `Authorization` value"),
                                )
                                .help("use `bearer` or `basic` for typed extraction");
                            SecurityKind::ApiKeyHeader("authorization".to_owned())
                        }
                    };
                    (kind, description.clone())
                }
                openapiv3::SecurityScheme::APIKey { location, name: key, description, .. } => {
                    let kind = match location {
                        APIKeyLocation::Header => SecurityKind::ApiKeyHeader(key.clone()),
                        APIKeyLocation::Query => SecurityKind::ApiKeyQuery(key.clone()),
                        APIKeyLocation::Cookie => SecurityKind::ApiKeyCookie(key.clone()),
                    };
                    (kind, description.clone())
                }
                openapiv3::SecurityScheme::OAuth2 { description, .. }
                | openapiv3::SecurityScheme::OpenIDConnect { description, .. } => {
                    (SecurityKind::Bearer, description.clone())
                }
            };
            out.push(SecurityScheme {
                api_name: name.clone(),
                rust_name: scope.claim(snake(name)),
                kind,
                doc: non_empty(&doc),
            });
        }
        out
    }

    fn lower_operations(&mut self, schemes: &[SecurityScheme]) -> Vec<Operation> {
        let doc = self.doc;
        let mut ops = Vec::new();
        let mut op_scope = Scope::with_reserved(&[]);
        for (path, item) in &doc.paths.paths {
            let path_ptr = format!("/paths/{}", escape_segment(path));
            let ReferenceOr::Item(item) = item else {
                self.diags
                    .error("E0206", &path_ptr, "path item references are not supported")
                    .help("inline the path item");
                continue;
            };
            for (method, op) in item.iter() {
                let op_ptr = ptr_join(&path_ptr, method);
                if let Some(name) = op.callbacks.keys().next() {
                    self.diags
                        .warning(
                            "W0303",
                            &ptr_join(&ptr_join(&op_ptr, "callbacks"), name),
                            format!("callbacks are not generated ({} on this operation)", op.callbacks.len()),
                        )
                        .help(
                            "the operation itself is generated; send the callback requests with a client of your own",
                        );
                }
                let id = op.operation_id.clone().unwrap_or_else(|| derived_operation_id(method, path));
                let rust_name = op_scope.claim(snake(&id));
                let type_name = pascal(&rust_name);
                let mut param_scope = Scope::with_reserved(&["body", "body_content_type"]);
                for s in schemes {
                    param_scope.claim(s.rust_name.clone());
                }
                let mut params: Vec<Param> = Vec::new();
                let shared = item.parameters.iter().enumerate().map(|(i, p)| (format!("{path_ptr}/parameters/{i}"), p));
                let own = op.parameters.iter().enumerate().map(|(i, p)| (format!("{op_ptr}/parameters/{i}"), p));
                let mut collected: Vec<(String, &Parameter)> = Vec::new();
                for (p_ptr, p) in shared.chain(own) {
                    let Some(p) = self.resolve_param(p, &p_ptr) else { continue };
                    let data = p.parameter_data_ref();
                    // An operation-level parameter overrides a path-level one with the same name and location.
                    collected.retain(|(_, q)| {
                        !(q.parameter_data_ref().name == data.name
                            && std::mem::discriminant(*q) == std::mem::discriminant(p))
                    });
                    collected.push((p_ptr, p));
                }
                for (p_ptr, p) in collected {
                    if let Some(param) = self.lower_param(p, &p_ptr, &type_name, &mut param_scope) {
                        params.push(param);
                    }
                }
                let security = self.lower_op_security(op, &op_ptr, schemes);
                let body = self.lower_request_body(op, &op_ptr, &type_name);
                let responses = self.lower_responses(op, &op_ptr, &type_name);
                ops.push(Operation {
                    rust_name,
                    type_name,
                    api_id: id,
                    method: method.to_ascii_uppercase(),
                    path: path.clone(),
                    summary: non_empty(&op.summary),
                    description: non_empty(&op.description),
                    deprecated: op.deprecated,
                    tags: op.tags.clone(),
                    params,
                    security,
                    body,
                    responses,
                    source: op_ptr,
                });
            }
        }
        ops
    }

    fn resolve_param(&mut self, p: &'a ReferenceOr<Parameter>, ptr: &str) -> Option<&'a Parameter> {
        match p {
            ReferenceOr::Item(p) => Some(p),
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix("#/components/parameters/");
                let found = name.and_then(|n| self.doc.components.as_ref()?.parameters.get(n));
                match found {
                    Some(ReferenceOr::Item(p)) => Some(p),
                    Some(inner @ ReferenceOr::Reference { .. }) => self.resolve_param(inner, ptr),
                    None => {
                        self.diags
                            .error("E0205", &format!("{ptr}/$ref"), format!("`{reference}` is not a parameter"))
                            .help("parameters must reference `#/components/parameters/...`");
                        None
                    }
                }
            }
        }
    }

    fn lower_param(&mut self, p: &'a Parameter, ptr: &str, op_type: &str, scope: &mut Scope) -> Option<Param> {
        let data = p.parameter_data_ref();
        let (location, explode) = match p {
            Parameter::Path { .. } => (ParamLocation::Path, false),
            Parameter::Query { .. } => (ParamLocation::Query, data.explode.unwrap_or(true)),
            Parameter::Header { .. } => (ParamLocation::Header, false),
            Parameter::Cookie { .. } => (ParamLocation::Cookie, false),
        };
        if location == ParamLocation::Header
            && ["accept", "content-type", "authorization"].contains(&data.name.to_ascii_lowercase().as_str())
        {
            self.diags
                .warning(
                    "W0201",
                    &ptr_join(ptr, "name"),
                    format!("header parameter `{}` is ignored, as OpenAPI requires", data.name),
                )
                .help("`Accept`, `Content-Type` and `Authorization` come from the body and `securitySchemes`");
            return None;
        }
        let schema = match &data.format {
            ParameterSchemaOrContent::Schema(s) => s,
            ParameterSchemaOrContent::Content(_) => {
                self.diags
                    .warning(
                        "W0202",
                        ptr,
                        format!("parameter `{}` uses `content`, which is not supported; it is left out", data.name),
                    )
                    .help("describe the parameter with `schema`");
                return None;
            }
        };
        let hint = format!("{op_type}{}", pascal(&data.name));
        let errors = |d: &Diagnostics| d.items().iter().filter(|d| d.severity == Severity::Error).count();
        let errors_before = errors(&self.diags);
        let ty = self.inline_type(schema, &hint, &ptr_join(ptr, "schema"));
        // A named scalar (`SnowflakeId: {type: string, pattern: ..}`) is a newtype in the models; on the wire of
        // a parameter it is the scalar itself.
        let mut ty = through_newtypes(&self.types, &ty).clone();
        let deep = matches!(p, Parameter::Query { style: openapiv3::QueryStyle::DeepObject, .. });
        // `spaceDelimited`/`pipeDelimited` objects have another separator; they stay raw (W0204) or left out.
        let form_or_deep = matches!(
            p,
            Parameter::Query { style: openapiv3::QueryStyle::Form | openapiv3::QueryStyle::DeepObject, .. }
        );
        let object = match location {
            ParamLocation::Query if form_or_deep => self.object_style(&ty, deep, explode),
            _ => None,
        };
        let ok = object.is_some()
            || match &ty {
                TypeRef::Vec(inner) => location == ParamLocation::Query && is_scalar_or_enum(&self.types, inner),
                t => is_scalar_or_enum(&self.types, t),
            };
        if !ok && errors(&self.diags) > errors_before {
            // The schema itself is wrong (say, an unknown type) and was reported as such.
            return None;
        }
        if !ok {
            // A real API may well take an object in a parameter (`style: deepObject`, exploded forms). The
            // operation is still generated rather than the whole spec refused: where the parameter has one
            // wire value (path, header, cookie, an unexploded query) it is kept as that raw string; an
            // exploded query object has no single key and is left out.
            let object = match &ty {
                TypeRef::Map(_) => true,
                TypeRef::Named(n) => matches!(self.types.get(n).map(|d| &d.kind), Some(TypeKind::Struct { .. })),
                _ => false,
            };
            if location == ParamLocation::Query && (deep || (explode && object)) {
                self.diags
                    .warning(
                        "W0203",
                        &ptr_join(ptr, "schema"),
                        format!(
                            "query parameter `{}` is left out: only scalars, enums, arrays of those, and objects \
                             and maps whose values are those are supported",
                            data.name
                        ),
                    )
                    .help("nested objects, arrays inside objects and exploded free-form maps have no agreed query form; send structured data in the request body");
                return None;
            }
            let (typed, help) = match location {
                ParamLocation::Query => (
                    "scalars, enums, arrays of those and objects of those",
                    "unions and nested objects have no agreed query form; parse the string in the handler",
                ),
                _ => ("scalars and enums", "objects are typed in the query only; parse the string in the handler"),
            };
            let place = location.as_str();
            self.diags
                .warning(
                    "W0204",
                    &ptr_join(ptr, "schema"),
                    format!(
                        "{place} parameter `{}` is kept as its raw string: only {typed} are typed in a {place} \
                         parameter",
                        data.name
                    ),
                )
                .help(help);
            ty = TypeRef::String;
        }
        let constraints = match self.resolve(schema) {
            Some(s) => self.constraints_of(s, &ptr_join(ptr, "schema")),
            None => Constraints::default(),
        };
        let missing_message = match data.extensions.get("x-authgen-missing-message") {
            Some(Value::String(m)) => Some(m.clone()),
            Some(_) => {
                self.diags
                    .error(
                        "E0406",
                        &ptr_join(ptr, "x-authgen-missing-message"),
                        "`x-authgen-missing-message` must be a string",
                    )
                    .help("write the 400 message sent when the parameter is missing");
                None
            }
            None => None,
        };
        Some(Param {
            missing_message,
            constraints,
            rust_name: scope.claim(snake(&data.name)),
            api_name: data.name.clone(),
            location,
            required: data.required || location == ParamLocation::Path,
            ty,
            explode,
            object,
            doc: non_empty(&data.description),
            deprecated: data.deprecated.unwrap_or(false),
        })
    }

    /// The style of an object query parameter, when its type has a query form: a struct whose properties
    /// are scalars or enums (no free-form extra properties), or a map of those (not exploded as a form,
    /// where its keys could not be told from the other parameters).
    fn object_style(&self, ty: &TypeRef, deep: bool, explode: bool) -> Option<ObjectStyle> {
        let style = match (deep, explode) {
            (true, _) => ObjectStyle::Deep,
            (false, true) => ObjectStyle::Exploded,
            (false, false) => ObjectStyle::Joined,
        };
        let flat = |t: &TypeRef| is_scalar_or_enum(&self.types, t);
        match ty {
            TypeRef::Map(value) if style != ObjectStyle::Exploded && flat(value) => Some(style),
            TypeRef::Named(n) => match self.types.get(n).map(|d| &d.kind) {
                Some(TypeKind::Struct { fields, additional: None, .. })
                    if !fields.is_empty() && fields.iter().all(|f| flat(&f.ty)) =>
                {
                    Some(style)
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn lower_op_security(
        &mut self,
        op: &'a openapiv3::Operation,
        ptr: &str,
        schemes: &[SecurityScheme],
    ) -> Vec<String> {
        let reqs = op.security.as_ref().or(self.doc.security.as_ref());
        let mut out: Vec<String> = Vec::new();
        for (i, req) in reqs.into_iter().flatten().enumerate() {
            for name in req.keys() {
                if !schemes.iter().any(|s| &s.api_name == name) {
                    self.diags
                        .error("E0207", &format!("{ptr}/security/{i}"), format!("unknown security scheme `{name}`"))
                        .help("define it under `components/securitySchemes`");
                } else if !out.contains(name) {
                    out.push(name.clone());
                }
            }
        }
        out
    }

    fn pick_content<'m>(
        &mut self,
        content: &'m indexmap::IndexMap<String, openapiv3::MediaType>,
        ptr: &str,
    ) -> Option<(BodyKind, &'m String, &'m openapiv3::MediaType)> {
        // Every media type has a representation: JSON and forms are typed, `text/*` is a `String`, anything
        // else (images, PDFs, multipart, `*/*`) travels as raw bytes with its media type; a request's
        // `multipart/form-data` with an object schema is typed later, by `lower_multipart`. When several are
        // listed, the first of the typed ones wins over the first raw one.
        let essence = media_essence;
        let kind_of = |ct: &str| {
            let ct = essence(ct);
            if ct == "application/json" || ct.ends_with("+json") {
                BodyKind::Json
            } else if ct == "application/x-www-form-urlencoded" {
                BodyKind::Form
            } else if ct.starts_with("text/") {
                BodyKind::Text
            } else {
                BodyKind::Bytes
            }
        };
        let well_known = |ct: &str| kind_of(ct) != BodyKind::Bytes || essence(ct) == "application/octet-stream";
        let chosen = content
            .iter()
            .find(|(ct, _)| well_known(ct))
            .or_else(|| content.iter().next())
            .map(|(ct, mt)| (kind_of(ct), ct, mt));
        if let Some((kind, ct, mt)) = chosen {
            let dropped = content
                .iter()
                .filter(|(other, other_mt)| {
                    *other != ct && !(kind == BodyKind::Json && is_equivalent_form(other, other_mt, mt))
                })
                .count();
            if dropped > 0 {
                self.diags
                    .warning("W0301", ptr, format!("several media types; authgen uses `{ct}`"))
                    .help("list the preferred media type first");
            }
        }
        chosen
    }

    /// W0302 for a multipart body that stays raw bytes.
    fn warn_raw_multipart(&mut self, ct: &str, content_ptr: &str, request: bool) {
        if !media_essence(ct).starts_with("multipart/") {
            return;
        }
        let help = if request {
            "parts are typed for `multipart/form-data` with an object schema that has `properties`; otherwise \
             decode the body with a multipart parser"
        } else {
            "multipart responses are not typed; decode the body with a multipart parser"
        };
        self.diags
            .warning("W0302", &ptr_join(content_ptr, ct), format!("`{ct}` bodies are passed as raw bytes"))
            .help(help);
    }

    /// The struct and parts of a `multipart/form-data` body whose schema is an object with properties. Each
    /// property is a part; `format: binary` properties (and arrays of them) become file parts, so the body
    /// gets a struct of its own when it references a component with such properties.
    fn lower_multipart(
        &mut self,
        schema: &ReferenceOr<Schema>,
        media: &openapiv3::MediaType,
        hint: &str,
        ptr: &str,
    ) -> Option<(TypeRef, Vec<Part>)> {
        let resolved = self.resolve(schema)?;
        let properties = match &resolved.schema_kind {
            SchemaKind::Type(Type::Object(o)) => &o.properties,
            SchemaKind::Any(a) if !unknown_type(a) => &a.properties,
            _ => return None,
        };
        if properties.is_empty() {
            return None;
        }
        let mut files: BTreeMap<String, bool> = BTreeMap::new();
        for (name, prop) in properties {
            let Some(s) = self.resolve_boxed(prop) else { continue };
            if is_binary(s) {
                files.insert(name.clone(), false);
            } else if let SchemaKind::Type(Type::Array(a)) = &s.schema_kind
                && a.items.as_ref().and_then(|i| self.resolve_boxed(i)).is_some_and(is_binary)
            {
                files.insert(name.clone(), true);
            }
        }
        let is_struct = |lowerer: &Self, ty: &TypeRef| match ty {
            TypeRef::Named(n) => matches!(lowerer.types.get(n).map(|d| &d.kind), Some(TypeKind::Struct { .. })),
            _ => false,
        };
        let ty = match schema {
            ReferenceOr::Reference { reference } if files.is_empty() => {
                let ty = self.ensure_component(reference);
                if is_struct(self, &ty) { ty } else { self.new_named(hint, resolved, ptr) }
            }
            _ => self.new_named(hint, resolved, ptr),
        };
        if !is_struct(self, &ty) {
            return None;
        }
        let TypeRef::Named(rust) = &ty else { return None };
        // Parts not in `properties` are kept only as text (`additionalProperties` of a scalar type).
        if let Some(TypeDef { kind: TypeKind::Struct { additional: Some(extra), .. }, .. }) = self.types.get(rust)
            && !self.is_text_part(extra)
        {
            return None;
        }
        let Some(TypeDef { kind: TypeKind::Struct { fields, .. }, .. }) = self.types.get_mut(rust) else {
            return None;
        };
        for f in fields.iter_mut() {
            if let Some(array) = files.get(&f.api_name) {
                f.ty = if *array { TypeRef::Vec(Box::new(TypeRef::File)) } else { TypeRef::File };
                f.default = None;
            }
        }
        let fields = fields.clone();
        let parts = fields
            .iter()
            .map(|f| Part {
                rust_name: f.rust_name.clone(),
                api_name: f.api_name.clone(),
                kind: self.part_kind(&f.ty),
                content_type: media.encoding.get(&f.api_name).and_then(|e| e.content_type.clone()),
            })
            .collect();
        Some((ty, parts))
    }

    /// How a field of a multipart body travels.
    fn part_kind(&self, ty: &TypeRef) -> PartKind {
        match ty {
            TypeRef::File => PartKind::File,
            TypeRef::Vec(inner) if **inner == TypeRef::File => PartKind::Files,
            TypeRef::Vec(inner) if self.is_text_part(inner) => PartKind::Texts,
            t if self.is_text_part(t) => PartKind::Text,
            _ => PartKind::Json,
        }
    }

    /// Scalars and enums (through aliases), which a text part carries with `FromStr`/`Display`.
    fn is_text_part(&self, ty: &TypeRef) -> bool {
        is_scalar_or_enum(&self.types, ty)
    }

    fn lower_request_body(&mut self, op: &'a openapiv3::Operation, op_ptr: &str, op_type: &str) -> Option<RequestBody> {
        let body = op.request_body.as_ref()?;
        let ptr = format!("{op_ptr}/requestBody");
        let body = match body {
            ReferenceOr::Item(b) => b,
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix("#/components/requestBodies/");
                match name.and_then(|n| self.doc.components.as_ref()?.request_bodies.get(n)) {
                    Some(ReferenceOr::Item(b)) => b,
                    _ => {
                        self.diags
                            .error("E0208", &format!("{ptr}/$ref"), format!("`{reference}` is not a request body"))
                            .help("request bodies must reference `#/components/requestBodies/...`");
                        return None;
                    }
                }
            }
        };
        let content_ptr = format!("{ptr}/content");
        let (kind, ct, media) = self.pick_content(&body.content, &content_ptr)?;
        let hint = format!("{op_type}Body");
        let schema_ptr = ptr_join(&ptr_join(&content_ptr, ct), "schema");
        let multipart = match &media.schema {
            Some(s) if media_essence(ct) == "multipart/form-data" => self.lower_multipart(s, media, &hint, &schema_ptr),
            _ => None,
        };
        let (kind, parts) = match &multipart {
            Some((_, parts)) => (BodyKind::Multipart, parts.clone()),
            None => {
                self.warn_raw_multipart(ct, &content_ptr, true);
                (kind, Vec::new())
            }
        };
        let ty = match (&media.schema, kind) {
            (_, BodyKind::Multipart) => multipart.map_or(TypeRef::Bytes, |(ty, _)| ty),
            (Some(s), BodyKind::Json | BodyKind::Form) => self.inline_type(s, &hint, &schema_ptr),
            (None, BodyKind::Json) => TypeRef::Json,
            (_, BodyKind::Text) => TypeRef::String,
            (_, BodyKind::Bytes) => TypeRef::Bytes,
            (None, BodyKind::Form) => TypeRef::Map(Box::new(TypeRef::String)),
        };
        let missing_messages = match media.schema.as_ref().and_then(|s| self.resolve(s)) {
            Some(s) => match s.schema_data.extensions.get("x-authgen-missing-messages") {
                Some(Value::Object(map)) => {
                    map.iter().filter_map(|(k, v)| v.as_str().map(|m| (k.clone(), m.to_owned()))).collect()
                }
                Some(_) => {
                    self.diags
                        .error("E0407", &schema_ptr, "`x-authgen-missing-messages` must map property paths to messages")
                        .help("for example `x-authgen-missing-messages: {deviceId: Please provide a deviceId}`");
                    Vec::new()
                }
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        let also_form = kind == BodyKind::Json
            && body.content.iter().any(|(other, other_mt)| is_equivalent_form(other, other_mt, media));
        Some(RequestBody {
            also_form,
            kind,
            content_type: ct.clone(),
            ty: unbox(ty),
            required: body.required,
            doc: non_empty(&body.description),
            missing_messages,
            parts,
        })
    }

    fn lower_responses(&mut self, op: &'a openapiv3::Operation, op_ptr: &str, op_type: &str) -> Vec<Response> {
        let mut out = Vec::new();
        let resp_ptr = format!("{op_ptr}/responses");
        let mut entries: Vec<(ResponseStatus, String, &'a ReferenceOr<openapiv3::Response>)> = Vec::new();
        for (code, r) in &op.responses.responses {
            match code {
                StatusCode::Code(c) => entries.push((ResponseStatus::Code(*c), c.to_string(), r)),
                StatusCode::Range(n) => entries.push((ResponseStatus::Range(*n as u8), format!("{n}XX"), r)),
            }
        }
        if let Some(d) = &op.responses.default {
            entries.push((ResponseStatus::Default, "default".to_owned(), d));
        }
        entries.sort_by_key(|(s, _, _)| *s);
        let mut variant_scope = Scope::with_reserved(&[]);
        for (status, key, r) in entries {
            let ptr = ptr_join(&resp_ptr, &key);
            let resp = match r {
                ReferenceOr::Item(r) => r,
                ReferenceOr::Reference { reference } => {
                    let name = reference.strip_prefix("#/components/responses/");
                    match name.and_then(|n| self.doc.components.as_ref()?.responses.get(n)) {
                        Some(ReferenceOr::Item(r)) => r,
                        _ => {
                            self.diags
                                .error("E0209", &format!("{ptr}/$ref"), format!("`{reference}` is not a response"))
                                .help("responses must reference `#/components/responses/...`");
                            continue;
                        }
                    }
                }
            };
            let variant = variant_scope.claim(match status {
                ResponseStatus::Code(c) => status_variant(c),
                ResponseStatus::Range(n) => format!("Status{n}xx"),
                ResponseStatus::Default => "Default".to_owned(),
            });
            let body = if resp.content.is_empty() {
                None
            } else {
                let content_ptr = ptr_join(&ptr, "content");
                self.pick_content(&resp.content, &content_ptr).map(|(kind, ct, media)| {
                    self.warn_raw_multipart(ct, &content_ptr, false);
                    let hint = format!("{op_type}{variant}Body");
                    let ty = match (&media.schema, kind) {
                        (Some(s), BodyKind::Json | BodyKind::Form) => {
                            self.inline_type(s, &hint, &ptr_join(&ptr_join(&content_ptr, ct), "schema"))
                        }
                        (None, BodyKind::Json) => TypeRef::Json,
                        (_, BodyKind::Text) => TypeRef::String,
                        _ => TypeRef::Bytes,
                    };
                    ResponseBody { kind, content_type: ct.clone(), ty: unbox(ty) }
                })
            };
            let mut header_scope = Scope::with_reserved(&["body", "status"]);
            let mut headers = Vec::new();
            for (name, h) in &resp.headers {
                let h_ptr = ptr_join(&ptr_join(&ptr, "headers"), name);
                if name.eq_ignore_ascii_case("content-type") {
                    continue;
                }
                let h = match h {
                    ReferenceOr::Item(h) => h,
                    ReferenceOr::Reference { reference } => {
                        let n = reference.strip_prefix("#/components/headers/");
                        match n.and_then(|n| self.doc.components.as_ref()?.headers.get(n)) {
                            Some(ReferenceOr::Item(h)) => h,
                            _ => {
                                self.diags
                                    .error("E0210", &format!("{h_ptr}/$ref"), format!("`{reference}` is not a header"))
                                    .help("headers must reference `#/components/headers/...`");
                                continue;
                            }
                        }
                    }
                };
                let multi = name.eq_ignore_ascii_case("set-cookie");
                let ty = match &h.format {
                    ParameterSchemaOrContent::Schema(s) => {
                        let hint = format!("{op_type}{variant}{}", pascal(name));
                        self.inline_type(s, &hint, &ptr_join(&h_ptr, "schema"))
                    }
                    ParameterSchemaOrContent::Content(_) => TypeRef::String,
                };
                let ty = if multi { TypeRef::String } else { ty };
                if !ty.is_scalar() {
                    self.diags
                        .error(
                            "E0404",
                            &ptr_join(&h_ptr, "schema"),
                            format!("response header `{name}` must be a string, number or boolean"),
                        )
                        .help("encode structured header values as a string");
                    continue;
                }
                headers.push(HeaderDef {
                    rust_name: header_scope.claim(snake(name)),
                    api_name: name.clone(),
                    required: h.required,
                    ty,
                    multi,
                    doc: non_empty(&h.description),
                });
            }
            out.push(Response { status, variant, doc: non_empty(&Some(resp.description.clone())), body, headers });
        }
        if out.is_empty() {
            self.diags
                .error("E0405", &resp_ptr, "operation has no responses")
                .help("declare at least one response, for example `200`");
        }
        out
    }
}

/// A `type` that is none of the six OpenAPI 3.0 types (openapiv3 keeps such a schema as "any").
/// Whether `(media_type, media)` is a form-urlencoded alternative with the same schema as `json`.
fn is_equivalent_form(media_type: &str, media: &openapiv3::MediaType, json: &openapiv3::MediaType) -> bool {
    let essence = media_type.split(';').next().unwrap_or(media_type).trim().to_ascii_lowercase();
    essence == "application/x-www-form-urlencoded" && media.schema.is_some() && media.schema == json.schema
}

/// What `allOf` members contribute to the merged struct.
#[derive(Default)]
struct Merged {
    properties: indexmap::IndexMap<String, ReferenceOr<Box<Schema>>>,
    required: Vec<String>,
    additional: Option<AdditionalProperties>,
}

/// An `allOf` member that only annotates (`{description: ..}`, `{nullable: true}`): no type of its own.
fn annotation_only(member: &ReferenceOr<Schema>) -> bool {
    matches!(member, ReferenceOr::Item(s) if matches!(&s.schema_kind, SchemaKind::Any(a) if *a == openapiv3::AnySchema::default()))
}

/// The `allOf` members that constrain the value, with their index. `allOf: [{$ref: X}, {description: ..}]`,
/// the usual way to document a reference, has one: X.
fn effective_all_of(members: &[ReferenceOr<Schema>]) -> Vec<(usize, &ReferenceOr<Schema>)> {
    members.iter().enumerate().filter(|(_, m)| !annotation_only(m)).collect()
}

fn unknown_type(schema: &openapiv3::AnySchema) -> bool {
    schema.typ.as_deref().is_some_and(|t| !["string", "number", "integer", "boolean", "array", "object"].contains(&t))
}

fn unbox(t: TypeRef) -> TypeRef {
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

/// Derives the CORS facts: allowed request headers, exposed response headers and methods.
fn derive_cors(ops: &[Operation], schemes: &[SecurityScheme]) -> CorsPolicy {
    let mut allowed: BTreeSet<String> = BTreeSet::new();
    let mut exposed: BTreeSet<String> = BTreeSet::new();
    let mut methods: BTreeSet<String> = BTreeSet::new();
    allowed.insert("content-type".to_owned());
    for op in ops {
        methods.insert(op.method.clone());
        for p in &op.params {
            if p.location == ParamLocation::Header {
                allowed.insert(p.api_name.to_ascii_lowercase());
            }
        }
        for name in &op.security {
            if let Some(s) = schemes.iter().find(|s| &s.api_name == name) {
                match &s.kind {
                    SecurityKind::Bearer | SecurityKind::Basic => {
                        allowed.insert("authorization".to_owned());
                    }
                    SecurityKind::ApiKeyHeader(h) => {
                        allowed.insert(h.to_ascii_lowercase());
                    }
                    SecurityKind::ApiKeyQuery(_) | SecurityKind::ApiKeyCookie(_) => {}
                }
            }
        }
        for r in &op.responses {
            for h in &r.headers {
                let name = h.api_name.to_ascii_lowercase();
                // Browsers never expose the first group to scripts, whatever the server says, and always expose
                // the CORS-safelisted response headers of the second.
                const NEVER: &[&str] = &["set-cookie", "set-cookie2"];
                const ALWAYS: &[&str] = &[
                    "cache-control",
                    "content-language",
                    "content-length",
                    "content-type",
                    "expires",
                    "last-modified",
                    "pragma",
                ];
                if NEVER.contains(&name.as_str())
                    || ALWAYS.contains(&name.as_str())
                    || name.starts_with("access-control-")
                {
                    continue;
                }
                exposed.insert(name);
            }
        }
    }
    CorsPolicy {
        allowed_headers: allowed.into_iter().collect(),
        exposed_headers: exposed.into_iter().collect(),
        allowed_methods: methods.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Api;

    fn lower(yaml: &str) -> Api {
        let spec = crate::spec::load_str("t.yaml", yaml).unwrap_or_else(|d| panic!("{}", d.render_plain()));
        let (api, _) = lower_spec(&spec, &Settings::default()).unwrap_or_else(|d| panic!("{}", d.render_plain()));
        api
    }

    const HEAD: &str = "openapi: 3.0.3\ninfo: {title: T, version: '1'}\n";

    #[test]
    fn string_formats_are_typed_unless_asked_for_strings() {
        let yaml = format!(
            "{HEAD}paths: {{}}
components:
  schemas:
    Stamp: {{type: string, format: date-time}}
    P:
      type: object
      properties:
        at: {{type: string, format: date-time}}
        day: {{type: string, format: date}}
        id: {{type: string, format: uuid}}
        raw: {{type: string, format: byte}}
        file: {{type: string, format: binary}}
        link: {{type: string, format: uri}}
        mail: {{type: string, format: email}}
        secret: {{type: string, format: password}}
        stamps: {{type: array, items: {{$ref: '#/components/schemas/Stamp'}}}}
        ids: {{type: object, additionalProperties: {{type: string, format: uuid}}}}
"
        );
        let spec = crate::spec::load_str("t.yaml", &yaml).unwrap_or_else(|d| panic!("{}", d.render_plain()));
        let types = |strings: bool| {
            let mut settings = Settings::default();
            settings.with_string_formats(strings);
            let (api, _) = lower_spec(&spec, &settings).unwrap_or_else(|d| panic!("{}", d.render_plain()));
            let TypeKind::Struct { fields, .. } = &api.types["P"].kind else { panic!() };
            let tys: Vec<TypeRef> = fields.iter().map(|f| f.ty.clone()).collect();
            let uri: Vec<bool> = fields.iter().map(|f| f.constraints.uri).collect();
            (tys, uri, api.types["Stamp"].kind.clone(), api.uses_type(&TypeRef::Uuid))
        };
        let named = |n: &str| TypeRef::Named(n.to_owned());
        let (tys, uri, stamp, uses_uuid) = types(false);
        use TypeRef::{Base64, Date, DateTime, Map, String, Uuid};
        assert_eq!(
            tys,
            [
                DateTime,
                Date,
                Uuid,
                Base64,
                String,
                String,
                String,
                String,
                TypeRef::Vec(Box::new(named("Stamp"))),
                Map(Box::new(Uuid))
            ]
        );
        assert!(matches!(stamp, TypeKind::Newtype(DateTime)), "{stamp:?}");
        assert!(uses_uuid);
        assert_eq!(uri, [false, false, false, false, false, true, false, false, false, false], "uri is validated");
        let (tys, uri, stamp, uses_uuid) = types(true);
        assert_eq!(tys[..8], [String, String, String, String, String, String, String, String]);
        assert_eq!(tys[9], Map(Box::new(String)));
        assert!(matches!(stamp, TypeKind::Newtype(String)), "{stamp:?}");
        assert!(!uses_uuid, "no uuid dependency with --string-formats");
        assert!(uri[5], "uri stays a validated string");
    }

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
    fn inline_shapes_get_stable_derived_names() {
        let api = lower(&format!(
            "{HEAD}paths:
  /a/{{id}}:
    post:
      parameters: [{{name: id, in: path, required: true, schema: {{type: string}}}}]
      requestBody:
        content:
          application/json:
            schema: {{type: object, properties: {{inner: {{type: object, properties: {{k: {{type: string, enum: [x]}}}}}}}}}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {{type: object, properties: {{n: {{type: integer}}}}}}
"
        ));
        let names: Vec<&str> = api.types.keys().map(String::as_str).collect();
        assert_eq!(names, ["PostAByIdBody", "PostAByIdBodyInner", "PostAByIdBodyInnerK", "PostAByIdOkBody"]);
        let op = &api.operations[0];
        assert_eq!((op.rust_name.as_str(), op.api_id.as_str()), ("post_a_by_id", "post_a_by_id"));
        assert_eq!(op.params[0].location, ParamLocation::Path);
        assert!(op.params[0].required);
    }

    #[test]
    fn responses_are_ordered_codes_ranges_default_with_headers() {
        let api = lower(&format!(
            "{HEAD}paths:
  /x:
    get:
      operationId: x
      responses:
        default: {{description: d}}
        4XX: {{description: r}}
        '404': {{description: nf}}
        '200':
          description: ok
          headers:
            Set-Cookie: {{schema: {{type: string}}}}
            X-Count: {{required: true, schema: {{type: integer}}}}
            Content-Type: {{schema: {{type: string}}}}
"
        ));
        let op = &api.operations[0];
        let v: Vec<&str> = op.responses.iter().map(|r| r.variant.as_str()).collect();
        assert_eq!(v, ["Ok", "NotFound", "Status4xx", "Default"]);
        let h: Vec<(&str, bool, bool)> =
            op.responses[0].headers.iter().map(|h| (h.rust_name.as_str(), h.multi, h.required)).collect();
        assert_eq!(h, [("set_cookie", true, false), ("x_count", false, true)], "Content-Type is ignored");
    }

    #[test]
    fn cors_policy_comes_from_parameters_security_and_response_headers() {
        let api = lower(&format!(
            "{HEAD}paths:
  /x:
    post:
      operationId: x
      security: [{{B: []}}, {{K: []}}]
      parameters:
        - {{name: X-Trace, in: header, schema: {{type: string}}}}
        - {{name: Authorization, in: header, schema: {{type: string}}}}
      responses:
        '200':
          description: ok
          headers:
            Front-Token: {{schema: {{type: string}}}}
            Set-Cookie: {{schema: {{type: string}}}}
            Access-Control-Expose-Headers: {{schema: {{type: string}}}}
    get:
      operationId: y
      responses: {{'200': {{description: ok}}}}
components:
  securitySchemes:
    B: {{type: http, scheme: bearer}}
    K: {{type: apiKey, in: header, name: X-Key}}
"
        ));
        assert_eq!(api.cors.allowed_headers, ["authorization", "content-type", "x-key", "x-trace"]);
        assert_eq!(api.cors.exposed_headers, ["front-token"]);
        assert_eq!(api.cors.allowed_methods, ["GET", "POST"]);
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
    fn the_auth_spec_lowers_to_the_fdi_cors_headers() {
        let text = include_str!("../../../spec/auth.yaml");
        let api = lower(text);
        assert_eq!(api.trait_name, "AuthApi");
        assert_eq!(api.operations.len(), 12);
        // content-type plus supertokens-node's getAllCORSHeaders(): rid, fdi-version, anti-csrf, authorization,
        // st-auth-mode.
        assert_eq!(
            api.cors.allowed_headers,
            ["anti-csrf", "authorization", "content-type", "fdi-version", "rid", "st-auth-mode"]
        );
        assert_eq!(
            api.cors.exposed_headers,
            ["anti-csrf", "front-token", "location", "st-access-token", "st-refresh-token"]
        );
        assert_eq!(api.cors.allowed_methods, ["GET", "POST"]);
    }

    #[test]
    fn constraints_are_lowered_and_unsupported_patterns_are_reported() {
        let api = lower(&format!(
            "{HEAD}paths: {{}}
components:
  schemas:
    Email: {{type: string, format: email}}
    P:
      type: object
      properties:
        e: {{$ref: '#/components/schemas/Email'}}
        n: {{type: integer, minimum: 1, maximum: 9, exclusiveMaximum: true}}
        t: {{type: array, maxItems: 2, uniqueItems: true, items: {{type: string, pattern: '^a'}}}}
"
        ));
        let TypeKind::Struct { fields, .. } = &api.types["P"].kind else { panic!() };
        assert!(fields[0].constraints.email, "rules of a referenced primitive schema apply");
        assert_eq!((fields[1].constraints.minimum, fields[1].constraints.maximum), (Some(1.0), Some(9.0)));
        assert!(fields[1].constraints.exclusive_maximum && !fields[1].constraints.exclusive_minimum);
        assert_eq!(fields[2].constraints.max_items, Some(2));
        assert_eq!(fields[2].constraints.patterns(), ["^a"]);
        assert!(api.uses_patterns());

        let bad = format!(
            "{HEAD}paths: {{}}
components:
  schemas:
    P:
      type: object
      properties:
        x: {{type: string, pattern: '^(?!admin).*$'}}
"
        );
        let spec = crate::spec::load_str("t.yaml", &bad).unwrap();
        let diags = lower_spec(&spec, &Settings::default()).unwrap_err();
        let text = diags.render_plain();
        assert!(text.starts_with("error[E0106]: pattern `^(?!admin).*$` is not supported: look-around"), "{text}");
        assert!(text.contains("--> t.yaml:9:27"), "{text}");
    }

    #[test]
    fn openapi_31_input_is_normalised() {
        let yaml = "openapi: 3.1.0
info: {title: T, version: '1'}
webhooks:
  newPet: {post: {responses: {'200': {description: ok}}}}
paths:
  /p:
    get:
      operationId: p
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/P'}
components:
  schemas:
    P:
      type: object
      required: [a, k]
      properties:
        a: {type: [string, 'null'], examples: [x]}
        k: {const: fixed, type: string}
        n: {type: integer, exclusiveMinimum: 0}
        o: {anyOf: [{$ref: '#/components/schemas/P/$defs/Inner'}, {type: 'null'}]}
      $defs:
        Inner: {type: object, properties: {z: {type: boolean}}}
";
        let spec = crate::spec::load_str("t.yaml", yaml).unwrap_or_else(|d| panic!("{}", d.render_plain()));
        assert!(spec.warnings.render_plain().contains("warning[W0003]: `webhooks` (OpenAPI 3.1) is ignored"));
        let (api, _) = lower_spec(&spec, &Settings::default()).unwrap_or_else(|d| panic!("{}", d.render_plain()));
        let TypeKind::Struct { fields, .. } = &api.types["P"].kind else { panic!() };
        assert_eq!((fields[0].ty.clone(), fields[0].required, fields[0].nullable), (TypeRef::String, true, true));
        assert_eq!(fields[1].ty, TypeRef::Named("Pk".into()), "const became a one-value enum");
        assert!(fields[2].constraints.exclusive_minimum && fields[2].constraints.minimum == Some(0.0));
        assert_eq!(fields[3].ty, TypeRef::Named("Inner".into()), "$defs were hoisted and the reference rewritten");
        assert!(fields[3].nullable);
        assert!(api.types.contains_key("Inner"));
    }

    /// Lowers and returns the warning codes too.
    fn lower_with_warnings(yaml: &str) -> (Api, Vec<&'static str>) {
        let spec = crate::spec::load_str("t.yaml", yaml).unwrap_or_else(|d| panic!("{}", d.render_plain()));
        let (api, warnings) =
            lower_spec(&spec, &Settings::default()).unwrap_or_else(|d| panic!("{}", d.render_plain()));
        let mut codes: Vec<&'static str> = spec.warnings.items().iter().map(|d| d.code).collect();
        codes.extend(warnings.items().iter().map(|d| d.code));
        (api, codes)
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

    #[test]
    fn every_media_type_is_a_body_and_typed_ones_are_preferred() {
        let (api, warnings) = lower_with_warnings(&format!(
            "{HEAD}paths:
  /a:
    post:
      operationId: upload
      requestBody:
        content:
          multipart/form-data: {{schema: {{type: object, properties: {{file: {{type: string, format: binary}}}}}}}}
      responses:
        '200':
          description: ok
          content:
            application/xml: {{schema: {{type: string}}}}
            application/json: {{schema: {{type: integer}}}}
        '201':
          description: a picture
          content:
            image/png: {{schema: {{type: string, format: binary}}}}
"
        ));
        assert_eq!(warnings, ["W0301"], "a multipart body with an object schema is typed, without W0302");
        let op = &api.operations[0];
        let body = op.body.as_ref().expect("a body");
        assert_eq!(
            (body.kind, body.content_type.as_str(), &body.ty),
            (BodyKind::Multipart, "multipart/form-data", &TypeRef::Named("UploadBody".into()))
        );
        let ok = op.responses[0].body.as_ref().expect("a 200 body");
        assert_eq!((ok.kind, ok.content_type.as_str(), &ok.ty), (BodyKind::Json, "application/json", &TypeRef::I64));
        let png = op.responses[1].body.as_ref().expect("a 201 body");
        assert_eq!((png.kind, png.content_type.as_str()), (BodyKind::Bytes, "image/png"));
    }

    fn part(rust: &str, api: &str, kind: PartKind, ct: Option<&str>) -> Part {
        Part { rust_name: rust.into(), api_name: api.into(), kind, content_type: ct.map(Into::into) }
    }

    #[test]
    fn multipart_properties_become_file_text_and_json_parts() {
        let (api, warnings) = lower_with_warnings(&format!(
            "{HEAD}paths:
  /a:
    post:
      operationId: attach
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [note, file]
              properties:
                file: {{type: string, format: binary}}
                note: {{type: string, maxLength: 5}}
                count: {{type: integer, format: int32}}
                mode: {{type: string, enum: [a, b]}}
                tags: {{type: array, items: {{type: string}}}}
                photos: {{type: array, items: {{type: string, format: binary}}}}
                meta: {{type: object, properties: {{x: {{type: integer}}}}}}
            encoding:
              file: {{contentType: image/png}}
      responses:
        '204': {{description: ok}}
"
        ));
        assert_eq!(warnings, Vec::<&str>::new());
        let body = api.operations[0].body.as_ref().expect("a body");
        assert_eq!(body.kind, BodyKind::Multipart);
        assert_eq!(body.ty, TypeRef::Named("AttachBody".into()));
        assert_eq!(
            body.parts,
            [
                part("file", "file", PartKind::File, Some("image/png")),
                part("note", "note", PartKind::Text, None),
                part("count", "count", PartKind::Text, None),
                part("mode", "mode", PartKind::Text, None),
                part("tags", "tags", PartKind::Texts, None),
                part("photos", "photos", PartKind::Files, None),
                part("meta", "meta", PartKind::Json, None),
            ]
        );
        let TypeKind::Struct { fields, .. } = &api.types["AttachBody"].kind else { panic!("a struct") };
        let ty = |name: &str| fields.iter().find(|f| f.api_name == name).map(|f| f.ty.clone()).expect(name);
        assert_eq!(ty("file"), TypeRef::File);
        assert_eq!(ty("photos"), TypeRef::Vec(Box::new(TypeRef::File)));
        assert_eq!(ty("note"), TypeRef::String);
        assert_eq!(ty("meta"), TypeRef::Named("AttachBodyMeta".into()));
        let note = fields.iter().find(|f| f.api_name == "note").expect("note");
        assert_eq!(note.constraints.max_length, Some(5), "text parts keep their rules");
    }

    #[test]
    fn multipart_of_a_component_with_files_gets_its_own_struct() {
        let (api, warnings) = lower_with_warnings(&format!(
            "{HEAD}paths:
  /a:
    post:
      operationId: withFile
      requestBody:
        content:
          multipart/form-data: {{schema: {{$ref: '#/components/schemas/Upload'}}}}
      responses: {{'204': {{description: ok}}}}
  /b:
    post:
      operationId: plain
      requestBody:
        content:
          multipart/form-data: {{schema: {{$ref: '#/components/schemas/Note'}}}}
      responses: {{'204': {{description: ok}}}}
components:
  schemas:
    Upload: {{type: object, properties: {{data: {{type: string, format: binary}}}}}}
    Note: {{type: object, properties: {{text: {{type: string}}}}}}
"
        ));
        assert_eq!(warnings, Vec::<&str>::new());
        let with_file = api.operations[0].body.as_ref().expect("a body");
        assert_eq!(with_file.ty, TypeRef::Named("WithFileBody".into()));
        let TypeKind::Struct { fields, .. } = &api.types["Upload"].kind else { panic!("a struct") };
        assert_eq!(fields[0].ty, TypeRef::String, "the component itself is unchanged");
        let plain = api.operations[1].body.as_ref().expect("a body");
        assert_eq!((plain.kind, &plain.ty), (BodyKind::Multipart, &TypeRef::Named("Note".into())));
    }

    #[test]
    fn multipart_without_object_properties_stays_raw_with_w0302() {
        let (api, warnings) = lower_with_warnings(&format!(
            "{HEAD}paths:
  /a:
    post:
      operationId: noSchema
      requestBody:
        content:
          multipart/form-data: {{}}
      responses: {{'204': {{description: ok}}}}
  /b:
    post:
      operationId: openMap
      requestBody:
        content:
          multipart/form-data: {{schema: {{type: object, additionalProperties: {{type: string}}}}}}
      responses: {{'204': {{description: ok}}}}
  /c:
    post:
      operationId: mixed
      requestBody:
        content:
          multipart/mixed: {{schema: {{type: object, properties: {{a: {{type: string}}}}}}}}
      responses: {{'204': {{description: ok}}}}
"
        ));
        assert_eq!(warnings, ["W0302", "W0302", "W0302"]);
        for op in &api.operations {
            let body = op.body.as_ref().expect("a body");
            assert_eq!((body.kind, &body.ty), (BodyKind::Bytes, &TypeRef::Bytes), "{}", op.api_id);
        }
    }

    #[test]
    fn content_encoding_binary_of_3_1_is_a_file_part() {
        let (api, warnings) = lower_with_warnings(
            "openapi: 3.1.0
info: {title: T, version: '1'}
paths:
  /a:
    post:
      operationId: up
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              properties:
                file: {type: string, contentEncoding: binary}
                picture: {type: string, contentMediaType: image/png}
                text: {type: string, contentMediaType: text/plain}
      responses: {'204': {description: ok}}
",
        );
        assert_eq!(warnings, Vec::<&str>::new());
        let kinds: Vec<PartKind> =
            api.operations[0].body.as_ref().expect("a body").parts.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [PartKind::File, PartKind::File, PartKind::Text]);
    }

    #[test]
    fn object_query_parameters_are_typed_in_their_style_and_others_kept_raw_or_left_out() {
        let (api, warnings) = lower_with_warnings(&format!(
            "{HEAD}paths:
  /things/{{id}}:
    get:
      operationId: getThing
      parameters:
        - {{name: id, in: path, required: true, schema: {{$ref: '#/components/schemas/Snowflake'}}}}
        - {{name: filter, in: query, schema: {{type: object, properties: {{a: {{type: string}}}}}}}}
        - {{name: page, in: query, explode: false, schema: {{type: object, properties: {{n: {{type: integer}}}}}}}}
        - {{name: deep, in: query, style: deepObject, schema: {{$ref: '#/components/schemas/Range'}}}}
        - {{name: tags, in: query, style: deepObject, schema: {{additionalProperties: {{type: string}}}}}}
        - {{name: nested, in: query, style: deepObject, schema: {{properties: {{r: {{$ref: '#/components/schemas/Range'}}}}}}}}
        - {{name: loose, in: query, schema: {{additionalProperties: {{type: integer}}}}}}
        - {{name: X-Pair, in: header, schema: {{oneOf: [{{type: string}}, {{type: integer}}]}}}}
        - {{name: X-Obj, in: header, schema: {{$ref: '#/components/schemas/Range'}}}}
      responses: {{'204': {{description: none}}}}
components:
  schemas:
    Snowflake: {{type: string, pattern: '^[0-9]+$'}}
    Range: {{type: object, properties: {{from: {{type: string, format: date}}, to: {{$ref: '#/components/schemas/Snowflake'}}}}}}
"
        ));
        // `nested` (an object inside) and `loose` (an exploded free-form map) have no query form; the objects
        // outside the query stay raw strings.
        assert_eq!(warnings, ["W0203", "W0203", "W0204", "W0204"]);
        let params: Vec<(&str, &TypeRef, Option<ObjectStyle>)> =
            api.operations[0].params.iter().map(|p| (p.api_name.as_str(), &p.ty, p.object)).collect();
        let named = |n: &str| TypeRef::Named(n.to_owned());
        assert_eq!(
            params,
            [
                ("id", &TypeRef::String, None),
                ("filter", &named("GetThingFilter"), Some(ObjectStyle::Exploded)),
                ("page", &named("GetThingPage"), Some(ObjectStyle::Joined)),
                ("deep", &named("Range"), Some(ObjectStyle::Deep)),
                ("tags", &TypeRef::Map(Box::new(TypeRef::String)), Some(ObjectStyle::Deep)),
                ("X-Pair", &TypeRef::String, None),
                ("X-Obj", &TypeRef::String, None),
            ]
        );
        assert_eq!(api.operations[0].params[0].constraints.pattern.as_deref(), Some("^[0-9]+$"));
    }

    #[test]
    fn text_rules_on_typed_formats_are_reported_not_silently_dropped() {
        let (api, warnings) = lower_with_warnings(&format!(
            "{HEAD}paths: {{}}
components:
  schemas:
    P:
      type: object
      properties:
        key: {{type: string, format: byte, maxLength: 16, pattern: '^[A-Z]+$'}}
        id: {{type: string, format: uuid}}
        name: {{type: string, maxLength: 3}}
"
        ));
        assert_eq!(warnings, ["W0110"]);
        let TypeKind::Struct { fields, .. } = &api.types["P"].kind else { panic!() };
        assert!(fields[0].constraints.is_empty(), "{:?}", fields[0].constraints);
        assert_eq!(fields[2].constraints.max_length, Some(3));
        assert!(!api.uses_patterns(), "no regex dependency for a rule that is not checked");
    }

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
