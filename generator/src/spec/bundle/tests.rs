//! Multi-file specs on a temporary folder of small files.

use std::path::Path;

use super::{is_url, normalise, split_reference};
use crate::spec::{Diagnostics, LoadedSpec, load_file_named, load_str};

/// Writes `files` (path, text) into a fresh folder and loads `openapi.yaml` from it, named as written.
fn load(files: &[(&str, &str)]) -> (tempfile::TempDir, Result<LoadedSpec, Diagnostics>) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let loaded = load_file_named(&dir.path().join("openapi.yaml"), "openapi.yaml").expect("root readable");
    (dir, loaded)
}

fn loads(files: &[(&str, &str)]) -> LoadedSpec {
    let (_dir, loaded) = load(files);
    loaded.unwrap_or_else(|d| panic!("{}", d.render_plain()))
}

fn fails(files: &[(&str, &str)]) -> String {
    let (_dir, loaded) = load(files);
    match loaded {
        Ok(_) => panic!("loaded, but an error was expected"),
        Err(d) => d.render_plain(),
    }
}

fn validates(spec: &LoadedSpec) {
    crate::spec::validate::validate_spec(spec).unwrap_or_else(|d| panic!("{}", d.render_plain()));
}

/// The bundled document as JSON, for assertions by pointer.
fn json(spec: &LoadedSpec) -> serde_json::Value {
    serde_json::to_value(&spec.document).expect("to json")
}

fn root(schema_ref: &str) -> String {
    format!(
        "openapi: 3.0.3\ninfo: {{title: T, version: '1'}}\npaths:\n  /users:\n    get:\n      operationId: listUsers\n      \
         responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              \
         schema:\n                $ref: '{schema_ref}'\n"
    )
}

#[test]
fn relative_nested_and_json_references_become_components() {
    let spec = loads(&[
        ("openapi.yaml", &root("./schemas/user.yaml#/User")),
        // Relative to schemas/, not to the root's folder; a JSON file whole, a YAML file by fragment.
        (
            "schemas/user.yaml",
            "User:\n  type: object\n  properties:\n    address: {$ref: 'address.json'}\n    tags: {$ref: '../common/tags.yaml#/components/schemas/Tags'}\n",
        ),
        (
            "schemas/address.json",
            r##"{"type": "object", "properties": {"city": {"$ref": "#/definitions/City"}}, "definitions": {"City": {"type": "string"}}}"##,
        ),
        ("common/tags.yaml", "components:\n  schemas:\n    Tags: {type: array, items: {type: string}}\n"),
    ]);
    let doc = json(&spec);
    let schema = "/paths/~1users/get/responses/200/content/application~1json/schema/$ref";
    assert_eq!(doc.pointer(schema).and_then(|v| v.as_str()), Some("#/components/schemas/User"));
    let user = doc.pointer("/components/schemas/User/properties").expect("User pulled in");
    assert_eq!(user.pointer("/address/$ref").and_then(|v| v.as_str()), Some("#/components/schemas/address"));
    assert_eq!(user.pointer("/tags/$ref").and_then(|v| v.as_str()), Some("#/components/schemas/Tags"));
    // A `#/...` reference inside a pulled-in file means that file.
    let city = doc.pointer("/components/schemas/address/properties/city/$ref").and_then(|v| v.as_str());
    assert_eq!(city, Some("#/components/schemas/City"));
    assert_eq!(doc.pointer("/components/schemas/City/type").and_then(|v| v.as_str()), Some("string"));
    let files: Vec<String> = spec
        .files
        .iter()
        .map(|f| f.to_string_lossy().replace('\\', "/").rsplit_once("/").map_or(String::new(), |(_, n)| n.to_owned()))
        .collect();
    assert_eq!(files, ["openapi.yaml", "user.yaml", "address.json", "tags.yaml"]);
    validates(&spec);
}

#[test]
fn a_cycle_across_files_becomes_recursive_types() {
    let spec = loads(&[
        ("openapi.yaml", &root("a.yaml#/Node")),
        (
            "a.yaml",
            "Node:\n  type: object\n  properties:\n    name: {type: string}\n    children: {type: array, items: {$ref: 'b.yaml#/Edge'}}\n",
        ),
        ("b.yaml", "Edge:\n  type: object\n  properties:\n    to: {$ref: 'a.yaml#/Node'}\n"),
    ]);
    let doc = json(&spec);
    let to = doc.pointer("/components/schemas/Edge/properties/to/$ref").and_then(|v| v.as_str());
    assert_eq!(to, Some("#/components/schemas/Node"));
    assert_eq!(spec.files.len(), 3, "each file is read once: {:?}", spec.files);
    assert!(doc.pointer("/components/schemas/Node/properties/children/items/$ref").is_some());
    // The generated types (boxed recursion) are checked in tests/multi_file.rs.
    validates(&spec);
}

