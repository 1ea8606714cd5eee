//! Round trip through the code generated from spec/auth.yaml: a small implementation of the generated trait,
//! served by the generated axum router on loopback and in-process, called through the generated client for
//! every operation. Statuses, bodies, response headers and cookies are asserted on both transports.

use std::net::SocketAddr;

use auth_api::AuthApi;
use auth_api::client::Client;
use auth_api::ops::{
    apple_callback, consume_code, create_code, generate_email_verify_token, get_authorisation_url, get_jwks,
    get_login_methods, is_email_verified, passwordless_email_exists, passwordless_phone_number_exists, refresh_session,
    resend_code, sign_out, third_party_sign_in_up, verify_email,
};
use auth_api::types::*;

mod support;

/// A deterministic stand-in for the recipes: enough logic to return every kind of response.
struct Fake;

fn user(id: &str) -> User {
    User {
        id: id.to_owned(),
        is_primary_user: false,
        tenant_ids: vec!["public".into()],
        emails: vec!["a@example.com".into()],
        phone_numbers: vec![],
        third_party: vec![],
        webauthn: None,
        time_joined: 1_700_000_000_000,
        login_methods: vec![LoginMethod {
            recipe_id: LoginMethodRecipeId::Passwordless,
            recipe_user_id: id.to_owned(),
            tenant_ids: vec!["public".into()],
            email: Some("a@example.com".into()),
            phone_number: None,
            third_party: None,
            webauthn: None,
            time_joined: 1_700_000_000_000,
            verified: true,
        }],
    }
}

fn unauthorised() -> ErrorMessage {
    ErrorMessage { message: "unauthorised".into() }
}

const CLEAR: &str = "Expires=Thu, 01 Jan 1970 00:00:00 GMT";

impl AuthApi for Fake {
    async fn create_code(&self, r: create_code::Request) -> create_code::Response {
        match (r.body.email, r.body.phone_number) {
            (Some(_), None) => create_code::Response::Ok(CreateCodeResponse::Ok(CreateCodeOk {
                device_id: "dev".into(),
                pre_auth_session_id: "pre".into(),
                flow_type: FlowType::UserInputCodeAndMagicLink,
            })),
            (None, Some(_)) => create_code::Response::Ok(CreateCodeResponse::GeneralError(GeneralError {
                message: "Phone number is invalid".into(),
            })),
            _ => create_code::Response::BadRequest(ErrorMessage {
                message: "Please provide exactly one of email or phoneNumber".into(),
            }),
        }
    }

    async fn resend_code(&self, r: resend_code::Request) -> resend_code::Response {
        if r.body.device_id == "dev" {
            resend_code::Response::Ok(ResendCodeResponse::Ok(StatusOk {}))
        } else {
            resend_code::Response::Ok(ResendCodeResponse::RestartFlowError(RestartFlowError {}))
        }
    }

    async fn consume_code(&self, r: consume_code::Request) -> consume_code::Response {
        if r.body.user_input_code.as_deref() != Some("123456") {
            return consume_code::Response::Ok {
                body: ConsumeCodeResponse::IncorrectUserInputCodeError(IncorrectUserInputCodeError {
                    failed_code_input_attempt_count: 1,
                    maximum_code_input_attempts: 5,
                }),
                headers: Default::default(),
            };
        }
        let cookie_mode = r.st_auth_mode.as_deref() == Some("cookie");
        let mut headers = consume_code::OkHeaders { front_token: Some("ft1".into()), ..Default::default() };
        if cookie_mode {
            headers.set_cookie = vec![
                "sAccessToken=a1; Path=/; HttpOnly; SameSite=Lax".into(),
                "sRefreshToken=r1; Path=/auth/session/refresh; HttpOnly; SameSite=Lax".into(),
            ];
            headers.access_control_expose_headers = Some("front-token".into());
        } else {
            headers.st_access_token = Some("a1".into());
            headers.st_refresh_token = Some("r1".into());
            headers.access_control_expose_headers = Some("front-token, st-access-token, st-refresh-token".into());
        }
        consume_code::Response::Ok {
            body: ConsumeCodeResponse::Ok(ConsumeCodeOk { created_new_recipe_user: true, user: user("u1") }),
            headers,
        }
    }

