//! Settings: what to generate, validated and independent of the command line.

use std::fmt;

/// A web framework the server adapter is generated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Framework {
    /// axum 0.8 (`server::axum::router`).
    Axum,
    /// actix-web 4 (`server::actix::configure`).
    ActixWeb,
}

impl Framework {
    /// The value used on the command line and as the cargo feature name.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Axum => "axum",
            Framework::ActixWeb => "actix-web",
        }
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything that shapes the output.
///
/// # Examples
///
/// ```
/// use authgen::{Framework, Settings};
///
/// let mut settings = Settings::default();
/// settings.with_frameworks([Framework::Axum]).with_crate_name("auth-api");
/// assert_eq!(settings.crate_name(), "auth-api");
/// ```
#[derive(Debug, Clone)]
pub struct Settings {
    frameworks: Vec<Framework>,
    crate_name: String,
    trait_name: Option<String>,
    spec_display: String,
    command: String,
    open_enums: bool,
    string_formats: bool,
    lenient_null: bool,
    strict: bool,
    allow: Vec<String>,
    deny: Vec<String>,
    module: Option<ModuleLayout>,
}

/// Generate one file of nested modules (for `include!` from a build script) instead of a crate.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ModuleLayout {
    root: String,
    client: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            frameworks: vec![Framework::Axum],
            crate_name: "auth-api".to_owned(),
            trait_name: None,
            spec_display: "spec/auth.yaml".to_owned(),
            command: "authgen generate --framework axum --spec spec/auth.yaml --out generated".to_owned(),
            open_enums: false,
            string_formats: false,
            lenient_null: false,
            strict: false,
            allow: Vec::new(),
            deny: Vec::new(),
            module: None,
        }
    }
}

impl Settings {
    /// Sets the frameworks to generate adapters for (sorted and de-duplicated).
    pub fn with_frameworks(&mut self, frameworks: impl IntoIterator<Item = Framework>) -> &mut Self {
        let mut f: Vec<Framework> = frameworks.into_iter().collect();
        f.sort();
        f.dedup();
        self.frameworks = f;
        self
    }

