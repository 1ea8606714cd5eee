//! The hand-written runtime (`generator/runtime/`, one file per concern): copied into every generated crate as
//! `src/runtime/`, or inlined as nested modules of `pub mod runtime { .. }` in the module layout, in both cases
//! with the regions a spec does not use cut out.

use crate::ir::TypeRef;
use crate::output::GeneratedFile;

use super::EmitCtx;

/// The runtime's root file: the module docs, the file modules and the re-exports the generated code uses.
const ROOT: &str = "mod.rs";

/// The runtime's files by name, `mod.rs` first. A file other than `mod.rs` is emitted exactly when `mod.rs`,
/// after cutting, still declares it as a module, so a whole file that a spec does not use (say `formats.rs`)
/// goes with the region around its `mod` line.
const FILES: &[(&str, &str)] = &[
    (ROOT, include_str!("../../runtime/mod.rs")),
    ("request.rs", include_str!("../../runtime/request.rs")),
    ("response.rs", include_str!("../../runtime/response.rs")),
    ("error.rs", include_str!("../../runtime/error.rs")),
    ("params.rs", include_str!("../../runtime/params.rs")),
    ("body.rs", include_str!("../../runtime/body.rs")),
    ("client_addr.rs", include_str!("../../runtime/client_addr.rs")),
    ("context.rs", include_str!("../../runtime/context.rs")),
    ("multipart.rs", include_str!("../../runtime/multipart.rs")),
    ("validate.rs", include_str!("../../runtime/validate.rs")),
    ("formats.rs", include_str!("../../runtime/formats.rs")),
    ("axum_glue.rs", include_str!("../../runtime/axum_glue.rs")),
    ("client_core.rs", include_str!("../../runtime/client_core.rs")),
    ("actix_glue.rs", include_str!("../../runtime/actix_glue.rs")),
];

/// The runtime as `src/runtime/<file>`, each file after `header` (the crate layout).
pub(crate) fn emit_runtime_files(ctx: EmitCtx<'_>, header: &str) -> Result<Vec<GeneratedFile>, String> {
    Ok(runtime_files(ctx)?
        .into_iter()
        .map(|(name, text)| GeneratedFile::new(format!("src/runtime/{name}"), format!("{header}\n{text}")))
        .collect())
}

/// The runtime as one parsed file (the module layout): `mod.rs` with every file module it declares inlined
/// as `mod <name> { .. }`, its `//!` docs becoming the inner attributes of that module.
pub(crate) fn runtime_file(ctx: EmitCtx<'_>) -> Result<syn::File, String> {
    let mut files = runtime_files(ctx)?.into_iter();
    let (_, root) = files.next().ok_or("the runtime has no mod.rs")?;
    let mut root = parse(ROOT, &root)?;
    let mut modules: Vec<(&str, syn::File)> =
        files.map(|(name, text)| Ok((name, parse(name, &text)?))).collect::<Result<_, String>>()?;
    for item in &mut root.items {
        let syn::Item::Mod(module) = item else { continue };
        if module.content.is_some() {
            continue;
        }
        let file_name = format!("{}.rs", module.ident);
        let at = modules.iter().position(|(name, _)| **name == file_name);
        let (_, file) = modules.swap_remove(at.ok_or_else(|| format!("runtime/mod.rs: no file `{file_name}`"))?);
        module.attrs.extend(file.attrs);
        module.content = Some((syn::token::Brace::default(), file.items));
        module.semi = None;
    }
    Ok(root)
}

fn parse(name: &str, text: &str) -> Result<syn::File, String> {
    syn::parse_str(text).map_err(|e| format!("runtime/{name} does not parse: {e}"))
}

/// The runtime files this spec and these settings get, cut: `mod.rs` first, then every file it still
/// declares, in [`FILES`] order.
fn runtime_files(ctx: EmitCtx<'_>) -> Result<Vec<(&'static str, String)>, String> {
    let (root_name, root_text) = FILES[0];
    let root = cut(ctx, root_text);
    let declared = declared_modules(&parse(root_name, &root)?);
    if let Some(missing) = declared.iter().find(|m| !FILES.iter().any(|(name, _)| *name == format!("{m}.rs"))) {
        return Err(format!("runtime/mod.rs: no file `{missing}.rs`"));
    }
    let mut out = vec![(root_name, root)];
    for &(name, text) in &FILES[1..] {
        if declared.iter().any(|m| format!("{m}.rs") == name) {
            out.push((name, cut(ctx, text)));
        }
    }
    Ok(out)
}

/// The names of the `mod <name>;` declarations (file modules) of a parsed `mod.rs`.
fn declared_modules(root: &syn::File) -> Vec<String> {
    root.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Mod(m) if m.content.is_none() => Some(m.ident.to_string()),
            _ => None,
        })
        .collect()
}

/// A runtime file with the regions that are not generated cut out. A region is the lines between
/// `// authgen:if <name>` and its `// authgen:end` (regions nest, and close in the file they open in);
/// `<name>` is a framework, `client`, or `base64` (the `format: byte` type, kept only where the spec uses
/// it, like its dependency). The marker lines never reach the output. For the module layout the
/// `#[cfg(feature = ..)]` lines go too, since the including crate's features mean something else.
fn cut(ctx: EmitCtx<'_>, text: &str) -> String {
    let module = ctx.settings.module_root().is_some();
    let wanted = |name: &str| match name {
        "client" => !module || ctx.settings.module_client(),
        "base64" => ctx.api.uses_type(&TypeRef::Base64),
        other => ctx.settings.frameworks().iter().any(|f| f.name() == other),
    };
    let mut out = String::with_capacity(text.len());
    let mut keep: Vec<bool> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("// authgen:if ") {
            keep.push(wanted(name));
            continue;
        }
        if t == "// authgen:end" {
            keep.pop();
            continue;
        }
        if keep.iter().all(|k| *k) && !(module && t.starts_with("#[cfg(feature = ")) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime")
    }

    /// Every file in `generator/runtime/` is in [`FILES`] (a new file cannot be forgotten) and the other way
    /// round, and the uncut `mod.rs` declares every other file.
    #[test]
    fn files_match_the_folder_and_mod_rs() {
        let mut on_disk: Vec<String> = std::fs::read_dir(runtime_dir())
            .expect("read generator/runtime")
            .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = FILES.iter().map(|(name, _)| (*name).to_owned()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
        let root: syn::File = syn::parse_str(FILES[0].1).expect("mod.rs parses");
        let mut declared: Vec<String> = declared_modules(&root).into_iter().map(|m| format!("{m}.rs")).collect();
        declared.sort();
        listed.retain(|name| name != ROOT);
        assert_eq!(declared, listed);
    }

    /// Each file opens with its `//!` docs, stays under 800 lines, and closes every region it opens.
    #[test]
    fn files_are_documented_small_and_balanced() {
        for (name, text) in FILES {
            assert!(text.starts_with("//! "), "runtime/{name} does not open with a `//!` line");
            assert!(text.lines().count() < 800, "runtime/{name} has 800 lines or more; split it by concern");
            let mut depth = 0usize;
            for (i, line) in text.lines().enumerate() {
                let t = line.trim();
                if t.starts_with("// authgen:if ") {
                    depth += 1;
                } else if t == "// authgen:end" {
                    assert!(depth > 0, "runtime/{name}:{}: `authgen:end` without `authgen:if`", i + 1);
                    depth -= 1;
                }
            }
            assert_eq!(depth, 0, "runtime/{name}: a region is not closed in this file");
        }
    }
}
