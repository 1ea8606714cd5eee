//! Sessions through the generated client against the real server: header and cookie modes with their
//! exact headers and cookies, refresh rotation and theft detection, sign-out, the `VerifySession` route,
//! anti-CSRF, and third party without providers (the FDI 400s), login methods and the Apple callback.

#[macro_use]
mod support;

use std::sync::Arc;
use std::time::Duration;

use auth_api::ops::{
    apple_callback, get_authorisation_url, get_login_methods, refresh_session, sign_out, third_party_sign_in_up,
};
use auth_api::types::{AppleCallbackForm, RedirectUriInfo, SignOutResponse, ThirdPartySignInUpRequest};
use authgen_recipes::store::sqlite::SqliteStore;
use authgen_recipes::{AuthRecipes, Config};
use base64::Engine as _;
use serde_json::json;
use support::{
    decode_front_token, json_body, jwt_payload, refresh_with_bearer, session_info, sign_in, sign_out_with_bearer, start,
};

const EPOCH: &str = "Expires=Thu, 01 Jan 1970 00:00:00 GMT";

fn exposed(value: Option<&str>) -> Vec<String> {
    value.unwrap_or_default().split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

on_both_frameworks! {
async fn header_mode_issues_tokens_in_headers() {
    let server = start(|c| c).await;
    let client = server.client();
    let (ok, headers) = sign_in(&server, &client, "header@example.com", None).await;

    assert!(headers.set_cookie.is_empty(), "header mode sets no cookies: {:?}", headers.set_cookie);
    let access = headers.st_access_token.clone().expect("st-access-token");
    let refresh = headers.st_refresh_token.clone().expect("st-refresh-token");
    assert_eq!(access.split('.').count(), 3);
    assert!(!refresh.is_empty() && !refresh.contains('.'));
    assert_eq!(headers.anti_csrf, None);
    for name in ["front-token", "st-access-token", "st-refresh-token"] {
        assert!(exposed(headers.access_control_expose_headers.as_deref()).iter().any(|h| h == name), "{name} exposed");
    }

    let payload = jwt_payload(&access);
    assert_eq!(payload["sub"], json!(ok.user.id));
    assert_eq!(payload["rsub"], json!(ok.user.id));
    assert_eq!(payload["tId"], json!("public"));
    assert_eq!(payload["iss"], json!(format!("{}/auth", server.api_domain)));
    let lifetime = payload["exp"].as_i64().expect("exp") - payload["iat"].as_i64().expect("iat");
    assert_eq!(lifetime, 3600, "default access token lifetime");
    let front = decode_front_token(headers.front_token.as_deref().expect("front-token"));
    assert_eq!(front, json!({ "uid": ok.user.id, "ate": payload["exp"].as_i64().expect("exp") * 1000, "up": payload }));

    let bearer = format!("Bearer {access}");
    let info = session_info(&client, &[("authorization", &bearer)]).await;
    assert_eq!(info.status, 200);
    assert_eq!(json_body(&info), json!({ "userId": ok.user.id, "accessTokenPayload": payload }));
    server.stop().await;
}
}

on_both_frameworks! {
async fn cookie_mode_sets_exact_cookies() {
    let server = start(|c| c).await;
    let client = server.client();
    let (ok, headers) = sign_in(&server, &client, "cookie@example.com", Some("cookie")).await;

    assert_eq!(headers.st_access_token, None);
    assert_eq!(headers.st_refresh_token, None);
    assert_eq!(headers.set_cookie.len(), 2, "{:?}", headers.set_cookie);
    let access = client.cookie("sAccessToken").expect("access cookie in the jar");
    let refresh = client.cookie_for_path("/auth/session/refresh", "sRefreshToken").expect("refresh cookie");
    assert_eq!(client.cookie("sRefreshToken"), None, "the refresh cookie is only sent to the refresh path");

    let next_year = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()
        / (365 * 86_400)
        + 1971)
        .to_string();
    let access_cookie = &headers.set_cookie[0];
    assert!(access_cookie.starts_with(&format!("sAccessToken={access}; Path=/; Expires=")), "{access_cookie}");
    assert!(access_cookie.ends_with("; HttpOnly; SameSite=Lax"), "{access_cookie}");
    assert!(!access_cookie.contains("Secure"), "http API domain: no Secure flag");
    assert!(
        access_cookie.contains(" GMT; ") && access_cookie.contains(&next_year),
        "expires in a year: {access_cookie}"
    );
    let refresh_cookie = &headers.set_cookie[1];
    assert!(
        refresh_cookie.starts_with(&format!("sRefreshToken={refresh}; Path=/auth/session/refresh; Expires=")),
        "{refresh_cookie}"
    );
    assert!(refresh_cookie.ends_with(" GMT; HttpOnly; SameSite=Lax"), "{refresh_cookie}");

    let payload = jwt_payload(&access);
    let front = decode_front_token(headers.front_token.as_deref().expect("front-token"));
    assert_eq!(front["uid"], json!(ok.user.id));
    assert_eq!(front["up"], payload);
    assert_eq!(front["ate"], json!(payload["exp"].as_i64().expect("exp") * 1000));
    assert!(exposed(headers.access_control_expose_headers.as_deref()).iter().any(|h| h == "front-token"));

    // The jar sends the cookie: the protected route sees the session.
    let info = session_info(&client, &[]).await;
    assert_eq!(info.status, 200);
    assert_eq!(json_body(&info)["userId"], json!(ok.user.id));

    // Refresh with the cookie: both cookies rotate.
    let refreshed = client.refresh_session(refresh_session::Request::new()).await.expect("refresh");
    let refresh_session::Response::Ok { body, headers } = refreshed else { panic!("refresh failed: {refreshed:?}") };
    assert_eq!(serde_json::to_value(body).expect("json"), json!({}));
    assert_eq!(headers.set_cookie.len(), 2);
    assert_eq!(headers.st_access_token, None);
    let new_refresh = client.cookie_for_path("/auth/session/refresh", "sRefreshToken").expect("refresh cookie");
    assert_ne!(new_refresh, refresh);
    assert!(client.cookie("sAccessToken").is_some());

    // Sign-out clears both cookies.
    let signed_out = client.sign_out(sign_out::Request::new()).await.expect("sign out");
    let sign_out::Response::Ok { body, headers } = signed_out else { panic!("sign-out failed: {signed_out:?}") };
    assert!(matches!(body, SignOutResponse::Ok(_)));
    assert_eq!(
        headers.set_cookie,
        [
            format!("sAccessToken=; Path=/; {EPOCH}; HttpOnly; SameSite=Lax"),
            format!("sRefreshToken=; Path=/auth/session/refresh; {EPOCH}; HttpOnly; SameSite=Lax"),
        ]
    );
    assert_eq!(headers.front_token.as_deref(), Some("remove"));
    assert_eq!(headers.st_access_token, None, "cookie mode leaves the headers alone");
    assert_eq!(client.cookie("sAccessToken"), None, "the jar dropped the expired cookie");
    let info = session_info(&client, &[]).await;
    assert_eq!((info.status, json_body(&info)), (401, json!({ "message": "unauthorised" })));

    // The revoked session cannot be refreshed.
    let mut stale = refresh_session::Request::new();
    stale.refresh_token_cookie = Some(new_refresh);
    let response = server.client().refresh_session(stale).await.expect("refresh");
    let refresh_session::Response::Unauthorized { body, .. } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "unauthorised");
    server.stop().await;
}
}

