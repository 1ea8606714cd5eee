//! Presence rules: schemas that only say which properties are present (`required`, and `oneOf`, `anyOf`,
//! `allOf`, `not` of such schemas), written beside an object's properties or as an `allOf` member of it,
//! become [`PresenceRule`]s that the generated validation checks: "exactly one of email or phoneNumber".
//!
//! JSON Schema has no other way to say it, and tools that read the spec (schemathesis, validators, other
//! generators) understand these keywords, so the spec stays the one source of the rule.

use openapiv3::{AnySchema, ReferenceOr, Schema, SchemaKind};
use serde_json::Value;

use super::{Lowerer, ptr_join};
use crate::ir::{Presence, PresenceRule};

/// A rule found in the spec, before its properties are checked against the object's.
pub(super) struct FoundRule {
    pub(super) expr: Presence,
    pub(super) message: Option<String>,
    /// Where the rule is written, for diagnostics.
    pub(super) ptr: String,
}

/// The condition `schema` states when it only states which properties are present; `None` when it says
/// anything else (a type, properties, a reference...). Annotations (`description`, `x-...`) may sit beside.
pub(super) fn presence_of(schema: &ReferenceOr<Schema>) -> Option<Presence> {
    let ReferenceOr::Item(s) = schema else { return None };
    match &s.schema_kind {
        SchemaKind::OneOf { one_of } => Some(Presence::One(all_presence(one_of)?)),
        SchemaKind::AnyOf { any_of } => Some(Presence::Any(all_presence(any_of)?)),
        SchemaKind::AllOf { all_of } => Some(Presence::All(all_presence(all_of)?)),
        SchemaKind::Not { not } => Some(Presence::Not(Box::new(presence_of(not)?))),
        SchemaKind::Any(a) => {
            let rest = AnySchema {
                required: Vec::new(),
                one_of: Vec::new(),
                any_of: Vec::new(),
                all_of: Vec::new(),
                not: None,
                ..a.clone()
            };
            if rest != AnySchema::default() {
                return None;
            }
            conjunction(a.required.iter().map(|r| Some(Presence::Field(r.clone()))).chain(keywords(a)))
        }
        SchemaKind::Type(_) => None,
    }
}

/// The object's own rule: its `oneOf`/`anyOf`/`not` beside `properties`, when every one of them is about
/// presence. A keyword that says more (a union beside properties) is left alone, as before.
fn own_rule(any: &AnySchema) -> Option<Presence> {
    conjunction(keywords(&AnySchema { required: Vec::new(), all_of: Vec::new(), ..any.clone() }))
}

/// An `allOf` with nothing beside it but a presence rule (its `oneOf`/`anyOf`/`not`), as loading leaves
/// `{allOf: [..], properties: .., oneOf: [{required: [a]}, {required: [b]}]}` once the properties are folded in.
pub(super) fn all_of_with_rule(any: &AnySchema) -> bool {
    let rest = AnySchema { all_of: Vec::new(), one_of: Vec::new(), any_of: Vec::new(), not: None, ..any.clone() };
    !any.all_of.is_empty() && rest == AnySchema::default() && own_rule(any).is_some()
}

/// `oneOf`, `anyOf`, `allOf` and `not` of `a`, each as a condition (`None` for one that is not about presence).
fn keywords(a: &AnySchema) -> impl Iterator<Item = Option<Presence>> {
    let non_empty = |xs: &[ReferenceOr<Schema>], f: fn(Vec<Presence>) -> Presence| {
        (!xs.is_empty()).then(|| all_presence(xs).map(f))
    };
    [
        non_empty(&a.one_of, Presence::One),
        non_empty(&a.any_of, Presence::Any),
        non_empty(&a.all_of, Presence::All),
        a.not.as_deref().map(|n| presence_of(n).map(|p| Presence::Not(Box::new(p)))),
    ]
    .into_iter()
    .flatten()
}

