//! Shared test servers: stand-in implementations of the generated traits, served on loopback.

#![allow(dead_code, reason = "each test binary uses a different part of the support module")]

use auth_api::ops;
use auth_api::types::ErrorMessage;
use kitchen_api::ops as kops;
use kitchen_api::types as kt;

/// Serves `router` on 127.0.0.1 on a free port and returns a client for it.
pub async fn serve(router: axum::Router) -> auth_api::client::Client {
    let addr = spawn(router).await;
    auth_api::client::Client::new(&format!("http://{addr}")).expect("client")
}

/// Like [`serve`], for the kitchen-sink crate.
pub async fn serve_kitchen(router: axum::Router) -> kitchen_api::client::Client {
    let addr = spawn(router).await;
    kitchen_api::client::Client::new(&format!("http://{addr}")).expect("client")
}

/// Serves `router` and returns its address.
pub async fn spawn(router: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    addr
}

/// Serves an actix-web app configured by `configure` on 127.0.0.1 (one worker, its own actix system on a
/// background thread) and returns its address.
pub fn spawn_actix<F>(configure: F) -> std::net::SocketAddr
where
    F: Fn(&mut actix_web::web::ServiceConfig) + Clone + Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            actix_web::HttpServer::new(move || actix_web::App::new().configure(configure.clone()))
                .workers(1)
                .listen(listener)
                .expect("listen")
                .run()
                .await
                .expect("actix server")
        })
    });
    addr
}

/// Like [`spawn_actix`], with the generated actix-cors middleware for `cors` wrapped around the app.
pub fn spawn_actix_with_cors<F>(configure: F, cors: auth_api::cors::CorsConfig) -> std::net::SocketAddr
where
    F: Fn(&mut actix_web::web::ServiceConfig) + Clone + Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            actix_web::HttpServer::new(move || {
                actix_web::App::new().wrap(cors.actix_cors().expect("valid CORS config")).configure(configure.clone())
            })
            .workers(1)
            .listen(listener)
            .expect("listen")
            .run()
            .await
            .expect("actix server")
        })
    });
    addr
}

/// A client for an implementation of the auth trait served by actix-web.
pub fn serve_actix<T: auth_api::AuthApi>(api: T) -> auth_api::client::Client {
    let addr = spawn_actix(auth_api::server::actix::configure(std::sync::Arc::new(api)));
    auth_api::client::Client::new(&format!("http://{addr}")).expect("client")
}

/// A client for the kitchen-sink implementation served by actix-web.
pub fn serve_kitchen_actix() -> kitchen_api::client::Client {
    let addr = spawn_actix(kitchen_api::server::actix::configure(std::sync::Arc::new(Kitchen)));
    kitchen_api::client::Client::new(&format!("http://{addr}")).expect("client")
}

/// Answers every call with its 500 variant, so a test can tell whether a request reached it.
pub struct Unreachable;

fn reached() -> ErrorMessage {
    ErrorMessage { message: "reached the implementation".into() }
}

macro_rules! unreachable_ops {
    ($($op:ident),*) => {
        impl auth_api::AuthApi for Unreachable {
            $(
                async fn $op(&self, _: ops::$op::Request) -> ops::$op::Response {
                    ops::$op::Response::InternalServerError(reached())
                }
            )*
        }
    };
}

unreachable_ops!(
    create_code,
    resend_code,
    consume_code,
    passwordless_email_exists,
    passwordless_phone_number_exists,
    get_authorisation_url,
    third_party_sign_in_up,
    apple_callback,
    refresh_session,
    sign_out,
    get_login_methods,
    get_jwks,
    generate_email_verify_token,
    verify_email,
    is_email_verified
);

/// What middleware of a test puts on a request, for the implementation to read from its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant(pub String);

