//! Round trip through the crate generated from tests/specs/kitchen.yaml: every parameter location, array
//! styles, enums, security schemes, JSON/form/text/binary bodies, 2xx/3xx/4xx, range and default responses,
//! typed response headers, tagged and untagged unions, nullable fields, keyword-named fields, recursion,
//! typed `multipart/form-data` bodies, typed string formats (date-time, date, uuid, byte, uri) and object
//! query parameters, and optional path segments.

use kitchen_api::client::Client;
use kitchen_api::ops::{
    add_contact, attach, echo_shape, get_archived_book, get_book, get_event, get_pet, list_events, login, post_pets,
    put_event, put_pet, upload,
};
use kitchen_api::runtime::FilePart;
use kitchen_api::types::*;

mod support;

async fn both() -> Vec<(&'static str, Client)> {
    let router = kitchen_api::server::axum::router(support::Kitchen);
    vec![
        ("axum loopback", support::serve_kitchen(router.clone()).await),
        ("axum in-process", Client::in_process(router)),
        ("actix-web loopback", support::serve_kitchen_actix()),
    ]
}

#[tokio::test]
async fn parameters_of_every_location_arrive_typed() {
    for (name, client) in both().await {
        let mut req = get_pet::Request::new(12, "req-1".into());
        req.fields = Some(vec!["a b".into(), "c&d".into()]);
        req.tags = Some(vec!["x".into(), "y".into()]);
        req.session = Some("s1".into());
        req.mode = Some(Mode::Brief);
        req.api_key = Some("k".into());
        let resp = client.get_pet(req.clone()).await.expect(name);
        let get_pet::Response::Ok { body, headers } = resp else { panic!("{name}: {resp:?}") };
        assert_eq!(headers.x_rate_remaining, 41, "{name}: a required integer header");
        assert_eq!(headers.x_trace, None);
        assert_eq!(body.id, 12);
        let labels = body.labels.expect("labels");
        assert_eq!(labels["fields"], "a b|c&d", "{name}: exploded array with reserved characters");
        assert_eq!(labels["tags"], "x|y", "{name}: comma-separated array");
        assert_eq!(labels["request"], "req-1");
        assert_eq!(labels["session"], "s1", "{name}: cookie parameter");
        assert_eq!(labels["mode"], "brief");
        assert_eq!(labels["api_key"], "k", "{name}: apiKey in a header");
        assert_eq!(labels["basic"], "");

        // The query is really encoded as the spec's styles say.
        let raw = req.to_raw().expect("builds");
        assert_eq!(raw.path, "/pets/12");
        assert_eq!(raw.query, "fields=a%20b&fields=c%26d&tags=x,y&mode=brief");
        assert!(raw.headers.contains(&("cookie".into(), "session=s1".into())));
        assert!(raw.headers.contains(&("x-api-key".into(), "k".into())));

        // A comma inside an item stays inside it: items are encoded, the commas between them literal
        // (`tags=a%2Cb,c`), as OpenAPI's form style has it; an empty list is `tags=`.
        let mut commas = get_pet::Request::new(12, "req-1".into());
        commas.tags = Some(vec!["a,b".into(), "c".into()]);
        assert_eq!(commas.to_raw().expect("builds").query, "tags=a%2Cb,c");
        let get_pet::Response::Ok { body, .. } = client.get_pet(commas).await.expect(name) else { panic!() };
        assert_eq!(body.labels.unwrap()["tags"], "a,b|c", "{name}: an item with a comma");
        let mut empty = get_pet::Request::new(12, "req-1".into());
        empty.tags = Some(Vec::new());
        assert_eq!(empty.to_raw().expect("builds").query, "tags=");
        let get_pet::Response::Ok { body, .. } = client.get_pet(empty).await.expect(name) else { panic!() };
        assert_eq!(body.labels.unwrap()["tags"], "", "{name}: an empty list");
        // Hand-written: an empty value is the empty list, not one empty item; an encoded comma is data.
        for (query, tags) in [("tags=", ""), ("tags=%2Cz,", ",z|"), ("tags=x,y", "x|y")] {
            let raw = kitchen_api::runtime::RawRequest {
                method: "GET".into(),
                path: "/pets/12".into(),
                query: query.into(),
                headers: vec![("x-request-id".into(), "r".into())],
                ..Default::default()
            };
            let resp = client.send(raw).await.unwrap();
            assert_eq!(resp.status, 200, "{name}: {query}: {}", resp.text());
            let json: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
            assert_eq!(json["labels"]["tags"], tags, "{name}: {query}");
        }

        let mut basic = get_pet::Request::new(1, "r".into());
        basic.basic = Some("dXNlcjpwdw==".into());
        let get_pet::Response::Ok { body, .. } = client.get_pet(basic).await.expect(name) else { panic!() };
        assert_eq!(body.labels.unwrap()["basic"], "dXNlcjpwdw==", "{name}: basic credentials");
    }
}

