//! Lowers the validation keywords of a schema (lengths, bounds, patterns, item rules) to [`Constraints`].

use openapiv3::{Schema, SchemaKind, Type, VariantOrUnknownOrEmpty};

use super::{Lowerer, ptr_join};
use crate::ir::Constraints;

impl<'a> Lowerer<'a> {
    /// The validation rules of a (resolved) schema. A `pattern` the regex crate cannot compile is an error
    /// here rather than a panic in the generated code.
    pub(super) fn constraints_of(&mut self, schema: &Schema, ptr: &str) -> Constraints {
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
        // An object's message belongs to its presence rules (lowered with them); a value's to its checks.
        if matches!(&schema.schema_kind, SchemaKind::Type(t) if !matches!(t, Type::Object(_))) {
            c.message = self.rule_message(&schema.schema_data.extensions, ptr);
        }
        if let Some(p) = &c.pattern
            && let Err(e) = regex::Regex::new(p)
        {
            let text = e.to_string();
            let last = text.lines().last().unwrap_or_default().trim();
            let detail = last.strip_prefix("error: ").unwrap_or(last).to_owned();
            self.diags
                .warning("W0114", &ptr_join(ptr, "pattern"), format!("pattern `{p}` is not supported: {detail}"))
                .label("this pattern")
                .help(
                    "authgen does not check this pattern; patterns are compiled with the Rust regex crate: no \
                     look-around and no backreferences",
                );
            c.pattern = None;
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::TypeKind;
    use crate::ir::lower::lower_spec;
    use crate::ir::lower::testing::{HEAD, lower, lower_with_warnings};
    use crate::settings::Settings;

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
        let (api, diags) = lower_spec(&spec, &Settings::default()).expect("an unsupported pattern is not checked");
        let text = diags.render_plain();
        assert!(text.starts_with("warning[W0114]: pattern `^(?!admin).*$` is not supported: look-around"), "{text}");
        assert!(text.contains("--> t.yaml:9:27"), "{text}");
        assert!(!api.uses_patterns(), "the pattern is dropped, not half-checked");
        let mut strict = diags;
        strict.apply_policy(crate::spec::diag::Policy { strict: true, ..Default::default() });
        let text = strict.propagate().expect_err("--strict refuses it").render_plain();
        assert!(
            text.starts_with("error[W0114]: pattern `^(?!admin).*$`") && text.contains("--> t.yaml:9:27"),
            "{text}"
        );
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
}
