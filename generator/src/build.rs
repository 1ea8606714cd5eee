//! The build-script API: generate the code into `OUT_DIR` at build time instead of checking it in.
//!
//! ```no_run
//! // in build.rs's `main`:
//! authgen::build::Builder::new("spec/auth.yaml")
//!     .framework(authgen::Framework::Axum)
//!     .client(true)
//!     .module_root("crate::api")
//!     .generate()
//!     .unwrap_or_else(|e| panic!("{e}"));
//! ```
//!
//! ```ignore
//! // src/lib.rs
//! pub mod api {
//!     include!(concat!(env!("OUT_DIR"), "/auth_api.rs"));
//! }
//! ```
//!
//! The including crate depends on what the generated code uses: `serde` (derive), `serde_json`,
//! `serde_urlencoded`, `form_urlencoded`, `serde_path_to_error`, `bytes`, `http`, `tokio` (feature `rt`), plus
//! `axum`, `http-body-util` and `tower` for the axum adapter, `actix-web` for the actix-web one, `tower-http`
//! (cors) and `actix-cors` for the CORS layers, `reqwest` (cookies) and `url` for the client, `regex` when the
//! spec has patterns, and `chrono` (features `serde`, `std`), `uuid` (`serde`) and `base64` when it has
//! `date-time`/`date`, `uuid` and `byte` strings (or call [`Builder::string_formats`]).

use std::path::{Path, PathBuf};

use crate::settings::{Framework, Settings};
use crate::spec::diag::WARNING_CODES;

/// Why a build-script generation failed. Its `Display` is the full report, ready to print.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The spec could not be read or the output not written.
    #[error("authgen: {0}")]
    Io(String),
    /// The spec has errors; the plain report with `file:line:col` for each.
    #[error("authgen: the spec has errors\n{0}")]
    Spec(String),
}

/// Generates code from a spec in a build script.
#[derive(Debug, Clone)]
pub struct Builder {
    spec: PathBuf,
    frameworks: Vec<Framework>,
    client: bool,
    module_root: String,
    file_name: Option<String>,
    out_dir: Option<PathBuf>,
    open_enums: bool,
    string_formats: bool,
    lenient_null: bool,
    strict: bool,
    allowed: Vec<String>,
    denied: Vec<String>,
}

impl Builder {
    /// A builder for `spec` (relative to the package being built), with the axum adapter, no client, and
    /// the module included at `crate`.
    pub fn new(spec: impl AsRef<Path>) -> Self {
        Self {
            spec: spec.as_ref().to_path_buf(),
            frameworks: Vec::new(),
            client: false,
            module_root: "crate".to_owned(),
            file_name: None,
            out_dir: None,
            open_enums: false,
            string_formats: false,
            lenient_null: false,
            strict: false,
            allowed: Vec::new(),
            denied: Vec::new(),
        }
    }

    /// Adds a framework adapter (default: axum when none is added).
    pub fn framework(mut self, framework: Framework) -> Self {
        self.frameworks.push(framework);
        self
    }

    /// Includes the typed client.
    pub fn client(mut self, client: bool) -> Self {
        self.client = client;
        self
    }

    /// The module path where the file is `include!`d, e.g. `crate::api`.
    pub fn module_root(mut self, root: impl Into<String>) -> Self {
        self.module_root = root.into();
        self
    }

    /// The file name in the output directory (default: from the spec's file name, `auth.yaml` -> `auth_api.rs`).
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// The output directory (default: `OUT_DIR`).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Gives every enum an `Other` catch-all variant.
    pub fn open_enums(mut self, open: bool) -> Self {
        self.open_enums = open;
        self
    }

    /// Keeps `format: date-time`, `date`, `uuid` and `byte` as `String`. Otherwise the including crate needs
    /// the dependencies the generated types use: `chrono` (features `serde`), `uuid` (`serde`) and `base64`.
    pub fn string_formats(mut self, strings: bool) -> Self {
        self.string_formats = strings;
        self
    }

    /// Lets optional properties that are not nullable accept an explicit `null` as if absent (by default such
    /// a `null` is refused, as the schema says).
    pub fn lenient_null(mut self, lenient: bool) -> Self {
        self.lenient_null = lenient;
        self
    }

    /// Silences a warning code (such as `W0302`) that this spec is known to trigger, as `#[allow]` does for a
    /// lint; other warnings still reach cargo as `cargo:warning` lines.
    pub fn allow_warning(mut self, code: impl Into<String>) -> Self {
        self.allowed.push(code.into());
        self
    }

