//! Swagger 2.0 input end to end: a 2.0 document generates like its 3.0 equivalent, its routes carry the
//! `basePath`, and the generated README says the input was converted.

use authgen::{Framework, Settings, generate, spec};

const PETSTORE_2: &str = r#"
swagger: "2.0"
info: {title: Petstore, version: "1.0.7"}
host: petstore.swagger.io
basePath: /v2
schemes: [https, http]
paths:
  /pet:
    post:
      operationId: addPet
      consumes: [application/json]
      parameters:
        - {in: body, name: body, required: true, schema: {$ref: '#/definitions/Pet'}}
      responses:
        "405": {description: Invalid input}
      security: [{petstore_auth: ["write:pets"]}]
  /pet/{petId}/uploadImage:
    post:
      operationId: uploadFile
      consumes: [multipart/form-data]
      parameters:
        - {in: path, name: petId, required: true, type: integer, format: int64}
        - {in: formData, name: additionalMetadata, type: string}
        - {in: formData, name: file, type: file}
      responses:
        "200": {description: ok, schema: {$ref: '#/definitions/ApiResponse'}}
  /pet/findByStatus:
    get:
      operationId: findPetsByStatus
      parameters:
        - {in: query, name: status, required: true, type: array, collectionFormat: multi,
           items: {type: string, enum: [available, pending, sold]}}
      responses:
        "200": {description: ok, schema: {type: array, items: {$ref: '#/definitions/Pet'}}}
      security: [{api_key: []}]
securityDefinitions:
  api_key: {type: apiKey, name: api_key, in: header}
  petstore_auth:
    type: oauth2
    authorizationUrl: https://petstore.swagger.io/oauth/authorize
    flow: implicit
    scopes: {"write:pets": modify pets}
definitions:
  Pet:
    type: object
    required: [name]
    properties:
      id: {type: integer, format: int64}
      name: {type: string}
  ApiResponse:
    type: object
    properties:
      code: {type: integer, format: int32}
"#;

fn files(text: &str) -> (Vec<authgen::GeneratedFile>, Vec<&'static str>) {
    let loaded = spec::load_str("petstore.yaml", text).unwrap_or_else(|d| panic!("{}", d.render_plain()));
    let mut settings = Settings::default();
    settings.with_frameworks([Framework::Axum, Framework::ActixWeb]);
    let generated = generate(&loaded, &settings).unwrap_or_else(|d| panic!("{}", d.render_plain()));
    let codes = generated.warnings.items().iter().map(|d| d.code).collect();
    (generated.files, codes)
}

fn file<'f>(files: &'f [authgen::GeneratedFile], path: &str) -> &'f str {
    &files.iter().find(|f| f.path == path).unwrap_or_else(|| panic!("no {path}")).contents
}

#[test]
fn a_swagger_2_petstore_generates_with_its_base_path_and_a_readme_note() {
    let (files, codes) = files(PETSTORE_2);
    assert_eq!(codes, ["W0004"]);
    let readme = file(&files, "README.md");
    assert!(readme.contains("> **Converted from Swagger 2.0.**"), "{readme}");
    for route in ["POST /v2/pet", "POST /v2/pet/{petId}/uploadImage", "GET /v2/pet/findByStatus"] {
        assert!(readme.contains(route), "{route} is not in the README's operations:\n{readme}");
    }
    let axum = file(&files, "src/server/axum.rs");
    assert!(axum.contains("\"/v2/pet/{petId}/uploadImage\""), "{axum}");
}

#[test]
fn an_openapi_3_readme_has_no_conversion_note() {
    let text = "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n      responses: {'204': {description: ok}}\n";
    let (files, _) = files(text);
    assert!(!file(&files, "README.md").contains("Swagger 2.0"));
}