on_both_frameworks! {
async fn refresh_rotates_and_reuse_is_token_theft() {
    let server = start(|c| c).await;
    let client = server.client();
    let (ok, headers) = sign_in(&server, &client, "rotate@example.com", Some("header")).await;
    let first_refresh = headers.st_refresh_token.expect("refresh token");
    let first_access = headers.st_access_token.expect("access token");

    let response = client.refresh_session(refresh_with_bearer(&first_refresh)).await.expect("refresh");
    let refresh_session::Response::Ok { body, headers } = response else { panic!("refresh failed: {response:?}") };
    assert_eq!(serde_json::to_value(body).expect("json"), json!({}));
    assert!(headers.set_cookie.is_empty());
    let second_refresh = headers.st_refresh_token.clone().expect("new refresh token");
    let second_access = headers.st_access_token.clone().expect("new access token");
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(jwt_payload(&second_access)["sessionHandle"], jwt_payload(&first_access)["sessionHandle"]);
    let front = decode_front_token(headers.front_token.as_deref().expect("front-token"));
    assert_eq!(front["uid"], json!(ok.user.id));
    assert_eq!(front["up"], jwt_payload(&second_access));
    for name in ["front-token", "st-access-token", "st-refresh-token"] {
        assert!(exposed(headers.access_control_expose_headers.as_deref()).iter().any(|h| h == name), "{name}");
    }
    // The new access token names the refresh token it came with and its parent, by hash, as SuperTokens' does.
    let second_payload = jwt_payload(&second_access);
    assert_eq!(second_payload["refreshTokenHash1"], json!(authgen_recipes::ids::refresh_token_hash(&second_refresh)));
    assert_eq!(second_payload["parentRefreshTokenHash1"], json!(authgen_recipes::ids::refresh_token_hash(&first_refresh)));

    // The same token again before the new one is used (a second tab refreshing at the same moment): no theft,
    // the same new refresh token and a new access token of the same session.
    let response = client.refresh_session(refresh_with_bearer(&first_refresh)).await.expect("refresh");
    let refresh_session::Response::Ok { headers, .. } = response else { panic!("parent reuse refused: {response:?}") };
    assert_eq!(headers.st_refresh_token.as_deref(), Some(second_refresh.as_str()), "the same child");
    let again_access = headers.st_access_token.expect("access token");
    assert_eq!(jwt_payload(&again_access)["sessionHandle"], jwt_payload(&first_access)["sessionHandle"]);
    // A request with the new access token uses the new refresh token.
    let info = session_info(&client, &[("authorization", &format!("Bearer {second_access}"))]).await;
    assert_eq!(info.status, 200, "{}", info.text());

    // Reusing the rotated token now that its child was used: theft. The session is revoked and every token
    // cleared.
    let response = client.refresh_session(refresh_with_bearer(&first_refresh)).await.expect("refresh");
    let refresh_session::Response::Unauthorized { body, headers } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "token theft detected");
    support::assert_tokens_cleared_everywhere(
        headers.st_access_token.as_deref(),
        headers.st_refresh_token.as_deref(),
        headers.front_token.as_deref(),
        &headers.set_cookie,
    );

    // The thief's and the owner's current token are both dead now.
    let response = client.refresh_session(refresh_with_bearer(&second_refresh)).await.expect("refresh");
    let refresh_session::Response::Unauthorized { body, .. } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "unauthorised");

    // No refresh token at all: unauthorised, and nothing is cleared.
    let response = client.refresh_session(refresh_session::Request::new()).await.expect("refresh");
    let refresh_session::Response::Unauthorized { body, headers } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "unauthorised");
    assert_eq!((headers.front_token, headers.st_access_token, headers.st_refresh_token), (None, None, None));
    assert!(headers.set_cookie.is_empty());
    server.stop().await;
}
}

