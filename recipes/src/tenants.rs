//! Tenants (SuperTokens multitenancy): each served at `/auth/<tenantId>/...` with its own users, devices,
//! codes and sessions (the store scopes every row by tenant), its own first factors, passwordless contact
//! method and flow type, and its own third-party providers. `public` is the server's own configuration
//! ([`crate::config::Config`]); other tenants come from a tenants file (`[[tenant]]` tables, each with
//! `[[tenant.provider]]` tables in the providers file's format), parsed by [`parse_tenants_toml`], which
//! names the file and line of every mistake.

use serde::Deserialize;

use crate::config::{ContactMethod, FlowType};
use crate::thirdparty::{ProviderConfig, ThirdParty};

/// The first factors this backend serves, in SuperTokens' factor id spelling.
pub const FIRST_FACTORS: &[&str] = &["otp-email", "otp-phone", "link-email", "link-phone", "thirdparty"];

/// One tenant other than `public`, as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantConfig {
    /// The id in the path (`/auth/<id>/...`): letters, digits and dashes.
    pub id: String,
    /// The factors a user may sign in with; by default every one the tenant's recipes offer.
    pub first_factors: Option<Vec<String>>,
    /// Whether passwordless takes emails, phone numbers or both; the server's by default.
    pub contact_method: Option<ContactMethod>,
    /// Codes, magic links or both; the server's by default.
    pub flow_type: Option<FlowType>,
    /// The tenant's third-party providers (its own clients, its own OIDC issuer); none by default.
    pub third_party_providers: Vec<ProviderConfig>,
}

impl TenantConfig {
    /// A tenant with the server's passwordless settings, every factor they offer, and no providers.
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            first_factors: None,
            contact_method: None,
            flow_type: None,
            third_party_providers: Vec::new(),
        }
    }
}

/// A mistake in a tenants file, at a line of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct TenantsFileError {
    /// The file, as named to [`parse_tenants_toml`].
    pub file: String,
    /// The line (1-based) of the mistake, or of the `[[tenant]]` table holding it.
    pub line: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantsFile {
    #[serde(default)]
    tenant: Vec<TenantTable>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantTable {
    id: String,
    first_factors: Option<Vec<String>>,
    contact_method: Option<String>,
    flow_type: Option<String>,
    #[serde(default)]
    provider: Vec<ProviderConfig>,
}

/// Whether `id` can be a tenant id: what the routes' `[a-zA-Z0-9-]+` matches.
pub fn is_tenant_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The first factors offered by a contact method, a flow type and providers (if any), in SuperTokens'
/// factor id spelling.
pub fn offered_factors(contact_method: ContactMethod, flow_type: FlowType, providers: bool) -> Vec<String> {
    let otp = matches!(flow_type, FlowType::UserInputCode | FlowType::UserInputCodeAndMagicLink);
    let link = matches!(flow_type, FlowType::MagicLink | FlowType::UserInputCodeAndMagicLink);
    let email = contact_method.allows_email();
    let phone = contact_method.allows_phone();
    [
        ("thirdparty", providers),
        ("otp-email", otp && email),
        ("otp-phone", otp && phone),
        ("link-email", link && email),
        ("link-phone", link && phone),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(id, _)| id.to_owned())
    .collect()
}

/// Parses a tenants file: `[[tenant]]` tables with `id`, optional `first_factors`, `contact_method` and
/// `flow_type`, and `[[tenant.provider]]` tables as in the providers file. `file` names it in errors. Every
/// tenant is checked as the server would use it (`defaults` are the server's passwordless settings): an id
/// that is not one, a tenant given twice or named `public`, an unknown factor, a factor the tenant does not
/// offer, a misconfigured provider.
pub fn parse_tenants_toml(
    text: &str,
    file: &str,
    defaults: (ContactMethod, FlowType),
) -> Result<Vec<TenantConfig>, TenantsFileError> {
    let parsed = basic_toml::from_str::<TenantsFile>(text).map_err(|e| {
        let message = e.to_string();
        let line = line_of_unknown_field(text, &message).or_else(|| line_of_error(&message)).unwrap_or(1);
        TenantsFileError { file: file.to_owned(), line, message }
    })?;
    let headers = table_lines(text);
    let mut tenants: Vec<TenantConfig> = Vec::with_capacity(parsed.tenant.len());
    for (index, table) in parsed.tenant.into_iter().enumerate() {
        let line = headers.get(index).copied().unwrap_or(1);
        let fail = |message: String| TenantsFileError { file: file.to_owned(), line, message };
        let id = table.id.trim().to_owned();
        if !is_tenant_id(&id) {
            return Err(fail(format!(
                "tenant id `{}` is not letters, digits and dashes, all that a tenant segment of a path may be",
                id.escape_debug()
            )));
        }
        if id == crate::DEFAULT_TENANT {
            return Err(fail(
                "`public` is the server's own tenant, configured by its flags (--contact-method, --flow-type, the \
                 providers); leave it out of the tenants file"
                    .to_owned(),
            ));
        }
        if tenants.iter().any(|t| t.id == id) {
            return Err(fail(format!("the tenant `{id}` is configured twice")));
        }
        let contact_method = match table.contact_method.as_deref().map(str::parse::<ContactMethod>).transpose() {
            Ok(value) => value,
            Err(e) => return Err(fail(format!("tenant `{id}`: contact_method: {e}"))),
        };
        let flow_type = match table.flow_type.as_deref().map(str::parse::<FlowType>).transpose() {
            Ok(value) => value,
            Err(e) => return Err(fail(format!("tenant `{id}`: flow_type: {e}"))),
        };
        let tenant = TenantConfig {
            id,
            first_factors: table.first_factors,
            contact_method,
            flow_type,
            third_party_providers: table.provider,
        };
        Tenant::new(&tenant, defaults).map_err(fail)?;
        tenants.push(tenant);
    }
    Ok(tenants)
}

/// The line of each `[[tenant]]` header, in order.
fn table_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let line = line.trim();
            let header = line.split('#').next().unwrap_or_default().trim();
            header.strip_prefix("[[").and_then(|h| h.strip_suffix("]]")).is_some_and(|name| name.trim() == "tenant")
        })
        .map(|(index, _)| index + 1)
        .collect()
}

