//! Table-driven tests of the Swagger 2.0 conversion on small inline documents.

use std::sync::Arc;

use super::{PointerMap, convert};
use crate::spec::diag::Diagnostics;
use crate::spec::load::{SourceFile, load_str};

const HEAD: &str = "swagger: '2.0'\ninfo: {title: T, version: '1'}\n";

/// Converts `body` (after the 2.0 head) and returns the document as JSON, the diagnostics as
/// (code, pointer) and the pointer map.
fn convert_doc(body: &str) -> (serde_json::Value, Vec<(&'static str, String)>, PointerMap) {
    let text = format!("{HEAD}{body}");
    let mut value: yaml_serde::Value = yaml_serde::from_str(&text).expect("test YAML parses");
    let mut diags = Diagnostics::new(Arc::new(SourceFile::new("t.yaml", text)));
    let map = convert(&mut value, &mut diags);
    let found = diags.items().iter().map(|d| (d.code, d.pointer.clone())).collect();
    (serde_json::to_value(&value).expect("converted value is JSON"), found, map)
}

fn yaml(text: &str) -> serde_json::Value {
    yaml_serde::from_str(text).expect("expected YAML parses")
}

/// (what, 2.0 document body, JSON pointer into the converted document, the 3.0 value expected there)
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "body parameter, global consumes",
        "consumes: [application/json, application/x-www-form-urlencoded]
paths:
  /pets:
    post:
      parameters:
        - {in: body, name: pet, required: true, description: the pet, schema: {$ref: '#/definitions/Pet'}}
      responses: {'204': {description: ok}}
definitions:
  Pet: {type: object}",
        "/paths/~1pets/post/requestBody",
        "description: the pet
required: true
content:
  application/json: {schema: {$ref: '#/components/schemas/Pet'}}
  application/x-www-form-urlencoded: {schema: {$ref: '#/components/schemas/Pet'}}",
    ),
    (
        "body parameter, operation consumes wins, default JSON otherwise",
        "paths:
  /pets:
    put:
      consumes: [application/merge-patch+json]
      parameters: [{in: body, name: b, schema: {type: object}}]
      responses: {'204': {description: ok}}",
        "/paths/~1pets/put",
        "requestBody: {content: {application/merge-patch+json: {schema: {type: object}}}}
responses: {'204': {description: ok}}",
    ),
    (
        "form parameters -> urlencoded object body",
        "paths:
  /login:
    post:
      parameters:
        - {in: formData, name: user, type: string, required: true, description: who}
        - {in: formData, name: tries, type: integer, format: int32, minimum: 0}
      responses: {'204': {description: ok}}",
        "/paths/~1login/post/requestBody",
        "required: true
content:
  application/x-www-form-urlencoded:
    schema:
      type: object
      properties:
        user: {type: string, description: who}
        tries: {type: integer, format: int32, minimum: 0}
      required: [user]",
    ),
    (
        "a file parameter -> multipart with a binary string",
        "paths:
  /upload:
    post:
      consumes: [application/x-www-form-urlencoded]
      parameters:
        - {in: formData, name: note, type: string}
        - {in: formData, name: file, type: file}
      responses: {'204': {description: ok}}",
        "/paths/~1upload/post/requestBody/content",
        "multipart/form-data:
  schema:
    type: object
    properties:
      note: {type: string}
      file: {type: string, format: binary}",
    ),
    (
        "consumes naming only multipart -> multipart",
        "paths:
  /u:
    post:
      consumes: [multipart/form-data]
      parameters: [{in: formData, name: note, type: string}]
      responses: {'204': {description: ok}}",
        "/paths/~1u/post/requestBody/content",
        "multipart/form-data: {schema: {type: object, properties: {note: {type: string}}}}",
    ),
    (
        "collectionFormat in query, path and header parameters",
        "paths:
  /p/{ids}:
    get:
      parameters:
        - {in: path, name: ids, required: true, type: array, items: {type: integer}}
        - {in: query, name: csv, type: array, items: {type: string}}
        - {in: query, name: multi, type: array, collectionFormat: multi, items: {type: string, enum: [a, b]}}
        - {in: query, name: ssv, type: array, collectionFormat: ssv, items: {type: string}}
        - {in: query, name: pipes, type: array, collectionFormat: pipes, items: {type: string}}
        - {in: header, name: X-Tags, type: array, collectionFormat: csv, items: {type: string}}
        - {in: query, name: plain, type: string, allowEmptyValue: true, default: x}
      responses: {'204': {description: ok}}",
        "/paths/~1p~1{ids}/get/parameters",
        "- {in: path, name: ids, required: true, schema: {type: array, items: {type: integer}}}
- {in: query, name: csv, style: form, explode: false, schema: {type: array, items: {type: string}}}
- {in: query, name: multi, style: form, explode: true, schema: {type: array, items: {type: string, enum: [a, b]}}}
- {in: query, name: ssv, style: spaceDelimited, explode: false, schema: {type: array, items: {type: string}}}
- {in: query, name: pipes, style: pipeDelimited, explode: false, schema: {type: array, items: {type: string}}}
- {in: header, name: X-Tags, schema: {type: array, items: {type: string}}}
- {in: query, name: plain, allowEmptyValue: true, schema: {type: string, default: x}}",
    ),
    (
        "definitions, shared parameters and responses move to components, references follow",
        "paths:
  /pets/{id}:
    get:
      parameters: [{$ref: '#/parameters/Id'}]
      responses:
        '200': {description: ok, schema: {$ref: '#/definitions/Pet'}}
        default: {$ref: '#/responses/Error'}
parameters:
  Id: {in: path, name: id, required: true, type: string, format: uuid}
responses:
  Error: {description: failed, schema: {$ref: '#/definitions/Error'}}
definitions:
  Pet: {type: object, properties: {owner: {$ref: '#/definitions/Person'}}}
  Person: {type: object}
  Error: {type: object}",
        "",
        "openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /pets/{id}:
    get:
      parameters: [{$ref: '#/components/parameters/Id'}]
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}
        default: {$ref: '#/components/responses/Error'}
