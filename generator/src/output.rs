//! Write stage: generated files, writing only what changed, and the freshness check.

use std::path::{Path, PathBuf};

/// The marker every generated file carries in its first line.
pub const GENERATED_MARKER: &str = "@generated";

/// One output file: a path relative to the output directory, and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Relative path with `/` separators.
    pub path: String,
    /// Full contents.
    pub contents: String,
}

impl GeneratedFile {
    /// A file at `path` with `contents`.
    pub fn new(path: impl Into<String>, contents: impl Into<String>) -> Self {
        Self { path: path.into(), contents: contents.into() }
    }
}

/// What happened to one file when writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Created.
    Created(PathBuf),
    /// Overwritten with new contents.
    Updated(PathBuf),
    /// Already identical; not touched.
    Unchanged(PathBuf),
    /// A file authgen generated earlier that the current settings no longer produce (for example the adapter
    /// of a framework that was dropped); deleted.
    Removed(PathBuf),
}

/// Why writing stopped.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A file exists without the `@generated` marker: it was written by hand and is never overwritten.
    #[error("refusing to overwrite `{}`: it has no `@generated` header, so it was not written by authgen; move it away or delete it", .0.display())]
    NotGenerated(PathBuf),
    /// A hand-written file would be a second file for a generated module (`src/x.rs` beside a generated
    /// `src/x/mod.rs`, or the reverse), which rustc refuses (E0761).
    #[error(
        "`{}` has no `@generated` header and would be a second file for the module authgen writes as `{}` (rustc E0761); move its contents elsewhere and delete it",
        hand_written.display(),
        generated.display()
    )]
    ModuleClash {
        /// The file without the header.
        hand_written: PathBuf,
        /// The generated file of the same module.
        generated: PathBuf,
    },
    /// An I/O error.
    #[error("cannot write `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn has_marker(text: &str) -> bool {
    text.lines().next().is_some_and(|l| l.contains(GENERATED_MARKER))
}

/// The other file that could hold the same Rust module as `path`: `src/x.rs` for `src/x/mod.rs` and the
/// reverse. `None` for files that are not Rust modules.
fn other_module_file(path: &str) -> Option<String> {
    if let Some(dir) = path.strip_suffix("/mod.rs") {
        Some(format!("{dir}.rs"))
    } else {
        path.strip_suffix(".rs").filter(|stem| !stem.ends_with("/lib")).map(|stem| format!("{stem}/mod.rs"))
    }
}

fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// Writes `files` under `out_dir`, touching only files whose contents changed. Every target is checked
/// before anything is written, so a refusal leaves the directory as it was.
pub fn write_files(out_dir: &Path, files: &[GeneratedFile]) -> Result<Vec<WriteOutcome>, WriteError> {
    let mut plan = Vec::new();
    for f in files {
        let path = out_dir.join(&f.path);
        // A file authgen wrote earlier is removed below as obsolete; one written by hand would stay and break
        // the build, so refuse before writing anything.
        if let Some(other) = other_module_file(&f.path).filter(|o| !files.iter().any(|g| &g.path == o)) {
            let other = out_dir.join(other);
            if let Ok(text) = std::fs::read_to_string(&other)
                && !has_marker(&text)
            {
                return Err(WriteError::ModuleClash { hand_written: other, generated: path });
            }
        }
        match std::fs::read_to_string(&path) {
            Ok(existing) => {
                if normalise(&existing) == f.contents {
                    plan.push((path, None, false));
                } else if !has_marker(&existing) {
                    return Err(WriteError::NotGenerated(path));
                } else {
                    plan.push((path, Some(&f.contents), false));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => plan.push((path, Some(&f.contents), true)),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => return Err(WriteError::NotGenerated(path)),
            Err(source) => return Err(WriteError::Io { path, source }),
        }
    }
    let mut outcomes = Vec::new();
    for rel in obsolete_files(out_dir, files) {
        let path = out_dir.join(&rel);
        std::fs::remove_file(&path).map_err(|source| WriteError::Io { path: path.clone(), source })?;
        outcomes.push(WriteOutcome::Removed(path));
    }
    for (path, contents, created) in plan {
        match contents {
            None => outcomes.push(WriteOutcome::Unchanged(path)),
            Some(text) => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|source| WriteError::Io { path: path.clone(), source })?;
                }
                std::fs::write(&path, text).map_err(|source| WriteError::Io { path: path.clone(), source })?;
                outcomes.push(if created { WriteOutcome::Created(path) } else { WriteOutcome::Updated(path) });
            }
        }
    }
    Ok(outcomes)
}

/// A file on disk that differs from what would be generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleFile {
    /// Relative path.
    pub path: String,
    /// What is wrong with it.
    pub kind: Staleness,
}

/// How a file is stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staleness {
    /// It would be generated but does not exist.
    Missing,
    /// Its contents differ: a short unified diff, disk -> generated.
    Changed(String),
    /// authgen generated it earlier, but the current settings no longer produce it.
    Obsolete,
}

impl StaleFile {
    /// The diff, for a changed file.
    pub fn diff(&self) -> Option<&str> {
        match &self.kind {
            Staleness::Changed(d) => Some(d),
            _ => None,
        }
    }
}

/// Files under `out_dir` that carry authgen's header but are not in `files` (relative paths, sorted).
fn obsolete_files(out_dir: &Path, files: &[GeneratedFile]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![out_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != "target" && !name.to_string_lossy().starts_with('.') {
                    stack.push(path);
                }
                continue;
            }
            let Ok(rel) = path.strip_prefix(out_dir) else { continue };
            let rel = rel.to_string_lossy().replace('\\', "/");
            if files.iter().any(|f| f.path == rel) {
                continue;
            }
            let generated_by_us = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| t.lines().next().map(|l| l.contains("@generated by authgen")))
                .unwrap_or(false);
            if generated_by_us {
                found.push(rel);
            }
        }
    }
    found.sort();
    found
}

/// Compares `files` with what is under `out_dir`. Empty when everything is fresh.
pub fn check_files(out_dir: &Path, files: &[GeneratedFile]) -> Result<Vec<StaleFile>, std::io::Error> {
    let mut stale = Vec::new();
    for f in files {
        let path = out_dir.join(&f.path);
        match std::fs::read_to_string(&path) {
            Ok(existing) => {
                let existing = normalise(&existing);
                if existing != f.contents {
                    let diff = short_diff(&f.path, &existing, &f.contents);
                    stale.push(StaleFile { path: f.path.clone(), kind: Staleness::Changed(diff) });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                stale.push(StaleFile { path: f.path.clone(), kind: Staleness::Missing })
            }
            Err(e) => return Err(e),
        }
    }
    for path in obsolete_files(out_dir, files) {
        stale.push(StaleFile { path, kind: Staleness::Obsolete });
    }
    Ok(stale)
}

/// A unified diff cut to at most 40 lines.
fn short_diff(path: &str, old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(2)
        .header(&format!("{path} (on disk)"), &format!("{path} (generated)"))
        .to_string();
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() > 40 {
        let mut cut = lines[..40].join("\n");
        cut.push_str(&format!("\n... ({} more diff lines)", lines.len() - 40));
        cut
    } else {
        text.trim_end().to_owned()
    }
}