    async fn passwordless_email_exists(
        &self,
        r: passwordless_email_exists::Request,
    ) -> passwordless_email_exists::Response {
        passwordless_email_exists::Response::Ok(ExistsResponse::Ok(ExistsOk { exists: r.email == "a@example.com" }))
    }

    async fn passwordless_phone_number_exists(
        &self,
        r: passwordless_phone_number_exists::Request,
    ) -> passwordless_phone_number_exists::Response {
        passwordless_phone_number_exists::Response::Ok(ExistsResponse::Ok(ExistsOk {
            exists: r.phone_number == "+14155552671",
        }))
    }

    async fn get_authorisation_url(&self, r: get_authorisation_url::Request) -> get_authorisation_url::Response {
        if r.third_party_id != "google" {
            return get_authorisation_url::Response::BadRequest(ErrorMessage {
                message: format!("the provider {} could not be found in the configuration", r.third_party_id),
            });
        }
        get_authorisation_url::Response::Ok(AuthorisationUrlResponse::Ok(AuthorisationUrlOk {
            url_with_query_params: format!(
                "https://accounts.example/auth?redirect_uri={}&client_type={}",
                r.redirect_uri_on_provider_dashboard,
                r.client_type.unwrap_or_default()
            ),
            pkce_code_verifier: Some("verifier".into()),
        }))
    }

    async fn third_party_sign_in_up(&self, r: third_party_sign_in_up::Request) -> third_party_sign_in_up::Response {
        let body = match r.body.redirect_uri_info {
            Some(info) if info.redirect_uri_query_params.get("code").map(String::as_str) == Some("c") => {
                ThirdPartySignInUpResponse::Ok(ThirdPartySignInUpOk {
                    user: user("tp1"),
                    created_new_recipe_user: false,
                })
            }
            _ => ThirdPartySignInUpResponse::NoEmailGivenByProvider(NoEmailGivenByProviderError {}),
        };
        third_party_sign_in_up::Response::Ok { body, headers: Default::default() }
    }

    async fn apple_callback(&self, r: apple_callback::Request) -> apple_callback::Response {
        apple_callback::Response::SeeOther {
            body: String::new(),
            headers: apple_callback::SeeOtherHeaders {
                location: format!(
                    "http://localhost:3000/auth/callback/apple?code={}&state={}&error={}",
                    r.body.code.unwrap_or_default(),
                    r.body.state,
                    r.body.additional_properties.get("error").cloned().unwrap_or_default()
                ),
            },
        }
    }

    async fn refresh_session(&self, r: refresh_session::Request) -> refresh_session::Response {
        let token = r.refresh_token_bearer.or(r.refresh_token_cookie);
        match token.as_deref() {
            Some("r1") => refresh_session::Response::Ok {
                body: EmptyObject {},
                headers: refresh_session::OkHeaders {
                    front_token: Some("ft2".into()),
                    set_cookie: vec![
                        "sAccessToken=a2; Path=/; HttpOnly; SameSite=Lax".into(),
                        "sRefreshToken=r2; Path=/auth/session/refresh; HttpOnly; SameSite=Lax".into(),
                    ],
                    ..Default::default()
                },
            },
            Some(_) => refresh_session::Response::Unauthorized {
                body: ErrorMessage { message: "token theft detected".into() },
                headers: refresh_session::UnauthorizedHeaders {
                    front_token: Some("remove".into()),
                    set_cookie: vec![
                        format!("sAccessToken=; Path=/; {CLEAR}; HttpOnly"),
                        format!("sRefreshToken=; Path=/auth/session/refresh; {CLEAR}; HttpOnly"),
                    ],
                    ..Default::default()
                },
            },
            None => refresh_session::Response::Unauthorized { body: unauthorised(), headers: Default::default() },
        }
    }

    async fn sign_out(&self, r: sign_out::Request) -> sign_out::Response {
        if r.access_token_bearer.is_none() && r.access_token_cookie.is_none() {
            return sign_out::Response::Unauthorized { body: unauthorised(), headers: Default::default() };
        }
        sign_out::Response::Ok {
            body: SignOutResponse::Ok(StatusOk {}),
            headers: sign_out::OkHeaders {
                front_token: Some("remove".into()),
                set_cookie: vec![
                    format!("sAccessToken=; Path=/; {CLEAR}; HttpOnly"),
                    format!("sRefreshToken=; Path=/auth/session/refresh; {CLEAR}; HttpOnly"),
                ],
                ..Default::default()
            },
        }
    }

