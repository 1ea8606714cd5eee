//! The spec's validation rules: the [`Validate`] trait the generated types implement, and the checks they call.

use bytes::Bytes;

use super::{FilePart, RequestError};

/// Checks a parsed value against the spec's validation rules (`minLength`, `pattern`, `minimum`, `maxItems`,
/// `format: email`, ...), appending one message per violation. Generated for every schema type; the server
/// adapters run it on every request body and answer violations with 400.
pub trait Validate {
    /// Appends violations under `path` (e.g. `user.emails[0]`; empty for the root).
    fn validate_into(&self, path: &str, errors: &mut Vec<String>);

    /// The first presence rule (`oneOf`/`anyOf`/`not` of `required`) the object breaks, if it has any.
    fn broken_rule(&self) -> Option<&'static Rule> {
        None
    }

    /// The spec's own message (`x-authgen-message`) for the first rule of the object that has one and is
    /// broken: its presence rules first, then its properties' checks.
    fn spec_message(&self) -> Option<&'static str> {
        None
    }
}

macro_rules! nothing_to_validate {
    ($($t:ty),*) => { $( impl Validate for $t { fn validate_into(&self, _: &str, _: &mut Vec<String>) {} } )* };
}

nothing_to_validate!(String, bool, i32, i64, f32, f64, serde_json::Value, Bytes, FilePart);

impl<T: Validate> Validate for Option<T> {
    fn validate_into(&self, path: &str, errors: &mut Vec<String>) {
        if let Some(v) = self {
            v.validate_into(path, errors);
        }
    }

    fn broken_rule(&self) -> Option<&'static Rule> {
        self.as_ref().and_then(T::broken_rule)
    }

    fn spec_message(&self) -> Option<&'static str> {
        self.as_ref().and_then(T::spec_message)
    }
}

impl<T: Validate> Validate for Box<T> {
    fn validate_into(&self, path: &str, errors: &mut Vec<String>) {
        (**self).validate_into(path, errors);
    }

    fn broken_rule(&self) -> Option<&'static Rule> {
        (**self).broken_rule()
    }

    fn spec_message(&self) -> Option<&'static str> {
        (**self).spec_message()
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate_into(&self, path: &str, errors: &mut Vec<String>) {
        for (i, v) in self.iter().enumerate() {
            v.validate_into(&format!("{path}[{i}]"), errors);
        }
    }
}

impl<T: Validate> Validate for std::collections::BTreeMap<String, T> {
    fn validate_into(&self, path: &str, errors: &mut Vec<String>) {
        for (k, v) in self {
            v.validate_into(&join_path(path, k), errors);
        }
    }
}

/// `path.name`, or `name` at the root.
pub fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") }
}

/// Validates a parsed request body: 400 naming every violated rule, or, when the body breaks a rule that has
/// the spec's own message (`x-authgen-message`), 400 with exactly that message.
pub fn validate_body<T: Validate>(body: &T) -> Result<(), RequestError> {
    let mut errors = Vec::new();
    body.validate_into("", &mut errors);
    if errors.is_empty() {
        // A valid body is checked once; which message to send is only worked out for an invalid one.
        return Ok(());
    }
    match body.spec_message() {
        Some(message) => Err(RequestError::bad_request(message)),
        None => Err(RequestError::bad_request(format!("invalid request body: {}", errors.join("; ")))),
    }
}

/// Validates one parameter value whose schema has the spec's own message: 400 with exactly that message.
pub fn validate_param_as(message: &'static str, check: impl FnOnce(&str, &mut Vec<String>)) -> Result<(), RequestError> {
    let mut errors = Vec::new();
    check("", &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(RequestError::bad_request(message)) }
}

/// Validates one parameter value: 400 naming the parameter and the rule.
pub fn validate_param(location: &str, name: &str, check: impl FnOnce(&str, &mut Vec<String>)) -> Result<(), RequestError> {
    let mut errors = Vec::new();
    check(name, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(RequestError::bad_request(format!("invalid {location} parameter: {}", errors.join("; "))))
    }
}

fn shown(path: &str) -> &str {
    if path.is_empty() { "body" } else { path }
}

/// `minLength` / `maxLength`, counted in characters.
pub fn check_length(path: &str, value: &str, min: Option<usize>, max: Option<usize>, errors: &mut Vec<String>) {
    let n = value.chars().count();
    if let Some(min) = min.filter(|m| n < *m) {
        errors.push(format!("`{}`: length must be at least {min} (minLength), got {n}", shown(path)));
    }
    if let Some(max) = max.filter(|m| n > *m) {
        errors.push(format!("`{}`: length must be at most {max} (maxLength), got {n}", shown(path)));
    }
}

/// The message for a value that does not match `pattern` (unanchored, as in JSON Schema).
pub fn pattern_violation(path: &str, pattern: &str) -> String {
    format!("`{}`: must match the pattern `{pattern}` (pattern)", shown(path))
}