components:
  parameters:
    Id: {in: path, name: id, required: true, schema: {type: string, format: uuid}}
  responses:
    Error: {description: failed, content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
  schemas:
    Pet: {type: object, properties: {owner: {$ref: '#/components/schemas/Person'}}}
    Person: {type: object}
    Error: {type: object}",
    ),
    (
        "a shared body parameter is inlined as the request body",
        "paths:
  /pets:
    post:
      parameters: [{$ref: '#/parameters/PetBody'}]
      responses: {'204': {description: ok}}
parameters:
  PetBody: {in: body, name: pet, schema: {type: object}}",
        "/paths/~1pets/post",
        "responses: {'204': {description: ok}}
requestBody: {content: {application/json: {schema: {type: object}}}}",
    ),
    (
        "security definitions: basic, apiKey and the four OAuth2 flows",
        "paths: {}
securityDefinitions:
  basic: {type: basic, description: b}
  key: {type: apiKey, name: X-Key, in: header}
  implicit: {type: oauth2, flow: implicit, authorizationUrl: 'https://a/auth', scopes: {read: r}}
  password: {type: oauth2, flow: password, tokenUrl: 'https://a/token', scopes: {}}
  app: {type: oauth2, flow: application, tokenUrl: 'https://a/token', scopes: {}, x-ext: 1}
  code: {type: oauth2, flow: accessCode, authorizationUrl: 'https://a/auth', tokenUrl: 'https://a/token', scopes: {}}",
        "/components/securitySchemes",
        "basic: {type: http, scheme: basic, description: b}
key: {type: apiKey, name: X-Key, in: header}
implicit: {type: oauth2, flows: {implicit: {authorizationUrl: 'https://a/auth', scopes: {read: r}}}}
password: {type: oauth2, flows: {password: {tokenUrl: 'https://a/token', scopes: {}}}}
app: {type: oauth2, flows: {clientCredentials: {tokenUrl: 'https://a/token', scopes: {}}}, x-ext: 1}
code: {type: oauth2, flows: {authorizationCode: {authorizationUrl: 'https://a/auth', tokenUrl: 'https://a/token', scopes: {}}}}",
    ),
    (
        "produces per operation, response headers and examples",
        "produces: [application/json]
paths:
  /pets:
    get:
      produces: [application/json, text/plain]
      responses:
        '200':
          description: ok
          schema: {type: string}
          headers: {X-Rate: {type: integer, format: int32, description: left}}
          examples: {text/plain: hello, application/xml: <x/>}
          x-note: kept",
        "/paths/~1pets/get/responses/200",
        "description: ok
headers: {X-Rate: {description: left, schema: {type: integer, format: int32}}}
content:
  application/json: {schema: {type: string}}
  text/plain: {schema: {type: string}, example: hello}
x-note: kept",
    ),
    (
        "schemas: file, string discriminator, x-nullable, readOnly, extensions",
        "paths: {}
definitions:
  Pet:
    type: object
    discriminator: kind
    x-go-name: Pet
    properties:
      kind: {type: string}
      photo: {type: file, readOnly: true}
      nick: {type: string, x-nullable: true}",
        "/components/schemas/Pet",
        "type: object
discriminator: {propertyName: kind}
x-go-name: Pet
properties:
  kind: {type: string}
  photo: {type: string, format: binary, readOnly: true}
  nick: {type: string, x-nullable: true, nullable: true}",
    ),
    (
        "host, basePath and schemes: servers, and basePath prefixes every path",
        "host: api.example.com
basePath: /v2/
schemes: [https, http]
paths:
  /pet: {}
  x-ext: {}",
        "",
        "openapi: 3.0.3
info: {title: T, version: '1'}
servers: [{url: 'https://api.example.com'}, {url: 'http://api.example.com'}]
paths:
  /v2/pet: {}
  x-ext: {}",
    ),
];

