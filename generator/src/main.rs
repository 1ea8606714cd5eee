//! The `authgen` binary: arguments -> settings -> generate -> write or check -> exit code.

use std::process::ExitCode;

use authgen::output::{Staleness, WriteOutcome, check_files, write_files};
use clap::Parser;

mod cli;

/// mimalloc instead of the system allocator: generation allocates and frees many small token trees, and
/// glibc's malloc was about a third of the run time in a profile of a large spec. Built with `no_thp`: with
/// transparent huge pages mimalloc's arenas tripled the peak RSS of a small spec.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let plan = match cli::Plan::try_from(args) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let loaded = match authgen::spec::load_file(&plan.spec) {
        Err(e) => {
            eprintln!("error: cannot read spec `{}`: {e}", plan.spec.display());
            return ExitCode::from(2);
        }
        Ok(Err(diags)) => return report_errors(&diags),
        Ok(Ok(loaded)) => loaded,
    };
    let generated = match authgen::generate(&loaded, &plan.settings) {
        Ok(g) => g,
        Err(diags) => return report_errors(&diags),
    };
    for report in generated.warnings.reports() {
        eprintln!("{report:?}");
    }
    if plan.check {
        match check_files(&plan.out, &generated.files) {
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", plan.out.display());
                ExitCode::from(2)
            }
            Ok(stale) if stale.is_empty() => {
                // A multi-file spec: every file was read, so a change in any of them would have shown.
                let read = match loaded.files.len() {
                    0 | 1 => String::new(),
                    n => format!(", from {n} spec files"),
                };
                eprintln!("{} is up to date ({} files{read})", plan.out.display(), generated.files.len());
                ExitCode::SUCCESS
            }
            Ok(stale) => {
                for s in &stale {
                    match &s.kind {
                        Staleness::Missing => eprintln!("missing: {}/{}", plan.out.display(), s.path),
                        Staleness::Obsolete => {
                            eprintln!("obsolete: {}/{} (no longer generated)", plan.out.display(), s.path)
                        }
                        Staleness::Changed(diff) => eprintln!("stale: {}/{}\n{diff}\n", plan.out.display(), s.path),
                    }
                }
                eprintln!(
                    "error: {} of {} generated files are stale; run `{}` and commit the result",
                    stale.len(),
                    generated.files.len(),
                    plan.settings.command()
                );
                ExitCode::from(1)
            }
        }
    } else {
        match write_files(&plan.out, &generated.files) {
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
            Ok(outcomes) => {
                let changed = outcomes.iter().filter(|o| !matches!(o, WriteOutcome::Unchanged(_))).count();
                for o in &outcomes {
                    match o {
                        WriteOutcome::Created(p) => eprintln!("created {}", p.display()),
                        WriteOutcome::Updated(p) => eprintln!("updated {}", p.display()),
                        WriteOutcome::Removed(p) => eprintln!("removed {} (no longer generated)", p.display()),
                        WriteOutcome::Unchanged(_) => {}
                    }
                }
                eprintln!(
                    "generated {} files in {} ({changed} changed, {} unchanged)",
                    outcomes.len(),
                    plan.out.display(),
                    outcomes.len() - changed
                );
                ExitCode::SUCCESS
            }
        }
    }
}

fn report_errors(diags: &authgen::Diagnostics) -> ExitCode {
    for report in diags.reports() {
        eprintln!("{report:?}");
    }
    let errors = diags.items().iter().filter(|d| d.severity == authgen::spec::Severity::Error).count();
    eprintln!("error: {errors} error(s) in {}; nothing was written", diags.source().name);
    ExitCode::from(1)
}
