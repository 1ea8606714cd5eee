//! `auth-server`: passwordless and third-party sign-in and sessions over the SuperTokens-compatible FDI routes under
//! `/auth`, backed by an SQLite file or by a PostgreSQL database shared by several instances. Run
//! `auth-server --help` for the flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use auth_server::{DeliverySettings, Framework, Settings};
use authgen_recipes::config::FlowType;
use authgen_recipes::ratelimit::{Limit, RateLimits};
use authgen_recipes::thirdparty::ProviderConfig;
use authgen_recipes::{ContactMethod, EmailVerificationMode};
use clap::Parser;
use clap::builder::{PossibleValuesParser, TypedValueParser as _};

/// Passwordless and third-party (OAuth2/OpenID Connect) sign-in and sessions, wire-compatible with the
/// SuperTokens frontend SDKs.
///
/// Serves the FDI routes under /auth (create/resend/consume code, authorisation URL and sign-in/up with a
/// provider, session refresh, sign-out, login methods) and an example protected route, GET /sessioninfo. Every flag has an environment variable
/// equivalent, shown in brackets. Logging follows RUST_LOG (default: info).
#[derive(Debug, Parser)]
#[command(name = "auth-server", version, about, long_about)]
struct Args {
    /// Web framework serving the generated routes: both run the same recipes.
    #[arg(long, env = "AUTH_FRAMEWORK", value_enum, default_value_t = FrameworkArg::Axum)]
    framework: FrameworkArg,

    /// Address and port to listen on.
    #[arg(long, env = "AUTH_LISTEN", default_value = "127.0.0.1:3001")]
    listen: SocketAddr,