    async fn get_jwks(&self, _: get_jwks::Request) -> get_jwks::Response {
        get_jwks::Response::Ok {
            body: Jwks {
                keys: vec![Jwk {
                    kty: "EC".into(),
                    crv: "P-256".into(),
                    x: "x".into(),
                    y: "y".into(),
                    kid: "k1".into(),
                    alg: "ES256".into(),
                    use_: "sig".into(),
                }],
            },
            headers: get_jwks::OkHeaders { cache_control: Some("max-age=60".into()) },
        }
    }

    async fn generate_email_verify_token(
        &self,
        r: generate_email_verify_token::Request,
    ) -> generate_email_verify_token::Response {
        let body = match (r.access_token_bearer.as_deref(), r.tenant_id.as_str()) {
            (None, _) => return generate_email_verify_token::Response::Unauthorized(unauthorised()),
            (Some(_), "public") => GenerateEmailVerifyTokenResponse::Ok(StatusOk {}),
            (Some(_), _) => GenerateEmailVerifyTokenResponse::EmailAlreadyVerifiedError(EmailAlreadyVerifiedError {}),
        };
        generate_email_verify_token::Response::Ok { body, headers: Default::default() }
    }

    async fn verify_email(&self, r: verify_email::Request) -> verify_email::Response {
        if r.body.token != "good" {
            let body = VerifyEmailResponse::EmailVerificationInvalidTokenError(EmailVerificationInvalidTokenError {});
            return verify_email::Response::Ok { body, headers: Default::default() };
        }
        let user = EmailVerificationUser { id: format!("u-{}", r.tenant_id), email: "a@example.com".into() };
        verify_email::Response::Ok {
            body: VerifyEmailResponse::Ok(VerifyEmailOk { user }),
            headers: Default::default(),
        }
    }

    async fn is_email_verified(&self, r: is_email_verified::Request) -> is_email_verified::Response {
        match r.access_token_cookie {
            // A session whose claim is behind gets a new access token with the claim brought up to date.
            Some(token) => is_email_verified::Response::Ok {
                body: IsEmailVerifiedResponse::Ok(IsEmailVerifiedOk { is_verified: token == "verified" }),
                headers: is_email_verified::OkHeaders {
                    front_token: Some("ft-ev".into()),
                    set_cookie: vec!["sAccessToken=a-ev; Path=/; HttpOnly".into()],
                    ..Default::default()
                },
            },
            None => is_email_verified::Response::Unauthorized(unauthorised()),
        }
    }

    async fn get_login_methods(&self, r: get_login_methods::Request) -> get_login_methods::Response {
        get_login_methods::Response::Ok(LoginMethodsResponse {
            status: LoginMethodsResponseStatus::Ok,
            email_password: RecipeEnabled { enabled: false },
            third_party: ThirdPartyLoginMethod {
                enabled: r.client_type.is_some(),
                providers: vec![ProviderSummary { id: "google".into(), name: "Google".into() }],
            },
            passwordless: RecipeEnabled { enabled: true },
            webauthn: RecipeEnabled { enabled: false },
            first_factors: vec!["otp-email".into(), "link-email".into()],
        })
    }
}

async fn loopback_client() -> Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr: SocketAddr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        axum::serve(listener, auth_api::server::axum::router(Fake)).await.expect("serve");
    });
    Client::new(&format!("http://{addr}")).expect("client")
}

fn in_process_client() -> Client {
    Client::in_process(auth_api::server::axum::router(Fake))
}

/// Every way the generated code can serve the same implementation: axum on loopback, axum in-process and
/// actix-web on loopback. Each test runs its assertions against all of them.
async fn both() -> Vec<(&'static str, Client)> {
    vec![
        ("axum loopback", loopback_client().await),
        ("axum in-process", in_process_client()),
        ("actix-web loopback", support::serve_actix(Fake)),
    ]
}

