//! The kitchen-sink API, generated at build time by `build.rs` and included here.

/// The generated modules (`types`, `ops`, `server`, `client`, `cors`, `runtime`).
#[allow(missing_docs, reason = "generated code documents what the spec documents")]
pub mod api {
    include!(concat!(env!("OUT_DIR"), "/kitchen_api.rs"));
}