/// What the request's context shows the implementation, as `cx_*` labels: the peer, the client address
/// under the [`kitchen_api::server::TrustedProxies`] that middleware put on the request (none trusted
/// without), a [`Tenant`] extension, a header the spec does not declare, the path, and the number of
/// headers; `cx` is `none` outside an adapter.
pub fn context_labels() -> Vec<(String, String)> {
    use kitchen_api::server::{RequestContext, TrustedProxies};
    let seen = RequestContext::with(|cx| {
        let trusted = cx.extension::<TrustedProxies>().unwrap_or_default();
        let shown = |v: Option<String>| v.unwrap_or_else(|| "none".to_owned());
        vec![
            ("cx".to_owned(), "some".to_owned()),
            ("cx_peer".to_owned(), shown(cx.peer_addr().map(|a| a.ip().to_string()))),
            ("cx_client".to_owned(), shown(cx.client_ip(&trusted).map(|ip| ip.to_string()))),
            ("cx_tenant".to_owned(), shown(cx.extension::<Tenant>().map(|t| t.0))),
            ("cx_via".to_owned(), shown(cx.header_values("via").map(str::to_owned).reduce(|a, b| a + "|" + &b))),
            ("cx_path".to_owned(), cx.path().to_owned()),
            ("cx_headers".to_owned(), cx.headers().count().to_string()),
        ]
    });
    seen.unwrap_or_else(|| vec![("cx".to_owned(), "none".to_owned())])
}

/// Serves the kitchen-sink implementation on actix-web with a middleware that puts `tenant` and `trusted`
/// into the request's extensions, and returns a client for it.
pub fn serve_kitchen_actix_with(
    tenant: Tenant,
    trusted: kitchen_api::server::TrustedProxies,
) -> kitchen_api::client::Client {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let configure = kitchen_api::server::actix::configure(std::sync::Arc::new(Kitchen));
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            actix_web::HttpServer::new(move || {
                let (tenant, trusted) = (tenant.clone(), trusted.clone());
                actix_web::App::new()
                    .wrap(actix_web::middleware::from_fn(
                        move |request: actix_web::dev::ServiceRequest,
                              next: actix_web::middleware::Next<actix_web::body::BoxBody>| {
                            use actix_web::HttpMessage as _;
                            request.extensions_mut().insert(tenant.clone());
                            request.extensions_mut().insert(trusted.clone());
                            next.call(request)
                        },
                    ))
                    .configure(configure.clone())
            })
            .workers(1)
            .listen(listener)
            .expect("listen")
            .run()
            .await
            .expect("actix server")
        })
    });
    kitchen_api::client::Client::new(&format!("http://{addr}")).expect("client")
}

/// The kitchen-sink implementation: echoes what it received so tests can check parsing.
pub struct Kitchen;

pub fn pet(id: i64, name: &str) -> kt::Pet {
    kt::Pet {
        name: name.into(),
        id,
        kind: kt::Kind::Self_,
        nickname: None,
        age: Some(None),
        type_: Some("keyword".into()),
        self_: None,
        weight: Some(4.5),
        labels: None,
        extra: None,
        parent: None,
        #[allow(deprecated, reason = "the test sets every field")]
        legacy: None,
        created_at: Some("2026-11-27T00:00:00Z".into()),
    }
}

impl kitchen_api::KitchenSinkApi for Kitchen {
    async fn get_pet(&self, r: kops::get_pet::Request) -> kops::get_pet::Response {
        let problem = |m: &str| kt::Problem { message: m.into() };
        match r.pet_id {
            404 => return kops::get_pet::Response::NotFound(format!("no pet {}", r.pet_id)),
            418 => return kops::get_pet::Response::Status4xx { status: 418, body: problem("teapot") },
            503 => return kops::get_pet::Response::Default { status: 503, body: problem("down") },
            _ => {}
        }
        let mut labels = std::collections::BTreeMap::new();
        labels.insert("fields".to_owned(), r.fields.unwrap_or_default().join("|"));
        labels.insert("tags".to_owned(), r.tags.unwrap_or_default().join("|"));
        labels.insert("request".to_owned(), r.x_request_id);
        labels.insert("session".to_owned(), r.session.unwrap_or_default());
        labels.insert("mode".to_owned(), r.mode.map(|m| m.to_string()).unwrap_or_default());
        labels.insert("api_key".to_owned(), r.api_key.unwrap_or_default());
        labels.insert("basic".to_owned(), r.basic.unwrap_or_default());
        labels.extend(context_labels());
        let mut p = pet(r.pet_id, "Rex");
        p.labels = Some(labels);
        kops::get_pet::Response::Ok {
            body: p,
            headers: kops::get_pet::OkHeaders { x_rate_remaining: 41, x_trace: None },
        }
    }

