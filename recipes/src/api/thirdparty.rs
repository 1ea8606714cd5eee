//! The third-party recipe: the provider's authorisation URL, sign-in/up with what the provider sent back,
//! and the redirect of Apple's form-post callback to the frontend.

use auth_api::ops::{apple_callback, get_authorisation_url, third_party_sign_in_up};
use auth_api::types::{
    AuthorisationUrlOk, AuthorisationUrlResponse, GeneralError, NoEmailGivenByProviderError, ThirdPartySignInUpOk,
    ThirdPartySignInUpResponse,
};

use super::passwordless::unauthorised;
use super::{AuthRecipes, Failure, fdi_user, message, too_many_requests};
use crate::logsafe::Escaped;
use crate::now_ms;
use crate::store::{Store, ThirdPartyAccount};
use crate::tenants::Tenant;
use crate::thirdparty::{self, Grant, ThirdPartyError};
use crate::{audit, ids};

pub(super) async fn authorisation_url<S: Store>(
    recipes: &AuthRecipes<S>,
    tenant: &Tenant,
    request: get_authorisation_url::Request,
) -> get_authorisation_url::Response {
    use get_authorisation_url::Response;
    let limit = recipes.config.rate_limits.authorisation_url_per_client;
    match recipes.client_over_limit("authorisation-url-per-client", limit).await {
        Ok(Some(seconds)) => return too_many_requests!(get_authorisation_url, seconds),
        Ok(None) => {}
        Err(failure) => return Response::InternalServerError(failure.into_body("getAuthorisationUrl")),
    }
    let url = tenant
        .third_party
        .authorisation_url(
            &request.third_party_id,
            request.client_type.as_deref(),
            &request.redirect_uri_on_provider_dashboard,
        )
        .await;
    match url {
        Ok(url) => Response::Ok(AuthorisationUrlResponse::Ok(AuthorisationUrlOk {
            url_with_query_params: url.url,
            pkce_code_verifier: url.pkce_code_verifier,
        })),
        Err(error @ (ThirdPartyError::UnknownProvider(_) | ThirdPartyError::ClientType(_))) => {
            Response::BadRequest(message(error.to_string()))
        }
        Err(error) => {
            tracing::warn!(provider = %Escaped(&request.third_party_id), error = %Escaped(&error), "authorisation URL failed");
            Response::Ok(AuthorisationUrlResponse::GeneralError(GeneralError {
                message: "The provider could not be reached; please try again".to_owned(),
            }))
        }
    }
}

pub(super) async fn sign_in_up<S: Store>(
    recipes: &AuthRecipes<S>,
    tenant: &Tenant,
    request: third_party_sign_in_up::Request,
) -> third_party_sign_in_up::Response {
    if !tenant.allows_any(&["thirdparty"]) && tenant.third_party.is_enabled() {
        return third_party_sign_in_up::Response::Unauthorized(unauthorised());
    }
    let limit = recipes.config.rate_limits.sign_in_up_per_client;
    match recipes.client_over_limit("sign-in-up-per-client", limit).await {
        Ok(Some(seconds)) => return too_many_requests!(third_party_sign_in_up, seconds),
        Ok(None) => {}
        Err(failure) => {
            return third_party_sign_in_up::Response::InternalServerError(failure.into_body("thirdPartySignInUp"));
        }
    }
    match recipes.third_party_sign_in(tenant, request).await {
        Ok(response) => response,
        Err(failure) => third_party_sign_in_up::Response::InternalServerError(failure.into_body("thirdPartySignInUp")),
    }
}

pub(super) fn apple_callback<S: Store>(
    recipes: &AuthRecipes<S>,
    request: apple_callback::Request,
) -> apple_callback::Response {
    use apple_callback::Response;
    match apple_redirect(&request.body, &recipes.config().website_domain) {
        Ok(location) => {
            Response::SeeOther { body: String::new(), headers: apple_callback::SeeOtherHeaders { location } }
        }
        Err(refusal) => {
            tracing::warn!("apple callback refused: {}", refusal.escape_debug());
            Response::BadRequest(message(refusal))
        }
    }
}

/// The GENERAL_ERROR message of a failed third-party sign-in: shown to the user by the frontend, so it says
/// what happened without the provider's raw answer (which is logged).
fn sign_in_failure_message(error: &ThirdPartyError) -> String {
    match error {
        ThirdPartyError::Denied(reason) => format!("The sign-in was not completed at the provider ({reason})"),
        ThirdPartyError::IdToken { error, .. } => format!("The identity token from the provider was refused: {error}"),
        ThirdPartyError::NoUserId(_) => "The provider did not say who signed in".to_owned(),
        _ => "The provider could not complete the sign-in; please try again".to_owned(),
    }
}

