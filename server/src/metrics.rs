//! `GET /metrics` in the Prometheus text format (OpenMetrics), on a port of its own (`--metrics-listen`, off by
//! default): requests and their latencies per operation and status, sign-ins by recipe and provider,
//! rate-limited requests and token thefts.
//!
//! Request figures come from a middleware around the routes of either framework; the others are counted from
//! the recipes' audit events ([`authgen_recipes::audit`]) by a `tracing` layer ([`AuditCounter`]), so the audit
//! trail and the metrics cannot disagree. Nothing is recorded until [`install`] is called: without
//! `--metrics-listen` the server does no metrics work at all.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use authgen_recipes::audit;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The media type of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The operation label of a request that matched no operation of the spec (a 404, a CORS preflight, the
/// example protected route): one label for all of them, so the label set stays bounded whatever is requested.
pub const OTHER: &str = "other";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignInLabels {
    recipe: String,
    provider: String,
    new_user: bool,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RateLimitLabels {
    limit: String,
}

/// The server's metrics and their registry.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram>,
    sign_ins: Family<SignInLabels, Counter>,
    rate_limited: Family<RateLimitLabels, Counter>,
    thefts: Counter,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to 5 s.
    Histogram::new([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0])
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("authgen");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by operation (operationId) and status",
            requests.clone(),
        );
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's head to its answer's head, by operation and status",
            prometheus_client::registry::Unit::Seconds,
            latency.clone(),
        );
        let sign_ins = Family::<SignInLabels, Counter>::default();
        registry.register("sign_ins", "Sign-ins and sign-ups, by recipe and provider", sign_ins.clone());
        let rate_limited = Family::<RateLimitLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused by a rate limit, by limit (its name says what it counts and where)",
            rate_limited.clone(),
        );
        let thefts = Counter::default();
        registry.register("token_thefts", "Refresh tokens used twice: sessions revoked as stolen", thefts.clone());
        Self { registry, requests, latency, sign_ins, rate_limited, thefts }
    }

    /// Records one answered request.
    pub fn observe(&self, operation: &'static str, status: u16, elapsed: Duration) {
        let labels = RequestLabels { operation, status };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(elapsed.as_secs_f64());
    }

    /// The exposition text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

static METRICS: OnceLock<Arc<Metrics>> = OnceLock::new();

/// Turns metrics on for this process and returns them; later calls return the same ones.
pub fn install() -> Arc<Metrics> {
    METRICS.get_or_init(|| Arc::new(Metrics::new())).clone()
}

/// The metrics, when [`install`] was called.
pub fn installed() -> Option<Arc<Metrics>> {
    METRICS.get().cloned()
}

/// The operationId of the spec's operation that `method` and `path` address (with or without a tenant
/// segment), or [`OTHER`].
pub fn operation_of(method: &str, path: &str) -> &'static str {
    use auth_api::server::Operation;
    Operation::ALL
        .iter()
        .find(|op| {
            op.method().eq_ignore_ascii_case(method)
                && (template_matches(op.path(), path) || op.segment_path().is_some_and(|t| template_matches(t, path)))
        })
        .map_or(OTHER, |op| op.operation_id())
}

/// Whether `path` fits the path template (`{name}` matches one non-empty segment).
fn template_matches(template: &str, path: &str) -> bool {
    let mut given = path.split('/');
    for expected in template.split('/') {
        match given.next() {
            Some(segment) if expected.starts_with('{') && expected.ends_with('}') => {
                if segment.is_empty() {
                    return false;
                }
            }
            Some(segment) if segment == expected => {}
            _ => return false,
        }
    }
    given.next().is_none()
}

/// The axum middleware recording each request (add with `axum::middleware::from_fn_with_state`).
pub async fn track_axum(
    axum::extract::State(metrics): axum::extract::State<Arc<Metrics>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let operation = operation_of(request.method().as_str(), request.uri().path());
    let start = Instant::now();
    let response = next.run(request).await;
    metrics.observe(operation, response.status().as_u16(), start.elapsed());
    response
}

