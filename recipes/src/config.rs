//! Recipe configuration: contact method, flow type, lifetimes, domains, and the cookie and anti-CSRF
//! settings derived from the domains the way supertokens-node derives them.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

pub use auth_api::types::FlowType;

use crate::emailverification::EmailVerificationMode;
use crate::ratelimit::{RateLimits, RedisCounters};
use crate::tenants::TenantConfig;
use crate::thirdparty::ProviderConfig;

/// Which contact a user signs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactMethod {
    /// Email only.
    Email,
    /// Phone number only.
    Phone,
    /// Either an email or a phone number.
    EmailOrPhone,
}

impl ContactMethod {
    /// Every wire value.
    pub const VALUES: &'static [&'static str] = &["EMAIL", "PHONE", "EMAIL_OR_PHONE"];

    /// The wire value, as SuperTokens spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "EMAIL",
            Self::Phone => "PHONE",
            Self::EmailOrPhone => "EMAIL_OR_PHONE",
        }
    }

    /// Whether emails are accepted.
    pub fn allows_email(self) -> bool {
        matches!(self, Self::Email | Self::EmailOrPhone)
    }

    /// Whether phone numbers are accepted.
    pub fn allows_phone(self) -> bool {
        matches!(self, Self::Phone | Self::EmailOrPhone)
    }
}

impl fmt::Display for ContactMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ContactMethod {
    type Err = ConfigError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "EMAIL" => Ok(Self::Email),
            "PHONE" => Ok(Self::Phone),
            "EMAIL_OR_PHONE" => Ok(Self::EmailOrPhone),
            other => Err(ConfigError::UnknownValue { value: other.to_owned(), expected: Self::VALUES }),
        }
    }
}

/// The `SameSite` attribute of the session cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Lax`: the website and the API share a site.
    Lax,
    /// `SameSite=None`: the website and the API are on different sites or protocols.
    None,
}

impl SameSite {
    /// The attribute value as written in `Set-Cookie`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

/// Anti-CSRF protection for cookie-based sessions. `VIA_TOKEN` is not implemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AntiCsrf {
    /// No check: the cookies are `SameSite=Lax`.
    None,
    /// Requests that use session cookies must carry a `rid` header of any value, which a cross-site form
    /// cannot add without a CORS preflight.
    ViaCustomHeader,
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A domain that is not `http(s)://host[:port]`.
    #[error("invalid {which} `{value}`: expected `http://host[:port]` or `https://host[:port]` without a path")]
    InvalidDomain {
        /// `website domain` or `api domain`.
        which: &'static str,
        /// The value given.
        value: String,
    },
    /// An unknown enum value.
    #[error("unknown value `{value}`, expected one of {expected:?}")]
    UnknownValue {
        /// The value given.
        value: String,
        /// The values allowed.
        expected: &'static [&'static str],
    },
    /// A setting outside its range.
    #[error("{0}")]
    OutOfRange(&'static str),
}

