//! The login methods: which recipes and third-party providers this backend has enabled.

use auth_api::ops::get_login_methods;
use auth_api::types::{
    LoginMethodsResponse, LoginMethodsResponseStatus, ProviderSummary, RecipeEnabled, ThirdPartyLoginMethod,
};

use super::AuthRecipes;
use crate::store::Store;

pub(super) fn login_methods<S: Store>(recipes: &AuthRecipes<S>) -> get_login_methods::Response {
    get_login_methods::Response::Ok(LoginMethodsResponse {
        status: LoginMethodsResponseStatus::Ok,
        email_password: RecipeEnabled { enabled: false },
        third_party: ThirdPartyLoginMethod {
            enabled: recipes.third_party.is_enabled(),
            providers: recipes
                .third_party
                .providers()
                .map(|(id, name)| ProviderSummary { id: id.to_owned(), name: name.to_owned() })
                .collect(),
        },
        passwordless: RecipeEnabled { enabled: true },
        webauthn: RecipeEnabled { enabled: false },
        first_factors: recipes.config.first_factors(),
    })
}