#[tokio::test]
async fn every_response_kind_round_trips() {
    for (name, client) in both().await {
        let resp = client.get_pet(get_pet::Request::new(404, "r".into())).await.expect(name);
        assert_eq!(resp, get_pet::Response::NotFound("no pet 404".into()), "{name}: text/plain body");
        let resp = client.get_pet(get_pet::Request::new(418, "r".into())).await.expect(name);
        assert_eq!(resp, get_pet::Response::Status4xx { status: 418, body: Problem { message: "teapot".into() } });
        let resp = client.get_pet(get_pet::Request::new(503, "r".into())).await.expect(name);
        assert_eq!(resp, get_pet::Response::Default { status: 503, body: Problem { message: "down".into() } });
        assert_eq!(resp.status(), 503);

        #[allow(deprecated, reason = "the deprecated operation is still callable")]
        let resp = client.put_pet(put_pet::Request::new(3, support::pet(3, "Old"))).await.expect(name);
        assert_eq!(resp, put_pet::Response::NoContent);

        let body = PostPetsBody {
            name: "Tom".into(),
            kind: Kind::_3d,
            owner: Some(PostPetsBodyOwner { email: Some("o@example.com".into()), phones: None }),
            priority: PostPetsBodyPriority::Urgent,
            vaccinated: true,
            mode: Mode::Brief,
            nickname: "Tommy".into(),
        };
        let resp = client.post_pets(post_pets::Request::new(body.clone())).await.expect(name);
        let post_pets::Response::Created(p) = resp else { panic!("{name}: {resp:?}") };
        assert_eq!((p.name.as_str(), p.kind, p.nickname.as_deref()), ("Tom", Kind::_3d, Some("o@example.com")));
        // A value the spec's rules allow but the implementation refuses gets the spec's 400 variant.
        let resp = client.post_pets(post_pets::Request::new(PostPetsBody { name: "Q".into(), ..body })).await;
        assert!(matches!(resp.expect(name), post_pets::Response::Created(_)));

        let mut up = upload::Request::new();
        up.body = Some(bytes::Bytes::from_static(&[0, 159, 146, 150]));
        assert_eq!(client.upload(up).await.expect(name), upload::Response::Ok("4 bytes".into()));
        assert_eq!(client.upload(upload::Request::new()).await.expect(name), upload::Response::Ok("0 bytes".into()));

        // The body is also listed as a form with the same schema: the server takes that encoding too.
        let form = kitchen_api::runtime::RawRequest {
            method: "POST".into(),
            path: "/pets".into(),
            headers: vec![("content-type".into(), "application/x-www-form-urlencoded".into())],
            body: bytes::Bytes::from_static(b"name=Tom&kind=dog&vaccinated=true"),
            ..Default::default()
        };
        let resp = client.send(form.clone()).await.expect(name);
        assert_eq!(resp.status, 201, "{name}: form alternative: {}", resp.text());
        let pet: Pet = serde_json::from_slice(&resp.body).expect("a pet");
        assert_eq!((pet.name.as_str(), pet.kind), ("Tom", Kind::Dog), "{name}");
        let invalid =
            kitchen_api::runtime::RawRequest { body: bytes::Bytes::from_static(b"name=tom&kind=dog"), ..form };
        assert_eq!(client.send(invalid).await.expect(name).status, 400, "{name}: a form body is validated too");

        let form = LoginBody { user: "ann & bob".into(), remember: None };
        let resp = client.login(login::Request::new(form)).await.expect(name);
        assert_eq!(
            resp,
            login::Response::SeeOther {
                headers: login::SeeOtherHeaders {
                    location: "/home?user=ann%20%26%20bob".into(),
                    set_cookie: vec!["session=ann%20%26%20bob; Path=/; HttpOnly".into()],
                }
            },
            "{name}: form body and redirect headers"
        );
    }
}

