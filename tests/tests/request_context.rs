//! The request's context in the generated trait: the kitchen-sink implementation reads the peer address,
//! headers the spec does not declare and extensions its middleware inserted (see `support::context_labels`),
//! on axum and actix-web over loopback and through the in-process client; and the client address behind
//! trusted proxies, with forwarding headers spoofed by peers that are not trusted.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use kitchen_api::client::Client;
use kitchen_api::runtime::RawRequest;
use kitchen_api::server::{Cidr, ForwardedHeader, RequestContext, TrustedProxies};
use support::Tenant;

mod support;

/// The kitchen router with a tower layer that puts `tenant` and `trusted` on every request.
fn axum_router(tenant: &str, trusted: TrustedProxies) -> axum::Router {
    kitchen_api::server::axum::router(support::Kitchen)
        .layer(axum::Extension(Tenant(tenant.to_owned())))
        .layer(axum::Extension(trusted))
}

/// Serves `router` on loopback with the peer's address as `ConnectInfo`, as a server should.
async fn serve_axum(router: axum::Router) -> Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.expect("serve");
    });
    Client::new(&format!("http://{addr}")).expect("client")
}

/// A client for each adapter, every server trusting `trusted`.
async fn every_adapter(trusted: &TrustedProxies) -> Vec<(&'static str, Client)> {
    vec![
        ("axum loopback", serve_axum(axum_router("acme", trusted.clone())).await),
        ("actix-web loopback", support::serve_kitchen_actix_with(Tenant("acme".into()), trusted.clone())),
    ]
}

