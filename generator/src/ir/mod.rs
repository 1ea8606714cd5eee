//! The intermediate representation: what the emitters see. Plain structs, independent of openapiv3, in a
//! deterministic order (operations in document order, types sorted by Rust name).

pub mod lower;
pub mod names;

use std::collections::BTreeMap;

/// A JSON pointer into the spec, kept on IR nodes so late errors still point at the source.
pub type SpecPath = String;

/// A whole API, lowered.
#[derive(Debug, Clone)]
pub struct Api {
    /// `info.title`.
    pub title: String,
    /// `info.description`.
    pub description: Option<String>,
    /// `info.version`.
    pub version: String,
    /// The server trait's name, e.g. `AuthApi`.
    pub trait_name: String,
    /// Every named type, keyed and sorted by Rust name.
    pub types: BTreeMap<String, TypeDef>,
    /// Operations in document order.
    pub operations: Vec<Operation>,
    /// The security schemes in `components.securitySchemes`, in document order.
    pub security_schemes: Vec<SecurityScheme>,
    /// CORS facts derived from the spec.
    pub cors: CorsPolicy,
    /// The input was a Swagger 2.0 document, converted to OpenAPI 3.0 while loading.
    pub from_swagger2: bool,
}

impl Api {
    /// True when any type, field, parameter, body or response mentions `t` (a format type), so the
    /// generated crate needs the crate behind it.
    pub fn uses_type(&self, t: &TypeRef) -> bool {
        let in_types = self.types.values().any(|d| match &d.kind {
            TypeKind::Struct { fields, additional, .. } => {
                fields.iter().any(|f| f.ty.contains(t)) || additional.as_ref().is_some_and(|a| a.contains(t))
            }
            TypeKind::Newtype(inner) => inner.contains(t),
            TypeKind::Tagged { variants, .. } => variants.iter().any(|v| v.ty.contains(t)),
            TypeKind::Untagged { variants } => variants.iter().any(|v| v.ty.contains(t)),
            TypeKind::StringEnum { .. } | TypeKind::IntEnum { .. } => false,
        });
        in_types
            || self.operations.iter().any(|o| {
                o.params.iter().any(|p| p.ty.contains(t))
                    || o.body.as_ref().is_some_and(|b| b.ty.contains(t))
                    || o.responses.iter().any(|r| {
                        r.body.as_ref().is_some_and(|b| b.ty.contains(t)) || r.headers.iter().any(|h| h.ty.contains(t))
                    })
            })
    }

    /// True when any field or parameter has a `pattern`, so the generated crate needs `regex`.
    pub fn uses_patterns(&self) -> bool {
        let in_types = self.types.values().any(|t| match &t.kind {
            TypeKind::Struct { fields, .. } => fields.iter().any(|f| !f.constraints.patterns().is_empty()),
            _ => false,
        });
        in_types
            || self.operations.iter().any(|o| {
                o.params
                    .iter()
                    .chain(o.segment.as_ref().map(|s| &s.param))
                    .any(|p| !p.constraints.patterns().is_empty())
            })
    }
}

/// A named Rust type.
#[derive(Debug, Clone)]
pub struct TypeDef {
    /// The Rust name.
    pub rust_name: String,
    /// Doc text (title, description).
    pub doc: Option<String>,
    /// What it is.
    pub kind: TypeKind,
    /// Marked `deprecated: true`.
    pub deprecated: bool,
    /// Where it was defined.
    pub source: SpecPath,
}

/// The shape of a named type.
#[derive(Debug, Clone)]
pub enum TypeKind {
    /// An object with named fields.
    Struct {
        /// Fields in document order.
        fields: Vec<Field>,
        /// `additionalProperties: false`.
        deny_unknown: bool,
        /// `additionalProperties` with a schema (or `true`), flattened next to the fields.
        additional: Option<TypeRef>,
        /// Rules over which properties are present (`oneOf`/`anyOf`/`not` of `required`), checked in order.
        rules: Vec<PresenceRule>,
    },
    /// A string enum.
    StringEnum {
        /// Variants in document order.
        variants: Vec<EnumVariant>,
        /// Has an `Other(String)` catch-all for values added to the spec later.
        open: bool,
    },
    /// An integer enum.
    IntEnum {
        /// Variants in document order; `api_name` holds the number.
        variants: Vec<EnumVariant>,
        /// Has an `Other(i64)` catch-all for values added to the spec later.
        open: bool,
    },
    /// `oneOf` with a discriminator: an internally tagged enum.
    Tagged {
        /// The discriminator property.
        tag: String,
        /// Variants in document order of `oneOf`.
        variants: Vec<TaggedVariant>,
    },
    /// `oneOf`/`anyOf` without a discriminator: tried in order.
    Untagged {
        /// Variants in document order.
        variants: Vec<UntaggedVariant>,
    },
    /// A named alias for another type (a newtype).
    Newtype(TypeRef),
}