/// `minimum` / `maximum` and their exclusive forms; a value that is not finite (a `format: float` read from a
/// JSON number beyond 32 bits) is refused whatever the bounds.
pub fn check_range(
    path: &str,
    value: f64,
    min: Option<(f64, bool)>,
    max: Option<(f64, bool)>,
    errors: &mut Vec<String>,
) {
    if !value.is_finite() {
        // Only a `format: float` value can get here: a JSON number beyond 32 bits reads as infinite.
        errors.push(format!("`{}`: is beyond the range of a 32-bit float", shown(path)));
        return;
    }
    if let Some((m, exclusive)) = min {
        if exclusive && value <= m {
            errors.push(format!("`{}`: must be greater than {m} (exclusiveMinimum), got {value}", shown(path)));
        } else if value < m {
            errors.push(format!("`{}`: must be at least {m} (minimum), got {value}", shown(path)));
        }
    }
    if let Some((m, exclusive)) = max {
        if exclusive && value >= m {
            errors.push(format!("`{}`: must be less than {m} (exclusiveMaximum), got {value}", shown(path)));
        } else if value > m {
            errors.push(format!("`{}`: must be at most {m} (maximum), got {value}", shown(path)));
        }
    }
}

/// `minItems` / `maxItems` / `uniqueItems`.
pub fn check_items<T: PartialEq>(
    path: &str,
    items: &[T],
    min: Option<usize>,
    max: Option<usize>,
    unique: bool,
    errors: &mut Vec<String>,
) {
    let n = items.len();
    if let Some(min) = min.filter(|m| n < *m) {
        errors.push(format!("`{}`: must have at least {min} items (minItems), got {n}", shown(path)));
    }
    if let Some(max) = max.filter(|m| n > *m) {
        errors.push(format!("`{}`: must have at most {max} items (maxItems), got {n}", shown(path)));
    }
    if unique && items.iter().enumerate().any(|(i, a)| items[..i].contains(a)) {
        errors.push(format!("`{}`: items must be unique (uniqueItems)", shown(path)));
    }
}

/// `format: email`: one `@`, a non-empty local part without spaces, and a dotted domain.
pub fn check_email(path: &str, value: &str, errors: &mut Vec<String>) {
    let valid = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.contains('@')
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            && domain.split('.').count() >= 2
            && domain.split('.').all(|label| {
                !label.is_empty() && !label.starts_with('-') && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
    });
    if !valid {
        errors.push(format!("`{}`: must be an email address (format: email)", shown(path)));
    }
}

/// `format: uri`: an absolute URI (RFC 3986): a scheme (a letter, then letters, digits, `+`, `-` or `.`), a
/// `:`, and only URI characters after it (ASCII, no spaces, well-formed `%XX` escapes).
pub fn check_uri(path: &str, value: &str, errors: &mut Vec<String>) {
    let valid = value.split_once(':').is_some_and(|(scheme, rest)| {
        scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            && rest.bytes().all(|b| b.is_ascii_graphic() && !b"\"<>\\^`{|}".contains(&b))
            && rest.split('%').skip(1).all(|esc| esc.len() >= 2 && esc.as_bytes()[..2].iter().all(u8::is_ascii_hexdigit))
    });
    if !valid {
        errors.push(format!("`{}`: must be an absolute URI (format: uri)", shown(path)));
    }
}

/// A condition over which properties of an object are present, as the spec states it with `oneOf`, `anyOf`,
/// `not` and `required`. `Field(i)` is the i-th flag of the object's generated `broken_rule`.
#[derive(Debug)]
pub enum Presence {
    /// The i-th property is present.
    Field(usize),
    /// Every condition holds.
    All(&'static [Presence]),
    /// At least one holds.
    Any(&'static [Presence]),
    /// Exactly one holds.
    One(&'static [Presence]),
    /// The condition does not hold.
    Not(&'static Presence),
}

impl Presence {
    fn holds(&self, present: &[bool]) -> bool {
        match self {
            Presence::Field(i) => present[*i],
            Presence::All(xs) => xs.iter().all(|x| x.holds(present)),
            Presence::Any(xs) => xs.iter().any(|x| x.holds(present)),
            Presence::One(xs) => xs.iter().filter(|x| x.holds(present)).count() == 1,
            Presence::Not(x) => !x.holds(present),
        }
    }
}

/// A presence rule of an object and the 400 message when a request breaks it.
#[derive(Debug)]
pub struct Rule {
    /// What must hold.
    pub holds: Presence,
    /// The message: the spec's own (`x-authgen-message`), or one derived from the rule.
    pub message: &'static str,
    /// The message is the spec's: a request body breaking the rule is answered with exactly this message.
    pub from_spec: bool,
}

/// The first of `rules` that the presence flags break.
pub fn first_broken_rule(present: &[bool], rules: &'static [Rule]) -> Option<&'static Rule> {
    rules.iter().find(|r| !r.holds.holds(present))
}

/// A violation of a rule of the value at `path`, in the rule's own words.
pub fn message_at(path: &str, message: &str) -> String {
    format!("`{}`: {message}", shown(path))
}