/// `GET /pets/12` with `headers` besides the required one; the `cx_*` labels the implementation saw.
async fn context_seen(client: &Client, headers: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut raw = RawRequest {
        method: "GET".into(),
        path: "/pets/12".into(),
        headers: vec![("x-request-id".into(), "r".into())],
        ..Default::default()
    };
    raw.headers.extend(headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let resp = client.send(raw).await.expect("sent");
    assert_eq!(resp.status, 200, "{}", resp.text());
    let json: serde_json::Value = serde_json::from_slice(&resp.body).expect("JSON");
    let labels: BTreeMap<String, String> = serde_json::from_value(json["labels"].clone()).expect("labels");
    labels.into_iter().filter(|(k, _)| k.starts_with("cx")).collect()
}

#[tokio::test]
async fn the_implementation_reads_peer_headers_and_middleware_extensions_on_every_adapter() {
    for (name, client) in every_adapter(&TrustedProxies::default()).await {
        let seen = context_seen(&client, &[("via", "1.1 edge-a"), ("via", "1.1 edge-b")]).await;
        assert_eq!(seen["cx"], "some", "{name}");
        assert_eq!(seen["cx_peer"], "127.0.0.1", "{name}: the socket's peer");
        assert_eq!(seen["cx_client"], "127.0.0.1", "{name}: no proxy is trusted");
        assert_eq!(seen["cx_tenant"], "acme", "{name}: the extension the middleware inserted");
        assert_eq!(seen["cx_via"], "1.1 edge-a|1.1 edge-b", "{name}: every value of an undeclared header");
        assert_eq!(seen["cx_path"], "/pets/12", "{name}");
        let count: usize = seen["cx_headers"].parse().expect("a number");
        assert!(count >= 4, "{name}: every header is there ({count})");
    }
}

#[tokio::test]
async fn the_in_process_client_carries_a_context_and_the_peer_it_is_given() {
    let router = axum_router("in-process", TrustedProxies::default());
    let seen = context_seen(&Client::in_process(router.clone()), &[]).await;
    assert_eq!(seen["cx"], "some");
    assert_eq!(seen["cx_tenant"], "in-process");
    assert_eq!(seen["cx_peer"], "none", "no socket, no peer");
    assert_eq!(seen["cx_client"], "none");

    let peer: SocketAddr = "203.0.113.9:4000".parse().unwrap();
    let client = Client::in_process(router).with_peer_addr(peer);
    let seen = context_seen(&client, &[("x-forwarded-for", "198.51.100.1")]).await;
    assert_eq!(seen["cx_peer"], "203.0.113.9");
    assert_eq!(seen["cx_client"], "203.0.113.9", "an untrusted peer's forwarding header is ignored");

    // The typed methods go through the same adapter.
    let resp = client.get_pet(kitchen_api::ops::get_pet::Request::new(3, "r".into())).await.expect("typed call");
    let kitchen_api::ops::get_pet::Response::Ok { body, .. } = resp else { panic!("{resp:?}") };
    assert_eq!(body.labels.expect("labels")["cx_peer"], "203.0.113.9");
}

#[tokio::test]
async fn outside_an_adapter_there_is_no_context_and_a_scope_gives_one() {
    use kitchen_api::KitchenSinkApi as _;
    let request = || kitchen_api::ops::get_pet::Request::new(5, "r".into());
    let labels = |resp: kitchen_api::ops::get_pet::Response| match resp {
        kitchen_api::ops::get_pet::Response::Ok { body, .. } => body.labels.expect("labels"),
        other => panic!("{other:?}"),
    };
    let direct = labels(support::Kitchen.get_pet(request()).await);
    assert_eq!(direct["cx"], "none");
    assert!(RequestContext::with(|_| ()).is_none());

    let (mut parts, ()) = http::Request::builder()
        .uri("/pets/5")
        .header("x-forwarded-for", "192.0.2.44")
        .body(())
        .expect("request")
        .into_parts();
    parts.extensions.insert(Tenant("scoped".into()));
    parts.extensions.insert(TrustedProxies::parse("10.0.0.0/8").expect("parses"));
    let peer: SocketAddr = "10.9.8.7:1234".parse().unwrap();
    let scoped = labels(RequestContext::scope(parts, Some(peer), support::Kitchen.get_pet(request())).await);
    assert_eq!(scoped["cx"], "some");
    assert_eq!(scoped["cx_tenant"], "scoped");
    assert_eq!(scoped["cx_peer"], "10.9.8.7");
    assert_eq!(scoped["cx_client"], "192.0.2.44", "the trusted peer's X-Forwarded-For names the client");
}

#[tokio::test]
async fn spoofed_forwarding_headers_from_an_untrusted_peer_do_not_move_the_client() {
    // Loopback, where the test connects from, is not trusted: only 10.0.0.0/8 is.
    let trusted = TrustedProxies::parse("10.0.0.0/8").expect("parses");
    for header in [ForwardedHeader::XForwardedFor, ForwardedHeader::Forwarded] {
        for (name, client) in every_adapter(&trusted.clone().with_header(header)).await {
            for spoof in [
                vec![("x-forwarded-for", "198.51.100.7")],
                vec![("x-forwarded-for", "10.0.0.1, 198.51.100.7")],
                vec![("forwarded", "for=198.51.100.8")],
                vec![
                    ("x-real-ip", "198.51.100.9"),
                    ("forwarded", "for=\"[2001:db8::7]\""),
                    ("x-forwarded-for", "1.2.3.4"),
                ],
            ] {
                let seen = context_seen(&client, &spoof).await;
                assert_eq!(seen["cx_client"], "127.0.0.1", "{name} ({header:?}): {spoof:?}");
            }
        }
    }
}

#[tokio::test]
async fn behind_trusted_proxies_the_client_is_the_rightmost_untrusted_hop() {
    let trusted = TrustedProxies::parse("127.0.0.1/32, 10.0.0.0/8").expect("parses");
    let xff = trusted.clone();
    for (name, client) in every_adapter(&xff).await {
        let cases: [(&[(&str, &str)], &str); 6] = [
            // What the client wrote itself (6.6.6.6) is left of what the proxies appended.
            (&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.1.2.3")], "198.51.100.7"),
            // Several header lines are one list, in order.
            (&[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "198.51.100.7:5555, 10.1.2.3")], "198.51.100.7"),
            (&[("x-forwarded-for", "2001:db8::5")], "2001:db8::5"),
            // Only trusted hops: the furthest of them.
            (&[("x-forwarded-for", "10.0.0.9, 10.0.0.8")], "10.0.0.9"),
            // The header the proxies do not write is not read.
            (&[("forwarded", "for=198.51.100.99")], "127.0.0.1"),
            // A hop that is not an address: no further than the last trusted proxy.
            (&[("x-forwarded-for", "198.51.100.7, garbage, 10.1.2.3")], "10.1.2.3"),
        ];
        for (headers, client_ip) in cases {
            assert_eq!(context_seen(&client, headers).await["cx_client"], client_ip, "{name}: {headers:?}");
        }
    }
    let forwarded = trusted.with_header(ForwardedHeader::Forwarded);
    for (name, client) in every_adapter(&forwarded).await {
        let cases: [(&[(&str, &str)], &str); 4] = [
            (&[("forwarded", "for=6.6.6.6, for=\"[2001:db8::1]:4711\";proto=https, for=10.2.3.4")], "2001:db8::1"),
            (&[("forwarded", "for=6.6.6.6"), ("forwarded", "proto=https;For=198.51.100.3:80")], "198.51.100.3"),
            (&[("forwarded", "for=unknown"), ("x-forwarded-for", "198.51.100.7")], "127.0.0.1"),
            (&[("x-forwarded-for", "198.51.100.7")], "127.0.0.1"),
        ];
        for (headers, client_ip) in cases {
            assert_eq!(context_seen(&client, headers).await["cx_client"], client_ip, "{name}: {headers:?}");
        }
    }
}

#[test]
fn address_blocks_parse_and_match() {
    let block: Cidr = "10.0.0.0/8".parse().expect("parses");
    assert!(block.contains("10.255.0.1".parse().unwrap()));
    assert!(block.contains("::ffff:10.1.2.3".parse().unwrap()), "an IPv4-mapped address is its IPv4 address");
    assert!(!block.contains("11.0.0.1".parse().unwrap()));
    assert!(!block.contains("::1".parse().unwrap()));
    let v6: Cidr = "2001:db8::/32".parse().expect("parses");
    assert!(v6.contains("2001:db8:ffff::1".parse().unwrap()));
    assert!(!v6.contains("2001:db9::1".parse().unwrap()));
    let one: Cidr = "192.0.2.1".parse().expect("a bare address");
    assert_eq!(one.to_string(), "192.0.2.1/32");
    assert!(one.contains("192.0.2.1".parse().unwrap()) && !one.contains("192.0.2.2".parse().unwrap()));
    let all: Cidr = "0.0.0.0/0".parse().expect("parses");
    assert!(all.contains("203.0.113.1".parse().unwrap()));
    for bad in ["10.0.0.0/33", "::/129", "10.0.0/8", "example.com", "10.0.0.0/x", ""] {
        assert!(bad.parse::<Cidr>().is_err(), "{bad:?}");
    }
    assert_eq!(TrustedProxies::parse("").expect("empty").blocks(), &[]);
    assert_eq!(TrustedProxies::parse(" 10.0.0.0/8 , ::1 ").expect("parses").blocks().len(), 2);
    assert!(TrustedProxies::parse("10.0.0.0/8,nope").is_err());
}