/// Everything the recipes need to know. Build it with [`Config::new`] and adjust it with the `with_*`
/// methods; every default matches SuperTokens'.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Which contacts are accepted. Default: [`ContactMethod::EmailOrPhone`].
    pub contact_method: ContactMethod,
    /// Whether users get a one-time code, a magic link or both. Default: both.
    pub flow_type: FlowType,
    /// How long a code (and its magic link) stays valid. Default: 900000 ms (15 minutes).
    pub code_lifetime: Duration,
    /// Wrong codes allowed per device; the last one restarts the flow. Default: 5.
    pub max_code_input_attempts: u32,
    /// Codes a device keeps: a resend adds a code and drops the oldest beyond this many, so resending cannot
    /// multiply the chance of guessing one (at most `max_code_input_attempts` guesses against this many
    /// codes). Default: 3, so a late email from just before a resend still works. At least 1.
    pub live_codes_per_device: u32,
    /// How often expired devices (with their codes) and expired sessions (with their rotated refresh tokens)
    /// are deleted. Default: 10 minutes.
    pub prune_interval: Duration,
    /// Lifetime of the JWT access token. Default: 3600 s.
    pub access_token_lifetime: Duration,
    /// Lifetime of a session without a refresh. Default: 100 days, as SuperTokens.
    pub refresh_token_lifetime: Duration,
    /// How long an access-token signing key signs before a new one replaces it; the old key keeps verifying
    /// until its tokens have expired. Default: 7 days.
    pub signing_key_rotation_interval: Duration,
    /// How long the answer of the store to "is this session still live?" is reused when verifying access
    /// tokens: a session signed out or revoked (token theft) on another instance sharing the store is refused
    /// here at most this long later; on the instance that ended it, at once. Zero asks the store on every
    /// request; a TTL as long as the access-token lifetime is as good as no check. Default: 5 s.
    pub session_check_ttl: Duration,
    /// The website's origin, e.g. `http://localhost:3000`; magic links point to it.
    pub website_domain: String,
    /// The API's origin, e.g. `http://localhost:3001`; decides `Secure` and `SameSite`.
    pub api_domain: String,
    /// Overrides the derived `SameSite`.
    pub cookie_same_site: Option<SameSite>,
    /// Overrides the derived `Secure` flag.
    pub cookie_secure: Option<bool>,
    /// Overrides the derived anti-CSRF mode.
    pub anti_csrf: Option<AntiCsrf>,
    /// The third-party sign-in providers, in the order `/loginmethods` lists them. Default: none.
    pub third_party_providers: Vec<ProviderConfig>,
    /// The reverse proxies whose forwarding header names the client (rate limits count per client address).
    /// Default: none, so the client is the socket's peer and no forwarding header is believed.
    pub trusted_proxies: auth_api::runtime::TrustedProxies,
    /// The rate limits (see [`crate::ratelimit`]). Default: all off ([`RateLimits::OFF`]); the auth server
    /// turns on [`RateLimits::RECOMMENDED`].
    pub rate_limits: RateLimits,
    /// Count the rate limits in Redis instead of the store. Default: none (the store counts them).
    pub rate_limit_redis: Option<RedisCounters>,
    /// The tenants served besides `public` (whose settings are the rest of this configuration). Default: none.
    pub tenants: Vec<TenantConfig>,
    /// Email verification (see [`crate::emailverification`]). Default: off.
    pub email_verification: EmailVerificationMode,
}

/// The default of [`Config::session_check_ttl`].
pub const DEFAULT_SESSION_CHECK_TTL: Duration = Duration::from_secs(5);

/// The path prefix of every API route and of the website's auth pages.
pub const BASE_PATH: &str = "/auth";

