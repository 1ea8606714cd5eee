//! The login methods: which recipes and third-party providers a tenant has enabled.

use auth_api::ops::get_login_methods;
use auth_api::types::{
    LoginMethodsResponse, LoginMethodsResponseStatus, ProviderSummary, RecipeEnabled, ThirdPartyLoginMethod,
};

use crate::tenants::Tenant;

/// The tenant's first factors, and the recipes and providers behind them.
pub(super) fn login_methods(tenant: &Tenant) -> get_login_methods::Response {
    let enabled = |factors: &[&str]| RecipeEnabled { enabled: tenant.allows_any(factors) };
    get_login_methods::Response::Ok(LoginMethodsResponse {
        status: LoginMethodsResponseStatus::Ok,
        email_password: RecipeEnabled { enabled: false },
        third_party: ThirdPartyLoginMethod {
            enabled: tenant.allows_any(&["thirdparty"]),
            providers: tenant
                .third_party
                .providers()
                .map(|(id, name)| ProviderSummary { id: id.to_owned(), name: name.to_owned() })
                .collect(),
        },
        passwordless: enabled(&["otp-email", "otp-phone", "link-email", "link-phone"]),
        webauthn: RecipeEnabled { enabled: false },
        first_factors: tenant.first_factors.clone(),
    })
}