/// The properties of a rule that only lists required properties (`{required: [a, b]}`), which a type can
/// express by itself.
pub(super) fn plain_required(expr: &Presence) -> Option<Vec<String>> {
    match expr {
        Presence::Field(f) => Some(vec![f.clone()]),
        Presence::All(xs) => {
            let mut names = Vec::new();
            for x in xs {
                names.extend(plain_required(x)?);
            }
            Some(names)
        }
        _ => None,
    }
}

/// Every part must be about presence; one part is itself, several are all required, none is no rule.
fn conjunction(parts: impl Iterator<Item = Option<Presence>>) -> Option<Presence> {
    let mut parts: Vec<Presence> = parts.collect::<Option<_>>()?;
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Presence::All(parts)),
    }
}

fn all_presence(members: &[ReferenceOr<Schema>]) -> Option<Vec<Presence>> {
    if members.is_empty() {
        return None;
    }
    members.iter().map(presence_of).collect()
}

impl Lowerer<'_> {
    /// The rule of an object's own `oneOf`/`anyOf`/`not` (none or one), located at the first of them.
    pub(super) fn own_rules(
        &mut self,
        any: &AnySchema,
        extensions: &indexmap::IndexMap<String, Value>,
        ptr: &str,
    ) -> Vec<FoundRule> {
        let Some(expr) = own_rule(any) else { return Vec::new() };
        let message = self.rule_message(extensions, ptr);
        let keyword =
            [("oneOf", !any.one_of.is_empty()), ("anyOf", !any.any_of.is_empty()), ("not", any.not.is_some())]
                .into_iter()
                .find_map(|(k, present)| present.then_some(k));
        let at = keyword.map_or_else(|| ptr.to_owned(), |k| ptr_join(ptr, k));
        vec![FoundRule { expr, message, ptr: at }]
    }

    /// The spec's own 400 message, `x-authgen-message` in `extensions` (of the schema at `ptr`): for the
    /// schema's presence rule, or for a value's checks.
    pub(super) fn rule_message(&mut self, extensions: &indexmap::IndexMap<String, Value>, ptr: &str) -> Option<String> {
        match extensions.get("x-authgen-message") {
            Some(Value::String(m)) => Some(m.clone()),
            Some(_) => {
                self.diags
                    .error("E0110", &ptr_join(ptr, "x-authgen-message"), "`x-authgen-message` must be a string")
                    .help("write the 400 message sent when the request breaks this schema's rules");
                None
            }
            None => None,
        }
    }

    /// Keeps the rules whose properties are all properties of the object; warns about the others.
    pub(super) fn settle_rules(
        &mut self,
        found: Vec<FoundRule>,
        has_property: impl Fn(&str) -> bool,
    ) -> Vec<PresenceRule> {
        let mut rules = Vec::new();
        for rule in found {
            if let Some(unknown) = rule.expr.fields().into_iter().find(|f| !has_property(f)) {
                self.diags
                    .warning(
                        "W0120",
                        &rule.ptr,
                        format!("presence rule names `{unknown}`, which is not a property of the object; the rule is not checked"),
                    )
                    .help(format!("add `{unknown}` under the object's `properties`, or correct the name"));
                continue;
            }
            rules.push(PresenceRule { expr: rule.expr, message: rule.message });
        }
        rules
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::lower::testing::{HEAD, lower, lower_with_warnings};
    use crate::ir::{Presence, TypeKind};

    fn rules(spec: &str, ty: &str) -> Vec<(Presence, Option<String>)> {
        let api = lower(spec);
        let TypeKind::Struct { rules, .. } = &api.types[ty].kind else { panic!("{ty} is not a struct") };
        rules.iter().map(|r| (r.expr.clone(), r.message.clone())).collect()
    }

    fn f(name: &str) -> Presence {
        Presence::Field(name.to_owned())
    }

    #[test]
    fn one_of_required_beside_properties_is_an_exactly_one_rule_with_its_message() {
        let spec = format!(
            "{HEAD}paths: {{}}
components:
  schemas:
    C:
      type: object
      properties: {{email: {{type: string}}, phoneNumber: {{type: string}}}}
      oneOf:
        - required: [email]
        - required: [phoneNumber]
      x-authgen-message: Please provide exactly one of email or phoneNumber
"
        );
        assert_eq!(
            rules(&spec, "C"),
            vec![(
                Presence::One(vec![f("email"), f("phoneNumber")]),
                Some("Please provide exactly one of email or phoneNumber".to_owned())
            )]
        );
    }

    #[test]
    fn all_of_members_are_rules_in_order_and_nest_not_any_and_required() {
        let spec = format!(
            "{HEAD}paths: {{}}
components:
  schemas:
    C:
      type: object
      required: [s]
      properties: {{s: {{type: string}}, l: {{type: string}}, d: {{type: string}}, u: {{type: string}}}}
      allOf:
        - not:
            required: [l]
            anyOf: [{{required: [d]}}, {{required: [u]}}]
          x-authgen-message: not both
        - anyOf: [{{required: [l]}}, {{required: [d, u]}}]
"
        );
        let found = rules(&spec, "C");
        assert_eq!(
            found,
            vec![
                (
                    Presence::Not(Box::new(Presence::All(vec![f("l"), Presence::Any(vec![f("d"), f("u")])]))),
                    Some("not both".to_owned())
                ),
                (Presence::Any(vec![f("l"), Presence::All(vec![f("d"), f("u")])]), None),
            ]
        );
        assert_eq!(found[1].0.describe(), "at least one of `l` or (`d` and `u`)");
        let api = lower(&spec);
        let TypeKind::Struct { fields, .. } = &api.types["C"].kind else { panic!() };
        assert_eq!(fields.iter().map(|f| f.api_name.as_str()).collect::<Vec<_>>(), ["s", "l", "d", "u"]);
    }

    #[test]
    fn a_rule_beside_properties_and_all_of_keeps_its_message_and_comes_before_the_members_own() {
        let spec = format!(
            "{HEAD}paths: {{}}
components:
  schemas:
    B:
      type: object
      properties: {{a: {{type: string}}}}
    C:
      type: object
      properties: {{b: {{type: string}}}}
      allOf:
        - $ref: '#/components/schemas/B'
        - required: [a]
        - not: {{required: [a, b]}}
      anyOf: [{{required: [a]}}, {{required: [b]}}]
      x-authgen-message: give a or b
"
        );
        assert_eq!(
            rules(&spec, "C"),
            vec![
                (Presence::Not(Box::new(Presence::All(vec![f("a"), f("b")]))), None),
                (Presence::Any(vec![f("a"), f("b")]), Some("give a or b".to_owned())),
            ]
        );
        // `{required: [a]}` as a member makes `a` required in the type itself.
        let api = lower(&spec);
        let TypeKind::Struct { fields, .. } = &api.types["C"].kind else { panic!() };
        assert_eq!(
            fields.iter().map(|f| (f.api_name.as_str(), f.required)).collect::<Vec<_>>(),
            [("a", true), ("b", false)]
        );
    }

    #[test]
    fn a_rule_naming_an_unknown_property_is_a_located_warning_and_a_union_beside_properties_is_no_rule() {
        let spec = format!(
            "{HEAD}paths: {{}}
components:
  schemas:
    A:
      type: object
      properties: {{a: {{type: string}}}}
    C:
      type: object
      properties: {{email: {{type: string}}}}
      oneOf:
        - required: [email]
        - required: [phone]
    D:
      type: object
      properties: {{x: {{type: string}}}}
      oneOf:
        - $ref: '#/components/schemas/A'
        - required: [x]
"
        );
        let (api, warnings) = lower_with_warnings(&spec);
        let TypeKind::Struct { rules, .. } = &api.types["C"].kind else { panic!() };
        assert!(rules.is_empty());
        let TypeKind::Struct { rules, .. } = &api.types["D"].kind else { panic!() };
        assert!(rules.is_empty());
        assert_eq!(warnings, ["W0120"]);
    }
}
