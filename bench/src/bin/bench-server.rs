//! A server for `bench/adapters.sh`: the generated adapter or a hand-written baseline doing the same work,
//! on axum or actix-web, answering `POST /auth/signinup/code`.
//!
//! Usage: `bench-server MODE PORT` with MODE one of `generated-axum`, `handwritten-axum`, `generated-actix`,
//! `handwritten-actix`.

use std::sync::Arc;

use auth_api::ops;
use auth_api::types::{CreateCodeOk, CreateCodeResponse, ErrorMessage, FlowType};
use serde::{Deserialize, Serialize};

/// The implementation behind the generated adapters: the same answer as the baselines.
struct Bench;

fn not_benchmarked() -> ErrorMessage {
    ErrorMessage { message: "not benchmarked".into() }
}

macro_rules! only_create_code {
    ($($op:ident),*) => {
        impl auth_api::AuthApi for Bench {
            async fn create_code(&self, request: ops::create_code::Request) -> ops::create_code::Response {
                answer(request.body.email.is_some() != request.body.phone_number.is_some())
            }
            $(
                async fn $op(&self, _: ops::$op::Request) -> ops::$op::Response {
                    ops::$op::Response::InternalServerError(not_benchmarked())
                }
            )*
        }
    };
}

only_create_code!(
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

fn answer(exactly_one: bool) -> ops::create_code::Response {
    if !exactly_one {
        return ops::create_code::Response::BadRequest(ErrorMessage {
            message: "Please provide exactly one of email or phoneNumber".into(),
        });
    }
    ops::create_code::Response::Ok(CreateCodeResponse::Ok(CreateCodeOk {
        device_id: "ZmFrZS1kZXZpY2UtaWQtZm9yLWJlbmNobWFya2luZy0xMjM0NTY=".into(),
        pre_auth_session_id: "c2Vzc2lvbi1pZC1mb3ItYmVuY2htYXJraW5nLTEyMzQ1Njc4".into(),
        flow_type: FlowType::UserInputCodeAndMagicLink,
    }))
}

/// The hand-written request body: what a developer would write without the generator.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HandRequest {
    email: Option<String>,
    phone_number: Option<String>,
    #[allow(dead_code, reason = "parsed like the generated type, not used")]
    should_try_linking_with_session_user: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HandOk {
    status: &'static str,
    device_id: &'static str,
    pre_auth_session_id: &'static str,
    flow_type: &'static str,
}

const HAND_OK: HandOk = HandOk {
    status: "OK",
    device_id: "ZmFrZS1kZXZpY2UtaWQtZm9yLWJlbmNobWFya2luZy0xMjM0NTY=",
    pre_auth_session_id: "c2Vzc2lvbi1pZC1mb3ItYmVuY2htYXJraW5nLTEyMzQ1Njc4",
    flow_type: "USER_INPUT_CODE_AND_MAGIC_LINK",
};

/// The baselines' shared logic: parse, check, answer (status and JSON body).
fn hand_answer(body: &[u8]) -> (u16, String) {
    match serde_json::from_slice::<HandRequest>(body) {
        Ok(r) if r.email.is_some() != r.phone_number.is_some() => {
            (200, serde_json::to_string(&HAND_OK).unwrap_or_default())
        }
        Ok(_) => (400, r#"{"message":"Please provide exactly one of email or phoneNumber"}"#.to_owned()),
        Err(e) => (400, serde_json::json!({ "message": e.to_string() }).to_string()),
    }
}

async fn axum_baseline(body: axum::body::Bytes) -> axum::response::Response {
    let (status, json) = hand_answer(&body);
    axum::response::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(json))
        .unwrap_or_default()
}

async fn actix_baseline(body: actix_web::web::Bytes) -> actix_web::HttpResponse {
    let (status, json) = hand_answer(&body);
    actix_web::HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK),
    )
    .content_type("application/json")
    .body(json)
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8088);
    let addr = ("127.0.0.1", port);
    match mode.as_str() {
        "generated-axum" | "handwritten-axum" => {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
            runtime.block_on(async move {
                let app = if mode == "generated-axum" {
                    auth_api::server::axum::router(Bench)
                } else {
                    axum::Router::new().route("/auth/signinup/code", axum::routing::post(axum_baseline))
                };
                let listener = tokio::net::TcpListener::bind(addr).await?;
                axum::serve(listener, app).await
            })
        }
        "generated-actix" | "handwritten-actix" => actix_web::rt::System::new().block_on(async move {
            let api = Arc::new(Bench);
            let generated = mode == "generated-actix";
            actix_web::HttpServer::new(move || {
                let app = actix_web::App::new();
                if generated {
                    app.configure(auth_api::server::actix::configure(api.clone()))
                } else {
                    app.route("/auth/signinup/code", actix_web::web::post().to(actix_baseline))
                }
            })
            .workers(1)
            .bind(addr)?
            .run()
            .await
        }),
        other => {
            eprintln!(
                "unknown mode `{other}`; use generated-axum, handwritten-axum, generated-actix or handwritten-actix"
            );
            std::process::exit(2)
        }
    }
}
