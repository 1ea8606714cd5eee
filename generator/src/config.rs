//! `authgen.toml`: the command-line options of `authgen generate` written down once, next to the spec.
//!
//! ```toml
//! spec = "spec/auth.yaml"
//! out = "generated"
//! frameworks = ["axum", "actix-web"]
//! crate-name = "auth-api"
//! trait-name = "AuthApi"
//! open-enums = false
//! strict = false
//! allow = ["W0304"]
//! deny = []
//! ```
//!
//! Every key is optional. A flag given on the command line wins over the file; the file wins over what the
//! existing output records. Relative paths are relative to the directory of the file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::settings::Framework;
use crate::spec::diag::WARNING_CODES;

/// The name `authgen` looks for in the current directory when `--config` is not given.
pub const FILE_NAME: &str = "authgen.toml";

/// The options of an `authgen.toml`, validated; paths already resolved against the file's directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// The OpenAPI spec (`--spec`).
    pub spec: Option<PathBuf>,
    /// The output directory (`--out`).
    pub out: Option<PathBuf>,
    /// The frameworks (`--framework`, repeated), sorted and de-duplicated.
    pub frameworks: Option<Vec<Framework>>,
    /// The generated crate's name (`--crate-name`).
    pub crate_name: Option<String>,
    /// The server trait's name (`--trait-name`).
    pub trait_name: Option<String>,
    /// Catch-all enum variants (`--open-enums`).
    pub open_enums: Option<bool>,
    /// Formatted strings stay `String` (`--string-formats`).
    pub string_formats: Option<bool>,
    /// Optional, non-nullable properties accept `null` (`--lenient-null`).
    pub lenient_null: Option<bool>,
    /// Spec defects are errors (`--strict`).
    pub strict: Option<bool>,
    /// Silenced warning codes (`--allow`, repeated).
    pub allow: Option<Vec<String>>,
    /// Warning codes that are errors (`--deny`, repeated).
    pub deny: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    spec: Option<String>,
    out: Option<String>,
    frameworks: Option<Vec<String>>,
    crate_name: Option<String>,
    trait_name: Option<String>,
    open_enums: Option<bool>,
    string_formats: Option<bool>,
    lenient_null: Option<bool>,
    strict: Option<bool>,
    allow: Option<Vec<String>>,
    deny: Option<Vec<String>>,
}

/// An `authgen.toml` that cannot be used; its `Display` is `file:line:col: message` when the place is known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", .line_col.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
pub struct ConfigError {
    /// The file as named by the user.
    pub file: String,
    /// 1-based line and column, when known.
    pub line_col: Option<(usize, usize)>,
    /// What is wrong, lowercase, without a trailing period.
    pub message: String,
}

/// Reads and validates the config file at `path`.
pub fn load_config(path: &Path) -> Result<Config, ConfigError> {
    let file = path.to_string_lossy().replace('\\', "/");
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: file.clone(),
        line_col: None,
        message: format!("cannot read the config file: {e}"),
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    parse_config(&file, &text, base)
}

/// Parses config text; `base` is the directory relative paths are resolved against. Never panics.
pub fn parse_config(file: &str, text: &str, base: &Path) -> Result<Config, ConfigError> {
    let error = |line_col, message: String| ConfigError { file: file.to_owned(), line_col, message };
    let raw: RawConfig = basic_toml::from_str(text).map_err(|e| {
        let (message, line_col) = split_location(&e.to_string());
        // An unknown (say, misspelt) key is placed at the start of its table; the key's own line is better.
        let key_line = message
            .starts_with("unknown field")
            .then(|| quoted(&message).and_then(|key| key_location(text, key)))
            .flatten();
        let line_col = key_line.or(line_col);
        error(line_col, message)
    })?;
    let resolve = |p: String| if base.as_os_str().is_empty() { PathBuf::from(p) } else { base.join(p) };
    let frameworks = match raw.frameworks {
        None => None,
        Some(names) => {
            let mut out = Vec::new();
            for name in names {
                match name.as_str() {
                    "axum" => out.push(Framework::Axum),
                    "actix-web" => out.push(Framework::ActixWeb),
                    other => {
                        return Err(error(
                            key_location(text, "frameworks"),
                            format!("unknown framework `{other}`; use `axum` or `actix-web`"),
                        ));
                    }
                }
            }
            out.sort();
            out.dedup();
            Some(out)
        }
    };
    for (key, value) in [("crate-name", &raw.crate_name), ("trait-name", &raw.trait_name)] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(error(key_location(text, key), format!("`{key}` must not be empty")));
        }
    }
    for (key, codes) in [("allow", &raw.allow), ("deny", &raw.deny)] {
        if let Some(code) = codes.iter().flatten().find(|c| !WARNING_CODES.contains(&c.as_str())) {
            return Err(error(
                key_location(text, key),
                format!("`{code}` in `{key}` is not a warning code of authgen"),
            ));
        }
    }
    Ok(Config {
        spec: raw.spec.map(resolve),
        out: raw.out.map(resolve),
        frameworks,
        crate_name: raw.crate_name,
        trait_name: raw.trait_name,
        open_enums: raw.open_enums,
        string_formats: raw.string_formats,
        lenient_null: raw.lenient_null,
        strict: raw.strict,
        allow: raw.allow,
        deny: raw.deny,
    })
}