impl Config {
    /// A configuration with SuperTokens' defaults for a website and an API origin.
    pub fn new(website_domain: &str, api_domain: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            contact_method: ContactMethod::EmailOrPhone,
            flow_type: FlowType::UserInputCodeAndMagicLink,
            code_lifetime: Duration::from_millis(900_000),
            max_code_input_attempts: 5,
            prune_interval: Duration::from_secs(600),
            live_codes_per_device: 3,
            access_token_lifetime: Duration::from_secs(3600),
            refresh_token_lifetime: Duration::from_secs(100 * 24 * 3600),
            signing_key_rotation_interval: Duration::from_secs(7 * 24 * 3600),
            session_check_ttl: DEFAULT_SESSION_CHECK_TTL,
            website_domain: normalise_origin("website domain", website_domain)?,
            api_domain: normalise_origin("api domain", api_domain)?,
            cookie_same_site: None,
            cookie_secure: None,
            anti_csrf: None,
            third_party_providers: Vec::new(),
            trusted_proxies: auth_api::runtime::TrustedProxies::default(),
            rate_limits: RateLimits::OFF,
            rate_limit_redis: None,
            tenants: Vec::new(),
            email_verification: EmailVerificationMode::Off,
        })
    }

    /// Sets email verification: off, optional or required.
    pub fn with_email_verification(mut self, mode: EmailVerificationMode) -> Self {
        self.email_verification = mode;
        self
    }

    /// Sets the contact method.
    pub fn with_contact_method(mut self, contact_method: ContactMethod) -> Self {
        self.contact_method = contact_method;
        self
    }

    /// Sets the flow type.
    pub fn with_flow_type(mut self, flow_type: FlowType) -> Self {
        self.flow_type = flow_type;
        self
    }

    /// Sets the code lifetime.
    pub fn with_code_lifetime(mut self, lifetime: Duration) -> Self {
        self.code_lifetime = lifetime;
        self
    }

    /// Sets the number of code input attempts.
    pub fn with_max_code_input_attempts(mut self, attempts: u32) -> Self {
        self.max_code_input_attempts = attempts;
        self
    }

    /// Sets how many codes a device keeps (at least 1); see [`Config::live_codes_per_device`].
    pub fn with_live_codes_per_device(mut self, codes: u32) -> Self {
        self.live_codes_per_device = codes.max(1);
        self
    }

    /// Sets how often expired devices and sessions are deleted.
    pub fn with_prune_interval(mut self, interval: Duration) -> Self {
        self.prune_interval = interval;
        self
    }

    /// Sets the access token lifetime.
    pub fn with_access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime;
        self
    }

    /// Sets the refresh token (session) lifetime.
    pub fn with_refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_token_lifetime = lifetime;
        self
    }

    /// Sets the signing key rotation interval.
    pub fn with_signing_key_rotation_interval(mut self, interval: Duration) -> Self {
        self.signing_key_rotation_interval = interval;
        self
    }

    /// Sets how long a session's liveness, as read from the store, is reused; see
    /// [`Config::session_check_ttl`].
    pub fn with_session_check_ttl(mut self, ttl: Duration) -> Self {
        self.session_check_ttl = ttl;
        self
    }

    /// Sets the trusted reverse proxies.
    pub fn with_trusted_proxies(mut self, trusted: auth_api::runtime::TrustedProxies) -> Self {
        self.trusted_proxies = trusted;
        self
    }

    /// Sets the rate limits.
    pub fn with_rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Counts the rate limits in Redis.
    pub fn with_rate_limit_redis(mut self, redis: RedisCounters) -> Self {
        self.rate_limit_redis = Some(redis);
        self
    }

    /// Adds a third-party provider (see [`crate::thirdparty`]).
    pub fn with_third_party_provider(mut self, provider: ProviderConfig) -> Self {
        self.third_party_providers.push(provider);
        self
    }

    /// Adds a tenant.
    pub fn with_tenant(mut self, tenant: TenantConfig) -> Self {
        self.tenants.push(tenant);
        self
    }

    /// Checks the ranges: lifetimes above zero, at least one attempt.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.code_lifetime.is_zero() {
            return Err(ConfigError::OutOfRange("the code lifetime must be above zero"));
        }
        if self.prune_interval < Duration::from_secs(1) {
            return Err(ConfigError::OutOfRange("the prune interval must be at least one second"));
        }
        if self.cookie_same_site() == SameSite::None && !self.cookie_secure() {
            return Err(ConfigError::OutOfRange(
                "the session cookies would be SameSite=None without Secure, which browsers drop: the website and the \
                 API are on different sites, so serve the API over https (http works only on localhost), or put both \
                 on one site, or do not set cookie_secure to false",
            ));
        }
        if self.max_code_input_attempts == 0 {
            return Err(ConfigError::OutOfRange("at least one code input attempt must be allowed"));
        }
        if self.access_token_lifetime < Duration::from_secs(1) {
            return Err(ConfigError::OutOfRange("the access token lifetime must be at least one second"));
        }
        if self.signing_key_rotation_interval < Duration::from_secs(1) {
            return Err(ConfigError::OutOfRange("the signing key rotation interval must be at least one second"));
        }
        if self.refresh_token_lifetime <= self.access_token_lifetime {
            return Err(ConfigError::OutOfRange("the refresh token lifetime must exceed the access token lifetime"));
        }
        Ok(())
    }

    /// `Secure` on the session cookies, unless overridden: true when the API is served over https, and for
    /// `SameSite=None` cookies from an http API on a loopback host (`localhost`, `127.0.0.1`, `::1`), which
    /// browsers treat as secure: without `Secure` they drop `SameSite=None` cookies.
    pub fn cookie_secure(&self) -> bool {
        self.cookie_secure.unwrap_or_else(|| {
            let (scheme, host) = scheme_and_host(&self.api_domain);
            scheme == "https" || (self.cookie_same_site() == SameSite::None && is_loopback(host))
        })
    }

    /// `SameSite` of the session cookies: `Lax`, or `None` when the API and the website differ in protocol
    /// or in site (registrable domain, by the public suffix list), unless overridden.
    pub fn cookie_same_site(&self) -> SameSite {
        if let Some(same_site) = self.cookie_same_site {
            return same_site;
        }
        let (api_scheme, api_host) = scheme_and_host(&self.api_domain);
        let (website_scheme, website_host) = scheme_and_host(&self.website_domain);
        if api_scheme != website_scheme || site(api_host) != site(website_host) {
            SameSite::None
        } else {
            SameSite::Lax
        }
    }

    /// The anti-CSRF mode: [`AntiCsrf::ViaCustomHeader`] when the cookies are `SameSite=None`, otherwise
    /// [`AntiCsrf::None`], unless overridden.
    pub fn anti_csrf(&self) -> AntiCsrf {
        self.anti_csrf.unwrap_or(match self.cookie_same_site() {
            SameSite::None => AntiCsrf::ViaCustomHeader,
            SameSite::Lax => AntiCsrf::None,
        })
    }

    /// The issuer claim of access tokens: the API's auth base URL.
    pub fn issuer(&self) -> String {
        format!("{}{BASE_PATH}", self.api_domain)
    }

    /// The first factors of the `public` tenant, in SuperTokens' factor id spelling.
    pub fn first_factors(&self) -> Vec<String> {
        crate::tenants::offered_factors(self.contact_method, self.flow_type, !self.third_party_providers.is_empty())
    }
}

