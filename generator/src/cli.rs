//! Command-line arguments (the "low" layer): parsed by clap, then turned into [`Settings`] and paths.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use authgen::config::{Config, ConfigError, FILE_NAME, load_config};
use authgen::settings::{Framework, Settings};
use authgen::spec::diag::WARNING_CODES;

const EXAMPLES: &str = "\
Examples:
  authgen --framework axum
      Regenerate generated/ from spec/auth.yaml (the defaults).
  authgen generate --framework axum --spec api/openapi.yaml --out crates/api
      Generate a crate from another spec.
  authgen --framework axum --framework actix-web
      Both adapters in one crate, each behind its cargo feature.
  authgen check
      Exit 1 and name every stale or missing file when generated/ is out of date (for CI).
  authgen --config api/authgen.toml
      Take the options from a file (the keys are listed under --config); an authgen.toml in the
      current directory is read without being named.

Exit codes: 0 ok, 1 spec errors or stale output, 2 I/O or usage errors.";

/// Generate typed models, a framework-neutral server trait, framework adapters, a typed client and CORS
/// configuration from an OpenAPI 3.0 spec.
#[derive(Debug, Parser)]
#[command(name = "authgen", version, after_help = EXAMPLES, args_conflicts_with_subcommands = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    #[command(flatten)]
    pub(crate) generate: GenerateArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate the crate (the default when no subcommand is given).
    Generate {
        #[command(flatten)]
        args: GenerateArgs,
        /// Do not write; exit 1 if any file would change (same as `authgen check`).
        #[arg(long)]
        check: bool,
    },
    /// Regenerate in memory and compare with the output directory; exit 1 naming each stale file.
    Check {
        #[command(flatten)]
        args: GenerateArgs,
    },
}

/// Options shared by `generate` and `check`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct GenerateArgs {
    /// Web framework to generate a server adapter for; repeat for several. Default: from the config file,
    /// the frameworks recorded in the existing output's `@generated` header, or axum.
    #[arg(long = "framework", value_enum)]
    pub(crate) frameworks: Vec<FrameworkArg>,
    /// The OpenAPI 3.0 or 3.1 spec (YAML or JSON). Default: from the config file, or `spec/auth.yaml`.
    #[arg(long)]
    pub(crate) spec: Option<PathBuf>,
    /// Output directory of the generated crate. Default: from the config file, or `generated`.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Read options from this TOML file (keys `spec`, `out`, `frameworks`, `crate-name`, `trait-name`,
    /// `open-enums`, `string-formats`, `lenient-null`, `strict`, `allow`, `deny`; paths relative to the file). Default: `authgen.toml` in the current directory, if
    /// present. Flags given on the command line win over the file.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// Name of the generated crate. Default: from the config file, as recorded in the existing output, or
    /// `auth-api`.
    #[arg(long)]
    pub(crate) crate_name: Option<String>,
    /// Name of the server trait. Default: from the config file, as recorded in the existing output, or from
    /// the spec's `info.title`.
    #[arg(long)]
    pub(crate) trait_name: Option<String>,
    /// Give every enum an `Other` catch-all variant, so values added to the spec later still parse.
    #[arg(long)]
    pub(crate) open_enums: bool,
    /// Keep `format: date-time`, `date`, `uuid` and `byte` as `String` (no `chrono`, `uuid` or `base64`
    /// dependency in the generated crate).
    #[arg(long)]
    pub(crate) string_formats: bool,
    /// Let optional properties that are not nullable accept an explicit `null` as if absent (by default such
    /// a `null` is a 400 naming the property, as the schema says).
    #[arg(long)]
    pub(crate) lenient_null: bool,
    /// Refuse the spec defects authgen otherwise works around with a warning (dangling schema references,
    /// unknown security schemes, unbound path parameters, unsupported keywords, ...): each becomes an error.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Silence warning CODE (such as W0304); repeat for several.
    #[arg(long = "allow", value_name = "CODE", value_parser = warning_code)]
    pub(crate) allow: Vec<String>,
    /// Make warning CODE an error (such as W0205); repeat for several.
    #[arg(long = "deny", value_name = "CODE", value_parser = warning_code)]
    pub(crate) deny: Vec<String>,
}

/// A warning code authgen reports, for `--allow` and `--deny`.
fn warning_code(code: &str) -> Result<String, String> {
    if WARNING_CODES.contains(&code) {
        Ok(code.to_owned())
    } else {
        Err(format!("`{code}` is not a warning code of authgen (the README lists them: W0003, W0004, ...)"))
    }
}

/// A framework on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FrameworkArg {
    /// axum 0.8.
    Axum,
    /// actix-web 4.
    ActixWeb,
}