#[tokio::test]
async fn passwordless_operations_round_trip() {
    for (name, client) in both().await {
        let body = CreateCodeRequest {
            email: Some("a@example.com".into()),
            phone_number: None,
            should_try_linking_with_session_user: None,
        };
        let resp = client.create_code(create_code::Request::new(body)).await.expect(name);
        assert_eq!(
            resp,
            create_code::Response::Ok(CreateCodeResponse::Ok(CreateCodeOk {
                device_id: "dev".into(),
                pre_auth_session_id: "pre".into(),
                flow_type: FlowType::UserInputCodeAndMagicLink,
            })),
            "{name}"
        );

        let neither = CreateCodeRequest { email: None, phone_number: None, should_try_linking_with_session_user: None };
        let resp = client.create_code(create_code::Request::new(neither)).await.expect(name);
        assert_eq!(resp.status(), 400, "{name}");
        assert_eq!(
            resp,
            create_code::Response::BadRequest(ErrorMessage {
                message: "Please provide exactly one of email or phoneNumber".into()
            })
        );

        let phone = CreateCodeRequest {
            email: None,
            phone_number: Some("12".into()),
            should_try_linking_with_session_user: Some(false),
        };
        let resp = client.create_code(create_code::Request::new(phone)).await.expect(name);
        assert!(
            matches!(resp, create_code::Response::Ok(CreateCodeResponse::GeneralError(ref e)) if e.message == "Phone number is invalid"),
            "{name}: {resp:?}"
        );

        let resend = ResendCodeRequest {
            device_id: "dev".into(),
            pre_auth_session_id: "pre".into(),
            should_try_linking_with_session_user: None,
        };
        let resp = client.resend_code(resend_code::Request::new(resend)).await.expect(name);
        assert_eq!(resp, resend_code::Response::Ok(ResendCodeResponse::Ok(StatusOk {})));
        let resend = ResendCodeRequest {
            device_id: "other".into(),
            pre_auth_session_id: "pre".into(),
            should_try_linking_with_session_user: None,
        };
        let resp = client.resend_code(resend_code::Request::new(resend)).await.expect(name);
        assert_eq!(resp, resend_code::Response::Ok(ResendCodeResponse::RestartFlowError(RestartFlowError {})));

        let resp = client
            .passwordless_email_exists(passwordless_email_exists::Request::new("a@example.com".into()))
            .await
            .expect(name);
        assert_eq!(resp, passwordless_email_exists::Response::Ok(ExistsResponse::Ok(ExistsOk { exists: true })));
        // A `+` in a query value must be percent-encoded by the client and decoded by the server.
        let resp = client
            .passwordless_phone_number_exists(passwordless_phone_number_exists::Request::new("+14155552671".into()))
            .await
            .expect(name);
        assert_eq!(
            resp,
            passwordless_phone_number_exists::Response::Ok(ExistsResponse::Ok(ExistsOk { exists: true })),
            "{name}"
        );
    }
}

fn consume(code: &str, mode: Option<&str>) -> consume_code::Request {
    let mut r = consume_code::Request::new(ConsumeCodeRequest {
        pre_auth_session_id: "pre".into(),
        link_code: None,
        device_id: Some("dev".into()),
        user_input_code: Some(code.into()),
        should_try_linking_with_session_user: None,
    });
    r.st_auth_mode = mode.map(str::to_owned);
    r.rid = Some("passwordless".into());
    r
}

