//! Lower stage: `openapiv3::OpenAPI` -> [`Api`]. With its submodules, the only module that names openapiv3 types.
//!
//! This file holds the entry point, the lowering context shared by every concern and the resolution of schema
//! references; each concern lowers in a file of its own:
//! - `operations`: paths and their operations, which gather the parts below; `routes`: the route of each path;
//! - `parameters`, `security`, `bodies`, `multipart`, `responses`: the parts of an operation;
//! - `schemas`, `composition`, `enums`, `formats`, `constraints`: named and inline types and their rules;
//! - `cors`: the CORS facts, derived from the lowered operations.

mod bodies;
mod composition;
mod constraints;
mod cors;
mod enums;
mod formats;
mod multipart;
mod operations;
mod parameters;
mod presence;
mod responses;
mod routes;
mod schemas;
mod security;
mod segments;

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use openapiv3::{Components, OpenAPI, ReferenceOr, Schema};

use self::cors::derive_cors;
use super::names::{Scope, pascal};
use super::{Api, TypeDef};
use crate::settings::Settings;
use crate::spec::diag::{Diagnostics, escape_segment};
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

/// The lowering context every file of this module works on: the document, the diagnostics found so far and
/// the named types lowered so far.
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

/// A kind of reusable component that operations reference by `$ref` (request bodies, responses, headers):
/// where it lives under `#/components`, and the diagnostic for a reference that does not name one.
struct ComponentKind<T: 'static> {
    /// The `#/components/...` prefix of a valid reference.
    prefix: &'static str,
    /// The noun in the diagnostic (`request body`, `response`, `header`).
    noun: &'static str,
    /// Its plural, for the help line.
    plural: &'static str,
    code: &'static str,
    section: fn(&Components) -> &IndexMap<String, ReferenceOr<T>>,
}

impl<'a> Lowerer<'a> {
    /// The item itself, or the component a `$ref` names. A reference that does not name a component of this
    /// kind (or names another reference) is an error at `{ptr}/$ref`, and `None`.
    fn component<T>(&mut self, item: &'a ReferenceOr<T>, ptr: &str, kind: &ComponentKind<T>) -> Option<&'a T> {
        let reference = match item {
            ReferenceOr::Item(item) => return Some(item),
            ReferenceOr::Reference { reference } => reference,
        };
        let found = reference
            .strip_prefix(kind.prefix)
            .and_then(|name| (kind.section)(self.doc.components.as_ref()?).get(name));
        match found {
            Some(ReferenceOr::Item(item)) => Some(item),
            _ => {
                let (noun, plural, prefix) = (kind.noun, kind.plural, kind.prefix);
                self.diags
                    .error(kind.code, &format!("{ptr}/$ref"), format!("`{reference}` is not a {noun}"))
                    .help(format!("{plural} must reference `{prefix}...`"));
                None
            }
        }
    }

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
            from_swagger2: self.diags.source().is_swagger2(),
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
}

#[cfg(test)]
mod testing {
    //! Fixtures shared by the unit tests of every lowering file.

    use super::lower_spec;
    use crate::ir::Api;
    use crate::settings::Settings;

    pub(super) fn lower(yaml: &str) -> Api {
        let spec = crate::spec::load_str("t.yaml", yaml).unwrap_or_else(|d| panic!("{}", d.render_plain()));
        let (api, _) = lower_spec(&spec, &Settings::default()).unwrap_or_else(|d| panic!("{}", d.render_plain()));
        api
    }

    pub(super) const HEAD: &str = "openapi: 3.0.3\ninfo: {title: T, version: '1'}\n";

    /// Lowers and returns the warning codes too.
    pub(super) fn lower_with_warnings(yaml: &str) -> (Api, Vec<&'static str>) {
        let spec = crate::spec::load_str("t.yaml", yaml).unwrap_or_else(|d| panic!("{}", d.render_plain()));
        let (api, warnings) =
            lower_spec(&spec, &Settings::default()).unwrap_or_else(|d| panic!("{}", d.render_plain()));
        let mut codes: Vec<&'static str> = spec.warnings.items().iter().map(|d| d.code).collect();
        codes.extend(warnings.items().iter().map(|d| d.code));
        (api, codes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{TypeKind, TypeRef};

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
}