#[tokio::test]
async fn unions_nullability_and_names_keep_the_wire_format() {
    for (name, client) in both().await {
        for shape in [
            Shape::Circle(Circle { radius: 1.5 }),
            Shape::Square(Square { side: 2.0 }),
            Shape::Result(Result_ { value: Some(ResultValue::Integer(3)) }),
            Shape::Result(Result_ { value: Some(ResultValue::String("three".into())) }),
        ] {
            let resp = client.echo_shape(echo_shape::Request::new(shape.clone())).await.expect(name);
            assert_eq!(resp, echo_shape::Response::Ok(shape), "{name}");
        }
    }
    // The discriminator and the mapping keys are on the wire.
    let json = serde_json::to_value(Shape::Circle(Circle { radius: 1.5 })).unwrap();
    assert_eq!(json, serde_json::json!({"kind": "circle", "radius": 1.5}));
    let json = serde_json::to_value(Shape::Result(Result_ { value: None })).unwrap();
    assert_eq!(json, serde_json::json!({"kind": "result"}));

    // Required+nullable must be present; optional+nullable distinguishes absent from null.
    let full = r#"{"name":"n","id":1,"kind":"self","nickname":null,"age":null,"type":"t","self":"s"}"#;
    let p: Pet = serde_json::from_str(full).unwrap();
    assert_eq!((p.nickname, p.age, p.type_.as_deref(), p.self_.as_deref()), (None, Some(None), Some("t"), Some("s")));
    let p: Pet = serde_json::from_str(r#"{"name":"n","id":1,"kind":"cat","nickname":"x"}"#).unwrap();
    assert_eq!(p.age, None, "absent");
    let err = serde_json::from_str::<Pet>(r#"{"name":"n","id":1,"kind":"cat"}"#).unwrap_err();
    assert!(err.to_string().contains("missing field `nickname`"), "{err}");
    let out = serde_json::to_value(support::pet(1, "n")).unwrap();
    assert_eq!(out["age"], serde_json::Value::Null, "Some(None) serialises as null");
    assert!(out.get("self").is_none() && out["nickname"].is_null());

    // additionalProperties: false is enforced.
    let err = serde_json::from_str::<Problem>(r#"{"message":"m","extra":1}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field `extra`"), "{err}");

    // Recursion is boxed.
    let mut child = support::pet(2, "child");
    child.parent = Some(Box::new(support::pet(1, "parent")));
    let back: Pet = serde_json::from_value(serde_json::to_value(&child).unwrap()).unwrap();
    assert_eq!(back.parent.unwrap().name, "parent");

    // String enums keep odd wire values and parse them back.
    assert_eq!(Kind::VALUES, &["cat", "dog", "self", "3d"]);
    assert_eq!("3d".parse::<Kind>().unwrap(), Kind::_3d);
    assert_eq!(Kind::Self_.to_string(), "self");
}

#[test]
fn defaults_integer_enums_and_read_only_fields() {
    // Absent properties with a `default` get it; the fields are plain values, not options.
    let body: PostPetsBody = serde_json::from_str(r#"{"name":"Rex","kind":"dog"}"#).unwrap();
    assert_eq!(body.priority, PostPetsBodyPriority::Normal);
    assert!(!body.vaccinated);
    assert_eq!(body.mode, Mode::Full, "the default of the referenced enum schema");
    assert_eq!(body.nickname, "Buddy");

    // Integer enums travel as numbers and refuse unlisted ones, naming the allowed values.
    assert_eq!(serde_json::to_value(PostPetsBodyPriority::Urgent).unwrap(), serde_json::json!(3));
    let err = serde_json::from_str::<PostPetsBody>(r#"{"name":"Rex","kind":"dog","priority":7}"#).unwrap_err();
    assert!(err.to_string().contains(r#"unknown value `7`, expected one of ["1", "2", "3"]"#), "{err}");
    assert_eq!("2".parse::<PostPetsBodyPriority>().unwrap(), PostPetsBodyPriority::Normal);

    // A required readOnly property is optional in the type (clients do not send it).
    let p: Pet = serde_json::from_str(r#"{"name":"n","id":1,"kind":"cat","nickname":null}"#).unwrap();
    assert_eq!(p.created_at, None);
    let p: Pet = serde_json::from_str(r#"{"name":"n","id":1,"kind":"cat","nickname":null,"createdAt":"now"}"#).unwrap();
    assert_eq!(p.created_at.as_deref(), Some("now"));
}

#[tokio::test]
async fn defaults_are_validated_like_sent_values() {
    for (name, client) in both().await {
        let raw = kitchen_api::runtime::RawRequest {
            method: "POST".into(),
            path: "/pets".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: r#"{"name":"Rex","kind":"dog","nickname":"x"}"#.into(),
            ..Default::default()
        };
        let resp = client.send(raw).await.unwrap();
        assert_eq!(resp.status, 400, "{name}");
        assert!(
            resp.text().contains("`nickname`: length must be at least 2 (minLength), got 1"),
            "{name}: {}",
            resp.text()
        );
    }
}

#[tokio::test]
async fn client_level_credentials_fill_requests_without_their_own() {
    let router = kitchen_api::server::axum::router(support::Kitchen);
    let client = Client::in_process(router).with_api_key("from-client").with_basic("dXNlcjpwdw==");
    let get_pet::Response::Ok { body, .. } = client.get_pet(get_pet::Request::new(1, "r".into())).await.unwrap() else {
        panic!("not OK")
    };
    let labels = body.labels.unwrap();
    assert_eq!((labels["api_key"].as_str(), labels["basic"].as_str()), ("from-client", "dXNlcjpwdw=="));
    // A credential on the request wins.
    let mut req = get_pet::Request::new(1, "r".into());
    req.api_key = Some("from-request".into());
    let get_pet::Response::Ok { body, .. } = client.get_pet(req).await.unwrap() else { panic!("not OK") };
    assert_eq!(body.labels.unwrap()["api_key"], "from-request");
}

/// The body the kitchen server received, from its JSON echo.
fn received(resp: attach::Response) -> AttachBody {
    let attach::Response::Ok(text) = resp else { panic!("not a 200: {resp:?}") };
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn attach_body() -> AttachBody {
    AttachBody {
        title: "Zoë's «photo»".into(),
        count: Some(-3),
        taken: Some(utc("2024-02-29T23:59:58.5+02:00")),
        form: Some("a part called form".into()),
        mode: Mode::Brief,
        file: FilePart::new("a \"quoted\" name.png", "image/png", &b"\r\n--\r\n--boundary\r\n\r\n\x00\xff"[..]),
        extras: Some(vec![
            FilePart::new("one.txt", "text/plain", &b"first\r\n"[..]),
            FilePart { file_name: None, content_type: None, data: bytes::Bytes::from_static(b"--") },
        ]),
        meta: Some(AttachBodyMeta { tag: "t\r\n".into(), size: Some(2) }),
    }
}

#[tokio::test]
async fn multipart_bodies_arrive_part_by_part() {
    for (name, client) in both().await {
        let sent = attach_body();
        let got = received(client.attach(attach::Request::new(sent.clone())).await.expect(name));
        let mut expected = sent.clone();
        // A file sent without a media type goes as `application/octet-stream` (the spec lists several types).
        expected.extras.as_mut().expect("extras")[1].content_type = Some("application/octet-stream".into());
        assert_eq!(got, expected, "{name}: every part, byte for byte");

        // Only the required parts; the absent ones read as absent, `mode` as its default.
        let minimal = AttachBody {
            title: String::new(),
            count: None,
            taken: None,
            form: None,
            mode: Mode::Full,
            file: FilePart::new("", "application/pdf", &b""[..]),
            extras: None,
            meta: None,
        };
        let got = received(client.attach(attach::Request::new(minimal.clone())).await.expect(name));
        assert_eq!(got, minimal, "{name}: empty file and empty text");
    }
    // The boundary changes per body and never occurs in the content.
    let a = attach::Request::new(attach_body()).to_raw().expect("builds");
    let b = attach::Request::new(attach_body()).to_raw().expect("builds");
    let ct = |r: &kitchen_api::runtime::RawRequest| r.header("content-type").expect("a content type").to_owned();
    assert_ne!(ct(&a), ct(&b));
    let boundary = ct(&a).split_once("boundary=").expect("a boundary").1.to_owned();
    assert_eq!(a.body.windows(boundary.len()).filter(|w| *w == boundary.as_bytes()).count(), 10, "9 parts + end");
    let taken = b"name=\"taken\"\r\n\r\n2024-02-29T21:59:58.500Z\r\n";
    assert!(a.body.windows(taken.len()).any(|w| w == taken), "a date-time text part is RFC 3339, not `Display`");
}

/// A request to `/attachments` with `content_type` and `body`, sent as is.
fn raw_attach(content_type: Option<&str>, body: &[u8]) -> kitchen_api::runtime::RawRequest {
    kitchen_api::runtime::RawRequest {
        method: "POST".into(),
        path: "/attachments".into(),
        headers: content_type.map(|ct| ("content-type".to_owned(), ct.to_owned())).into_iter().collect(),
        body: bytes::Bytes::copy_from_slice(body),
        ..Default::default()
    }
}

/// What curl sends for `curl -F title=Hi -F count=7 -F 'file=@cat.png;type=image/png' -F 'meta={"tag":"x"};type=application/json'`:
/// a preamble-free body with an unquoted boundary, LF-only lines nowhere, and an epilogue after the end.
const CURL: &[u8] = b"--------------------------d74496d66958873e\r\n\
Content-Disposition: form-data; name=\"title\"\r\n\
\r\n\
Hi\r\n\
--------------------------d74496d66958873e\r\n\
Content-Disposition: form-data; name=\"count\"\r\n\
\r\n\
7\r\n\
--------------------------d74496d66958873e\r\n\
content-disposition: form-data; name=file; filename=\"cat.png\"\r\n\
Content-Type: image/png\r\n\
\r\n\
\x89PNG\r\n\x1a\n\r\n\
--------------------------d74496d66958873e\r\n\
Content-Disposition: form-data; name=\"meta\"\r\n\
Content-Type: application/json\r\n\
\r\n\
{\"tag\":\"x\"}\r\n\
--------------------------d74496d66958873e--\r\n\
epilogue";

#[tokio::test]
async fn hand_written_multipart_requests_parse() {
    let curl_type = "multipart/form-data; boundary=------------------------d74496d66958873e";
    for (name, client) in both().await {
        let resp = client.send(raw_attach(Some(curl_type), CURL)).await.expect(name);
        assert_eq!(resp.status, 200, "{name}: {}", resp.text());
        let got: AttachBody = serde_json::from_str(&resp.text()).expect("the echo");
        assert_eq!(got.title, "Hi");
        assert_eq!(got.count, Some(7));
        assert_eq!(got.file, FilePart::new("cat.png", "image/png", &b"\x89PNG\r\n\x1a\n"[..]));
        assert_eq!(got.meta, Some(AttachBodyMeta { tag: "x".into(), size: None }));

        // A quoted boundary, a preamble, a parameter without a value, an escaped quote in a file name, a file
        // part without a media type and transport padding after a delimiter.
        let quoted = b"preamble\r\n--a'b \"c\r\nContent-Disposition: form-data; flag; name=\"title\"\r\n\r\nT\r\n\
--a'b \"c  \r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\\\"y\"\r\n\r\n--a'b \"cd\r\n--a'b \"c--";
        let resp =
            client.send(raw_attach(Some(r#"multipart/form-data; boundary="a'b \"c""#), quoted)).await.expect(name);
        assert_eq!(resp.status, 200, "{name}: {}", resp.text());
        let got: AttachBody = serde_json::from_str(&resp.text()).expect("the echo");
        assert_eq!((got.title.as_str(), got.file.file_name.as_deref()), ("T", Some("x\"y")), "{name}");
        assert_eq!((got.file.content_type, &got.file.data[..]), (None, &b"--a'b \"cd"[..]), "{name}");

        // A browser does not escape backslashes in a file name: only `\"` and `\\` are escapes.
        let windows = b"--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nT\r\n--B\r\n\
Content-Disposition: form-data; name=\"file\"; filename=\"C:\\dir\\cat.png\"\r\n\r\nF\r\n--B--\r\n";
        let resp = client.send(raw_attach(Some("multipart/form-data; boundary=B"), windows)).await.expect(name);
        assert_eq!(resp.status, 200, "{name}: {}", resp.text());
        let got: AttachBody = serde_json::from_str(&resp.text()).expect("the echo");
        assert_eq!(got.file.file_name.as_deref(), Some("C:\\dir\\cat.png"), "{name}");
    }
}

#[tokio::test]
async fn malformed_multipart_requests_are_400_and_other_media_types_415() {
    let ct = "multipart/form-data; boundary=B";
    let part =
        |name: &str, value: &str| format!("--B\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
    let file = "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\nF\r\n";
    let cases: Vec<(Option<&str>, String, u16, String)> = vec![
        (
            Some("multipart/form-data"),
            format!("{}{file}--B--", part("title", "t")),
            400,
            "malformed multipart body: the `Content-Type` has no `boundary` parameter".into(),
        ),
        (
            Some(ct),
            format!("{}{file}", part("title", "t")),
            400,
            "malformed multipart body: the body ends without the closing boundary".into(),
        ),
        (
            Some(ct),
            format!("{}--B\r\nContent-Disposition: form-data; name=\"file\"", part("title", "t")),
            400,
            "malformed multipart body: the headers of a part are not terminated by an empty line".into(),
        ),
        (
            Some(ct),
            "no delimiter at all".into(),
            400,
            "malformed multipart body: the opening boundary is missing".into(),
        ),
        (
            Some(ct),
            format!("--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n{file}--B--"),
            400,
            "malformed multipart body: a part has no `name`".into(),
        ),
        (Some(ct), format!("{file}--B--"), 400, "invalid request body: missing required part `title`".into()),
        (
            Some(ct),
            format!("{}--B--", part("title", "t")),
            400,
            "invalid request body: missing required part `file`".into(),
        ),
        (
            Some(ct),
            format!("{}{file}--B--", part("title", &"x".repeat(21))),
            400,
            "invalid request body: `title`: length must be at most 20 (maxLength), got 21".into(),
        ),
        (
            Some(ct),
            format!("{}{}{file}--B--", part("title", "t"), part("count", "seven")),
            400,
            "invalid request body: part `count`: invalid digit found in string".into(),
        ),
        (
            Some(ct),
            format!("{}{}{file}--B--", part("title", "t"), part("mode", "loud")),
            400,
            r#"invalid request body: part `mode`: unknown value `loud`, expected one of ["full", "brief"]"#.into(),
        ),
        (
            Some(ct),
            format!("{}{}{file}--B--", part("title", "t"), part("meta", "{}")),
            400,
            "invalid request body: part `meta`: missing field `tag`".into(),
        ),
        (
            Some(ct),
            format!("{}{}{file}--B--", part("title", "t"), part("title", "u")),
            400,
            "invalid request body: part `title`: sent more than once".into(),
        ),
        (
            Some("application/json"),
            "{}".into(),
            415,
            "unsupported content type `application/json`; this operation expects `multipart/form-data`".into(),
        ),
        (
            None,
            String::new(),
            415,
            "unsupported content type `none`; this operation expects `multipart/form-data`".into(),
        ),
    ];
    for (name, client) in both().await {
        for (content_type, body, status, message) in &cases {
            let resp = client.send(raw_attach(*content_type, body.as_bytes())).await.expect(name);
            assert_eq!(resp.status, *status, "{name}: {body:?}: {}", resp.text());
            let json: serde_json::Value = serde_json::from_slice(&resp.body).expect("a JSON error");
            assert_eq!(json, serde_json::json!({ "message": message }), "{name}: {body:?}");
        }
    }
}

fn utc(text: &str) -> chrono::DateTime<chrono::Utc> {
    text.parse().expect("an RFC 3339 date-time")
}

fn date(text: &str) -> chrono::NaiveDate {
    text.parse().expect("a date")
}

const EVENT_ID: &str = "67e55044-10b1-426f-9247-bb680e5fe0c8";

#[tokio::test]
async fn formats_are_typed_in_parameters_headers_and_bodies() {
    for (name, client) in both().await {
        let id: uuid::Uuid = EVENT_ID.parse().unwrap();
        let mut req = get_event::Request::new(id);
        // A non-UTC offset and a fraction: the wire carries the same instant in RFC 3339, not `Display`'s
        // `2024-02-29 21:59:58.500 UTC`.
        req.since = Some(utc("2024-02-29T23:59:58.5+02:00"));
        req.days = Some(vec![date("2024-02-29"), date("2024-03-01")]);
        req.x_token = Some(kitchen_api::runtime::Base64(vec![0, 0xff, b'a', b'?']));
        let raw = req.to_raw().expect("builds");
        assert_eq!(raw.path, format!("/events/{EVENT_ID}"));
        assert_eq!(raw.query, "since=2024-02-29T21%3A59%3A58.500Z&days=2024-02-29,2024-03-01");
        assert!(raw.headers.contains(&("x-token".into(), "AP9hPw==".into())), "{:?}", raw.headers);

        let resp = client.get_event(req).await.expect(name);
        let get_event::Response::Ok { body, headers } = resp else { panic!("{name}: {resp:?}") };
        assert_eq!(body.id, id, "{name}: uuid path parameter");
        assert_eq!(body.at, utc("2024-02-29T21:59:58.500Z"), "{name}: date-time query parameter");
        assert_eq!(headers.x_modified, body.at, "{name}: date-time response header");
        assert_eq!(headers.x_stamp, Some(body.at), "{name}: named date-time response header");
        assert_eq!(headers.x_kind, Some(Kind::_3d), "{name}: named enum response header");
        let wire = client.send(raw.clone()).await.expect(name);
        assert_eq!(wire.header("x-stamp"), Some("2024-02-29T21:59:58.500Z"), "{name}: RFC 3339 on the wire");
        assert_eq!(wire.header("x-kind"), Some("3d"), "{name}: the enum's wire value");
        assert_eq!(body.day, date("2024-02-29"), "{name}: comma-separated dates");
        assert_eq!(body.history.as_deref(), Some(&[utc("2024-02-29T00:00:00Z"), utc("2024-03-01T00:00:00Z")][..]));
        assert_eq!(body.payload.0, [0, 0xff, b'a', b'?'], "{name}: base64 header decoded to bytes");
        assert_eq!(body.previous, Some(None), "{name}: nullable date-time sent as null");
    }
}

#[tokio::test]
async fn format_values_keep_their_wire_form_in_json() {
    let event: Event = serde_json::from_value(serde_json::json!({
        "id": EVENT_ID,
        "at": "2024-02-29T23:59:58+02:00",
        "day": "2024-02-29",
        "payload": "aGk",
        "link": "https://example.com/a?b=%20",
        "related": {"self": EVENT_ID},
        "expires": "2024-03-01T00:00:00+01:00",
    }))
    .expect("parses");
    assert_eq!(event.expires, Some(EventExpires::DateTime(utc("2024-02-29T23:00:00Z"))), "a union's date-time member");
    assert_eq!(event.payload.0, b"hi", "unpadded base64 is accepted");
    let back = serde_json::to_value(&event).unwrap();
    assert_eq!(back["at"], "2024-02-29T21:59:58Z", "date-times are written as RFC 3339 in UTC");
    assert_eq!(back["day"], "2024-02-29");
    assert_eq!(back["payload"], "aGk=", "base64 is written padded");
    assert_eq!(back["related"]["self"], EVENT_ID);
    assert_eq!(back["expires"], "2024-02-29T23:00:00Z");
    let seconds: Event = serde_json::from_value(serde_json::json!({"id": EVENT_ID, "at": "2024-02-29T23:59:58Z",
        "day": "2024-02-29", "payload": "", "link": "urn:x", "expires": 3600}))
    .expect("parses");
    assert_eq!(seconds.expires, Some(EventExpires::Integer(3600)), "a union's integer member");
    for (name, client) in both().await {
        let resp = client.put_event(put_event::Request::new(event.id, event.clone())).await.expect(name);
        let put_event::Response::Ok(echoed) = resp else { panic!("{name}: {resp:?}") };
        assert_eq!(echoed, event, "{name}");
    }
}

/// A hand-written `PUT /events/{EVENT_ID}` with a JSON body.
fn put_event_raw(body: serde_json::Value) -> kitchen_api::runtime::RawRequest {
    json_raw("PUT", &format!("/events/{EVENT_ID}"), body)
}

/// A hand-written request with a JSON body.
fn json_raw(method: &str, path: &str, body: serde_json::Value) -> kitchen_api::runtime::RawRequest {
    kitchen_api::runtime::RawRequest {
        method: method.into(),
        path: path.into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into(),
        ..Default::default()
    }
}

/// An event body every rule accepts.
fn valid_event_json() -> serde_json::Value {
    serde_json::json!({"id": EVENT_ID, "at": "2024-01-01T00:00:00Z", "day": "2024-01-01",
                       "payload": "", "link": "mailto:a@example.com"})
}

#[tokio::test]
async fn malformed_format_values_are_400_naming_the_value() {
    let put = put_event_raw;
    let get = |path: &str, query: &str, headers: Vec<(String, String)>| kitchen_api::runtime::RawRequest {
        method: "GET".into(),
        path: path.into(),
        query: query.into(),
        headers,
        ..Default::default()
    };
    let good = valid_event_json();
    let with = |key: &str, value: serde_json::Value| {
        let mut v = good.clone();
        v[key] = value;
        v
    };
    let cases = [
        (get("/events/not-a-uuid", "", vec![]), "invalid path parameter `eventId`: expected a UUID (format: uuid)"),
        (
            get(&format!("/events/{EVENT_ID}"), "since=yesterday", vec![]),
            "invalid query parameter `since`: expected an RFC 3339 date-time such as `2024-02-29T12:00:00Z` (format: date-time)",
        ),
        (
            get(&format!("/events/{EVENT_ID}"), "days=2024-02-30", vec![]),
            "invalid query parameter `days`: expected a date such as `2024-02-29` (format: date)",
        ),
        (
            get(&format!("/events/{EVENT_ID}"), "", vec![("x-token".into(), "@@".into())]),
            "invalid header parameter `X-Token`: expected base64 (format: byte)",
        ),
        (put(with("at", "2024-01-01 noon".into())), "invalid request body: at `at`: "),
        (put(with("day", "2024-02-30".into())), "invalid request body: at `day`: "),
        (put(with("id", "123".into())), "invalid request body: at `id`: UUID parsing failed"),
        (put(with("payload", "not base64!".into())), "invalid request body: at `payload`: not base64"),
        (put(with("link", "no scheme here".into())), "`link`: must be an absolute URI (format: uri)"),
        (put(with("link", "https://bad%zzescape".into())), "`link`: must be an absolute URI (format: uri)"),
    ];
    for (name, client) in both().await {
        for (raw, expected) in &cases {
            let resp = client.send(raw.clone()).await.unwrap();
            assert_eq!(resp.status, 400, "{name}: {} {}?{}: {}", raw.method, raw.path, raw.query, resp.text());
            let json: serde_json::Value = serde_json::from_slice(&resp.body).expect("JSON error");
            let message = json["message"].as_str().expect("message");
            assert!(message.contains(expected), "{name}: expected `{expected}` in {message:?}");
        }
        let ok = client.send(put(good.clone())).await.unwrap();
        assert_eq!(ok.status, 200, "{name}: the valid body passes: {}", ok.text());
    }
}

/// An optional property that is not nullable refuses an explicit `null` (400 naming it) on every adapter; an
/// optional nullable one takes it, and absent is fine for both.
#[tokio::test]
async fn null_is_refused_where_the_schema_does_not_allow_it() {
    let put = put_event_raw;
    let good = valid_event_json();
    let with = |key: &str, value: serde_json::Value| {
        let mut v = good.clone();
        v[key] = value;
        v
    };
    for (name, client) in both().await {
        for key in ["note", "history", "related"] {
            let resp = client.send(put(with(key, serde_json::Value::Null))).await.unwrap();
            assert_eq!(resp.status, 400, "{name}: `{key}: null`: {}", resp.text());
            let json: serde_json::Value = serde_json::from_slice(&resp.body).expect("JSON error");
            let message = json["message"].as_str().expect("message");
            assert!(
                message.starts_with(&format!("invalid request body: at `{key}`: invalid type: null, expected ")),
                "{name}: {message:?}"
            );
        }
        let ok = client.send(put(with("previous", serde_json::Value::Null))).await.unwrap();
        assert_eq!(ok.status, 200, "{name}: nullable `previous` takes null: {}", ok.text());
        let ok = client.send(put(good.clone())).await.unwrap();
        assert_eq!(ok.status, 200, "{name}: absent is fine: {}", ok.text());
    }
    // The same rule holds where the types are used directly.
    let err =
        serde_json::from_str::<Pet>(r#"{"name":"n","id":1,"kind":"cat","nickname":null,"type":null}"#).unwrap_err();
    assert!(err.to_string().starts_with("invalid type: null, expected a string"), "{err}");
}

/// A `format: float` property is a 32-bit float: a JSON number beyond its range would read as infinite (and go
/// back out as `null`), so it is a 400 naming the property, bounds or not; one in range passes.
#[tokio::test]
async fn a_float_beyond_32_bits_is_refused_not_made_infinite() {
    let pet = |weight: &str| kitchen_api::runtime::RawRequest {
        method: "PUT".into(),
        path: "/pets/7".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: bytes::Bytes::from(format!(
            r#"{{"name":"n","id":7,"kind":"cat","nickname":null,"weight":{weight},"parent":{{"name":"p","id":8,"kind":"dog","nickname":null,"weight":{weight}}}}}"#
        )),
        ..Default::default()
    };
    for (name, client) in both().await {
        for weight in ["1e300", "-3.5e38"] {
            let resp = client.send(pet(weight)).await.unwrap();
            assert_eq!(resp.status, 400, "{name}: {weight}: {}", resp.text());
            let json: serde_json::Value = serde_json::from_slice(&resp.body).expect("JSON error");
            assert_eq!(
                json["message"],
                "invalid request body: `weight`: is beyond the range of a 32-bit float; \
                 `parent.weight`: is beyond the range of a 32-bit float",
                "{name}: {weight}"
            );
        }
        let resp = client.send(pet("3.4e38")).await.unwrap();
        assert_eq!(resp.status, 204, "{name}: the largest magnitude a 32-bit float holds: {}", resp.text());
    }
}

/// Presence rules (`oneOf`/`anyOf`/`not` of `required`) and the spec's own messages (`x-authgen-message`): a
/// body breaking a root rule gets exactly the spec's message (presence rules first), a nested rule is named by
/// its path and its words, `null` counts as present, a parameter's message replaces the generated one, and
/// every combination the schema allows passes, on every adapter.
#[tokio::test]
async fn presence_rules_and_spec_messages_refuse_exactly_what_the_schema_refuses() {
    use serde_json::json;
    const ROOT: &str = "Please give exactly one of email or phone";
    const SHORT: &str = "Please give an email of 3 characters or more";
    const DEVICE: &str = "invalid request body: `device`: must have at least one of (not (at least one of `id` or \
                          `code`)) or (`id` and `code`)";
    let cases = [
        ("", json!({}), Err(ROOT)),
        ("", json!({"email": "abc", "phone": "b"}), Err(ROOT)),
        ("", json!({"email": "abc", "phone": null}), Err(ROOT)),
        ("", json!({"label": "work"}), Err(ROOT)),
        // Root rules come first, presence before the properties, whatever else is wrong.
        ("", json!({"device": {"id": "ab"}}), Err(ROOT)),
        ("", json!({"email": "a", "phone": "1"}), Err(ROOT)),
        ("", json!({"email": "a", "device": {"id": "a"}}), Err(SHORT)),
        ("", json!({"email": "abc", "device": {"id": "ab"}}), Err(DEVICE)),
        ("", json!({"phone": "1", "device": {"code": "1"}}), Err(DEVICE)),
        // Presence holds; the properties' own rules apply, nested ones named by path.
        (
            "",
            json!({"email": "abc", "device": {"id": "a", "code": "x"}}),
            Err("invalid request body: `device.id`: length must be at least 2 (minLength), got 1; `device.code`: a \
                 code is digits"),
        ),
        ("?source=Web", json!({"email": "abc"}), Err("Please give a lowercase source")),
        ("?source=web", json!({"email": "abc"}), Ok(())),
        ("", json!({"phone": null}), Ok(())),
        ("", json!({"phone": "1", "device": {}}), Ok(())),
        ("", json!({"email": "abc", "device": {"id": "ab", "code": "12"}}), Ok(())),
    ];
    for (name, client) in both().await {
        for (query, body, expected) in &cases {
            let resp = client.send(json_raw("POST", &format!("/contacts{query}"), body.clone())).await.unwrap();
            match expected {
                Ok(()) => {
                    assert_eq!(resp.status, 200, "{name}: {query} {body} passes: {}", resp.text());
                    let echoed: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
                    assert_eq!(echoed["email"], body["email"], "{name}: {body}");
                }
                Err(message) => {
                    assert_eq!(resp.status, 400, "{name}: {query} {body}: {}", resp.text());
                    let json: serde_json::Value = serde_json::from_slice(&resp.body).expect("JSON error");
                    assert_eq!(json, json!({"message": message}), "{name}: {query} {body}");
                }
            }
        }
    }
    // The typed client sends what the caller built; the server's answer is the same.
    let client = Client::in_process(kitchen_api::server::axum::router(support::Kitchen));
    let both_given =
        Contact { email: Some("abc".into()), phone: Some(Some("b".into())), label: "home".into(), device: None };
    let err = client.add_contact(add_contact::Request::new(both_given)).await;
    assert!(format!("{err:?}").contains(ROOT), "{err:?}");
}

fn full_list_request() -> list_events::Request {
    let mut req = list_events::Request::new();
    req.filter = Some(EventFilter {
        kind: Kind::Self_,
        after: Some(utc("2024-02-29T12:00:00Z")),
        max: Some(3),
        tag: Some("a b&c".into()),
    });
    req.page = Some(ListEventsPage { offset: 20, limit: Some(10) });
    req.sort = Some(ListEventsSort { field: "at".into(), desc: Some(true) });
    req.meta = Some([("x".to_owned(), "1".to_owned()), ("y z".to_owned(), "[2]".to_owned())].into());
    req.at = Some(vec![utc("2024-02-29T23:00:00+01:00"), utc("2024-03-01T00:00:00Z")]);
    req
}

#[tokio::test]
async fn object_query_parameters_travel_in_their_style() {
    let req = full_list_request();
    let raw = req.to_raw().expect("builds");
    assert_eq!(
        raw.query,
        "filter%5Bkind%5D=self&filter%5Bafter%5D=2024-02-29T12%3A00%3A00Z&filter%5Bmax%5D=3&filter%5Btag%5D=a%20b%26c\
         &offset=20&limit=10&sort=field%2Cat%2Cdesc%2Ctrue&meta%5Bx%5D=1&meta%5By%20z%5D=%5B2%5D\
         &at=2024-02-29T22%3A00%3A00Z,2024-03-01T00%3A00%3A00Z",
        "deepObject, exploded form, comma-joined form, and an array of a named date-time in RFC 3339"
    );
    for (name, client) in both().await {
        let resp = client.list_events(req.clone()).await.expect(name);
        let list_events::Response::Ok(seen) = resp else { panic!("{name}: {resp:?}") };
        assert_eq!(seen["filter"], format!("{:?}", req.filter), "{name}: deepObject struct");
        assert_eq!(seen["page"], format!("{:?}", req.page), "{name}: exploded form struct");
        assert_eq!(seen["sort"], format!("{:?}", req.sort), "{name}: joined form struct");
        assert_eq!(seen["meta"], format!("{:?}", req.meta), "{name}: deepObject map");
        assert_eq!(seen["at"], format!("{:?}", req.at), "{name}: array of a named date-time");

        // Absent objects are `None`; a default fills an absent property of a present object.
        let resp = client.list_events(list_events::Request::new()).await.expect(name);
        let list_events::Response::Ok(seen) = resp else { panic!("{name}: {resp:?}") };
        assert!(["filter", "page", "sort", "meta", "at"].iter().all(|k| seen[*k] == "None"), "{name}: {seen:?}");
        let raw = kitchen_api::runtime::RawRequest {
            method: "GET".into(),
            path: "/events".into(),
            query: "limit=5&filter[kind]=cat&sort=field,name".into(),
            ..Default::default()
        };
        let resp = client.send(raw).await.unwrap();
        assert_eq!(resp.status, 200, "{name}: unencoded brackets, as browsers send them: {}", resp.text());
        let seen: std::collections::BTreeMap<String, String> = serde_json::from_slice(&resp.body).unwrap();
        assert_eq!(seen["page"], "Some(ListEventsPage { offset: 0, limit: Some(5) })", "{name}");
        assert_eq!(seen["filter"], "Some(EventFilter { kind: Cat, after: None, max: None, tag: None })", "{name}");
        assert_eq!(seen["sort"], "Some(ListEventsSort { field: \"name\", desc: None })", "{name}");
    }
}

#[tokio::test]
async fn malformed_object_query_parameters_are_400_naming_the_property() {
    let cases = [
        ("filter[max]=3", "invalid query parameter `filter`: missing field `kind`"),
        (
            "filter[kind]=lizard",
            "invalid query parameter `filter`: at `kind`: unknown variant `lizard`, expected one of `cat`, `dog`, `self`, `3d`",
        ),
        ("filter[kind]=cat&filter[max]=many", "invalid query parameter `filter`: at `max`: invalid digit"),
        ("filter[kind]=cat&filter[after]=noon", "invalid query parameter `filter`: at `after`: "),
        ("filter[kind]=cat&filter[max]=51", "invalid query parameter: `filter.max`: must be at most 50 (maximum)"),
        ("filter[kind]=cat&filter[tag]=toolongtag", "`filter.tag`: length must be at most 8 (maxLength), got 10"),
        ("sort=field,at,desc", "invalid query parameter `sort`: expected comma-separated property,value pairs"),
        ("sort=", "invalid query parameter `sort`: missing field `field`"),
        ("sort=desc,true", "invalid query parameter `sort`: missing field `field`"),
        ("offset=-", "invalid query parameter `page`: at `offset`: invalid digit"),
    ];
    for (name, client) in both().await {
        for (query, expected) in cases {
            let raw = kitchen_api::runtime::RawRequest {
                method: "GET".into(),
                path: "/events".into(),
                query: query.into(),
                ..Default::default()
            };
            let resp = client.send(raw).await.unwrap();
            assert_eq!(resp.status, 400, "{name}: {query}: {}", resp.text());
            let json: serde_json::Value = serde_json::from_slice(&resp.body).expect("JSON error");
            let message = json["message"].as_str().expect("message");
            assert!(message.contains(expected), "{name}: {query}: expected `{expected}` in {message:?}");
        }
    }
    // A joined object cannot carry a comma inside a value: the client refuses rather than send a different
    // object.
    let mut req = list_events::Request::new();
    req.sort = Some(ListEventsSort { field: "a,b".into(), desc: None });
    let err = req.to_raw().expect_err("a comma in a joined value");
    assert!(err.to_string().contains("holds a comma"), "{err}");
}

/// An optional path segment (`x-authgen-optional-segment`): one operation served with and without it, the
/// default when the path leaves it out, a literal route winning over the segment in its place, and a segment
/// breaking the parameter's pattern answered like a path no route matches; the client leaves the default out.
#[tokio::test]
async fn an_optional_segment_is_served_with_and_without_it() {
    let get =
        |path: &str| kitchen_api::runtime::RawRequest { method: "GET".into(), path: path.into(), ..Default::default() };
    let book = |resp: &kitchen_api::runtime::RawResponse| -> (u16, serde_json::Value) {
        (resp.status, serde_json::from_slice(&resp.body).unwrap_or_default())
    };
    for (name, client) in both().await {
        let main = client.get_book(get_book::Request::new(7)).await.expect(name);
        assert_eq!(main, get_book::Response::Ok(Book { library: "main".into(), id: 7 }), "{name}: the default");
        let mut req = get_book::Request::new(8);
        req.library = "east-wing".into();
        assert_eq!(req.to_raw().expect("raw").path, "/shelves/east-wing/books/8", "{name}: the client sends it");
        let east = client.get_book(req).await.expect(name);
        assert_eq!(east, get_book::Response::Ok(Book { library: "east-wing".into(), id: 8 }), "{name}");
        assert_eq!(
            get_book::Request::new(9).to_raw().expect("raw").path,
            "/shelves/books/9",
            "{name}: default left out"
        );

        // Spelled out by hand: the default named in the path is that library too.
        let raw = client.send(get("/shelves/main/books/3")).await.expect(name);
        assert_eq!(book(&raw), (200, serde_json::json!({"library": "main", "id": 3})), "{name}");
        // The route written in the spec wins over a segment `archive`.
        let archived = client.get_archived_book(get_archived_book::Request::new(4)).await.expect(name);
        assert_eq!(archived, get_archived_book::Response::Ok(Book { library: "the archive".into(), id: 4 }));
        let raw = client.send(get("/shelves/archive/books/4")).await.expect(name);
        assert_eq!(book(&raw), (200, serde_json::json!({"library": "the archive", "id": 4})), "{name}");
        // Not a library (the pattern is `^[a-z0-9-]+$`): no route, whatever follows.
        for path in ["/shelves/East/books/1", "/shelves/a.b/books/1", "/shelves/a%2Fb/books/1", "/shelves//books/1"] {
            let raw = client.send(get(path)).await.expect(name);
            assert_eq!(raw.status, 404, "{name}: {path}");
        }
        // A method the path does not declare is 405 on both shapes.
        for path in ["/shelves/books/1", "/shelves/east/books/1"] {
            let raw = client.send(kitchen_api::runtime::RawRequest { method: "DELETE".into(), ..get(path) }).await;
            let raw = raw.expect(name);
            assert_eq!((raw.status, raw.header("allow")), (405, Some("GET, HEAD")), "{name}: {path}");
        }
        // The other path parameter is still checked after the segment.
        let raw = client.send(get("/shelves/east/books/seven")).await.expect(name);
        assert_eq!(raw.status, 400, "{name}");
    }
}
