//! Who signed in: the user-info endpoint, GitHub's and Bitbucket's emails APIs, and the mapping of the
//! id_token payload and the user info to a [`ProviderUser`].

use serde_json::Value;

use super::providers::Resolved;
use super::{Builtin, IdTokenError, ProviderUser, ThirdParty, ThirdPartyError};

impl ThirdParty {
    pub(super) async fn user_info(
        &self,
        provider: &Resolved,
        endpoint: &str,
        access_token: &str,
    ) -> Result<Value, ThirdPartyError> {
        let mut url = url::Url::parse(endpoint)
            .map_err(|e| Self::provider_error(provider, format!("the user-info endpoint is not a URL: {e}")))?;
        if !provider.user_info_query.is_empty() {
            url.query_pairs_mut().extend_pairs(&provider.user_info_query);
        }
        let bearer = format!("Bearer {access_token}");
        let mut headers = vec![("authorization", bearer.as_str())];
        headers.extend(provider.user_info_headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        self.get_json(provider, url.as_str(), &headers, "the user-info endpoint").await
    }

    /// GitHub and Bitbucket keep emails behind a separate API: the primary one, with its verified flag.
    pub(super) async fn emails_api(
        &self,
        provider: &Resolved,
        builtin: Builtin,
        access_token: &str,
    ) -> Result<Option<(String, bool)>, ThirdPartyError> {
        let (list_key, primary, verified) = match builtin {
            Builtin::Github => (None, "primary", "verified"),
            Builtin::Bitbucket => (Some("values"), "is_primary", "is_confirmed"),
            _ => return Ok(None),
        };
        let Some(url) = &provider.emails_endpoint else { return Ok(None) };
        let bearer = format!("Bearer {access_token}");
        let value = self.get_json(provider, url, &[("authorization", &bearer)], "the emails API").await?;
        let list = match list_key {
            Some(key) => value.get(key).cloned().unwrap_or(Value::Null),
            None => value,
        };
        Ok(list.as_array().into_iter().flatten().find(|e| e.get(primary) == Some(&Value::Bool(true))).and_then(|e| {
            let email = e.get("email")?.as_str()?.to_owned();
            Some((email, e.get(verified) == Some(&Value::Bool(true))))
        }))
    }
}

/// A dotted path into JSON (`data.id`); numbers become strings (GitHub's numeric ids).
fn access(value: &Value, path: &str) -> Option<Value> {
    path.split('.').try_fold(value, |value, key| value.get(key)).cloned()
}

fn as_id(value: Option<Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn as_flag(value: Option<Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Reads the user id, email and verified flag, the id_token winning over the user info where both say.
pub(super) fn map_user(
    provider: &Resolved,
    id_token: &Value,
    user_info: &Value,
) -> Result<ProviderUser, ThirdPartyError> {
    let [uid_t, email_t, verified_t] = &provider.id_token_paths;
    let [uid_u, email_u, verified_u] = &provider.user_info_paths;
    let read = |source: &Value, path: &Option<String>| path.as_deref().and_then(|p| access(source, p));
    let (from_token, from_info) = (as_id(read(id_token, uid_t)), as_id(read(user_info, uid_u)));
    // OpenID Connect Core 5.3.2: user info about another subject than the id_token's must not be used.
    if let (Some(token_user), Some(info_user)) = (&from_token, &from_info)
        && token_user != info_user
    {
        return Err(ThirdPartyError::IdToken {
            provider: provider.id.clone(),
            error: IdTokenError::Claim("the user info is about another user than the id_token".into()),
        });
    }
    let user_id = from_token.or(from_info).ok_or_else(|| ThirdPartyError::NoUserId(provider.id.clone()))?;
    let from_token = as_id(read(id_token, email_t)).map(|e| (e, as_flag(read(id_token, verified_t))));
    let from_info = || as_id(read(user_info, email_u)).map(|e| (e, as_flag(read(user_info, verified_u))));
    Ok(ProviderUser {
        third_party_id: provider.id.clone(),
        third_party_user_id: user_id,
        email: from_token.or_else(from_info),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thirdparty::parse_provider_line;

    #[test]
    fn user_mapping_prefers_the_id_token_and_reads_dotted_numeric_ids() {
        let twitter =
            parse_provider_line("id=twitter,client_id=a,client_secret=b").expect("parses").resolve().expect("valid");
        let user = map_user(&twitter, &Value::Null, &serde_json::json!({"data": {"id": "42"}})).expect("maps");
        assert_eq!(user.third_party_user_id, "42");
        assert_eq!(user.email, None);
        assert!(!twitter.require_email);
        let github =
            parse_provider_line("id=github,client_id=a,client_secret=b").expect("parses").resolve().expect("valid");
        let user = map_user(&github, &Value::Null, &serde_json::json!({"id": 7, "email": "x@y"})).expect("maps");
        assert_eq!(user.third_party_user_id, "7");
        // GitHub's profile email is not trusted: the emails API gives the primary one with its flag.
        assert_eq!(user.email, None);
        let custom =
            parse_provider_line("id=c,issuer=https://i,client_id=a").expect("parses").resolve().expect("valid");
        let user = map_user(
            &custom,
            &serde_json::json!({"sub": "s1", "email": "t@x", "email_verified": true}),
            &serde_json::json!({"sub": "s1", "email": "u@x", "email_verified": "false"}),
        )
        .expect("maps");
        assert_eq!((user.third_party_user_id.as_str(), user.email), ("s1", Some(("t@x".to_owned(), true))));
        assert!(matches!(map_user(&custom, &Value::Null, &Value::Null), Err(ThirdPartyError::NoUserId(_))));
        let mixed =
            map_user(&custom, &serde_json::json!({"sub": "s1"}), &serde_json::json!({"sub": "s2", "email": "b@x"}));
        assert!(matches!(mixed, Err(ThirdPartyError::IdToken { .. })), "{mixed:?}");
    }
}
