//! Multi-file specs through the whole pipeline: parts that refer to each other across files generate recursive
//! types. (How references are followed and named is unit-tested in `src/spec/bundle/tests.rs`.)

use authgen::{Settings, spec};

#[test]
fn a_cycle_across_files_generates_boxed_recursive_types() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |rel: &str, text: &str| std::fs::write(dir.path().join(rel), text).expect("write");
    write(
        "openapi.yaml",
        "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /nodes:\n    get:\n      operationId: listNodes\n      \
         responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              \
         schema: {$ref: 'a.yaml#/Node'}\n",
    );
    write(
        "a.yaml",
        "Node:\n  type: object\n  properties:\n    children: {type: array, items: {$ref: 'b.yaml#/Edge'}}\n",
    );
    write("b.yaml", "Edge:\n  type: object\n  properties:\n    to: {$ref: 'a.yaml#/Node'}\n");
    let loaded = spec::load_file(&dir.path().join("openapi.yaml"))
        .expect("readable")
        .unwrap_or_else(|d| panic!("{}", d.render_plain()));
    let generated = authgen::generate(&loaded, &Settings::default()).unwrap_or_else(|d| panic!("{}", d.render_plain()));
    let types = &generated.files.iter().find(|f| f.path == "src/types.rs").expect("types").contents;
    assert!(types.contains("pub struct Node") && types.contains("pub struct Edge"), "{types}");
    assert!(types.contains("::std::boxed::Box<crate::types::Node>"), "the recursion is not boxed: {types}");
}
