//! Text from users and providers on its way into a log line: control characters (CR, LF, ESC, ...) are
//! written as escapes, so a crafted email or a provider's error text cannot start a forged log line or
//! restyle a terminal.

use std::borrow::Cow;
use std::fmt;

/// `text` with every control character escaped (`\r`, `\n`, `\u{1b}`); borrowed when there is none.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Displays its value with [`escape`] applied: `tracing::warn!(error = %Escaped(&error), ...)`.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<T>(pub T);

impl<T: fmt::Display> fmt::Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(&self.0.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_other_text_is_kept() {
        assert!(matches!(escape("plain text, Ünïcode ✓"), Cow::Borrowed(_)));
        assert_eq!(escape("a\r\nINFO forged line"), "a\\r\\nINFO forged line");
        assert_eq!(escape("\u{1b}[31mred\u{7}"), "\\u{1b}[31mred\\u{7}");
        assert_eq!(Escaped("x\ny").to_string(), "x\\ny");
    }
}