    /// Makes the spec defects authgen otherwise works around with a warning (a dangling schema reference, an
    /// unknown security scheme, an unbound path parameter, ...) errors, so the build fails on them.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Makes a warning code (such as `W0205`) an error, so the build fails when the spec triggers it.
    pub fn deny_warning(mut self, code: impl Into<String>) -> Self {
        self.denied.push(code.into());
        self
    }

    /// Generates the file (rewriting it only when it changed), prints `cargo:rerun-if-changed` for the spec and
    /// for every file its `$ref`s reach, and returns the file's path.
    pub fn generate(self) -> Result<PathBuf, BuildError> {
        // Printed before loading too, so that a spec that does not load is read again once it changes.
        println!("cargo:rerun-if-changed={}", self.spec.display());
        let out_dir = match self.out_dir.clone().or_else(|| std::env::var_os("OUT_DIR").map(PathBuf::from)) {
            Some(d) => d,
            None => return Err(BuildError::Io("OUT_DIR is not set; call `out_dir` outside a build script".into())),
        };
        let stem = self.spec.file_stem().map(|s| s.to_string_lossy().replace(['-', '.'], "_")).unwrap_or_default();
        let file_name = self.file_name.clone().unwrap_or_else(|| format!("{stem}_api.rs"));
        let crate_name = file_name.trim_end_matches(".rs").to_owned();
        if let Some(code) = self.allowed.iter().chain(&self.denied).find(|c| !WARNING_CODES.contains(&c.as_str())) {
            return Err(BuildError::Io(format!("`{code}` is not a warning code of authgen")));
        }
        let loaded = match crate::spec::load_file(&self.spec) {
            Err(e) => return Err(BuildError::Io(format!("cannot read `{}`: {e}", self.spec.display()))),
            Ok(Err(diags)) => return Err(BuildError::Spec(diags.render_plain())),
            Ok(Ok(l)) => l,
        };
        for line in rerun_if_changed(&loaded).skip(1) {
            println!("{line}");
        }
        let mut settings = Settings::default();
        let frameworks = if self.frameworks.is_empty() { vec![Framework::Axum] } else { self.frameworks.clone() };
        settings
            .with_frameworks(frameworks)
            .with_crate_name(crate_name)
            .with_open_enums(self.open_enums)
            .with_string_formats(self.string_formats)
            .with_lenient_null(self.lenient_null)
            .with_strict(self.strict)
            .with_allowed(self.allowed.clone())
            .with_denied(self.denied.clone())
            .with_module_layout(self.module_root.clone(), self.client)
            .with_provenance(
                self.spec.to_string_lossy().replace('\\', "/"),
                "the build script (authgen::build::Builder)",
            );
        let generated = crate::generate(&loaded, &settings).map_err(|d| BuildError::Spec(d.render_plain()))?;
        for w in generated.warnings.items() {
            println!("cargo:warning=authgen: {} {} ({})", w.code, w.message, w.pointer);
        }
        let mut files = generated.files;
        if let Some(f) = files.first_mut() {
            f.path = file_name.clone();
        }
        crate::output::write_files(&out_dir, &files).map_err(|e| BuildError::Io(e.to_string()))?;
        Ok(out_dir.join(file_name))
    }
}

/// The `cargo:rerun-if-changed` line of each file the spec was read from, the spec itself first.
fn rerun_if_changed(loaded: &crate::spec::LoadedSpec) -> impl Iterator<Item = String> + '_ {
    loaded.files.iter().map(|f| format!("cargo:rerun-if-changed={}", f.display()))
}

#[cfg(test)]
mod tests {
    use super::rerun_if_changed;

    #[test]
    fn every_file_of_a_multi_file_spec_reruns_the_build_script() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("schemas")).expect("mkdir");
        let root = "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    \
                    U: {$ref: 'schemas/user.yaml#/User'}\n";
        std::fs::write(dir.path().join("openapi.yaml"), root).expect("write");
        std::fs::write(dir.path().join("schemas/user.yaml"), "User: {$ref: '../common.json'}\n").expect("write");
        std::fs::write(dir.path().join("common.json"), r#"{"type": "string"}"#).expect("write");
        let spec = dir.path().join("openapi.yaml");
        let loaded =
            crate::spec::load_file(&spec).expect("readable").unwrap_or_else(|d| panic!("{}", d.render_plain()));
        let lines: Vec<String> = rerun_if_changed(&loaded).collect();
        let at = |rel: &str| format!("cargo:rerun-if-changed={}", dir.path().join(rel).display());
        assert_eq!(lines, [at("openapi.yaml"), at("schemas/user.yaml"), at("common.json")]);
    }
}