on_both_frameworks! {
async fn header_mode_sign_out_clears_headers_and_revokes() {
    let server = start(|c| c).await;
    let client = server.client();
    let (_, headers) = sign_in(&server, &client, "bye@example.com", None).await;
    let access = headers.st_access_token.expect("access token");
    let refresh = headers.st_refresh_token.expect("refresh token");

    let response = client.sign_out(sign_out_with_bearer(&access)).await.expect("sign out");
    let sign_out::Response::Ok { body, headers } = response else { panic!("{response:?}") };
    assert!(matches!(body, SignOutResponse::Ok(_)));
    assert_eq!(headers.st_access_token.as_deref(), Some(""));
    assert_eq!(headers.st_refresh_token.as_deref(), Some(""));
    assert_eq!(headers.front_token.as_deref(), Some("remove"));
    assert!(headers.set_cookie.is_empty());
    for name in ["front-token", "st-access-token", "st-refresh-token"] {
        assert!(exposed(headers.access_control_expose_headers.as_deref()).iter().any(|h| h == name), "{name}");
    }

    let response = client.refresh_session(refresh_with_bearer(&refresh)).await.expect("refresh");
    let refresh_session::Response::Unauthorized { body, .. } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "unauthorised");

    let response = client.sign_out(sign_out::Request::new()).await.expect("sign out");
    let sign_out::Response::Unauthorized { body, headers } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "unauthorised");
    assert_eq!((headers.front_token, headers.st_access_token, headers.st_refresh_token), (None, None, None));
    assert!(headers.set_cookie.is_empty());
    server.stop().await;
}
}

