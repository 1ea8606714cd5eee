//! Generates the kitchen-sink API into OUT_DIR, the way a user's build script would.

fn main() {
    authgen::build::Builder::new("../specs/kitchen.yaml")
        .framework(authgen::Framework::Axum)
        .client(true)
        .module_root("crate::api")
        .generate()
        .unwrap_or_else(|e| panic!("{e}"));
}