#[tokio::test]
async fn sessions_in_header_mode_round_trip() {
    for (name, client) in both().await {
        let resp = client.consume_code(consume("000000", None)).await.expect(name);
        assert_eq!(
            resp,
            consume_code::Response::Ok {
                body: ConsumeCodeResponse::IncorrectUserInputCodeError(IncorrectUserInputCodeError {
                    failed_code_input_attempt_count: 1,
                    maximum_code_input_attempts: 5,
                }),
                headers: Default::default(),
            }
        );

        let resp = client.consume_code(consume("123456", None)).await.expect(name);
        let consume_code::Response::Ok { body, headers } = resp else { panic!("{name}: not OK: {resp:?}") };
        assert_eq!(body, ConsumeCodeResponse::Ok(ConsumeCodeOk { created_new_recipe_user: true, user: user("u1") }));
        assert_eq!(headers.front_token.as_deref(), Some("ft1"));
        assert_eq!(headers.st_access_token.as_deref(), Some("a1"));
        assert_eq!(headers.st_refresh_token.as_deref(), Some("r1"));
        assert!(headers.set_cookie.is_empty(), "{name}: header mode sets no cookies");
        assert_eq!(client.cookie("sAccessToken"), None);

        // The bearer credential travels in `authorization` and arrives in the security-scheme field.
        let mut refresh = refresh_session::Request::new();
        refresh.refresh_token_bearer = Some("r1".into());
        let resp = client.refresh_session(refresh).await.expect(name);
        let refresh_session::Response::Ok { body, headers } = resp else { panic!("{name}: {resp:?}") };
        assert_eq!(body, EmptyObject {});
        assert_eq!(headers.front_token.as_deref(), Some("ft2"));

        let mut out = sign_out::Request::new();
        out.access_token_bearer = Some("a2".into());
        let resp = client.sign_out(out).await.expect(name);
        let sign_out::Response::Ok { body, headers } = resp else { panic!("{name}: {resp:?}") };
        assert_eq!(body, SignOutResponse::Ok(StatusOk {}));
        assert_eq!(headers.front_token.as_deref(), Some("remove"));

        let resp = client.sign_out(sign_out::Request::new()).await.expect(name);
        assert_eq!(resp, sign_out::Response::Unauthorized { body: unauthorised(), headers: Default::default() });
        assert_eq!(resp.status(), 401);
    }
}

#[tokio::test]
async fn sessions_in_cookie_mode_use_the_cookie_jar() {
    for (name, client) in both().await {
        let resp = client.consume_code(consume("123456", Some("cookie"))).await.expect(name);
        let consume_code::Response::Ok { headers, .. } = resp else { panic!("{name}: {resp:?}") };
        assert_eq!(
            headers.set_cookie,
            vec![
                "sAccessToken=a1; Path=/; HttpOnly; SameSite=Lax".to_owned(),
                "sRefreshToken=r1; Path=/auth/session/refresh; HttpOnly; SameSite=Lax".to_owned(),
            ],
            "{name}: both Set-Cookie headers arrive, in order"
        );
        assert_eq!(headers.access_control_expose_headers.as_deref(), Some("front-token"));
        assert_eq!(client.cookie("sAccessToken").as_deref(), Some("a1"), "{name}");
        // The refresh cookie is scoped to the refresh path.
        assert_eq!(client.cookie("sRefreshToken"), None, "{name}");
        assert_eq!(client.cookie_for_path("/auth/session/refresh", "sRefreshToken").as_deref(), Some("r1"));

        // No explicit credential: the jar sends sRefreshToken, which the adapter reads into the cookie scheme.
        let resp = client.refresh_session(refresh_session::Request::new()).await.expect(name);
        assert!(matches!(resp, refresh_session::Response::Ok { .. }), "{name}: {resp:?}");
        assert_eq!(client.cookie("sAccessToken").as_deref(), Some("a2"), "{name}: rotated");
        assert_eq!(client.cookie_for_path("/auth/session/refresh", "sRefreshToken").as_deref(), Some("r2"));

        // An old refresh token given explicitly is refused and the cookies are cleared.
        let mut stale = refresh_session::Request::new();
        stale.refresh_token_bearer = Some("r0".into());
        let resp = client.refresh_session(stale).await.expect(name);
        let refresh_session::Response::Unauthorized { body, headers } = resp else { panic!("{name}") };
        assert_eq!(body.message, "token theft detected");
        assert_eq!(headers.front_token.as_deref(), Some("remove"));
        assert_eq!(client.cookie("sAccessToken"), None, "{name}: cleared by an expired Set-Cookie");

        // Sign in again, then sign out with the cookie only.
        client.consume_code(consume("123456", Some("cookie"))).await.expect(name);
        let resp = client.sign_out(sign_out::Request::new()).await.expect(name);
        assert!(matches!(resp, sign_out::Response::Ok { .. }), "{name}: cookie credential reached the server");
        assert_eq!(client.cookie("sAccessToken"), None);
        assert_eq!(client.cookie_for_path("/auth/session/refresh", "sRefreshToken"), None);
    }
}