on_both_frameworks! {
async fn session_info_requires_a_valid_session() {
    // Two seconds: a token issued late in a second still lives over one second, long enough for the first call.
    let server = start(|c| c.with_access_token_lifetime(Duration::from_secs(2))).await;
    let client = server.client();
    let none = session_info(&client, &[]).await;
    assert_eq!((none.status, json_body(&none)), (401, json!({ "message": "unauthorised" })));
    let malformed = session_info(&client, &[("authorization", "Bearer not-a-jwt")]).await;
    assert_eq!((malformed.status, json_body(&malformed)), (401, json!({ "message": "unauthorised" })));

    let (ok, headers) = sign_in(&server, &client, "expiry@example.com", None).await;
    let access = headers.st_access_token.expect("access token");
    let refresh = headers.st_refresh_token.expect("refresh token");
    let (signing_input, _) = access.rsplit_once('.').expect("jwt");
    let forged = format!("{signing_input}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 64]));
    let bad_signature = session_info(&client, &[("authorization", &format!("Bearer {forged}"))]).await;
    assert_eq!((bad_signature.status, json_body(&bad_signature)), (401, json!({ "message": "try refresh token" })));

    let fresh = session_info(&client, &[("authorization", &format!("Bearer {access}"))]).await;
    assert_eq!(fresh.status, 200);
    assert_eq!(json_body(&fresh)["userId"], json!(ok.user.id));

    tokio::time::sleep(Duration::from_millis(2200)).await;
    let expired = session_info(&client, &[("authorization", &format!("Bearer {access}"))]).await;
    assert_eq!((expired.status, json_body(&expired)), (401, json!({ "message": "try refresh token" })));
    let response = client.sign_out(sign_out_with_bearer(&access)).await.expect("sign out");
    let sign_out::Response::Unauthorized { body, .. } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "try refresh token");

    let response = client.refresh_session(refresh_with_bearer(&refresh)).await.expect("refresh");
    let refresh_session::Response::Ok { headers, .. } = response else { panic!("{response:?}") };
    let access = headers.st_access_token.expect("new access token");
    let info = session_info(&client, &[("authorization", &format!("Bearer {access}"))]).await;
    assert_eq!(info.status, 200);
    server.stop().await;
}
}