/// Splits basic-toml's "message at line L column C" into the message and the place.
fn split_location(message: &str) -> (String, Option<(usize, usize)>) {
    if let Some((head, tail)) = message.rsplit_once(" at line ")
        && let Some((line, col)) = tail.split_once(" column ")
        && let (Ok(line), Ok(col)) = (line.trim().parse(), col.trim().parse())
    {
        return (head.to_owned(), Some((line, col)));
    }
    (message.to_owned(), None)
}

/// The first back-quoted word of a message (`unknown field `crate_name``).
fn quoted(message: &str) -> Option<&str> {
    let rest = message.split_once('`')?.1;
    Some(rest.split_once('`')?.0)
}

/// Line and column (1-based) of the top-level `key = ...` line.
fn key_location(text: &str, key: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let trimmed = line.trim_start();
        let rest = trimmed.strip_prefix(key)?;
        rest.trim_start().starts_with('=').then_some((i + 1, line.len() - trimmed.len() + 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_is_read_and_paths_are_relative_to_the_file() {
        let text = "spec = \"api.yaml\"\nout = \"crates/api\"\nframeworks = [\"actix-web\", \"axum\", \"axum\"]\n\
                    crate-name = \"pets-api\"\ntrait-name = \"Pets\"\nopen-enums = true\nstring-formats = true\n\
                    lenient-null = true\nstrict = true\nallow = [\"W0304\"]\ndeny = [\"W0205\", \"W0101\"]\n";
        let config = parse_config("conf/authgen.toml", text, Path::new("conf")).expect("parses");
        assert_eq!(
            config,
            Config {
                spec: Some(PathBuf::from("conf/api.yaml")),
                out: Some(PathBuf::from("conf/crates/api")),
                frameworks: Some(vec![Framework::Axum, Framework::ActixWeb]),
                crate_name: Some("pets-api".into()),
                trait_name: Some("Pets".into()),
                open_enums: Some(true),
                string_formats: Some(true),
                lenient_null: Some(true),
                strict: Some(true),
                allow: Some(vec!["W0304".into()]),
                deny: Some(vec!["W0205".into(), "W0101".into()]),
            }
        );
        assert_eq!(parse_config("authgen.toml", "", Path::new("")).expect("empty is fine"), Config::default());
        let here = parse_config("authgen.toml", "spec = \"a.yaml\"", Path::new("")).expect("parses");
        assert_eq!(here.spec, Some(PathBuf::from("a.yaml")));
    }

    #[test]
    fn mistakes_are_reported_with_file_line_and_column() {
        let cases = [
            ("spec = \"a.yaml\"\ncrate_name = \"x\"\n", "authgen.toml:2:1: unknown field `crate_name`"),
            ("frameworks = [\"axum\", \"rocket\"]\n", "authgen.toml:1:1: unknown framework `rocket`"),
            ("open-enums = \"yes\"\n", "authgen.toml:1:14: invalid type: string \"yes\", expected a boolean"),
            ("spec = \"a.yaml\n", "authgen.toml:1:15: newline in string found"),
            ("\n  trait-name = \" \"\n", "authgen.toml:2:3: `trait-name` must not be empty"),
            (
                "strict = true\ndeny = [\"W0205\", \"E0201\"]\n",
                "authgen.toml:2:1: `E0201` in `deny` is not a warning code",
            ),
        ];
        for (text, expected) in cases {
            let e = parse_config("authgen.toml", text, Path::new("")).expect_err(text).to_string();
            assert!(e.starts_with(expected), "for {text:?}:\n  expected {expected}\n  got      {e}");
        }
    }
}
