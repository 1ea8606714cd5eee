//! Lowers `multipart/form-data` request bodies to a struct and its [`Part`]s (files, text, JSON), and warns
//! about the multipart bodies that stay raw bytes.

use std::collections::BTreeMap;

use openapiv3::{ReferenceOr, Schema, SchemaKind, Type, VariantOrUnknownOrEmpty};

use super::bodies::media_essence;
use super::schemas::unknown_type;
use super::{Lowerer, ptr_join};
use crate::ir::{Part, PartKind, TypeDef, TypeKind, TypeRef, is_scalar_or_enum};

/// `type: string, format: binary`: a file part in a multipart body (3.1's `contentEncoding: binary` and
/// `contentMediaType` are rewritten to this when the document is read).
fn is_binary(schema: &Schema) -> bool {
    matches!(
        &schema.schema_kind,
        SchemaKind::Type(Type::String(s)) if s.format == VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Binary)
    )
}

impl<'a> Lowerer<'a> {
    /// W0302 for a multipart body that stays raw bytes.
    pub(super) fn warn_raw_multipart(&mut self, ct: &str, content_ptr: &str, request: bool) {
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
    pub(super) fn lower_multipart(
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::BodyKind;
    use crate::ir::lower::testing::{HEAD, lower_with_warnings};

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
}
