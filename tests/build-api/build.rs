//! Generates the kitchen-sink API into OUT_DIR, the way a user's build script would.

fn main() {
    authgen::build::Builder::new("../specs/kitchen.yaml")
        .framework(authgen::Framework::Axum)
        .client(true)
        .module_root("crate::api")
        // The kitchen spec's multipart body is passed as raw bytes on purpose.
        .allow_warning("W0302")
        .generate()
        .unwrap_or_else(|e| panic!("{e}"));
}