on_both_frameworks! {
async fn cross_site_cookies_require_the_rid_header() {
    // localhost vs 127.0.0.1 are different sites: SameSite=None and anti-CSRF via the rid header.
    let server = start(|mut c| {
        c.api_domain = c.api_domain.replace("localhost", "127.0.0.1");
        c
    })
    .await;
    let client = server.client();
    let (_, headers) = sign_in(&server, &client, "csrf@example.com", Some("cookie")).await;
    // Secure too (an http API on a loopback host may set it, and browsers drop SameSite=None without it).
    assert!(
        headers.set_cookie.iter().all(|c| c.ends_with("; HttpOnly; Secure; SameSite=None")),
        "{:?}",
        headers.set_cookie
    );

    assert_eq!(session_info(&client, &[]).await.status, 200, "GET skips the anti-CSRF check");

    let response = client.refresh_session(refresh_session::Request::new()).await.expect("refresh");
    let refresh_session::Response::Unauthorized { body, headers } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "unauthorised");
    assert!(headers.set_cookie.is_empty(), "a failed anti-CSRF check clears nothing");
    let mut with_rid = refresh_session::Request::new();
    with_rid.rid = Some("session".to_owned());
    let response = client.refresh_session(with_rid).await.expect("refresh");
    assert!(matches!(response, refresh_session::Response::Ok { .. }), "{response:?}");

    let response = client.sign_out(sign_out::Request::new()).await.expect("sign out");
    let sign_out::Response::Unauthorized { body, .. } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "try refresh token");
    let mut with_rid = sign_out::Request::new();
    with_rid.rid = Some("anti-csrf".to_owned());
    let response = client.sign_out(with_rid).await.expect("sign out");
    assert!(matches!(response, sign_out::Response::Ok { .. }), "{response:?}");
    server.stop().await;
}
}

on_both_frameworks! {
async fn same_site_follows_the_public_suffix_list() {
    // github.io is a public suffix: two users' pages are two sites. co.uk takes two labels: the hosts under one
    // name there are one site, two names are two.
    let cases = [
        ("https://a.github.io", "https://b.github.io", "None"),
        ("https://app.example.com", "https://api.example.com", "Lax"),
        ("https://app.example.co.uk", "https://api.example.co.uk", "Lax"),
        ("https://example.co.uk", "https://other.co.uk", "None"),
    ];
    for (website, api, same_site) in cases {
        let server = start(move |mut c| {
            c.website_domain = website.to_owned();
            c.api_domain = api.to_owned();
            c
        })
        .await;
        let client = server.client();
        let (_, headers) = sign_in(&server, &client, "site@example.com", Some("cookie")).await;
        let attributes = format!("; HttpOnly; Secure; SameSite={same_site}");
        assert!(headers.set_cookie.iter().all(|c| c.ends_with(&attributes)), "{website} {api}: {:?}", headers.set_cookie);
        let refresh = headers
            .set_cookie
            .iter()
            .find_map(|c| c.strip_prefix("sRefreshToken="))
            .and_then(|c| c.split(';').next())
            .expect("refresh cookie");
        // Across sites the cookies need the anti-CSRF rid header; on one site they do not.
        let mut request = refresh_session::Request::new();
        request.refresh_token_cookie = Some(refresh.to_owned());
        let response = client.refresh_session(request).await.expect("refresh");
        match (same_site, response) {
            ("None", refresh_session::Response::Unauthorized { body, .. }) => assert_eq!(body.message, "unauthorised"),
            ("Lax", refresh_session::Response::Ok { .. }) => {}
            (_, response) => panic!("{website} {api}: {response:?}"),
        }
        server.stop().await;
    }
}
}

