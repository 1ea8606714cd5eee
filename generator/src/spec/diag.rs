//! Diagnostics: every problem found in a spec, collected per phase, each pointing at `file:line:col`.

use std::fmt::Write as _;
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceSpan};

use super::load::SourceFile;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The spec can still be generated; the output may lack something.
    Warning,
    /// Generation stops at the end of the current phase.
    Error,
}

/// One problem in a spec, with where it is and how to fix it.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable code such as `E0102`, listed in the README.
    pub code: &'static str,
    /// What is wrong, lowercase and without a trailing period.
    pub message: String,
    /// The JSON pointer of the offending node, e.g. `/paths/~1a/get/responses`.
    pub pointer: String,
    /// Where the node is in the source, when it could be located.
    pub location: Option<Location>,
    /// A short label shown under the source excerpt.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
    /// The file the diagnostic is in, when it is not the root spec (a file that a `$ref` pulled in); `pointer`
    /// and `location` are then within that file.
    pub file: Option<Arc<SourceFile>>,
}

/// A place in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Byte offset of the first byte.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// Everything a phase found, with the source it refers to.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    source: Arc<SourceFile>,
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty collection for `source`.
    pub fn new(source: Arc<SourceFile>) -> Self {
        Self { source, items: Vec::new() }
    }

    /// Adds an error at `pointer`.
    pub fn error(&mut self, code: &'static str, pointer: &str, message: impl Into<String>) -> &mut Diagnostic {
        self.push(Severity::Error, code, pointer, message.into())
    }

    /// Adds a warning at `pointer`.
    pub fn warning(&mut self, code: &'static str, pointer: &str, message: impl Into<String>) -> &mut Diagnostic {
        self.push(Severity::Warning, code, pointer, message.into())
    }

    /// Adds an error at `pointer` of `file`, one of the files a multi-file spec is made of (the pointer is
    /// within that file, not within the bundled document).
    pub fn error_in(
        &mut self,
        file: &Arc<SourceFile>,
        code: &'static str,
        pointer: &str,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let file = (!Arc::ptr_eq(file, &self.source)).then(|| file.clone());
        self.push_in(file, Severity::Error, code, pointer.to_owned(), message.into())
    }

    fn push(&mut self, severity: Severity, code: &'static str, pointer: &str, message: String) -> &mut Diagnostic {
        // A pointer into a part of the document that a `$ref` pulled in from another file is reported in
        // that file, at the pointer it has there.
        let (file, pointer) = match self.source.origin(pointer) {
            Some((file, local)) => (Some(file.clone()), local),
            None => (None, pointer.to_owned()),
        };
        self.push_in(file, severity, code, pointer, message)
    }

    fn push_in(
        &mut self,
        file: Option<Arc<SourceFile>>,
        severity: Severity,
        code: &'static str,
        pointer: String,
        message: String,
    ) -> &mut Diagnostic {
        let location = file.as_deref().unwrap_or(&self.source).locate(&pointer);
        self.items.push(Diagnostic {
            severity,
            code,
            message,
            // A Swagger 2.0 spec is reported in its own terms, not in those of its conversion; a part pulled
            // in from another file already has that file's pointer.
            pointer: if file.is_none() { self.source.original_pointer(&pointer) } else { pointer },
            location,
            label: String::new(),
            help: None,
            file,
        });
        self.items.last_mut().expect("just pushed")
    }

    /// Adds a diagnostic that already knows its location.
    pub fn push_located(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// True when any error (not only warnings) was collected.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// The collected diagnostics, in the order they were found.
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }

    /// The root spec's source; a diagnostic whose [`Diagnostic::file`] is set points into that file instead.
    pub fn source(&self) -> &SourceFile {
        &self.source
    }

    /// Ends a phase: `Err(self)` when errors were found, otherwise the warnings so far.
    pub fn propagate(self) -> Result<Self, Self> {
        if self.has_errors() { Err(self) } else { Ok(self) }
    }

    /// Moves the items of `other` (same source) into `self`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// Renders every diagnostic as plain text, the stable form used in tests and logs.
    ///
    /// ```text
    /// error[E0201]: unresolved reference `#/components/schemas/Pet`
    ///   --> spec.yaml:12:15
    ///    | at /paths/~1pets/get/responses/200/content/application~1json/schema
    ///    = help: define `Pet` under components/schemas or fix the reference
    /// ```
    pub fn render_plain(&self) -> String {
        let mut out = String::new();
        for d in &self.items {
            let kind = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let _ = writeln!(out, "{kind}[{}]: {}", d.code, d.message);
            let name = &d.file.as_deref().unwrap_or(&self.source).name;
            match d.location {
                Some(loc) => {
                    let _ = writeln!(out, "  --> {name}:{}:{}", loc.line, loc.column);
                }
                None => {
                    let _ = writeln!(out, "  --> {name}");
                }
            }
            if !d.pointer.is_empty() {
                let _ = writeln!(out, "   | at {}", d.pointer);
            }
            if let Some(help) = &d.help {
                let _ = writeln!(out, "   = help: {help}");
            }
        }
        let errors = self.items.iter().filter(|d| d.severity == Severity::Error).count();
        let warnings = self.items.len() - errors;
        if errors > 0 || warnings > 0 {
            let _ = writeln!(out, "{errors} error(s), {warnings} warning(s) in {}", self.source.name);
        }
        out
    }

    /// One miette report per diagnostic, for the fancy terminal output of the CLI.
    pub fn reports(&self) -> Vec<miette::Report> {
        self.items
            .iter()
            .map(|d| {
                let mut labels = Vec::new();
                if let Some(loc) = d.location {
                    let text = if d.label.is_empty() { None } else { Some(d.label.clone()) };
                    labels.push(LabeledSpan::new_with_span(text, SourceSpan::from((loc.offset, loc.len))));
                }
                let severity = match d.severity {
                    Severity::Error => miette::Severity::Error,
                    Severity::Warning => miette::Severity::Warning,
                };
                let mut help = format!("at {}", d.pointer);
                if let Some(h) = &d.help {
                    help = format!("{h}\n{help}");
                }
                let diag = miette::MietteDiagnostic::new(d.message.clone())
                    .with_code(d.code)
                    .with_severity(severity)
                    .with_labels(labels)
                    .with_help(help);
                let file = d.file.as_deref().unwrap_or(&self.source);
                miette::Report::new(diag).with_source_code(
                    NamedSource::new(file.name.clone(), file.text.clone()).with_language(if file.is_json {
                        "json"
                    } else {
                        "yaml"
                    }),
                )
            })
            .collect()
    }
}