    /// Database URL: sqlite://PATH (the file is created if missing; one instance) or
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (migrated on start; any number of instances share
    /// users, codes, sessions and signing keys through it).
    #[arg(long, env = "AUTH_DATABASE", default_value = "sqlite://auth.db", hide_env_values = true)]
    database: String,

    /// PostgreSQL connections this instance may open.
    #[arg(long, env = "AUTH_DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    database_max_connections: u32,

    /// How often the access-token signing key is replaced, in hours. Old keys keep verifying until every
    /// token they signed has expired; instances sharing a database rotate once between them.
    #[arg(long, env = "AUTH_SIGNING_KEY_ROTATION_HOURS", default_value_t = 24 * 7)]
    signing_key_rotation_hours: u64,

    /// Origin of the website that uses this server: CORS allows it (with credentials) and magic links
    /// point to it.
    #[arg(long, env = "AUTH_WEBSITE_DOMAIN", default_value = "http://localhost:3000")]
    website_domain: String,

    /// Origin of this API as browsers reach it. An https origin makes the cookies Secure; a different
    /// site or protocol than the website makes them SameSite=None with anti-CSRF via the rid header.
    #[arg(long, env = "AUTH_API_DOMAIN", default_value = "http://localhost:3001")]
    api_domain: String,

    /// Which contact users sign in with.
    #[arg(long, env = "AUTH_CONTACT_METHOD", default_value = "EMAIL_OR_PHONE",
        value_parser = PossibleValuesParser::new(ContactMethod::VALUES).try_map(|v| v.parse::<ContactMethod>()))]
    contact_method: ContactMethod,

    /// Email verification: OFF (its routes answer 404 and sessions carry no st-ev claim), OPTIONAL
    /// (users may verify their email with a link sent to it) or REQUIRED (also, protected routes refuse a
    /// session whose email is not verified with 403 invalid claim).
    #[arg(long, env = "AUTH_EMAIL_VERIFICATION", default_value = "OFF",
        value_parser = PossibleValuesParser::new(EmailVerificationMode::VALUES).try_map(|v| v.parse::<EmailVerificationMode>()))]
    email_verification: EmailVerificationMode,

    /// What users receive: a 6-digit code, a magic link, or both.
    #[arg(long, env = "AUTH_FLOW_TYPE", default_value = "USER_INPUT_CODE_AND_MAGIC_LINK",
        value_parser = PossibleValuesParser::new(FlowType::VALUES).try_map(|v| v.parse::<FlowType>()))]
    flow_type: FlowType,

    /// How codes and links are sent: `log` writes one line per message to stderr (for local
    /// development); `smtp` sends emails through --smtp-host/--smtp-port (text messages still go to the
    /// log).
    #[arg(long, env = "AUTH_DELIVERY", value_enum, default_value_t = DeliveryKind::Log)]
    delivery: DeliveryKind,

    /// SMTP server host, for --delivery smtp (plain SMTP, no TLS).
    #[arg(long, env = "AUTH_SMTP_HOST", default_value = "127.0.0.1")]
    smtp_host: String,

    /// SMTP server port, for --delivery smtp.
    #[arg(long, env = "AUTH_SMTP_PORT", default_value_t = 25)]
    smtp_port: u16,

    /// Sender address of the emails, for --delivery smtp.
    #[arg(long, env = "AUTH_SMTP_FROM", default_value = "auth@localhost")]
    smtp_from: String,

    /// How long a code and its magic link stay valid, in milliseconds.
    #[arg(long, env = "AUTH_CODE_LIFETIME_MS", default_value_t = 900_000)]
    code_lifetime_ms: u64,

    /// Codes a device keeps: each resend adds one and drops the oldest beyond this many, so resending
    /// cannot multiply the odds of guessing a code (at least 1).
    #[arg(long, env = "AUTH_LIVE_CODES_PER_DEVICE", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    live_codes_per_device: u32,

    /// How often expired devices and sessions (with their codes and rotated refresh tokens) are deleted, in
    /// seconds.
    #[arg(long, env = "AUTH_PRUNE_INTERVAL_S", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    prune_interval_s: u64,

    /// How long an access token is valid, in seconds, before the frontend must refresh it.
    #[arg(long, env = "AUTH_ACCESS_TOKEN_LIFETIME_S", default_value_t = 3600)]
    access_token_lifetime_s: u64,

    /// How long, in milliseconds, protected routes and sign-out reuse the database's answer to "is this session
    /// still live?". A session signed out or revoked (token theft) on another instance is refused here at
    /// most this long later; on the instance that ended it, at once. 0 reads the database on every request.
    #[arg(long, env = "AUTH_SESSION_CHECK_TTL_MS", default_value_t = 5000)]
    session_check_ttl_ms: u64,

    /// How long a new connection may take to send its first complete request head, in seconds; a client
    /// still sending it then is disconnected.
    #[arg(long, env = "AUTH_HEADER_READ_TIMEOUT_S", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_read_timeout_s: u64,

    /// How long a request body may take to arrive in full after its head, in seconds; a slower one is
    /// answered 408 and its connection closed.
    #[arg(long, env = "AUTH_BODY_READ_TIMEOUT_S", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    body_read_timeout_s: u64,

    /// How long a connection stays open after a response without a complete next request, in seconds.
    #[arg(long, env = "AUTH_KEEP_ALIVE_S", default_value_t = 75, value_parser = clap::value_parser!(u64).range(1..=3600))]
    keep_alive_s: u64,

    /// Connections served at once; more clients wait in the listen queue until one closes (actix-web divides
    /// them between its workers, one per CPU).
    #[arg(long, env = "AUTH_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,

    /// Reverse proxies in front of this server, as comma-separated addresses or blocks (`10.0.0.0/8,::1`): only
    /// from these peers is the forwarding header (--forwarded-header) believed, and the client is its rightmost
    /// address that is not one of them. Empty (the default): the client is the socket's peer, and a forwarding
    /// header, which any client can write, is ignored.
    #[arg(long, env = "AUTH_TRUSTED_PROXIES", default_value = "", value_name = "CIDR,...",
        value_parser = |v: &str| auth_api::runtime::TrustedProxies::parse(v))]
    trusted_proxies: auth_api::runtime::TrustedProxies,

    /// The header the trusted proxies write the client's address into; the other one is never read.
    #[arg(long, env = "AUTH_FORWARDED_HEADER", value_enum, default_value_t = ForwardedHeaderArg::XForwardedFor)]
    forwarded_header: ForwardedHeaderArg,

    /// createCode and resendCode per contact (email or phone number), as MAX/SECONDS (0: off): how many
    /// messages one inbox or phone can be sent.
    #[arg(long, env = "AUTH_RATE_LIMIT_CODES_PER_CONTACT", default_value_t = RateLimits::RECOMMENDED.codes_per_contact, value_name = "MAX/SECONDS",
        value_parser = |v: &str| Limit::parse(v))]
    rate_limit_codes_per_contact: Limit,

    /// createCode and resendCode per client address, as MAX/SECONDS (0: off): how many messages one client
    /// can have sent, to anyone.
    #[arg(long, env = "AUTH_RATE_LIMIT_CODES_PER_CLIENT", default_value_t = RateLimits::RECOMMENDED.codes_per_client, value_name = "MAX/SECONDS",
        value_parser = |v: &str| Limit::parse(v))]
    rate_limit_codes_per_client: Limit,

    /// consumeCode per client address, across devices, as MAX/SECONDS (0: off): code guesses.
    #[arg(long, env = "AUTH_RATE_LIMIT_CONSUME_PER_CLIENT", default_value_t = RateLimits::RECOMMENDED.consume_per_client, value_name = "MAX/SECONDS",
        value_parser = |v: &str| Limit::parse(v))]
    rate_limit_consume_per_client: Limit,

    /// Third-party signinup per client address, as MAX/SECONDS (0: off).
    #[arg(long, env = "AUTH_RATE_LIMIT_SIGNINUP_PER_CLIENT", default_value_t = RateLimits::RECOMMENDED.sign_in_up_per_client, value_name = "MAX/SECONDS",
        value_parser = |v: &str| Limit::parse(v))]
    rate_limit_signinup_per_client: Limit,

    /// The authorisation URL per client address, as MAX/SECONDS (0: off).
    #[arg(long, env = "AUTH_RATE_LIMIT_AUTHORISATION_URL_PER_CLIENT", default_value_t = RateLimits::RECOMMENDED.authorisation_url_per_client,
        value_name = "MAX/SECONDS", value_parser = |v: &str| Limit::parse(v))]
    rate_limit_authorisation_url_per_client: Limit,

    /// Count the rate limits in this Redis (redis://[:PASSWORD@]HOST[:PORT][/DB]), shared by every instance
    /// that names it, instead of in the database (where instances sharing a PostgreSQL database share them too,
    /// and an SQLite file keeps them for its one instance).
    #[arg(long, env = "AUTH_REDIS", value_name = "URL", hide_env_values = true)]
    redis: Option<String>,

    /// The prefix of the rate-limit keys in Redis.
    #[arg(long, env = "AUTH_REDIS_PREFIX", default_value = auth_server::DEFAULT_REDIS_PREFIX)]
    redis_prefix: String,

    /// A third-party sign-in provider as comma-separated key=value pairs, repeatable; e.g.
    /// `id=my-oidc,issuer=https://idp.example.com,client_id=web,client_secret=...` for any OpenID Connect
    /// provider, or `id=github,client_id=...,client_secret=...` for a built-in one. The keys are those of
    /// a `[[provider]]` table of --third-party-providers-file. In the environment, separate providers with `;`.
    // Parsed after clap, whose errors would echo the value and with it the client secret.
    #[arg(
        long = "third-party-provider",
        env = "AUTH_THIRD_PARTY_PROVIDERS",
        value_delimiter = ';',
        value_name = "KEY=VALUE,...",
        hide_env_values = true
    )]
    third_party_providers: Vec<String>,
    /// A TOML file of third-party providers, one `[[provider]]` table each (several clients per provider
    /// with `[[provider.client]]`); see the README. Used together with --third-party-provider.
    #[arg(long, env = "AUTH_THIRD_PARTY_PROVIDERS_FILE", value_name = "PATH")]
    third_party_providers_file: Option<PathBuf>,
    /// A TOML file of tenants served besides `public` at /auth/<tenantId>/..., one `[[tenant]]` table each
    /// with its `id` and optional `first_factors`, `contact_method`, `flow_type` and `[[tenant.provider]]`
    /// tables (the providers file's format); see the README. A mistake stops the server with its line.
    #[arg(long, env = "AUTH_TENANTS_FILE", value_name = "PATH")]
    tenants_file: Option<PathBuf>,

    /// Serve `GET /metrics` (Prometheus text format) on this address and port, apart from the API: requests
    /// and latencies per operation and status, sign-ins by recipe, rate-limited requests, token thefts. Off
    /// when not given; keep it off the public network.
    #[arg(long, env = "AUTH_METRICS_LISTEN", value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
}