on_both_frameworks! {
async fn concurrent_refreshes_from_twenty_tasks_share_one_child_and_are_no_theft() {
    let server = start(|c| c).await;
    let client = server.client();
    let (_, headers) = sign_in(&server, &client, "tabs@example.com", Some("header")).await;
    let parent = headers.st_refresh_token.expect("refresh token");

    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (client, request) = (client.clone(), refresh_with_bearer(&parent));
            tokio::spawn(async move { client.refresh_session(request).await })
        })
        .collect();
    let (mut children, mut accesses) = (std::collections::BTreeSet::new(), Vec::new());
    for task in tasks {
        match task.await.expect("task").expect("refresh call") {
            refresh_session::Response::Ok { headers, .. } => {
                children.insert(headers.st_refresh_token.expect("refresh token"));
                accesses.push(headers.st_access_token.expect("access token"));
            }
            other => panic!("a concurrent refresh was refused: {other:?}"),
        }
    }
    assert_eq!(children.len(), 1, "every task got the same new refresh token");
    let child = children.pop_first().expect("one child");
    assert_ne!(child, parent);
    // Every task holds a valid session: each access token authenticates (the first use uses the child).
    for access in &accesses {
        let info = session_info(&client, &[("authorization", &format!("Bearer {access}"))]).await;
        assert_eq!(info.status, 200, "{}", info.text());
    }
    // And the child refreshes on.
    let response = client.refresh_session(refresh_with_bearer(&child)).await.expect("refresh");
    let refresh_session::Response::Ok { headers, .. } = response else { panic!("{response:?}") };
    let grandchild_access = headers.st_access_token.expect("access token");
    let info = session_info(&client, &[("authorization", &format!("Bearer {grandchild_access}"))]).await;
    assert_eq!(info.status, 200, "{}", info.text());
    // A late request of a tab that still has an access token of the child, now that the grandchild was used:
    // try refresh token (no theft; that tab refreshes with the refresh token it holds).
    let info = session_info(&client, &[("authorization", &format!("Bearer {}", accesses[0]))]).await;
    assert_eq!((info.status, json_body(&info)), (401, json!({ "message": "try refresh token" })));

    // The parent after its child was used: theft, and every access token of the session is refused.
    let response = client.refresh_session(refresh_with_bearer(&parent)).await.expect("refresh");
    let refresh_session::Response::Unauthorized { body, .. } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "token theft detected");
    for access in accesses.iter().chain([&grandchild_access]) {
        let info = session_info(&client, &[("authorization", &format!("Bearer {access}"))]).await;
        assert_eq!((info.status, json_body(&info)), (401, json!({ "message": "unauthorised" })));
    }
    server.stop().await;
}
}

on_both_frameworks! {
async fn parent_reuse_in_cookie_mode_is_theft_only_after_the_child_is_used() {
    let server = start(|c| c).await;
    let client = server.client();
    sign_in(&server, &client, "cookie-tabs@example.com", Some("cookie")).await;
    let parent = client.cookie_for_path("/auth/session/refresh", "sRefreshToken").expect("refresh cookie");
    let refresh_with_cookie = |token: &str| {
        let mut request = refresh_session::Request::new();
        request.refresh_token_cookie = Some(token.to_owned());
        request.rid = Some("session".into());
        request
    };
    let child_of = |response: refresh_session::Response| {
        let refresh_session::Response::Ok { headers, .. } = response else { panic!("refused: {response:?}") };
        let cookie = headers.set_cookie.iter().find(|c| c.starts_with("sRefreshToken=")).expect("refresh cookie");
        let access = headers.set_cookie.iter().find(|c| c.starts_with("sAccessToken=")).expect("access cookie");
        let value = |cookie: &str| cookie.split(';').next().and_then(|c| c.split_once('=')).expect("value").1.to_owned();
        (value(cookie), value(access))
    };
    let (child, access) = child_of(client.refresh_session(refresh_with_cookie(&parent)).await.expect("refresh"));
    let (again, _) = child_of(client.refresh_session(refresh_with_cookie(&parent)).await.expect("refresh"));
    assert_eq!(again, child, "the parent again before the child is used: the same child, no theft");

    let cookie = format!("sAccessToken={access}");
    let info = session_info(&client, &[("cookie", &cookie), ("rid", "session")]).await;
    assert_eq!(info.status, 200, "{}", info.text());
    let response = client.refresh_session(refresh_with_cookie(&parent)).await.expect("refresh");
    let refresh_session::Response::Unauthorized { body, .. } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "token theft detected");
    let response = client.refresh_session(refresh_with_cookie(&child)).await.expect("refresh");
    let refresh_session::Response::Unauthorized { body, .. } = response else { panic!("{response:?}") };
    assert_eq!(body.message, "unauthorised", "the session is revoked");
    server.stop().await;
}
}