/// A rule over which properties of an object are present: `oneOf: [{required: [email]}, {required:
/// [phoneNumber]}]` beside the object's properties, or an `allOf` member made only of such keywords.
#[derive(Debug, Clone, PartialEq)]
pub struct PresenceRule {
    /// What must hold.
    pub expr: Presence,
    /// The 400 message when it does not (`x-authgen-message`); without one, a message is derived from `expr`.
    pub message: Option<String>,
}

/// A condition over the presence of properties (present = the key is in the JSON object, even as `null`).
#[derive(Debug, Clone, PartialEq)]
pub enum Presence {
    /// The property (wire name) is present.
    Field(String),
    /// Every condition holds (`required: [a, b]`, `allOf`, several keywords in one schema).
    All(Vec<Presence>),
    /// At least one holds (`anyOf`).
    Any(Vec<Presence>),
    /// Exactly one holds (`oneOf`).
    One(Vec<Presence>),
    /// The condition does not hold (`not`).
    Not(Box<Presence>),
}

impl Presence {
    /// Every property the condition names, in order of first mention.
    pub fn fields(&self) -> Vec<&str> {
        fn walk<'p>(p: &'p Presence, out: &mut Vec<&'p str>) {
            match p {
                Presence::Field(f) => {
                    if !out.contains(&f.as_str()) {
                        out.push(f);
                    }
                }
                Presence::All(xs) | Presence::Any(xs) | Presence::One(xs) => xs.iter().for_each(|x| walk(x, out)),
                Presence::Not(x) => walk(x, out),
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }

    /// The condition in words, for documentation and for the default message: ``exactly one of `email` or
    /// `phoneNumber` ``.
    pub fn describe(&self) -> String {
        let list = |xs: &[Presence], last: &str| {
            let words: Vec<String> = xs.iter().map(Presence::describe_nested).collect();
            match words.split_last() {
                Some((tail, head)) if !head.is_empty() => format!("{} {last} {tail}", head.join(", ")),
                _ => words.join(""),
            }
        };
        match self {
            Presence::Field(f) => format!("`{f}`"),
            Presence::All(xs) => list(xs, "and"),
            Presence::Any(xs) => format!("at least one of {}", list(xs, "or")),
            Presence::One(xs) => format!("exactly one of {}", list(xs, "or")),
            Presence::Not(x) => format!("not {}", x.describe_nested()),
        }
    }

    /// The rule as a requirement on the object: ``must have exactly one of `email` or `phoneNumber` ``.
    pub fn requirement(&self) -> String {
        match self {
            Presence::Not(x) => format!("must not have {}", x.describe()),
            _ => format!("must have {}", self.describe()),
        }
    }

    fn describe_nested(&self) -> String {
        match self {
            Presence::Field(_) => self.describe(),
            _ => format!("({})", self.describe()),
        }
    }
}

/// A struct field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Rust name (snake case, keywords suffixed with `_`).
    pub rust_name: String,
    /// Wire name.
    pub api_name: String,
    /// Doc text.
    pub doc: Option<String>,
    /// The value type, without `Option`.
    pub ty: TypeRef,
    /// Listed in `required`.
    pub required: bool,
    /// `nullable: true`.
    pub nullable: bool,
    /// Marked `deprecated: true`.
    pub deprecated: bool,
    /// Checks the server adapters run after parsing.
    pub constraints: Constraints,
    /// The spec's `default`, applied when the field is absent (then the field is not an `Option`).
    pub default: Option<DefaultValue>,
}

/// A default value the generator can write as a Rust expression.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// A string.
    String(String),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A variant of a named enum (its Rust name).
    Variant(String),
}