impl From<FrameworkArg> for Framework {
    fn from(f: FrameworkArg) -> Self {
        match f {
            FrameworkArg::Axum => Framework::Axum,
            FrameworkArg::ActixWeb => Framework::ActixWeb,
        }
    }
}

/// What to do, validated.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Generate settings.
    pub(crate) settings: Settings,
    /// The spec path.
    pub(crate) spec: PathBuf,
    /// The output directory.
    pub(crate) out: PathBuf,
    /// Only check freshness.
    pub(crate) check: bool,
}

impl TryFrom<Args> for Plan {
    type Error = ConfigError;

    /// Merges, in order of precedence: the flags, the config file, what the existing output records, the
    /// defaults. Fails only on a config file that cannot be read or is invalid.
    fn try_from(args: Args) -> Result<Self, ConfigError> {
        let (g, check) = match args.command {
            None => (args.generate, false),
            Some(Command::Generate { args, check }) => (args, check),
            Some(Command::Check { args }) => (args, true),
        };
        let config = match &g.config {
            Some(path) => load_config(path)?,
            None if Path::new(FILE_NAME).is_file() => load_config(Path::new(FILE_NAME))?,
            None => Config::default(),
        };
        let spec = g.spec.clone().or(config.spec).unwrap_or_else(|| PathBuf::from("spec/auth.yaml"));
        let out = g.out.clone().or(config.out).unwrap_or_else(|| PathBuf::from("generated"));
        // Options given nowhere fall back to what the existing output records, so `authgen check` and a bare
        // `authgen` reproduce the last generation instead of silently changing it.
        let recorded = recorded_options(&out);
        let frameworks: Vec<Framework> = if !g.frameworks.is_empty() {
            g.frameworks.iter().copied().map(Framework::from).collect()
        } else if let Some(f) = config.frameworks.filter(|f| !f.is_empty()) {
            f
        } else {
            recorded
                .as_ref()
                .map(|r| r.frameworks.clone())
                .filter(|f| !f.is_empty())
                .unwrap_or(vec![FrameworkArg::Axum])
                .into_iter()
                .map(Framework::from)
                .collect()
        };
        let crate_name = g
            .crate_name
            .clone()
            .or(config.crate_name)
            .or_else(|| recorded.as_ref().and_then(|r| r.crate_name.clone()))
            .unwrap_or_else(|| "auth-api".to_owned());
        let trait_name =
            g.trait_name.clone().or(config.trait_name).or_else(|| recorded.as_ref().and_then(|r| r.trait_name.clone()));
        let open_enums =
            g.open_enums || config.open_enums.unwrap_or_else(|| recorded.as_ref().is_some_and(|r| r.open_enums));
        let string_formats = g.string_formats
            || config.string_formats.unwrap_or_else(|| recorded.as_ref().is_some_and(|r| r.string_formats));
        let lenient_null =
            g.lenient_null || config.lenient_null.unwrap_or_else(|| recorded.as_ref().is_some_and(|r| r.lenient_null));
        let strict = g.strict || config.strict.unwrap_or_else(|| recorded.as_ref().is_some_and(|r| r.strict));
        let codes = |flags: &Vec<String>, file: Option<Vec<String>>, recorded: Option<&Vec<String>>| {
            if !flags.is_empty() { flags.clone() } else { file.or_else(|| recorded.cloned()).unwrap_or_default() }
        };
        let allow = codes(&g.allow, config.allow, recorded.as_ref().map(|r| &r.allow));
        let deny = codes(&g.deny, config.deny, recorded.as_ref().map(|r| &r.deny));
        let mut settings = Settings::default();
        settings
            .with_frameworks(frameworks)
            .with_crate_name(crate_name)
            .with_trait_name(trait_name)
            .with_open_enums(open_enums)
            .with_string_formats(string_formats)
            .with_lenient_null(lenient_null)
            .with_strict(strict)
            .with_allowed(allow)
            .with_denied(deny)
            .with_invocation(&spec.to_string_lossy(), &out.to_string_lossy());
        Ok(Plan { settings, spec, out, check })
    }
}

/// Reads the options of the command recorded in `<out>/src/lib.rs`'s `@generated` header, if any.
fn recorded_options(out: &std::path::Path) -> Option<GenerateArgs> {
    let text = std::fs::read_to_string(out.join("src/lib.rs")).ok()?;
    let first = text.lines().next()?;
    let command = first.split_once("Regenerate: ")?.1;
    let words: Vec<&str> = command.split_whitespace().collect();
    match Args::try_parse_from(words).ok()?.command? {
        Command::Generate { args, .. } | Command::Check { args } => Some(args),
    }
}