on_both_frameworks! {
async fn expose_headers_name_exactly_the_headers_set_without_cors() {
    // Behind the server's CORS layer the header lists the policy's exposed headers; the recipes alone
    // name exactly what each response set.
    let dir = tempfile::tempdir().expect("temp dir");
    let capture = support::Capture::default();
    let config = Config::new(support::WEBSITE, "http://localhost:3001").expect("valid domains");
    let store = SqliteStore::open(dir.path().join("auth.db")).await.expect("store");
    let recipes = AuthRecipes::new(config, store, Arc::new(capture.clone())).await.expect("recipes");
    let client = auth_api::client::Client::in_process(recipes.into_router());

    let created = support::create_code_for_email(&client, "exact@example.com").await;
    let code = capture.last_code();
    let consume =
        client.consume_code(support::consume_with_code(&created, &code, Some("cookie"))).await.expect("consume");
    let auth_api::ops::consume_code::Response::Ok { headers, .. } = consume else { panic!("{consume:?}") };
    assert_eq!(headers.access_control_expose_headers.as_deref(), Some("front-token"));

    let created = support::create_code_for_email(&client, "exact@example.com").await;
    let code = capture.last_code();
    let consume = client.consume_code(support::consume_with_code(&created, &code, None)).await.expect("consume");
    let auth_api::ops::consume_code::Response::Ok { headers, .. } = consume else { panic!("{consume:?}") };
    assert_eq!(
        headers.access_control_expose_headers.as_deref(),
        Some("front-token, st-access-token, st-refresh-token")
    );

    let refresh = headers.st_refresh_token.expect("refresh token");
    let child = client.refresh_session(refresh_with_bearer(&refresh)).await.expect("refresh");
    let refresh_session::Response::Ok { headers: child, .. } = child else { panic!("{child:?}") };
    // Refreshing with the child uses it, so the parent is theft from now on.
    let child = child.st_refresh_token.expect("child refresh token");
    client.refresh_session(refresh_with_bearer(&child)).await.expect("refresh");
    let theft = client.refresh_session(refresh_with_bearer(&refresh)).await.expect("refresh");
    let refresh_session::Response::Unauthorized { headers, .. } = theft else { panic!("{theft:?}") };
    assert_eq!(
        headers.access_control_expose_headers.as_deref(),
        Some("front-token, st-access-token, st-refresh-token")
    );
}
}