/// Validation rules of a value, checked by the generated server adapters after parsing. Empty for most
/// fields; `required` and `enum` are enforced by the types themselves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    /// `minLength` (characters).
    pub min_length: Option<usize>,
    /// `maxLength` (characters).
    pub max_length: Option<usize>,
    /// `pattern` (a regular expression, unanchored as in JSON Schema).
    pub pattern: Option<String>,
    /// `format: email`.
    pub email: bool,
    /// `format: uri` (an absolute URI: a scheme, `:`, no whitespace).
    pub uri: bool,
    /// `minimum`.
    pub minimum: Option<f64>,
    /// `maximum`.
    pub maximum: Option<f64>,
    /// `exclusiveMinimum: true`.
    pub exclusive_minimum: bool,
    /// `exclusiveMaximum: true`.
    pub exclusive_maximum: bool,
    /// `minItems`.
    pub min_items: Option<usize>,
    /// `maxItems`.
    pub max_items: Option<usize>,
    /// `uniqueItems: true`.
    pub unique_items: bool,
    /// Rules for each item of an array.
    pub items: Option<Box<Constraints>>,
    /// The spec's own message when the value breaks these rules (`x-authgen-message`), in place of the
    /// generated ones.
    pub message: Option<String>,
}

impl Constraints {
    /// True when there is nothing to check.
    pub fn is_empty(&self) -> bool {
        Constraints { message: None, ..self.clone() } == Constraints::default()
    }

    /// Every `pattern` in these rules, items included.
    pub fn patterns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.pattern.iter().map(String::as_str).collect();
        if let Some(items) = &self.items {
            out.extend(items.patterns());
        }
        out
    }
}

/// A string enum variant.
#[derive(Debug, Clone)]
pub struct EnumVariant {
    /// Rust name.
    pub rust_name: String,
    /// Wire value.
    pub api_name: String,
    /// Doc text (`x-enum-descriptions`).
    pub doc: Option<String>,
}

/// A variant of a tagged union.
#[derive(Debug, Clone)]
pub struct TaggedVariant {
    /// Rust name.
    pub rust_name: String,
    /// Discriminator value on the wire.
    pub api_name: String,
    /// The payload type (a struct without the tag property).
    pub ty: TypeRef,
}

/// A variant of an untagged union.
#[derive(Debug, Clone)]
pub struct UntaggedVariant {
    /// Rust name.
    pub rust_name: String,
    /// The payload type.
    pub ty: TypeRef,
}

/// A reference to a type, as used in fields, parameters and bodies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum TypeRef {
    /// `String`.
    String,
    /// `bool`.
    Bool,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// Any JSON value.
    Json,
    /// A named type in `types`.
    Named(String),
    /// A list.
    Vec(Box<TypeRef>),
    /// A string-keyed map.
    Map(Box<TypeRef>),
    /// A recursive reference, boxed.
    Boxed(Box<TypeRef>),
    /// Raw bytes (`application/octet-stream` bodies).
    Bytes,
    /// `format: date-time`: `chrono::DateTime<chrono::Utc>` (RFC 3339 on the wire).
    DateTime,
    /// `format: date`: `chrono::NaiveDate` (`YYYY-MM-DD` on the wire).
    Date,
    /// `format: uuid`: `uuid::Uuid`.
    Uuid,
    /// `format: byte`: base64 on the wire, bytes in Rust (`runtime::Base64`).
    Base64,
    /// A file part of a `multipart/form-data` body (`type: string, format: binary`): the runtime's
    /// `FilePart`, with its file name, media type and bytes.
    File,
}

/// The type a named newtype (a `type` alias in the output) stands for, through chains of them; other types
/// as they are.
pub fn through_newtypes<'t>(types: &'t BTreeMap<String, TypeDef>, ty: &'t TypeRef) -> &'t TypeRef {
    let mut ty = ty;
    for _ in 0..16 {
        match ty {
            TypeRef::Named(n) => match types.get(n).map(|d| &d.kind) {
                Some(TypeKind::Newtype(inner)) => ty = inner,
                _ => break,
            },
            _ => break,
        }
    }
    ty
}

/// A value with one text form (`FromStr`/`Display`): a scalar or an enum, through newtypes. What a parameter,
/// a property of an object parameter or a multipart text part can be.
pub fn is_scalar_or_enum(types: &BTreeMap<String, TypeDef>, ty: &TypeRef) -> bool {
    match through_newtypes(types, ty) {
        t if t.is_scalar() => true,
        TypeRef::Named(n) => {
            matches!(types.get(n).map(|d| &d.kind), Some(TypeKind::StringEnum { .. } | TypeKind::IntEnum { .. }))
        }
        _ => false,
    }
}