/// The line of the key an `unknown field` error names: the TOML parser places it at the start of the array
/// of tables holding it, which is less help than the key's own line.
fn line_of_unknown_field(text: &str, message: &str) -> Option<usize> {
    let rest = &message[message.find("unknown field `")? + "unknown field `".len()..];
    let field = &rest[..rest.find('`')?];
    text.lines()
        .position(|line| line.trim_start().strip_prefix(field).is_some_and(|after| after.trim_start().starts_with('=')))
        .map(|index| index + 1)
}

/// The line a TOML error names (`... at line 3 column 5`).
fn line_of_error(message: &str) -> Option<usize> {
    let rest = &message[message.rfind(" at line ")? + " at line ".len()..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// A tenant as the recipes serve it: its settings with the server's defaults filled in, its first factors
/// (those configured that it offers), and its providers ready to use.
#[derive(Debug)]
pub(crate) struct Tenant {
    pub(crate) id: String,
    pub(crate) contact_method: ContactMethod,
    pub(crate) flow_type: FlowType,
    pub(crate) first_factors: Vec<String>,
    pub(crate) third_party: ThirdParty,
}

impl Tenant {
    /// The tenant `config` describes, or what is wrong with it.
    pub(crate) fn new(config: &TenantConfig, defaults: (ContactMethod, FlowType)) -> Result<Self, String> {
        let id = &config.id;
        let contact_method = config.contact_method.unwrap_or(defaults.0);
        let flow_type = config.flow_type.unwrap_or(defaults.1);
        let third_party = ThirdParty::new(&config.third_party_providers).map_err(|e| format!("tenant `{id}`: {e}"))?;
        let offered = offered_factors(contact_method, flow_type, third_party.is_enabled());
        let first_factors = match &config.first_factors {
            None => offered,
            Some(factors) => {
                if factors.is_empty() {
                    return Err(format!("tenant `{id}`: first_factors is empty, so nobody could sign in"));
                }
                for factor in factors {
                    if !FIRST_FACTORS.contains(&factor.as_str()) {
                        return Err(format!(
                            "tenant `{id}`: unknown first factor `{}`; this backend serves {}",
                            factor.escape_debug(),
                            FIRST_FACTORS.join(", ")
                        ));
                    }
                    if !offered.contains(factor) {
                        return Err(format!(
                            "tenant `{id}`: the first factor `{factor}` is not offered with contact_method {contact_method} \
                             and flow_type {flow_type}{}; the tenant offers {}",
                            if factor == "thirdparty" { " and no [[tenant.provider]]" } else { "" },
                            if offered.is_empty() { "nothing".to_owned() } else { offered.join(", ") }
                        ));
                    }
                }
                factors.clone()
            }
        };
        Ok(Self { id: id.clone(), contact_method, flow_type, first_factors, third_party })
    }

    /// Whether any of `factors` is a first factor of this tenant.
    pub(crate) fn allows_any(&self, factors: &[&str]) -> bool {
        factors.iter().any(|f| self.first_factors.iter().any(|own| own == f))
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_tenants_toml, table_lines};
    use crate::config::{ContactMethod, FlowType};

    const DEFAULTS: (ContactMethod, FlowType) = (ContactMethod::EmailOrPhone, FlowType::UserInputCodeAndMagicLink);

    #[test]
    fn a_file_configures_tenants_with_their_own_providers() {
        let text = r#"
# Two customers.
[[tenant]]
id = "customer-1"
first_factors = ["otp-email", "thirdparty"]
contact_method = "EMAIL"
flow_type = "USER_INPUT_CODE"

[[tenant.provider]]
id = "oidc"
issuer = "https://idp.customer-1.example"
client_id = "web"
client_secret = "s"

[[tenant]]
id = "Customer-2"
"#;
        let tenants = parse_tenants_toml(text, "tenants.toml", DEFAULTS).expect("parses");
        assert_eq!(tenants.len(), 2);
        assert_eq!(tenants[0].id, "customer-1");
        assert_eq!(tenants[0].contact_method, Some(ContactMethod::Email));
        assert_eq!(tenants[0].flow_type, Some(FlowType::UserInputCode));
        assert_eq!(tenants[0].third_party_providers[0].issuer.as_deref(), Some("https://idp.customer-1.example"));
        assert_eq!(tenants[1].first_factors, None);
        assert_eq!(table_lines(text), [3, 15]);
    }

    #[test]
    fn mistakes_name_the_file_line_and_reason() {
        let cases: [(&str, &str); 9] = [
            ("[[tenant]]\nid = \"a.b\"\n", "tenants.toml:1: tenant id `a.b` is not letters, digits and dashes"),
            ("[[tenant]]\nid = \"public\"\n", "tenants.toml:1: `public` is the server's own tenant"),
            (
                "[[tenant]]\nid = \"a\"\n\n[[tenant]]\nid = \"a\"\n",
                "tenants.toml:4: the tenant `a` is configured twice",
            ),
            (
                "[[tenant]]\nid = \"a\"\nfirst_factors = [\"emailpassword\"]\n",
                "tenants.toml:1: tenant `a`: unknown first factor `emailpassword`",
            ),
            (
                "[[tenant]]\nid = \"a\"\nfirst_factors = [\"thirdparty\"]\n",
                "tenants.toml:1: tenant `a`: the first factor `thirdparty` is not offered",
            ),
            (
                "[[tenant]]\nid = \"a\"\ncontact_method = \"EMAIL\"\nfirst_factors = [\"otp-phone\"]\n",
                "tenants.toml:1: tenant `a`: the first factor `otp-phone` is not offered with contact_method EMAIL",
            ),
            ("[[tenant]]\nid = \"a\"\nflow_type = \"SOMETIMES\"\n", "tenants.toml:1: tenant `a`: flow_type: "),
            (
                "[[tenant]]\nid = \"a\"\n[[tenant.provider]]\nid = \"custom\"\nclient_id = \"x\"\n",
                "tenants.toml:1: tenant `a`: third-party provider `custom`",
            ),
            ("[[tenant]]\nid = \"a\"\nfirst_factor = []\n", "tenants.toml:3: unknown field `first_factor`"),
        ];
        for (text, want) in cases {
            let error = parse_tenants_toml(text, "tenants.toml", DEFAULTS).unwrap_err().to_string();
            assert!(error.starts_with(want), "{text:?}:\n  got  {error}\n  want {want}");
        }
    }
}
