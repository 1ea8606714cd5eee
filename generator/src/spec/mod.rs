//! The front half: load a spec, validate it, and report what is wrong with `file:line:col`.

mod bundle;
pub mod diag;
pub mod load;
mod numbers;
mod shape;
mod swagger2;
mod v31;
pub mod validate;

pub use diag::{Diagnostic, Diagnostics, Location, Severity};
pub use load::{LoadedSpec, SourceFile, load_file, load_file_named, load_str};