impl TypeRef {
    /// The OpenAPI `format` behind a typed string (`date-time`, `date`, `uuid`, `byte`).
    pub fn format_name(&self) -> Option<&'static str> {
        match self {
            TypeRef::DateTime => Some("date-time"),
            TypeRef::Date => Some("date"),
            TypeRef::Uuid => Some("uuid"),
            TypeRef::Base64 => Some("byte"),
            _ => None,
        }
    }

    /// Whether this type, or a type inside it, is `t`.
    pub fn contains(&self, t: &TypeRef) -> bool {
        self == t
            || match self {
                TypeRef::Vec(inner) | TypeRef::Map(inner) | TypeRef::Boxed(inner) => inner.contains(t),
                _ => false,
            }
    }

    /// A scalar with one string form on the wire (`FromStr`/`Display`), usable as a parameter.
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            TypeRef::String
                | TypeRef::Bool
                | TypeRef::I32
                | TypeRef::I64
                | TypeRef::F32
                | TypeRef::F64
                | TypeRef::DateTime
                | TypeRef::Date
                | TypeRef::Uuid
                | TypeRef::Base64
        )
    }
}

/// One operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// snake_case method and module name, e.g. `create_code`.
    pub rust_name: String,
    /// PascalCase name, e.g. `CreateCode`.
    pub type_name: String,
    /// The operationId (or the derived name).
    pub api_id: String,
    /// HTTP method, upper case.
    pub method: String,
    /// Path template, e.g. `/pets/{id}`.
    pub path: String,
    /// `summary`.
    pub summary: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `deprecated: true`.
    pub deprecated: bool,
    /// Tags.
    pub tags: Vec<String>,
    /// Path, query, header and cookie parameters.
    pub params: Vec<Param>,
    /// An optional path segment (`x-authgen-optional-segment`): the operation is also served with it.
    pub segment: Option<OptionalSegment>,
    /// Security schemes that may authenticate the call (any one of them).
    pub security: Vec<String>,
    /// The request body, if any.
    pub body: Option<RequestBody>,
    /// Responses, explicit codes first (ascending), then ranges, then `default`.
    pub responses: Vec<Response>,
    /// Where it was defined.
    pub source: SpecPath,
}

impl Operation {
    /// The path with the optional segment in place (`/auth/{tenantId}/signinup`), when there is one.
    pub fn segment_path(&self) -> Option<String> {
        let segment = self.segment.as_ref()?;
        let rest = self.path.strip_prefix(segment.after.as_str())?;
        Some(format!("{}/{{{}}}{rest}", segment.after, segment.param.api_name))
    }

    /// The path for people, the optional segment in brackets: `/auth[/{tenantId}]/signinup`.
    pub fn display_path(&self) -> String {
        match &self.segment {
            Some(segment) => match self.path.strip_prefix(segment.after.as_str()) {
                Some(rest) => format!("{}[/{{{}}}]{rest}", segment.after, segment.param.api_name),
                None => self.path.clone(),
            },
            None => self.path.clone(),
        }
    }
}

/// An optional path segment after a literal prefix, such as the FDI's tenant in `/auth[/<tenantId>]/signinup`:
/// the operation is served at its path and at its path with the segment, and the request carries the
/// segment's value, or `default` when the path leaves it out.
#[derive(Debug, Clone)]
pub struct OptionalSegment {
    /// The literal leading segments it follows, such as `/auth`.
    pub after: String,
    /// The path parameter it binds (always present in the request: the segment or the default).
    pub param: Param,
    /// The value when the path leaves the segment out.
    pub default: String,
}

/// Where a parameter lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ParamLocation {
    /// In the path template.
    Path,
    /// In the query string.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
}

/// How an object query parameter travels (OpenAPI's `style` and `explode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectStyle {
    /// `style: deepObject`: `filter[kind]=cat&filter[max]=3`.
    Deep,
    /// `style: form`, `explode: true` (the default): each property is its own key, `kind=cat&max=3`.
    Exploded,
    /// `style: form`, `explode: false`: `filter=kind,cat,max,3`.
    Joined,
}

impl ParamLocation {
    /// `path`, `query`, `header` or `cookie`, as OpenAPI's `in` says.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamLocation::Path => "path",
            ParamLocation::Query => "query",
            ParamLocation::Header => "header",
            ParamLocation::Cookie => "cookie",
        }
    }
}

/// A parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Rust field name.
    pub rust_name: String,
    /// Wire name.
    pub api_name: String,
    /// Location.
    pub location: ParamLocation,
    /// Required.
    pub required: bool,
    /// Value type (scalar, string enum, or a list of those).
    pub ty: TypeRef,
    /// For arrays in the query: repeated keys (`true`, the default) or comma separated.
    pub explode: bool,
    /// For an object in the query (`ty` is a struct of scalars, or a map of scalars): how its properties
    /// are spelled.
    pub object: Option<ObjectStyle>,
    /// Doc text.
    pub doc: Option<String>,
    /// Marked deprecated.
    pub deprecated: bool,
    /// Checks the server adapters run after parsing.
    pub constraints: Constraints,
    /// The 400 message when a required parameter is missing (`x-authgen-missing-message`).
    pub missing_message: Option<String>,
}