fn normalise_origin(which: &'static str, value: &str) -> Result<String, ConfigError> {
    let invalid = || ConfigError::InvalidDomain { which, value: value.to_owned() };
    let url = url::Url::parse(value.trim()).map_err(|_| invalid())?;
    let path_ok = url.path().is_empty() || url.path() == "/";
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || !path_ok || url.query().is_some() {
        return Err(invalid());
    }
    Ok(url.origin().ascii_serialization())
}

fn scheme_and_host(origin: &str) -> (&str, &str) {
    let (scheme, rest) = origin.split_once("://").unwrap_or(("", origin));
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => rest.rsplit_once(':').map_or(rest, |(host, _)| host),
    };
    (scheme, host)
}

/// `localhost` or a loopback address: a host browsers treat as a secure context even over http.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The part of a host that decides whether two origins are on the same site, as browsers decide it: the
/// registrable domain (the public suffix and one label before it, from the public suffix list with its private
/// section, so `a.github.io` and `b.github.io` are two sites and `app.example.co.uk` and `api.example.co.uk`
/// one); the host itself for `localhost`, IP addresses and hosts that are a public suffix themselves. A name
/// under a suffix the list does not know counts as under a one-label suffix, as the list's default rule says.
fn site(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.parse::<std::net::IpAddr>().is_ok() {
        return host;
    }
    psl::domain_str(&host).map_or_else(|| host.clone(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_cookie_settings_from_the_domains() {
        let cases = [
            ("http://localhost:3000", "http://localhost:3001", SameSite::Lax, false, AntiCsrf::None),
            ("http://localhost:3000", "http://127.0.0.1:3001", SameSite::None, true, AntiCsrf::ViaCustomHeader),
            ("http://127.0.0.1:3000", "http://localhost:3001", SameSite::None, true, AntiCsrf::ViaCustomHeader),
            ("https://app.example.com", "https://api.example.com", SameSite::Lax, true, AntiCsrf::None),
            ("https://example.com", "https://api.other.com", SameSite::None, true, AntiCsrf::ViaCustomHeader),
            ("http://example.com", "https://api.example.com", SameSite::None, true, AntiCsrf::ViaCustomHeader),
        ];
        for (website, api, same_site, secure, anti_csrf) in cases {
            let config = Config::new(website, api).expect("valid domains");
            assert_eq!(config.cookie_same_site(), same_site, "{website} {api}");
            assert_eq!(config.cookie_secure(), secure, "{website} {api}");
            assert_eq!(config.anti_csrf(), anti_csrf, "{website} {api}");
        }
    }

    #[test]
    fn sites_follow_the_public_suffix_list() {
        let cases = [
            // github.io is a public suffix (the list's private section): each user's pages are a site.
            ("https://a.github.io", "https://b.github.io", SameSite::None),
            ("https://a.github.io", "https://api.a.github.io", SameSite::Lax),
            ("https://github.io", "https://a.github.io", SameSite::None),
            ("https://app.example.com", "https://api.example.com", SameSite::Lax),
            ("https://example.com", "https://api.example.com", SameSite::Lax),
            // Two-label public suffixes: the last two labels are not a site.
            ("https://example.co.uk", "https://api.example.co.uk", SameSite::Lax),
            ("https://app.example.co.uk", "https://api.example.co.uk", SameSite::Lax),
            ("https://example.co.uk", "https://other.co.uk", SameSite::None),
            ("https://a.herokuapp.com", "https://b.herokuapp.com", SameSite::None),
            ("https://APP.Example.COM.", "https://api.example.com", SameSite::Lax),
            // Loopback and addresses are sites of their own.
            ("http://localhost:3000", "http://localhost:3001", SameSite::Lax),
            ("http://127.0.0.1:3000", "http://127.0.0.1:3001", SameSite::Lax),
            ("https://[::1]:3000", "https://[::1]:3001", SameSite::Lax),
        ];
        for (website, api, expected) in cases {
            let config = Config::new(website, api).expect("valid domains");
            assert_eq!(config.cookie_same_site(), expected, "{website} {api}");
        }
        assert_eq!(site("a.b.github.io"), "b.github.io");
        assert_eq!(site("co.uk"), "co.uk");
        assert_eq!(site("x.y.internal"), "y.internal", "an unlisted suffix counts as one label");
    }

    #[test]
    fn same_site_none_without_secure_is_refused() {
        for (website, api) in
            [("http://app.example.com", "http://api.other.com"), ("https://app.example.com", "http://api.other.com")]
        {
            let config = Config::new(website, api).expect("valid domains");
            assert_eq!(config.cookie_same_site(), SameSite::None, "{website} {api}");
            let error = config.validate().expect_err("refused").to_string();
            assert!(error.contains("SameSite=None without Secure"), "{error}");
        }
        let mut forced = Config::new("https://example.com", "https://api.other.com").expect("valid domains");
        forced.cookie_secure = Some(false);
        assert!(forced.validate().is_err(), "an explicit cookie_secure = false across sites");
        let mut lax = Config::new("http://app.example.com", "http://api.other.com").expect("valid domains");
        lax.cookie_same_site = Some(SameSite::Lax);
        assert_eq!(lax.validate(), Ok(()), "same-site cookies need no Secure");
        let local = Config::new("http://localhost:3000", "http://127.0.0.1:3001").expect("valid domains");
        assert_eq!(local.validate(), Ok(()), "loopback APIs set Secure themselves");
    }

    #[test]
    fn normalises_and_rejects_domains() {
        let config = Config::new("http://localhost:3000/", "HTTP://LOCALHOST:3001").expect("valid domains");
        assert_eq!(config.website_domain, "http://localhost:3000");
        assert_eq!(config.api_domain, "http://localhost:3001");
        for bad in ["localhost:3000", "ftp://x.com", "http://x.com/auth", "not a url"] {
            assert!(Config::new(bad, "http://localhost:3001").is_err(), "{bad}");
        }
    }

    #[test]
    fn first_factors_follow_contact_method_and_flow() {
        let config = Config::new("http://localhost:3000", "http://localhost:3001").expect("valid domains");
        assert_eq!(config.first_factors(), ["otp-email", "otp-phone", "link-email", "link-phone"]);
        let config = config.with_contact_method(ContactMethod::Email).with_flow_type(FlowType::MagicLink);
        assert_eq!(config.first_factors(), ["link-email"]);
    }
}