impl<S: Store> AuthRecipes<S> {
    /// Third-party sign-in/up: asks the provider who signed in, then signs that account in or up and starts
    /// a session exactly as passwordless does.
    async fn third_party_sign_in(
        &self,
        tenant: &Tenant,
        request: third_party_sign_in_up::Request,
    ) -> Result<third_party_sign_in_up::Response, Failure> {
        use third_party_sign_in_up::Response;
        let body = request.body;
        let grant = match (body.redirect_uri_info, body.o_auth_tokens) {
            (Some(info), _) => Grant::Redirect {
                redirect_uri: info.redirect_uri_on_provider_dashboard,
                query: info.redirect_uri_query_params,
                pkce_code_verifier: info.pkce_code_verifier,
            },
            (None, Some(tokens)) => Grant::Tokens(tokens),
            (None, None) => {
                return Ok(Response::BadRequest(message(
                    "Please provide one of redirectURIInfo or oAuthTokens in the request body",
                )));
            }
        };
        let general_error = |text: String| {
            Ok(Response::Ok {
                body: ThirdPartySignInUpResponse::GeneralError(GeneralError { message: text }),
                headers: Default::default(),
            })
        };
        let (identity, require_email) = match tenant
            .third_party
            .sign_in(&body.third_party_id, body.client_type.as_deref(), grant)
            .await
        {
            Ok(found) => found,
            Err(error @ (ThirdPartyError::UnknownProvider(_) | ThirdPartyError::ClientType(_))) => {
                return Ok(Response::BadRequest(message(error.to_string())));
            }
            Err(error @ ThirdPartyError::AccessTokenRefused(_)) => {
                tracing::warn!(provider = %Escaped(&body.third_party_id), error = %Escaped(&error), "third-party sign-in refused");
                return Ok(Response::BadRequest(message(error.to_string())));
            }
            Err(error) => {
                tracing::warn!(provider = %Escaped(&body.third_party_id), error = %Escaped(&error), "third-party sign-in failed");
                return general_error(sign_in_failure_message(&error));
            }
        };
        let (email, verified) = match identity.email {
            Some(email) => email,
            None if require_email => {
                return Ok(Response::Ok {
                    body: ThirdPartySignInUpResponse::NoEmailGivenByProvider(NoEmailGivenByProviderError {}),
                    headers: Default::default(),
                });
            }
            // A fake email counts as verified, as supertokens-node treats it.
            None => (thirdparty::fake_email(&identity.third_party_user_id, &identity.third_party_id), true),
        };
        let account = ThirdPartyAccount {
            third_party_id: identity.third_party_id,
            third_party_user_id: identity.third_party_user_id,
        };
        let email = email.trim().to_lowercase();
        let (user, created) = self
            .store
            .third_party_sign_in_up(&tenant.id, &account, &email, verified, &ids::uuid_v4()?, now_ms())
            .await?;
        audit::signed_in("thirdparty", Some(&account.third_party_id), &user.user_id, created);
        let headers = self.start_session(&user, request.st_auth_mode.as_deref()).await?;
        let body = ThirdPartySignInUpResponse::Ok(ThirdPartySignInUpOk {
            user: fdi_user(&user),
            created_new_recipe_user: created,
        });
        Ok(Response::Ok { body, headers: headers.into() })
    }
}

/// The 303 target of Apple's form post: the `frontendRedirectURI` of the base64 JSON `state`, with every
/// form field set as a query parameter (replacing one of the same name), as supertokens-node does. Unlike
/// node, only a URI on the website's origin (`website`, as `scheme://host[:port]`) is followed: anything else
/// (another site, `javascript:`, a scheme-relative `//host`) is the 400 message, so the callback is no open
/// redirect.
fn apple_redirect(form: &auth_api::types::AppleCallbackForm, website: &str) -> Result<String, &'static str> {
    const ELSEWHERE: &str = "the frontendRedirectURI of the state is not on the website domain";
    let target = frontend_redirect(&form.state).ok_or("the state is not base64 JSON with a frontendRedirectURI")?;
    // Only an absolute URL has an origin to compare: a relative or scheme-relative one (`//evil.example`,
    // which a browser resolves against the callback's own scheme) is refused like any other site.
    let url = url::Url::parse(&target).map_err(|_| ELSEWHERE)?;
    if url.origin().ascii_serialization() != website {
        return Err(ELSEWHERE);
    }
    Ok(append_form_fields(form, url))
}