    /// Sets the name of the generated crate.
    pub fn with_crate_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.crate_name = name.into();
        self
    }

    /// Overrides the server trait's name (default: from `info.title`).
    pub fn with_trait_name(&mut self, name: Option<String>) -> &mut Self {
        self.trait_name = name;
        self
    }

    /// Sets how the spec is named in the `@generated` header and the command that regenerates the output.
    pub fn with_provenance(&mut self, spec_display: impl Into<String>, command: impl Into<String>) -> &mut Self {
        self.spec_display = spec_display.into();
        self.command = command.into();
        self
    }

    /// Gives every enum an `Other` catch-all variant, so values added to the spec later still parse.
    pub fn with_open_enums(&mut self, open: bool) -> &mut Self {
        self.open_enums = open;
        self
    }

    /// Keeps `format: date-time`, `date`, `uuid` and `byte` as `String` instead of `chrono`, `uuid` and
    /// base64-decoded types, for crates that do not want those dependencies.
    pub fn with_string_formats(&mut self, strings: bool) -> &mut Self {
        self.string_formats = strings;
        self
    }

    /// Lets optional properties that are not nullable accept an explicit `null` as if absent, for clients
    /// that send `null` for "not set". By default such a `null` is a 400 naming the property, as the schema
    /// says.
    pub fn with_lenient_null(&mut self, lenient: bool) -> &mut Self {
        self.lenient_null = lenient;
        self
    }

    /// Refuses the spec defects authgen otherwise works around with a warning (the lenient codes of
    /// [`crate::spec::diag::LENIENT_CODES`]): each becomes an error at the same place.
    pub fn with_strict(&mut self, strict: bool) -> &mut Self {
        self.strict = strict;
        self
    }

    /// Silences these warning codes (sorted and de-duplicated); a code also denied stays denied.
    pub fn with_allowed(&mut self, codes: impl IntoIterator<Item = impl Into<String>>) -> &mut Self {
        self.allow = sorted_codes(codes);
        self
    }

    /// Makes these warning codes errors (sorted and de-duplicated).
    pub fn with_denied(&mut self, codes: impl IntoIterator<Item = impl Into<String>>) -> &mut Self {
        self.deny = sorted_codes(codes);
        self
    }

    /// Generates one Rust file of nested modules to be included at `root` (for example `crate::api`, for
    /// `mod api { include!(concat!(env!("OUT_DIR"), "/auth_api.rs")); }`), instead of a crate. The client is
    /// included when `client` is true. Used by [`crate::build::Builder`].
    pub fn with_module_layout(&mut self, root: impl Into<String>, client: bool) -> &mut Self {
        self.module = Some(ModuleLayout { root: root.into(), client });
        self
    }

    /// The module path the output is included at, in the module layout.
    pub fn module_root(&self) -> Option<&str> {
        self.module.as_ref().map(|m| m.root.as_str())
    }

    /// Whether the module layout includes the client.
    pub fn module_client(&self) -> bool {
        self.module.as_ref().is_some_and(|m| m.client)
    }

    /// Whether enums get a catch-all variant.
    pub fn open_enums(&self) -> bool {
        self.open_enums
    }

    /// Whether formatted strings stay `String`.
    pub fn string_formats(&self) -> bool {
        self.string_formats
    }

    /// Whether optional, non-nullable properties accept `null`.
    pub fn lenient_null(&self) -> bool {
        self.lenient_null
    }

    /// Whether the lenient warnings are errors.
    pub fn strict(&self) -> bool {
        self.strict
    }

    /// The silenced warning codes, sorted.
    pub fn allowed(&self) -> &[String] {
        &self.allow
    }

    /// The warning codes that are errors, sorted.
    pub fn denied(&self) -> &[String] {
        &self.deny
    }

    /// Records how the output is produced: `spec` and `out` as the user wrote them (paths are normalised:
    /// no leading `./`, no trailing `/`). The canonical regenerate command is derived from them and from the
    /// other settings, so set frameworks, crate and trait names first.
    pub fn with_invocation(&mut self, spec: &str, out: &str) -> &mut Self {
        let spec = normalise_path(spec);
        let out = normalise_path(out);
        let mut command = String::from("authgen generate");
        for f in &self.frameworks {
            command.push_str(&format!(" --framework {f}"));
        }
        command.push_str(&format!(" --spec {spec} --out {out}"));
        if self.crate_name != "auth-api" {
            command.push_str(&format!(" --crate-name {}", self.crate_name));
        }
        if let Some(t) = &self.trait_name {
            command.push_str(&format!(" --trait-name {t}"));
        }
        if self.open_enums {
            command.push_str(" --open-enums");
        }
        if self.string_formats {
            command.push_str(" --string-formats");
        }
        if self.lenient_null {
            command.push_str(" --lenient-null");
        }
        // Whether the spec may be generated at all is part of how the output is produced: recorded, `authgen
        // check` refuses a spec that gained a denied defect, as the generation it guards would.
        if self.strict {
            command.push_str(" --strict");
        }
        for code in &self.allow {
            command.push_str(&format!(" --allow {code}"));
        }
        for code in &self.deny {
            command.push_str(&format!(" --deny {code}"));
        }
        self.spec_display = spec;
        self.command = command;
        self
    }

    /// The frameworks, sorted.
    pub fn frameworks(&self) -> &[Framework] {
        &self.frameworks
    }

    /// The generated crate's name.
    pub fn crate_name(&self) -> &str {
        &self.crate_name
    }

    /// The trait name override.
    pub fn trait_name(&self) -> Option<&str> {
        self.trait_name.as_deref()
    }

    /// The spec as named in headers.
    pub fn spec_display(&self) -> &str {
        &self.spec_display
    }

    /// The command that regenerates the output.
    pub fn command(&self) -> &str {
        &self.command
    }
}

fn sorted_codes(codes: impl IntoIterator<Item = impl Into<String>>) -> Vec<String> {
    let mut out: Vec<String> = codes.into_iter().map(Into::into).collect();
    out.sort();
    out.dedup();
    out
}

fn normalise_path(p: &str) -> String {
    let s = p.replace('\\', "/");
    let s = s.strip_prefix("./").unwrap_or(&s).trim_end_matches('/').to_owned();
    if s.is_empty() { ".".to_owned() } else { s }
}
