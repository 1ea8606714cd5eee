//! The included module works like the generated crate: serve it, call it with its client.

use build_api::api::ops::{echo_shape, get_book};
use build_api::api::types::{Book, Circle, Shape};

struct Echo;

macro_rules! not_used {
    ($($op:ident),*) => {
        $(
            async fn $op(&self, _: build_api::api::ops::$op::Request) -> build_api::api::ops::$op::Response {
                unimplemented!("not exercised")
            }
        )*
    };
}

impl build_api::api::KitchenSinkApi for Echo {
    async fn echo_shape(&self, r: echo_shape::Request) -> echo_shape::Response {
        echo_shape::Response::Ok(r.body)
    }
    async fn get_book(&self, r: get_book::Request) -> get_book::Response {
        get_book::Response::Ok(Book { library: r.library, id: r.book_id })
    }
    not_used!(
        get_pet,
        put_pet,
        post_pets,
        upload,
        attach,
        login,
        list_events,
        get_event,
        put_event,
        add_contact,
        get_archived_book
    );
}

#[tokio::test]
async fn the_included_module_serves_and_calls() {
    let client = build_api::api::client::Client::in_process(build_api::api::server::axum::router(Echo));
    let shape = Shape::Circle(Circle { radius: 2.0 });
    let resp = client.echo_shape(echo_shape::Request::new(shape.clone())).await.unwrap();
    assert_eq!(resp, echo_shape::Response::Ok(shape));
    // Validation is part of the included code too.
    let raw = build_api::api::runtime::RawRequest {
        method: "POST".into(),
        path: "/pets".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: r#"{"name":"lowercase","kind":"cat"}"#.into(),
        ..Default::default()
    };
    let resp = client.send(raw).await.unwrap();
    assert_eq!(resp.status, 400);
    assert!(resp.text().contains("must match the pattern `^[A-Z]`"), "{}", resp.text());
    // So are the routes of an optional path segment.
    let mut request = get_book::Request::new(5);
    request.library = "west".into();
    let resp = client.get_book(request).await.unwrap();
    assert_eq!(resp, get_book::Response::Ok(Book { library: "west".into(), id: 5 }));
}