/// The `--third-party-provider` values; errors name the provider's position, never its text.
fn parse_providers(lines: &[String]) -> Result<Vec<ProviderConfig>, String> {
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            authgen_recipes::thirdparty::parse_provider_line(line)
                .map_err(|e| format!("--third-party-provider (provider {}): {e}", i + 1))
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FrameworkArg {
    /// axum.
    Axum,
    /// actix-web.
    ActixWeb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ForwardedHeaderArg {
    /// `X-Forwarded-For: client, proxy1, ...` (nginx, HAProxy, most load balancers).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DeliveryKind {
    /// One line per message on stderr.
    Log,
    /// Email through an SMTP server.
    Smtp,
}

impl From<Args> for Settings {
    fn from(args: Args) -> Self {
        Settings {
            listen: args.listen,
            database: args.database,
            database_max_connections: args.database_max_connections,
            signing_key_rotation: Duration::from_secs(args.signing_key_rotation_hours.saturating_mul(3600)),
            website_domain: args.website_domain,
            api_domain: args.api_domain,
            contact_method: args.contact_method,
            email_verification: args.email_verification,
            flow_type: args.flow_type,
            delivery: match args.delivery {
                DeliveryKind::Log => DeliverySettings::Log,
                DeliveryKind::Smtp => {
                    DeliverySettings::Smtp { host: args.smtp_host, port: args.smtp_port, from: args.smtp_from }
                }
            },
            code_lifetime: Duration::from_millis(args.code_lifetime_ms),
            live_codes_per_device: args.live_codes_per_device,
            prune_interval: Duration::from_secs(args.prune_interval_s),
            access_token_lifetime: Duration::from_secs(args.access_token_lifetime_s),
            session_check_ttl: Duration::from_millis(args.session_check_ttl_ms),
            framework: match args.framework {
                FrameworkArg::Axum => Framework::Axum,
                FrameworkArg::ActixWeb => Framework::ActixWeb,
            },
            third_party_providers: Vec::new(),
            tenants: Vec::new(),
            limits: auth_server::ConnectionLimits {
                header_read_timeout: Duration::from_secs(args.header_read_timeout_s),
                body_read_timeout: Duration::from_secs(args.body_read_timeout_s),
                keep_alive: Duration::from_secs(args.keep_alive_s),
                max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
            },
            rate_limits: RateLimits {
                codes_per_contact: args.rate_limit_codes_per_contact,
                codes_per_client: args.rate_limit_codes_per_client,
                consume_per_client: args.rate_limit_consume_per_client,
                sign_in_up_per_client: args.rate_limit_signinup_per_client,
                authorisation_url_per_client: args.rate_limit_authorisation_url_per_client,
            },
            redis: args.redis,
            redis_prefix: args.redis_prefix,
            trusted_proxies: args.trusted_proxies.with_header(match args.forwarded_header {
                ForwardedHeaderArg::XForwardedFor => auth_api::runtime::ForwardedHeader::XForwardedFor,
                ForwardedHeaderArg::Forwarded => auth_api::runtime::ForwardedHeader::Forwarded,
            }),
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let metrics = args.metrics_listen.map(|_| auth_server::metrics::install());
    init_tracing(metrics.clone());
    if let (Some(address), Some(metrics)) = (args.metrics_listen, metrics) {
        match std::net::TcpListener::bind(address).and_then(|l| auth_server::metrics::serve(l, metrics)) {
            Ok(bound) => tracing::info!("metrics on http://{bound}/metrics"),
            Err(error) => {
                tracing::error!("--metrics-listen {address}: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    let file = args.third_party_providers_file.clone();
    let tenants_file = args.tenants_file.clone();
    let providers = match parse_providers(&args.third_party_providers) {
        Ok(providers) => providers,
        Err(error) => {
            tracing::error!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let mut settings = Settings::from(args);
    settings.third_party_providers = providers;
    if let Some(path) = file {
        match auth_server::load_providers_file(&path) {
            Ok(providers) => settings.third_party_providers.extend(providers),
            Err(error) => {
                tracing::error!("{error}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Some(path) = tenants_file {
        match auth_server::load_tenants_file(&path, (settings.contact_method, settings.flow_type)) {
            Ok(tenants) => settings.tenants = tenants,
            Err(error) => {
                tracing::error!("{error}");
                return ExitCode::FAILURE;
            }
        }
    }
    let result = match settings.framework {
        Framework::Axum => match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
            Ok(runtime) => runtime.block_on(run(settings)),
            Err(e) => Err(e.into()),
        },
        // actix-web runs its own system (one event loop per worker).
        Framework::ActixWeb => actix_web::rt::System::new().block_on(run_actix(settings)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: Settings) -> Result<(), auth_server::Error> {
    let app = auth_server::app(&settings).await?;
    let listener = tokio::net::TcpListener::bind(settings.listen).await?;
    tracing::info!(
        database = %settings.database_for_log(),
        website_domain = %settings.website_domain,
        third_party_providers = %settings.third_party_provider_ids(),
        framework = "axum",
        max_connections = settings.limits.max_connections,
        "listening on http://{}",
        listener.local_addr()?
    );
    auth_server::serve_with(listener, app, &settings.limits, auth_server::shutdown_signal()).await?;
    tracing::info!("shut down");
    Ok(())
}

async fn run_actix(settings: Settings) -> Result<(), auth_server::Error> {
    let config = settings.recipe_config()?;
    let delivery = settings.delivery()?;
    let store = auth_server::open_store_with(&settings.database, settings.database_max_connections).await?;
    let listener = std::net::TcpListener::bind(settings.listen)?;
    tracing::info!(
        database = %settings.database_for_log(),
        website_domain = %settings.website_domain,
        third_party_providers = %settings.third_party_provider_ids(),
        framework = "actix-web",
        max_connections = settings.limits.max_connections,
        "listening on http://{}",
        listener.local_addr()?
    );
    // actix-web stops gracefully on SIGINT and SIGTERM by itself.
    auth_server::actix_server_with_limits(config, store, delivery, listener, &settings.limits).await?.await?;
    tracing::info!("shut down");
    Ok(())
}

/// Logging to stderr as RUST_LOG says; with metrics, a layer that counts the audit events whatever RUST_LOG
/// lets through.
fn init_tracing(metrics: Option<std::sync::Arc<auth_server::metrics::Metrics>>) {
    use std::io::IsTerminal as _;
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let log = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(filter);
    let audit = metrics.map(|metrics| {
        auth_server::metrics::AuditCounter(metrics).with_filter(
            tracing_subscriber::filter::Targets::new()
                .with_target(authgen_recipes::audit::TARGET, tracing::Level::INFO),
        )
    });
    tracing_subscriber::registry().with(log).with(audit).init();
}