#[tokio::test]
async fn third_party_and_misc_operations_round_trip() {
    for (name, client) in both().await {
        let mut req = get_authorisation_url::Request::new("google".into(), "http://localhost:3000/cb?x=1&y=2".into());
        req.client_type = Some("web".into());
        let resp = client.get_authorisation_url(req).await.expect(name);
        assert_eq!(
            resp,
            get_authorisation_url::Response::Ok(AuthorisationUrlResponse::Ok(AuthorisationUrlOk {
                url_with_query_params:
                    "https://accounts.example/auth?redirect_uri=http://localhost:3000/cb?x=1&y=2&client_type=web".into(),
                pkce_code_verifier: Some("verifier".into()),
            })),
            "{name}: query values with & and ? survive the round trip"
        );
        let resp = client
            .get_authorisation_url(get_authorisation_url::Request::new("nope".into(), "x".into()))
            .await
            .expect(name);
        assert_eq!(
            resp,
            get_authorisation_url::Response::BadRequest(ErrorMessage {
                message: "the provider nope could not be found in the configuration".into()
            })
        );

        let mut params = std::collections::BTreeMap::new();
        params.insert("code".to_owned(), "c".to_owned());
        let body = ThirdPartySignInUpRequest {
            third_party_id: "google".into(),
            client_type: None,
            redirect_uri_info: Some(RedirectUriInfo {
                redirect_uri_on_provider_dashboard: "http://localhost:3000/cb".into(),
                redirect_uri_query_params: params,
                pkce_code_verifier: None,
            }),
            o_auth_tokens: None,
            should_try_linking_with_session_user: None,
        };
        let resp = client.third_party_sign_in_up(third_party_sign_in_up::Request::new(body.clone())).await.expect(name);
        assert!(
            matches!(resp, third_party_sign_in_up::Response::Ok { body: ThirdPartySignInUpResponse::Ok(ref ok), .. } if ok.user.id == "tp1"),
            "{name}: {resp:?}"
        );
        // Another code: the fake answers that the provider gave no email.
        let mut no_email = body;
        if let Some(info) = no_email.redirect_uri_info.as_mut() {
            info.redirect_uri_query_params.insert("code".into(), "other".into());
        }
        let resp = client.third_party_sign_in_up(third_party_sign_in_up::Request::new(no_email)).await.expect(name);
        assert!(matches!(
            resp,
            third_party_sign_in_up::Response::Ok { body: ThirdPartySignInUpResponse::NoEmailGivenByProvider(_), .. }
        ));

        // A form body and a 303 with a Location header.
        let mut form = AppleCallbackForm {
            code: Some("c 1".into()),
            state: "s&t".into(),
            id_token: None,
            user: None,
            additional_properties: Default::default(),
        };
        form.additional_properties.insert("error".into(), "x".into());
        let resp = client.apple_callback(apple_callback::Request::new(form)).await.expect(name);
        assert_eq!(resp.status(), 303);
        let apple_callback::Response::SeeOther { headers, .. } = resp else { panic!("{name}") };
        assert_eq!(
            headers.location, "http://localhost:3000/auth/callback/apple?code=c 1&state=s&t&error=x",
            "{name}: unlisted form fields arrive"
        );

        let get_jwks::Response::Ok { body: jwks, headers } =
            client.get_jwks(get_jwks::Request::new()).await.expect(name)
        else {
            panic!("{name}")
        };
        assert_eq!(headers.cache_control.as_deref(), Some("max-age=60"));
        assert_eq!(
            (jwks.keys[0].kid.as_str(), jwks.keys[0].use_.as_str()),
            ("k1", "sig"),
            "{name}: `use` keyword field"
        );

        let resp = client.get_login_methods(get_login_methods::Request::new()).await.expect(name);
        let get_login_methods::Response::Ok(methods) = resp else { panic!("{name}") };
        assert!(methods.passwordless.enabled);
        assert!(!methods.third_party.enabled);
        assert_eq!(methods.first_factors, vec!["otp-email".to_owned(), "link-email".to_owned()]);
    }
}