#[test]
fn converts_each_construct() {
    for (what, body, pointer, expected) in CASES {
        let (doc, _, _) = convert_doc(body);
        let got = doc.pointer(pointer).unwrap_or_else(|| panic!("{what}: nothing at {pointer} in {doc:#}"));
        assert_eq!(got, &yaml(expected), "{what}: at {pointer}, got {got:#}");
    }
}

#[test]
fn every_converted_document_parses_as_openapi_3() {
    for (what, body, _, _) in CASES {
        let text = format!("{HEAD}{body}");
        if let Err(d) = load_str("t.yaml", &text) {
            panic!("{what}: {}", d.render_plain());
        }
    }
}

/// The diagnostics after W0004, as (code, 2.0 pointer).
type Expected = &'static [(&'static str, &'static str)];

/// (what, 2.0 document body, the diagnostics after W0004)
const WARNINGS: &[(&str, &str, Expected)] = &[
    (
        "tsv has no 3.0 style",
        "paths:
  /a:
    get:
      parameters: [{in: query, name: t, type: array, collectionFormat: tsv, items: {type: string}}]
      responses: {'204': {description: ok}}",
        &[("W0005", "/paths/~1a/get/parameters/0/collectionFormat")],
    ),
    (
        "ssv outside a query",
        "paths:
  /a:
    get:
      parameters: [{in: header, name: X, type: array, collectionFormat: ssv, items: {type: string}}]
      responses: {'204': {description: ok}}",
        &[("W0005", "/paths/~1a/get/parameters/0/collectionFormat")],
    ),
    (
        "two body parameters, and form parameters next to a body",
        "paths:
  /a:
    post:
      parameters:
        - {in: body, name: a, schema: {type: object}}
        - {in: body, name: b, schema: {type: object}}
        - {in: formData, name: c, type: string}
      responses: {'204': {description: ok}}",
        &[("W0005", "/paths/~1a/post/parameters/1"), ("W0005", "/paths/~1a/post/parameters/2")],
    ),
    (
        "an operation's own schemes beyond the document's",
        "host: h
schemes: [https]
paths:
  /a:
    get:
      schemes: [http]
      responses: {'204': {description: ok}}
  /b:
    get:
      schemes: [https]
      responses: {'204': {description: ok}}",
        &[("W0005", "/paths/~1a/get/schemes")],
    ),
    (
        "an unknown OAuth2 flow",
        "paths: {}
securityDefinitions:
  o: {type: oauth2, flow: device, scopes: {}}",
        &[("W0005", "/securityDefinitions/o/flow")],
    ),
];

#[test]
fn what_does_not_convert_is_a_located_warning() {
    for (what, body, expected) in WARNINGS {
        let (_, found, _) = convert_doc(body);
        assert_eq!(found.first().map(|(c, p)| (*c, p.as_str())), Some(("W0004", "/swagger")), "{what}");
        let rest: Vec<(&str, &str)> = found[1..].iter().map(|(c, p)| (*c, p.as_str())).collect();
        assert_eq!(rest, *expected, "{what}");
    }
}

#[test]
fn other_swagger_versions_are_refused() {
    let text = "swagger: '1.2'\ninfo: {title: T, version: '1'}\npaths: {}\n";
    let diags = load_str("t.yaml", text).expect_err("1.2 is refused");
    let codes: Vec<(&str, &str)> = diags.items().iter().map(|d| (d.code, d.pointer.as_str())).collect();
    assert_eq!(codes, [("E0002", "/swagger")]);
}