on_both_frameworks! {
async fn third_party_login_methods_and_apple_callback() {
    let server = start(|c| c).await;
    let client = server.client();

    let response = client
        .get_authorisation_url(get_authorisation_url::Request::new("google".into(), "http://localhost:3000/cb".into()))
        .await
        .expect("call");
    let get_authorisation_url::Response::BadRequest(e) = response else { panic!("{response:?}") };
    assert_eq!(e.message, "the provider google could not be found in the configuration");

    let sign_in_up = |info: Option<RedirectUriInfo>| {
        third_party_sign_in_up::Request::new(ThirdPartySignInUpRequest {
            third_party_id: "github".into(),
            client_type: None,
            redirect_uri_info: info,
            o_auth_tokens: None,
            should_try_linking_with_session_user: None,
        })
    };
    let response = client.third_party_sign_in_up(sign_in_up(None)).await.expect("call");
    let third_party_sign_in_up::Response::BadRequest(e) = response else { panic!("{response:?}") };
    assert_eq!(e.message, "Please provide one of redirectURIInfo or oAuthTokens in the request body");
    let info = RedirectUriInfo {
        redirect_uri_on_provider_dashboard: "http://localhost:3000/cb".into(),
        redirect_uri_query_params: [("code".to_owned(), "x".to_owned())].into_iter().collect(),
        pkce_code_verifier: None,
    };
    let response = client.third_party_sign_in_up(sign_in_up(Some(info))).await.expect("call");
    let third_party_sign_in_up::Response::BadRequest(e) = response else { panic!("{response:?}") };
    assert_eq!(e.message, "the provider github could not be found in the configuration");

    let response = client.get_login_methods(get_login_methods::Request::new()).await.expect("call");
    let get_login_methods::Response::Ok(methods) = response else { panic!("{response:?}") };
    assert_eq!(
        serde_json::to_value(methods).expect("json"),
        json!({
            "status": "OK",
            "emailPassword": { "enabled": false },
            "thirdParty": { "enabled": false, "providers": [] },
            "passwordless": { "enabled": true },
            "webauthn": { "enabled": false },
            "firstFactors": ["otp-email", "otp-phone", "link-email", "link-phone"],
        })
    );

    let state = base64::engine::general_purpose::STANDARD
        .encode(r#"{"frontendRedirectURI":"http://localhost:3000/auth/callback/apple","pkce":1}"#);
    let form =
        AppleCallbackForm {
            code: Some("c0de".into()),
            state: state.clone(),
            id_token: None,
            user: Some("{\"a\":1}".into()),
            additional_properties: Default::default(),
        };
    let response = client.apple_callback(apple_callback::Request::new(form)).await.expect("call");
    let apple_callback::Response::SeeOther { body, headers } = response else { panic!("{response:?}") };
    assert_eq!(body, "");
    let location = url::Url::parse(&headers.location).expect("location is a URL");
    assert_eq!(location.origin().ascii_serialization(), "http://localhost:3000");
    assert_eq!(location.path(), "/auth/callback/apple");
    let query: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    assert_eq!(
        query,
        [
            ("code".to_owned(), "c0de".to_owned()),
            ("state".to_owned(), state),
            ("user".to_owned(), "{\"a\":1}".to_owned())
        ]
    );

    // Bad input is a 400 with the FDI's JSON body, never a 500, and the callback is no open redirect.
    let foreign = |uri: &str| {
        let json = serde_json::json!({ "frontendRedirectURI": uri }).to_string();
        let state = base64::engine::general_purpose::STANDARD.encode(json);
        url::form_urlencoded::Serializer::new(String::new()).append_pair("state", &state).finish()
    };
    let not_a_state = "the state is not base64 JSON with a frontendRedirectURI";
    let elsewhere = "the frontendRedirectURI of the state is not on the website domain";
    let cases = [
        ("state=".to_owned(), not_a_state),
        ("state=%25%25%25&code=x".to_owned(), not_a_state),
        ("code=x".to_owned(), "missing field `state`"),
        (foreign("https://evil.example/auth/callback/apple"), elsewhere),
        (foreign("javascript:alert(document.cookie)"), elsewhere),
        (foreign("//evil.example/auth/callback/apple"), elsewhere),
        // Look-alikes of the website's origin: another port, https, a longer host, user info, a backslash.
        (foreign("http://localhost:3001/auth/callback/apple"), elsewhere),
        (foreign("https://localhost:3000/auth/callback/apple"), elsewhere),
        (foreign("http://localhost:3000.evil.example/auth/callback/apple"), elsewhere),
        (foreign("http://localhost:3000@evil.example/auth/callback/apple"), elsewhere),
        (foreign("http:\\\\evil.example/auth/callback/apple"), elsewhere),
        (foreign("/auth/callback/apple"), elsewhere),
    ];
    for (body, expected) in cases {
        let raw = auth_api::runtime::RawRequest {
            method: "POST".into(),
            path: "/auth/callback/apple".into(),
            headers: vec![("content-type".into(), "application/x-www-form-urlencoded".into())],
            body: body.clone().into(),
            ..Default::default()
        };
        let response = client.send(raw).await.expect("call");
        assert_eq!(response.status, 400, "{body}: {}", response.text());
        assert!(response.header("location").is_none(), "{body}: no redirect");
        let json: serde_json::Value = serde_json::from_slice(&response.body).expect("a JSON body");
        assert!(json["message"].as_str().is_some_and(|m| m.contains(expected)), "{body}: {json}");
    }
    server.stop().await;
}
}