#[tokio::test]
async fn email_verification_operations_round_trip() {
    for (name, client) in both().await {
        let mut send = generate_email_verify_token::Request::new();
        assert_eq!(
            client.generate_email_verify_token(send.clone()).await.expect(name),
            generate_email_verify_token::Response::Unauthorized(unauthorised())
        );
        send.access_token_bearer = Some("a1".into());
        assert_eq!(
            client.generate_email_verify_token(send.clone()).await.expect(name),
            generate_email_verify_token::Response::Ok {
                body: GenerateEmailVerifyTokenResponse::Ok(StatusOk {}),
                headers: Default::default()
            }
        );
        // The tenant travels in the optional segment.
        send.tenant_id = "customer-1".into();
        assert_eq!(send.to_raw().expect("builds").path, "/auth/customer-1/user/email/verify/token");
        assert_eq!(
            client.generate_email_verify_token(send).await.expect(name),
            generate_email_verify_token::Response::Ok {
                body: GenerateEmailVerifyTokenResponse::EmailAlreadyVerifiedError(EmailAlreadyVerifiedError {}),
                headers: Default::default()
            }
        );

        let verify = |token: &str, tenant: &str| {
            let mut request = verify_email::Request::new(VerifyEmailRequest {
                method: Some(VerifyEmailRequestMethod::Token),
                token: token.into(),
            });
            request.tenant_id = tenant.into();
            request
        };
        let resp = client.verify_email(verify("good", "customer-1")).await.expect(name);
        let user = EmailVerificationUser { id: "u-customer-1".into(), email: "a@example.com".into() };
        let body = VerifyEmailResponse::Ok(VerifyEmailOk { user });
        assert_eq!(resp, verify_email::Response::Ok { body, headers: Default::default() });
        let resp = client.send(verify("bad", "public").to_raw().expect("builds")).await.expect(name);
        let json: serde_json::Value = serde_json::from_slice(&resp.body).expect("json");
        assert_eq!(json, serde_json::json!({"status": "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"}));

        assert_eq!(
            client.is_email_verified(is_email_verified::Request::new()).await.expect(name),
            is_email_verified::Response::Unauthorized(unauthorised())
        );
        let mut status = is_email_verified::Request::new();
        status.access_token_cookie = Some("verified".into());
        let raw = client.send(status.to_raw().expect("builds")).await.expect(name);
        assert_eq!(raw.status, 200);
        let json: serde_json::Value = serde_json::from_slice(&raw.body).expect("json");
        assert_eq!(json, serde_json::json!({"status": "OK", "isVerified": true}));
        assert_eq!(raw.header("front-token"), Some("ft-ev"));
        assert_eq!(raw.header_values("set-cookie"), ["sAccessToken=a-ev; Path=/; HttpOnly"]);
        // The renewed access token went into the cookie jar and is what the next request carries.
        let resp = client.is_email_verified(is_email_verified::Request::new()).await.expect(name);
        let is_email_verified::Response::Ok { body, .. } = resp else { panic!("{name}: {resp:?}") };
        assert_eq!(body, IsEmailVerifiedResponse::Ok(IsEmailVerifiedOk { is_verified: false }));
    }
}

#[tokio::test]
async fn wire_format_matches_the_facts_sheet() {
    // Raw bytes on the wire, not only what the typed client decodes.
    for client in [loopback_client().await, support::serve_actix(Fake)] {
        wire_format(client).await;
    }
}

async fn wire_format(client: Client) {
    let raw = consume("123456", None).to_raw().expect("builds");
    let resp = client.send(raw).await.expect("sends");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_slice(&resp.body).expect("json body");
    assert_eq!(json["status"], "OK");
    assert_eq!(json["createdNewRecipeUser"], true);
    assert_eq!(json["user"]["loginMethods"][0]["recipeId"], "passwordless");
    assert!(json["user"].get("webauthn").is_none(), "absent optional fields are omitted, not null");
    assert_eq!(resp.header("st-access-token"), Some("a1"));

    let mut refresh = refresh_session::Request::new();
    refresh.refresh_token_bearer = Some("r1".into());
    let resp = client.send(refresh.to_raw().expect("builds")).await.expect("sends");
    assert_eq!(resp.status, 200);
    assert_eq!(&resp.body[..], b"{}", "the refresh body is the empty object");
    assert_eq!(resp.header_values("set-cookie").len(), 2);
}
