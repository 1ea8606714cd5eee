//! Lowers a string's `format` to its Rust type: `date-time`, `date`, `uuid` and `byte` are typed, unless the
//! settings ask for plain strings.

use openapiv3::VariantOrUnknownOrEmpty;

use super::Lowerer;
use crate::ir::TypeRef;

impl<'a> Lowerer<'a> {
    /// The Rust type of a string by its `format`: `date-time`, `date`, `uuid` and `byte` are typed unless
    /// the settings ask for plain strings; every other format (`email`, `uri`, `binary`, `password`, ...)
    /// is a `String`, checked by validation where the format has a rule.
    pub(super) fn string_type(&self, format: &VariantOrUnknownOrEmpty<openapiv3::StringFormat>) -> TypeRef {
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
}

#[cfg(test)]
mod tests {
    use crate::ir::lower::lower_spec;
    use crate::ir::lower::testing::HEAD;
    use crate::ir::{TypeKind, TypeRef};
    use crate::settings::Settings;

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
}