    #[allow(deprecated, reason = "the deprecated operation is still served")]
    async fn put_pet(&self, _: kops::put_pet::Request) -> kops::put_pet::Response {
        kops::put_pet::Response::NoContent
    }

    async fn post_pets(&self, r: kops::post_pets::Request) -> kops::post_pets::Response {
        if r.body.name.is_empty() {
            return kops::post_pets::Response::BadRequest(kt::Problem { message: "name is empty".into() });
        }
        let mut p = pet(7, &r.body.name);
        p.kind = r.body.kind;
        p.nickname = r.body.owner.and_then(|o| o.email);
        kops::post_pets::Response::Created(p)
    }

    async fn upload(&self, r: kops::upload::Request) -> kops::upload::Response {
        kops::upload::Response::Ok(format!("{} bytes", r.body.map_or(0, |b| b.len())))
    }

    /// Answers with the body it received, as JSON (files in base64), so a test can compare every part.
    async fn attach(&self, r: kops::attach::Request) -> kops::attach::Response {
        kops::attach::Response::Ok(serde_json::to_string(&r.body).expect("a body serializes"))
    }

    async fn login(&self, r: kops::login::Request) -> kops::login::Response {
        kops::login::Response::SeeOther {
            headers: kops::login::SeeOtherHeaders {
                // Any text may be a user name; a header value takes it encoded.
                location: format!("/home?user={}", kitchen_api::runtime::percent_encode(&r.body.user)),
                set_cookie: vec![format!(
                    "session={}; Path=/; HttpOnly",
                    kitchen_api::runtime::percent_encode(&r.body.user)
                )],
            },
        }
    }

    async fn echo_shape(&self, r: kops::echo_shape::Request) -> kops::echo_shape::Response {
        kops::echo_shape::Response::Ok(r.body)
    }

    async fn add_contact(&self, r: kops::add_contact::Request) -> kops::add_contact::Response {
        kops::add_contact::Response::Ok(r.body)
    }

    /// Names the library the optional segment chose (`main` without one).
    async fn get_book(&self, r: kops::get_book::Request) -> kops::get_book::Response {
        kops::get_book::Response::Ok(kt::Book { library: r.library, id: r.book_id })
    }

    async fn get_archived_book(&self, r: kops::get_archived_book::Request) -> kops::get_archived_book::Response {
        kops::get_archived_book::Response::Ok(kt::Book { library: "the archive".into(), id: r.book_id })
    }

    /// Reports each object parameter as it arrived (its `Debug` form).
    async fn list_events(&self, r: kops::list_events::Request) -> kops::list_events::Response {
        let mut seen = std::collections::BTreeMap::new();
        seen.insert("filter".to_owned(), format!("{:?}", r.filter));
        seen.insert("page".to_owned(), format!("{:?}", r.page));
        seen.insert("sort".to_owned(), format!("{:?}", r.sort));
        seen.insert("meta".to_owned(), format!("{:?}", r.meta));
        seen.insert("at".to_owned(), format!("{:?}", r.at));
        kops::list_events::Response::Ok(seen)
    }

    /// Echoes the typed parameters: `since` as `at` and the `X-Modified` header, `days` as `history`'s
    /// dates and the first as `day`, the token's bytes as `payload`.
    async fn get_event(&self, r: kops::get_event::Request) -> kops::get_event::Response {
        let epoch = chrono::DateTime::<chrono::Utc>::default();
        let at = r.since.unwrap_or(epoch);
        let days = r.days.unwrap_or_default();
        let event = kt::Event {
            id: r.event_id,
            at,
            day: days.first().copied().unwrap_or_default(),
            payload: r.x_token.unwrap_or_default(),
            link: "urn:kitchen:event".into(),
            note: None,
            history: Some(days.iter().map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc()).collect()),
            previous: Some(None),
            related: None,
            expires: None,
            legacy: None,
        };
        kops::get_event::Response::Ok {
            body: event,
            headers: kops::get_event::OkHeaders { x_modified: at, x_stamp: Some(at), x_kind: Some(kt::Kind::_3d) },
        }
    }

    async fn put_event(&self, r: kops::put_event::Request) -> kops::put_event::Response {
        kops::put_event::Response::Ok(r.body)
    }
}
