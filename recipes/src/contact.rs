//! Contacts (an email or a phone number), validated and normalised as supertokens-node and core do: emails
//! are trimmed, checked with node's default regex and lowercased; phone numbers are parsed and stored in
//! E.164.

use std::fmt;
use std::sync::LazyLock;

/// A normalised contact: what devices and users are keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Contact {
    /// A trimmed, lowercased, valid email.
    Email(String),
    /// A valid phone number in E.164 (`+` and digits).
    Phone(String),
}

impl Contact {
    /// The email, if this is one.
    pub fn email(&self) -> Option<&str> {
        match self {
            Self::Email(email) => Some(email),
            Self::Phone(_) => None,
        }
    }

    /// The phone number, if this is one.
    pub fn phone_number(&self) -> Option<&str> {
        match self {
            Self::Phone(phone) => Some(phone),
            Self::Email(_) => None,
        }
    }

    /// The contact as a string, whichever kind it is.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Email(value) | Self::Phone(value) => value,
        }
    }
}

impl fmt::Display for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// supertokens-node's `defaultValidateEmail` pattern.
static EMAIL: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r#"^(([^<>()\[\]\\.,;:\s@"]+(\.[^<>()\[\]\\.,;:\s@"]+)*)|(".+"))@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\])|(([a-zA-Z\-0-9]+\.)+[a-zA-Z]{2,}))$"#,
    )
    .unwrap_or_else(|e| unreachable!("the email pattern is a valid regex: {e}"))
});

/// The stored form of an email: trimmed, validated, lowercased. `None` when it is invalid, and also (stricter
/// than node, whose pattern lets a quoted local part hold anything) when it holds a control character: such
/// an address is no one's mailbox and would carry CR/LF into logs and mail headers.
pub fn normalise_email(input: &str) -> Option<String> {
    let trimmed = input.trim();
    (EMAIL.is_match(trimmed) && !trimmed.chars().any(char::is_control)).then(|| trimmed.to_lowercase())
}

/// The stored form of a phone number: E.164. `None` when it does not parse as a valid number; without a
/// default country that needs a leading `+`.
pub fn normalise_phone_number(input: &str) -> Option<String> {
    let number = phonenumber::parse(None, input.trim()).ok()?;
    phonenumber::is_valid(&number).then(|| number.format().mode(phonenumber::Mode::E164).to_string())
}

/// The form used to look a phone number up: E.164 when it parses, otherwise only trimmed (as node does).
pub fn phone_number_lookup_key(input: &str) -> String {
    normalise_phone_number(input).unwrap_or_else(|| input.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_validated_and_lowercased() {
        assert_eq!(normalise_email("  Alice@Example.COM \n").as_deref(), Some("alice@example.com"));
        assert_eq!(normalise_email("a.b+c@sub.example.io").as_deref(), Some("a.b+c@sub.example.io"));
        assert_eq!(normalise_email("\"quoted name\"@example.com").as_deref(), Some("\"quoted name\"@example.com"));
        for bad in ["", "alice", "alice@", "@example.com", "alice@example", "a b@example.com", "alice@example.c"] {
            assert_eq!(normalise_email(bad), None, "{bad:?}");
        }
        for control in
            ["\"a\rINFO b\"@example.com", "\"a\nb\"@example.com", "\"\u{1b}[2J\"@example.com", "\"a\u{0}\"@x.io"]
        {
            assert_eq!(normalise_email(control), None, "{control:?}");
        }
    }

    #[test]
    fn phone_numbers_become_e164() {
        assert_eq!(normalise_phone_number(" +1 (415) 555-2671 ").as_deref(), Some("+14155552671"));
        assert_eq!(normalise_phone_number("+36 70 123 4567").as_deref(), Some("+36701234567"));
        for bad in ["", "0036701234567x", "4155552671", "+1 555", "phone"] {
            assert_eq!(normalise_phone_number(bad), None, "{bad:?}");
        }
        assert_eq!(phone_number_lookup_key(" 12345 "), "12345");
    }
}