#[test]
fn names_that_collide_are_qualified_by_file_then_numbered() {
    let spec = loads(&[
        (
            "openapi.yaml",
            "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    Error: {type: string}\n    \
             A: {$ref: 'common.yaml#/Error'}\n    B: {$ref: 'other/common.yaml#/Error'}\n    C: {$ref: 'common.yaml#/Error'}\n    \
             D: {$ref: 'other/Error.yaml'}\n    E: {$ref: 'common.yaml#/items/0'}\n",
        ),
        ("common.yaml", "Error: {type: object, properties: {message: {type: string}}}\nitems: [{type: integer}]\n"),
        ("other/common.yaml", "Error: {type: object, properties: {code: {type: integer}}}\n"),
        ("other/Error.yaml", "type: boolean\n"),
    ]);
    let doc = json(&spec);
    let target = |name: &str| {
        doc.pointer(&format!("/components/schemas/{name}/$ref")).and_then(|v| v.as_str()).map(str::to_owned)
    };
    assert_eq!(target("A").as_deref(), Some("#/components/schemas/common_Error"));
    assert_eq!(target("B").as_deref(), Some("#/components/schemas/common_Error_2"));
    // The same part referenced twice is pulled in once.
    assert_eq!(target("C").as_deref(), Some("#/components/schemas/common_Error"));
    // A whole file is named by its stem, qualified by its folder.
    assert_eq!(target("D").as_deref(), Some("#/components/schemas/other_Error"));
    assert_eq!(target("E").as_deref(), Some("#/components/schemas/common_0"));
    assert!(doc.pointer("/components/schemas/common_Error_2/properties/code").is_some());
    assert_eq!(doc.pointer("/components/schemas/Error/type").and_then(|v| v.as_str()), Some("string"));
}

#[test]
fn whole_file_references_and_path_items_copied_in_place() {
    let spec = loads(&[
        (
            "openapi.yaml",
            "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /pets:\n    $ref: 'paths/pets.yaml'\n  /pets/{id}:\n    \
             $ref: 'paths/all.yaml#/components/paths/Pet'\ncomponents:\n  schemas:\n    Id: {type: integer}\n",
        ),
        (
            "paths/pets.yaml",
            "get:\n  operationId: listPets\n  parameters: [{$ref: '../parameters/limit.yaml'}]\n  responses:\n    '200':\n      \
             $ref: '../responses.yaml#/Pets'\n",
        ),
        (
            "paths/all.yaml",
            "components:\n  paths:\n    Pet:\n      get:\n        operationId: getPet\n        parameters:\n          - {name: id, in: path, \
             required: true, schema: {$ref: '../openapi.yaml#/components/schemas/Id'}}\n        responses:\n          '204': {description: gone}\n",
        ),
        ("parameters/limit.yaml", "name: limit\nin: query\nschema: {type: integer}\n"),
        (
            "responses.yaml",
            "Pets:\n  description: pets\n  content:\n    application/json:\n      schema: {type: array, items: {$ref: 'pet.yaml'}}\n",
        ),
        ("pet.yaml", "type: object\nproperties: {name: {type: string}}\n"),
    ]);
    let doc = json(&spec);
    assert_eq!(doc.pointer("/paths/~1pets/get/operationId").and_then(|v| v.as_str()), Some("listPets"));
    let param = doc.pointer("/paths/~1pets/get/parameters/0/$ref").and_then(|v| v.as_str());
    assert_eq!(param, Some("#/components/parameters/limit"));
    let response = doc.pointer("/paths/~1pets/get/responses/200/$ref").and_then(|v| v.as_str());
    assert_eq!(response, Some("#/components/responses/Pets"));
    let items = doc.pointer("/components/responses/Pets/content/application~1json/schema/items/$ref");
    assert_eq!(items.and_then(|v| v.as_str()), Some("#/components/schemas/pet"));
    // A reference back into the root is an ordinary internal one.
    let id = doc.pointer("/paths/~1pets~1{id}/get/parameters/0/schema/$ref").and_then(|v| v.as_str());
    assert_eq!(id, Some("#/components/schemas/Id"));
    validates(&spec);
}

#[test]
fn a_missing_file_is_an_error_at_the_reference() {
    let report = fails(&[("openapi.yaml", &root("./schemas/nobody.yaml#/User"))]);
    assert!(
        report
            .starts_with("error[E0202]: cannot read `schemas/nobody.yaml`, which `./schemas/nobody.yaml#/User` names"),
        "{report}"
    );
    assert!(report.contains("  --> openapi.yaml:13:17\n"), "{report}");
    assert!(report.contains("relative to the file that holds it, here `openapi.yaml`"), "{report}");
}

#[test]
fn a_missing_fragment_is_an_error_at_the_reference_in_the_file_holding_it() {
    let report = fails(&[
        ("openapi.yaml", &root("schemas/user.yaml#/User")),
        ("schemas/user.yaml", "User:\n  type: object\n  properties:\n    friend: {$ref: '#/Friend'}\n"),
    ]);
    assert!(report.starts_with("error[E0212]: reference `#/Friend` names nothing in `schemas/user.yaml`"), "{report}");
    assert!(report.contains("  --> schemas/user.yaml:4:14\n   | at /User/properties/friend/$ref\n"), "{report}");
}

