//! authgen: spec-first generator of auth backends.
//!
//! The pipeline is load -> validate -> lower (IR) -> emit -> format -> write:
//! [`spec::load_file`] reads YAML or JSON and keeps the source for diagnostics, [`spec::validate::validate_spec`]
//! checks the document as a whole, [`ir::lower::lower_spec`] builds the framework-independent [`ir::Api`],
//! the emitters in [`emit`] turn it into Rust (via `quote!` and prettyplease) and templates (askama), and
//! [`output`] writes only what changed or checks that what is on disk is fresh.
//!
//! # Examples
//!
//! ```
//! use authgen::{Settings, generate, spec};
//!
//! let yaml = r#"
//! openapi: 3.0.3
//! info: { title: Pets, version: "1" }
//! paths:
//!   /pets:
//!     get:
//!       operationId: listPets
//!       responses:
//!         "200":
//!           description: ok
//!           content:
//!             application/json:
//!               schema: { type: array, items: { type: string } }
//! "#;
//! let loaded = spec::load_str("pets.yaml", yaml).expect("parses");
//! let output = generate(&loaded, &Settings::default()).expect("generates");
//! assert!(output.files.iter().any(|f| f.path == "src/server/mod.rs"));
//! ```

pub mod build;
pub mod config;
pub mod emit;
pub mod ir;
pub mod output;
pub mod settings;
pub mod spec;

pub use output::{GeneratedFile, StaleFile, Staleness, WriteError, WriteOutcome};
pub use settings::{Framework, Settings};
pub use spec::{Diagnostics, LoadedSpec};

/// The result of a successful generation: the files and any warnings.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Every output file, in a fixed order.
    pub files: Vec<GeneratedFile>,
    /// Warnings from validation and lowering.
    pub warnings: Diagnostics,
}

/// Runs validate -> lower -> emit -> format on a loaded spec. Deterministic: the same input gives the
/// same bytes.
pub fn generate(spec: &LoadedSpec, settings: &Settings) -> Result<Generated, Diagnostics> {
    // `--strict`, `--allow` and `--deny` apply to each phase's diagnostics before it ends, so a warning made an
    // error stops generation where an error of that phase would.
    let policy = spec::diag::Policy { strict: settings.strict(), allow: settings.allowed(), deny: settings.denied() };
    let enforce = |outcome: Result<Diagnostics, Diagnostics>| {
        let (Ok(mut diags) | Err(mut diags)) = outcome;
        diags.apply_policy(policy);
        diags.propagate()
    };
    let mut warnings = enforce(Ok(spec.warnings.clone()))?;
    warnings.extend(enforce(spec::validate::validate_spec(spec))?);
    let (api, lower_warnings) = match ir::lower::lower_spec(spec, settings) {
        Ok((api, diags)) => (api, enforce(Ok(diags))?),
        Err(diags) => return Err(enforce(Err(diags)).unwrap_or_else(|e| e)),
    };
    warnings.extend(lower_warnings);
    let ctx = emit::EmitCtx { api: &api, settings };
    match emit::emit_crate(ctx) {
        Ok(files) => Ok(Generated { files, warnings }),
        Err(message) => {
            // An emitter producing unparsable tokens is a bug in authgen, reported like a spec error so the
            // user sees it instead of a panic.
            let mut diags = Diagnostics::new(spec.source.clone());
            diags
                .error("E0900", "", format!("internal error while emitting code: {message}"))
                .help("this is a bug in authgen; please report it with the spec that triggers it");
            Err(diags)
        }
    }
}