/// The actix-web middleware recording each request when metrics are on (add with
/// `actix_web::middleware::from_fn`); without them it only passes the request on.
pub async fn track_actix(
    metrics: Option<Arc<Metrics>>,
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let Some(metrics) = metrics else { return next.call(request).await.map(|r| r.map_into_boxed_body()) };
    let operation = operation_of(request.method().as_str(), request.path());
    let start = Instant::now();
    let response = next.call(request).await;
    let status = match &response {
        Ok(response) => response.status().as_u16(),
        Err(error) => error.as_response_error().status_code().as_u16(),
    };
    metrics.observe(operation, status, start.elapsed());
    response.map(|r| r.map_into_boxed_body())
}

/// Serves `GET /metrics` on `listener` on a thread of its own (with its own runtime, whichever framework
/// serves the API), until the process ends.
pub fn serve(listener: std::net::TcpListener, metrics: Arc<Metrics>) -> std::io::Result<SocketAddr> {
    let address = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new().name("metrics".to_owned()).spawn(move || {
        runtime.block_on(async move {
            let listener = match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => listener,
                Err(error) => return tracing::error!(%error, "metrics listener"),
            };
            let app = axum::Router::new().route(
                "/metrics",
                axum::routing::get(move || {
                    let metrics = metrics.clone();
                    async move { ([(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)], metrics.encode()) }
                }),
            );
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "metrics server stopped");
            }
        });
    })?;
    Ok(address)
}

/// A `tracing` layer counting the audit events that are metrics: sign-ins, rate-limited requests, thefts.
#[derive(Debug, Clone)]
pub struct AuditCounter(pub Arc<Metrics>);

#[derive(Default)]
struct AuditFields {
    event: String,
    recipe: String,
    provider: String,
    created_new_user: bool,
    limit: String,
}

impl tracing::field::Visit for AuditFields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        let slot = match field.name() {
            "event" => &mut self.event,
            "recipe" => &mut self.recipe,
            "provider" => &mut self.provider,
            "limit" => &mut self.limit,
            _ => return,
        };
        value.clone_into(slot);
    }

    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        if field.name() == "created_new_user" {
            self.created_new_user = value;
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        if field.name() == "provider" {
            self.provider = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for AuditCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != audit::TARGET {
            return;
        }
        let mut fields = AuditFields::default();
        event.record(&mut fields);
        let metrics = &self.0;
        match fields.event.as_str() {
            audit::EVENT_SIGN_IN_UP => {
                let labels = SignInLabels {
                    recipe: fields.recipe,
                    provider: fields.provider,
                    new_user: fields.created_new_user,
                };
                metrics.sign_ins.get_or_create(&labels).inc();
            }
            audit::EVENT_RATE_LIMITED => {
                let labels = RateLimitLabels { limit: fields.limit };
                metrics.rate_limited.get_or_create(&labels).inc();
            }
            audit::EVENT_THEFT_DETECTED => {
                metrics.thefts.inc();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_labelled_with_their_operation_or_other() {
        assert_eq!(operation_of("POST", "/auth/signinup/code"), "createCode");
        assert_eq!(operation_of("post", "/auth/signinup/code/consume"), "consumeCode");
        assert_eq!(operation_of("GET", "/auth/signinup/code"), OTHER);
        assert_eq!(operation_of("POST", "/auth/signinup/code/"), OTHER);
        assert_eq!(operation_of("GET", "/sessioninfo"), OTHER);
        assert_eq!(operation_of("GET", "/nope/../auth/jwt/jwks.json"), OTHER);
        // A tenant's route is its operation's; the session routes take no tenant.
        assert_eq!(operation_of("POST", "/auth/customer-1/signinup/code"), "createCode");
        assert_eq!(operation_of("GET", "/auth/customer-1/loginmethods"), "getLoginMethods");
        assert_eq!(operation_of("POST", "/auth/customer-1/signout"), OTHER);
    }

    #[test]
    fn templates_match_one_non_empty_segment_per_parameter() {
        assert!(template_matches("/a/{x}/c", "/a/b/c"));
        assert!(!template_matches("/a/{x}/c", "/a//c"));
        assert!(!template_matches("/a/{x}/c", "/a/b/c/d"));
        assert!(!template_matches("/a/{x}", "/a"));
    }
}