impl Diagnostic {
    /// Sets the label shown under the source excerpt.
    pub fn label(&mut self, label: impl Into<String>) -> &mut Self {
        self.label = label.into();
        self
    }

    /// Sets the help line.
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }
}

/// Escapes one JSON pointer segment (`~` -> `~0`, `/` -> `~1`).
pub fn escape_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Builds a JSON pointer from segments.
pub fn pointer<I, S>(segments: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for s in segments {
        out.push('/');
        out.push_str(&escape_segment(s.as_ref()));
    }
    out
}

/// Every warning code authgen reports, with a word on what it stands for. `--allow` and `--deny` accept only
/// these; the README's diagnostics table lists each.
pub const WARNING_CODES: &[&str] = &[
    "W0003", "W0004", "W0005", "W0006", "W0007", "W0101", "W0102", "W0103", "W0104", "W0105", "W0106", "W0107",
    "W0108", "W0109", "W0110", "W0111", "W0112", "W0113", "W0114", "W0120", "W0201", "W0202", "W0203", "W0204",
    "W0205", "W0206", "W0207", "W0301", "W0302", "W0303", "W0304", "W0305", "W0306", "W0307", "W0404",
];

/// The warnings that stand for a defect authgen works around instead of refusing the spec (a dangling
/// reference, an unknown security scheme, a parameter that cannot be bound, a keyword without a Rust form):
/// each was an error before authgen became lenient, and `--strict` makes each an error again.
pub const LENIENT_CODES: &[&str] =
    &["W0006", "W0007", "W0111", "W0112", "W0113", "W0114", "W0205", "W0206", "W0207", "W0304", "W0404"];

/// How warnings are treated: `--strict`, `--allow CODE`, `--deny CODE`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy<'a> {
    /// Every [`LENIENT_CODES`] warning is an error.
    pub strict: bool,
    /// Warnings with these codes are dropped (unless also denied).
    pub allow: &'a [String],
    /// Warnings with these codes are errors.
    pub deny: &'a [String],
}

impl Diagnostics {
    /// Applies `policy`: a denied warning, or under `strict` a lenient one that is not allowed, becomes an
    /// error at the same place; an allowed warning is dropped. Errors are never touched.
    pub fn apply_policy(&mut self, policy: Policy<'_>) {
        let listed = |codes: &[String], code: &str| codes.iter().any(|c| c == code);
        self.items
            .retain(|d| d.severity == Severity::Error || !listed(policy.allow, d.code) || listed(policy.deny, d.code));
        for d in &mut self.items {
            let denied = listed(policy.deny, d.code);
            let strict = policy.strict && LENIENT_CODES.contains(&d.code) && !listed(policy.allow, d.code);
            if d.severity == Severity::Warning && (denied || strict) {
                d.severity = Severity::Error;
            }
        }
    }
}