#[test]
fn converted_pointers_map_back_to_the_swagger_2_nodes() {
    let body = "basePath: /v2
paths:
  /pets/{id}:
    parameters: [{in: path, name: id, required: true, type: string}]
    post:
      parameters:
        - {in: query, name: q, type: string}
        - {in: body, name: pet, schema: {$ref: '#/definitions/Pet'}}
        - {in: header, name: X-A, type: array, collectionFormat: csv, items: {type: string}}
      responses:
        '200': {description: ok, schema: {type: object}, headers: {X-R: {type: string}}}
    put:
      parameters:
        - {in: formData, name: f, type: string}
        - {in: formData, name: g, type: file}
      responses: {'204': {description: ok}}
definitions:
  Pet: {type: object}
responses:
  Err: {description: e, schema: {type: string}}
securityDefinitions:
  o: {type: oauth2, flow: accessCode, authorizationUrl: a, tokenUrl: t, scopes: {}}";
    let (_, _, map) = convert_doc(body);
    let op = "/paths/~1v2~1pets~1{id}/post";
    let cases = [
        ("/openapi", "/swagger"),
        ("/paths/~1v2~1pets~1{id}/parameters/0/schema/type", "/paths/~1pets~1{id}/parameters/0/type"),
        (&format!("{op}/operationId") as &str, "/paths/~1pets~1{id}/post/operationId"),
        (&format!("{op}/parameters/0/schema"), "/paths/~1pets~1{id}/post/parameters/0"),
        (&format!("{op}/parameters/1/name"), "/paths/~1pets~1{id}/post/parameters/2/name"),
        (&format!("{op}/parameters/1/schema/items"), "/paths/~1pets~1{id}/post/parameters/2/items"),
        (&format!("{op}/parameters/1/style"), "/paths/~1pets~1{id}/post/parameters/2/collectionFormat"),
        (&format!("{op}/requestBody"), "/paths/~1pets~1{id}/post/parameters/1"),
        (
            &format!("{op}/requestBody/content/application~1json/schema/$ref"),
            "/paths/~1pets~1{id}/post/parameters/1/schema/$ref",
        ),
        (
            &format!("{op}/responses/200/content/application~1json/schema/type"),
            "/paths/~1pets~1{id}/post/responses/200/schema/type",
        ),
        (&format!("{op}/responses/200/headers/X-R/schema"), "/paths/~1pets~1{id}/post/responses/200/headers/X-R"),
        (
            "/paths/~1v2~1pets~1{id}/put/requestBody/content/multipart~1form-data/schema/properties/g",
            "/paths/~1pets~1{id}/put/parameters/1",
        ),
        ("/paths/~1v2~1pets~1{id}/put/requestBody", "/paths/~1pets~1{id}/put/parameters/0"),
        ("/components/schemas/Pet/type", "/definitions/Pet/type"),
        ("/components/responses/Err/content/application~1json/schema", "/responses/Err/schema"),
        ("/components/securitySchemes/o/flows/authorizationCode/tokenUrl", "/securityDefinitions/o/tokenUrl"),
        ("/info/title", "/info/title"),
    ];
    for (new, old) in cases {
        assert_eq!(map.original(new), old, "original of {new}");
    }
}

#[test]
fn a_loaded_swagger_2_document_locates_into_the_2_0_text() {
    let text = "swagger: '2.0'
info: {title: T, version: '1'}
paths:
  /pets:
    post:
      parameters:
        - in: body
          name: pet
          schema:
            $ref: '#/definitions/Pet'
      responses: {'204': {description: ok}}
definitions:
  Pet:
    type: object
";
    let loaded = load_str("t.yaml", text).unwrap_or_else(|d| panic!("{}", d.render_plain()));
    assert!(loaded.source.is_swagger2());
    let line = |p: &str| loaded.source.locate(p).map(|l| (l.line, l.column));
    assert_eq!(line("/components/schemas/Pet/type"), Some((14, 5)));
    assert_eq!(line("/paths/~1pets/post/requestBody/content/application~1json/schema/$ref"), Some((10, 13)));
    assert_eq!(line("/paths/~1pets/post/requestBody"), Some((7, 11)));
    let warnings: Vec<(&str, usize)> =
        loaded.warnings.items().iter().map(|d| (d.code, d.location.map_or(0, |l| l.line))).collect();
    assert_eq!(warnings, [("W0004", 1)]);
}