/// The `frontendRedirectURI` of a base64 JSON `state`, as written.
fn frontend_redirect(state: &str) -> Option<String> {
    use base64::Engine as _;
    // Node's base64 decoder takes both alphabets, with or without padding.
    let normalised: String = state
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let state = base64::engine::general_purpose::STANDARD_NO_PAD.decode(normalised).ok()?;
    let state: serde_json::Value = serde_json::from_slice(&state).ok()?;
    Some(state.get("frontendRedirectURI")?.as_str()?.to_owned())
}

/// Completes [`apple_redirect`] once the target is known to be on the website.
fn append_form_fields(form: &auth_api::types::AppleCallbackForm, mut url: url::Url) -> String {
    let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let listed = [
        ("code", form.code.as_ref()),
        ("state", Some(&form.state)),
        ("id_token", form.id_token.as_ref()),
        ("user", form.user.as_ref()),
    ];
    // Fields the spec does not list (such as `error` when the user cancelled) are forwarded too.
    let others = form.additional_properties.iter().map(|(k, v)| (k.as_str(), Some(v)));
    for (name, value) in listed.into_iter().chain(others) {
        let Some(value) = value else { continue };
        match pairs.iter().position(|(key, _)| key == name) {
            Some(first) => {
                pairs[first].1 = value.clone();
                let mut index = 0;
                pairs.retain(|(key, _)| {
                    index += 1;
                    key != name || index - 1 == first
                });
            }
            None => pairs.push((name.to_owned(), value.clone())),
        }
    }
    url.query_pairs_mut().clear().extend_pairs(&pairs);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const WEBSITE: &str = "https://app.example.com";

    #[test]
    fn apple_redirect_follows_only_the_website_origin() {
        for target in [
            "https://evil.example/cb",
            "https://app.example.com.evil.example/cb",
            "http://app.example.com/cb",
            "https://app.example.com:8443/cb",
            "javascript:alert(1)",
            "//evil.example/cb",
            "/auth/callback/apple",
            "data:text/html,hi",
            "https://app.example.com@evil.example/cb",
            "https:\\\\evil.example/cb",
            "",
        ] {
            let form = form(&serde_json::json!({ "frontendRedirectURI": target }).to_string());
            let refused = apple_redirect(&form, WEBSITE);
            assert_eq!(refused, Err("the frontendRedirectURI of the state is not on the website domain"), "{target}");
        }
    }

    fn form(state_json: &str) -> auth_api::types::AppleCallbackForm {
        auth_api::types::AppleCallbackForm {
            code: Some("c 1".into()),
            state: base64::engine::general_purpose::STANDARD.encode(state_json),
            id_token: Some("tok".into()),
            user: None,
            additional_properties: Default::default(),
        }
    }

    #[test]
    fn apple_redirect_appends_the_form_fields() {
        let form = form(r#"{"frontendRedirectURI":"https://app.example.com/auth/callback/apple?x=1&code=old"}"#);
        let location = apple_redirect(&form, WEBSITE).expect("valid state");
        let state = url::form_urlencoded::byte_serialize(form.state.as_bytes()).collect::<String>();
        assert_eq!(
            location,
            format!("https://app.example.com/auth/callback/apple?x=1&code=c+1&state={state}&id_token=tok")
        );
        for state in ["%%%", "", "bm90IGpzb24", "e30"] {
            let bad = auth_api::types::AppleCallbackForm { state: state.into(), ..form.clone() };
            assert_eq!(
                apple_redirect(&bad, WEBSITE),
                Err("the state is not base64 JSON with a frontendRedirectURI"),
                "{state:?}"
            );
        }
    }

    #[test]
    fn a_cancelled_apple_sign_in_forwards_the_error() {
        let mut form = form(r#"{"frontendRedirectURI":"https://app.example.com/cb"}"#);
        form.code = None;
        form.id_token = None;
        form.additional_properties.insert("error".into(), "user_cancelled_authorize".into());
        let location = apple_redirect(&form, WEBSITE).expect("valid state");
        let state = url::form_urlencoded::byte_serialize(form.state.as_bytes()).collect::<String>();
        assert_eq!(location, format!("https://app.example.com/cb?state={state}&error=user_cancelled_authorize"));
    }
}
