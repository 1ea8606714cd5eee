//! Lowers request bodies to [`RequestBody`]s, and picks the media type of request and response bodies alike.

use serde_json::Value;

use super::schemas::unbox;
use super::{ComponentKind, Lowerer, non_empty, ptr_join};
use crate::ir::{BodyKind, RequestBody, TypeRef};

/// A media type without its parameters, lower case.
pub(super) fn media_essence(ct: &str) -> String {
    ct.split(';').next().unwrap_or(ct).trim().to_ascii_lowercase()
}

const REQUEST_BODY: ComponentKind<openapiv3::RequestBody> = ComponentKind {
    prefix: "#/components/requestBodies/",
    noun: "request body",
    plural: "request bodies",
    code: "E0208",
    section: |c| &c.request_bodies,
};

impl<'a> Lowerer<'a> {
    pub(super) fn pick_content<'m>(
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

    pub(super) fn lower_request_body(
        &mut self,
        op: &'a openapiv3::Operation,
        op_ptr: &str,
        op_type: &str,
    ) -> Option<RequestBody> {
        let body = op.request_body.as_ref()?;
        let ptr = format!("{op_ptr}/requestBody");
        let body = self.component(body, &ptr, &REQUEST_BODY)?;
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
}

/// Whether `(media_type, media)` is a form-urlencoded alternative with the same schema as `json`.
fn is_equivalent_form(media_type: &str, media: &openapiv3::MediaType, json: &openapiv3::MediaType) -> bool {
    let essence = media_type.split(';').next().unwrap_or(media_type).trim().to_ascii_lowercase();
    essence == "application/x-www-form-urlencoded" && media.schema.is_some() && media.schema == json.schema
}

#[cfg(test)]
mod tests {
    use crate::ir::lower::testing::{HEAD, lower_with_warnings};
    use crate::ir::{BodyKind, TypeRef};

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
}