#[test]
fn an_error_found_later_is_reported_in_the_file_it_is_in() {
    let (_dir, loaded) = load(&[
        (
            "openapi.yaml",
            "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /a: {$ref: 'paths/a.yaml'}\n  /b: {$ref: 'paths/b.yaml'}\n",
        ),
        ("paths/a.yaml", "get:\n  operationId: same\n  responses: {'204': {description: none}}\n"),
        ("paths/b.yaml", "# b\nget:\n  operationId: same\n  responses: {'204': {description: none}}\n"),
    ]);
    let spec = loaded.unwrap_or_else(|d| panic!("{}", d.render_plain()));
    let report = match crate::spec::validate::validate_spec(&spec) {
        Ok(_) => panic!("validated"),
        Err(d) => d.render_plain(),
    };
    assert!(
        report
            .contains("error[E0303]: duplicate operationId `same`\n  --> paths/b.yaml:3:3\n   | at /get/operationId\n"),
        "{report}"
    );
    assert!(report.ends_with("in openapi.yaml\n"), "{report}");
}

#[test]
fn a_syntax_error_in_a_referenced_file_is_located_there() {
    let report = fails(&[("openapi.yaml", &root("user.json")), ("user.json", "{\"type\": \"object\",,}\n")]);
    assert!(report.starts_with("error[E0001]: `user.json` is not valid YAML or JSON"), "{report}");
    assert!(report.contains("  --> user.json:1:19\n"), "{report}");
}

#[test]
fn urls_and_absolute_paths_are_refused() {
    for target in ["https://example.com/user.yaml#/User", "/etc/user.yaml", "//host/user.yaml", "file:///user.yaml"] {
        let report = fails(&[("openapi.yaml", &root(target))]);
        assert!(report.starts_with(&format!("error[E0213]: reference `{target}` leaves the spec's files")), "{report}");
        assert!(report.contains("there is no network"), "{report}");
    }
}

#[test]
fn a_spec_given_as_text_cannot_follow_references_to_files() {
    let report = match load_str("t.yaml", &root("user.yaml#/User")) {
        Ok(_) => panic!("loaded"),
        Err(d) => d.render_plain(),
    };
    assert!(report.starts_with("error[E0202]: external reference `user.yaml#/User` cannot be followed"), "{report}");
    assert!(report.contains("  --> t.yaml:13:17\n"), "{report}");
}

#[test]
fn references_in_extensions_are_not_followed() {
    let text = root("#/components/schemas/U").replace(
        "      operationId: listUsers\n",
        "      operationId: listUsers\n      x-codeSamples:\n        - {lang: C#, source: {$ref: ../samples/get.cs}}\n",
    ) + "components:\n  schemas:\n    U: {type: string}\n";
    let spec = loads(&[("openapi.yaml", &text)]);
    let source = json(&spec).pointer("/paths/~1users/get/x-codeSamples/0/source/$ref").cloned();
    assert_eq!(source, Some(serde_json::json!("../samples/get.cs")));
    assert_eq!(spec.files.len(), 1);
    validates(&spec);
}

#[test]
fn a_path_item_that_includes_itself_is_refused() {
    let report = fails(&[
        ("openapi.yaml", "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /a: {$ref: 'a.yaml'}\n"),
        (
            "a.yaml",
            "get:\n  callbacks:\n    cb:\n      '{$url}': {$ref: 'a.yaml'}\n  responses: {'200': {description: ok}}\n",
        ),
    ]);
    assert!(report.contains("error[E0211]: reference cycle: `a.yaml` includes itself\n  --> a.yaml:4:18"), "{report}");
}

#[test]
fn references_split_into_file_and_fragment() {
    assert_eq!(split_reference("a.yaml#/B"), ("a.yaml", "/B"));
    assert_eq!(split_reference("a.yaml"), ("a.yaml", ""));
    assert_eq!(split_reference("a.yaml#"), ("a.yaml", ""));
    assert_eq!(split_reference("#/components/schemas/X"), ("", "/components/schemas/X"));
    // PingOne names files `flows_{flowID}#clone+json.yaml`.
    assert_eq!(split_reference("flows_{id}#clone+json.yaml"), ("flows_{id}#clone+json.yaml", ""));
    assert_eq!(split_reference("flows#clone.yaml#/X"), ("flows#clone.yaml", "/X"));
    assert!(is_url("http://x/y.yaml") && is_url("file:///y") && is_url("//x/y"));
    assert!(!is_url("C:/spec.yaml") && !is_url("./a:b.yaml") && !is_url("schemas/user.yaml"));
    assert_eq!(normalise(Path::new("a/./b/../c.yaml")), Path::new("a/c.yaml"));
    assert_eq!(normalise(Path::new("../x/../y.yaml")), Path::new("../y.yaml"));
}