/// How a body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/json` (or `+json`).
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `text/*`, as a `String`.
    Text,
    /// `multipart/form-data` with an object schema: a struct whose properties are the parts.
    Multipart,
    /// Anything else, as raw bytes.
    Bytes,
}

/// How one property of a `multipart/form-data` body travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    /// One file part (`format: binary`): a `FilePart`.
    File,
    /// Several file parts with the same name (an array of `format: binary`).
    Files,
    /// One text part, parsed with `FromStr` and written with `Display` (scalars and enums).
    Text,
    /// Several text parts with the same name (an array of scalars).
    Texts,
    /// One `application/json` part (objects, arrays of objects, anything else).
    Json,
}

/// A part of a `multipart/form-data` body: one field of the body struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The field's Rust name.
    pub rust_name: String,
    /// The part's name on the wire.
    pub api_name: String,
    /// How it travels.
    pub kind: PartKind,
    /// `encoding.<name>.contentType`, when the spec gives one.
    pub content_type: Option<String>,
}

/// A request body.
#[derive(Debug, Clone)]
pub struct RequestBody {
    /// Encoding.
    pub kind: BodyKind,
    /// The media type.
    pub content_type: String,
    /// The Rust type.
    pub ty: TypeRef,
    /// `required: true`.
    pub required: bool,
    /// Doc text.
    pub doc: Option<String>,
    /// Messages for missing required properties, keyed by their path in the body (`deviceId`,
    /// `redirectURIInfo.redirectURIOnProviderDashboard`), from the body schema's
    /// `x-authgen-missing-messages`.
    pub missing_messages: Vec<(String, String)>,
    /// A JSON body that the spec also accepts as `application/x-www-form-urlencoded`, with the same schema:
    /// the server parses either, by the request's `Content-Type`; the client sends JSON.
    pub also_form: bool,
    /// The parts of a [`BodyKind::Multipart`] body, in document order (empty for other kinds).
    pub parts: Vec<Part>,
}

/// Which statuses a response covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ResponseStatus {
    /// One status code.
    Code(u16),
    /// `4XX`: the first digit.
    Range(u8),
    /// `default`.
    Default,
}

/// A response variant.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status.
    pub status: ResponseStatus,
    /// Enum variant name, e.g. `Ok`, `BadRequest`.
    pub variant: String,
    /// Description.
    pub doc: Option<String>,
    /// The body, if any.
    pub body: Option<ResponseBody>,
    /// Response headers in document order.
    pub headers: Vec<HeaderDef>,
}

/// A response body.
#[derive(Debug, Clone)]
pub struct ResponseBody {
    /// Encoding.
    pub kind: BodyKind,
    /// Media type.
    pub content_type: String,
    /// The Rust type.
    pub ty: TypeRef,
}

/// A response header.
#[derive(Debug, Clone)]
pub struct HeaderDef {
    /// Rust field name.
    pub rust_name: String,
    /// Wire name, as written in the spec.
    pub api_name: String,
    /// Required.
    pub required: bool,
    /// Value type (scalar).
    pub ty: TypeRef,
    /// May occur several times (`Set-Cookie`): a `Vec<String>`.
    pub multi: bool,
    /// Doc text.
    pub doc: Option<String>,
}

/// A security scheme.
#[derive(Debug, Clone)]
pub struct SecurityScheme {
    /// The name in `components.securitySchemes`.
    pub api_name: String,
    /// Rust field name in request structs.
    pub rust_name: String,
    /// How the credential travels.
    pub kind: SecurityKind,
    /// Description.
    pub doc: Option<String>,
}

/// How a credential travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityKind {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: Basic <base64>`.
    Basic,
    /// An API key in a header.
    ApiKeyHeader(String),
    /// An API key in the query.
    ApiKeyQuery(String),
    /// An API key in a cookie.
    ApiKeyCookie(String),
}

/// CORS facts derived from the spec.
#[derive(Debug, Clone, Default)]
pub struct CorsPolicy {
    /// Lower-case request header names a browser may send: `content-type`, header parameters and
    /// the headers security schemes use. Sorted.
    pub allowed_headers: Vec<String>,
    /// Lower-case response header names a page may read. Sorted.
    pub exposed_headers: Vec<String>,
    /// Upper-case methods used in the spec, sorted.
    pub allowed_methods: Vec<String>,
}
