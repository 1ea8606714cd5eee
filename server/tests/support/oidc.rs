//! A real OpenID Connect provider for tests: `tests/oidc-provider/provider.mjs` (the npm package
//! `oidc-provider`) as a child process on a free loopback port, plus a programmatic "browser" that signs in
//! and consents at it, and a token-endpoint helper.
//!
//! Include with `#[path = "support/oidc.rs"] mod oidc;`. Needs `node` (and `npm` on the first run, which runs
//! `npm ci` in `tests/oidc-provider`).

#![allow(dead_code, reason = "each test file uses a different part of the harness")]
#![allow(unreachable_pub, reason = "test support module shared by several test crates")]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use url::Url;

/// The client `provider.mjs` registers when no clients are given.
pub const DEFAULT_CLIENT_ID: &str = "authgen-web";
/// The secret of [`DEFAULT_CLIENT_ID`].
pub const DEFAULT_CLIENT_SECRET: &str = "authgen-secret";
/// The only redirect URI of [`DEFAULT_CLIENT_ID`].
pub const DEFAULT_REDIRECT_URI: &str = "http://localhost:3000/auth/callback/my-oidc";

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_HOPS: usize = 20;
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running provider; the child process is killed when this is dropped (also when a test panics).
#[derive(Debug)]
pub struct OidcProvider {
    /// `http://127.0.0.1:<port>`, exactly as in the tokens and the discovery document.
    pub issuer: String,
    /// The discovery document (`/.well-known/openid-configuration`).
    pub discovery: serde_json::Value,
    child: Child,
    /// Held open: the provider exits when its stdin closes, so it never outlives the test process.
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<String>>,
}

/// How [`OidcProvider::exchange_code_with`] authenticates the client at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// HTTP Basic `client_id:client_secret` (form-urlencoded, RFC 6749 §2.3.1).
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Post,
}

impl OidcProvider {
    /// The default client, a 60 s authorization code lifetime.
    pub async fn start() -> Self {
        Self::start_with(60, None).await
    }

    /// `code_ttl_secs` is the authorization code lifetime; `clients_json` replaces the default client (the
    /// `OIDC_CLIENTS` format of `provider.mjs`: `[{"client_id", "client_secret", "redirect_uris": [..],
    /// "token_endpoint_auth_method"?, "require_pkce"?}]`).
    pub async fn start_with(code_ttl_secs: u64, clients_json: Option<&str>) -> Self {
        let dir = provider_dir();
        ensure_node_modules(&dir);

        let mut command = Command::new("node");
        command
            .arg(dir.join("provider.mjs"))
            .current_dir(&dir)
            .env("PORT", "0")
            .env("OIDC_CODE_TTL", code_ttl_secs.to_string())
            .env_remove("OIDC_CLIENTS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(clients) = clients_json {
            command.env("OIDC_CLIENTS", clients);
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!("the OpenID Connect provider tests need `node` (Node.js 20+) on PATH: {e}")
            }
            Err(e) => panic!("could not start node {}: {e}", dir.join("provider.mjs").display()),
        };
        let stdin = child.stdin.take();

        let stderr = Arc::new(Mutex::new(String::new()));
        let mut child_stderr = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0_u8; 4096];
            while let Ok(n) = child_stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().expect("stderr lock").push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });

        let (ready, issuer) = tokio::sync::oneshot::channel::<String>();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            let mut ready = Some(ready);
            // Keep draining after the ISSUER line so the child never blocks on a full pipe.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(issuer) = line.strip_prefix("ISSUER=")
                    && let Some(ready) = ready.take()
                {
                    let _ = ready.send(issuer.trim().to_owned());
                }
            }
        });

        let mut provider = Self { issuer: String::new(), discovery: serde_json::Value::Null, child, stdin, stderr };
        provider.issuer = match tokio::time::timeout(READY_TIMEOUT, issuer).await {
            Ok(Ok(issuer)) => issuer,
            Ok(Err(_)) => panic!(
                "the OpenID Connect provider exited before it was ready ({:?}); stderr:\n{}",
                provider.child.try_wait(),
                provider.stderr()
            ),
            Err(_) => panic!(
                "the OpenID Connect provider printed no ISSUER line within {READY_TIMEOUT:?}; stderr:\n{}",
                provider.stderr()
            ),
        };

        let discovery_url = format!("{}/.well-known/openid-configuration", provider.issuer);
        let parsed = Url::parse(&discovery_url).expect("discovery URL");
        let response = http(Method::Get, &parsed, &[], None)
            .await
            .unwrap_or_else(|e| panic!("GET {discovery_url}: {e}; stderr:\n{}", provider.stderr()));
        provider.discovery = response.json().unwrap_or_else(|e| panic!("GET {discovery_url}: {e}"));
        provider
    }

    /// Everything the provider wrote to stderr so far (warnings, server errors).
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr lock").clone()
    }

    /// An endpoint from the discovery document, e.g. `"token_endpoint"`.
    pub fn endpoint(&self, name: &str) -> String {
        self.discovery[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in the discovery document: {}", self.discovery))
            .to_owned()
    }

    /// An authorization URL as a backend would build it (`response_type=code`, the given scope and state, and a
    /// S256 `code_challenge` when `code_challenge` is given).
    pub fn authorization_url(
        &self,
        client_id: &str,
        redirect_uri: &str,
        scope: &str,
        state: &str,
        code_challenge: Option<&str>,
    ) -> String {
        let mut url = Url::parse(&self.endpoint("authorization_endpoint")).expect("authorization endpoint");
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("response_type", "code")
                .append_pair("scope", scope)
                .append_pair("state", state);
            if let Some(challenge) = code_challenge {
                query.append_pair("code_challenge", challenge).append_pair("code_challenge_method", "S256");
            }
        }
        url.into()
    }

    /// The token endpoint's JSON answer to an authorization-code grant, client authentication by HTTP Basic.
    /// Errors come back as the provider's error JSON (`{"error": "invalid_grant", ...}`).
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        client_id: &str,
        client_secret: &str,
        code_verifier: Option<&str>,
    ) -> serde_json::Value {
        self.exchange_code_with(ClientAuth::Basic, code, redirect_uri, client_id, client_secret, code_verifier).await.1
    }

    /// [`Self::exchange_code`] with a choice of client authentication; also returns the HTTP status.
    pub async fn exchange_code_with(
        &self,
        auth: ClientAuth,
        code: &str,
        redirect_uri: &str,
        client_id: &str,
        client_secret: &str,
        code_verifier: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", redirect_uri);
        if let Some(verifier) = code_verifier {
            form.append_pair("code_verifier", verifier);
        }
        let mut headers = vec![("content-type", FORM.to_owned()), ("accept", "application/json".to_owned())];
        match auth {
            ClientAuth::Basic => {
                let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    encode(client_id),
                    encode(client_secret)
                ));
                headers.push(("authorization", format!("Basic {credentials}")));
            }
            ClientAuth::Post => {
                form.append_pair("client_id", client_id).append_pair("client_secret", client_secret);
            }
        }
        let token_endpoint = Url::parse(&self.endpoint("token_endpoint")).expect("token endpoint");
        let response = http(Method::Post, &token_endpoint, &headers, Some(form.finish()))
            .await
            .unwrap_or_else(|e| panic!("token request: {e}; stderr:\n{}", self.stderr()));
        let json = response.json().unwrap_or_else(|e| panic!("token response: {e}"));
        (response.status, json)
    }

    /// The userinfo endpoint's JSON for an access token.
    pub async fn userinfo(&self, access_token: &str) -> serde_json::Value {
        let endpoint = Url::parse(&self.endpoint("userinfo_endpoint")).expect("userinfo endpoint");
        let response = http(Method::Get, &endpoint, &[("authorization", format!("Bearer {access_token}"))], None)
            .await
            .unwrap_or_else(|e| panic!("userinfo request: {e}"));
        response.json().unwrap_or_else(|e| panic!("userinfo: {e}"))
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Follows `authorization_url` like a browser with its own cookie jar, signs in as `login` and grants consent,
/// and returns the redirect to the client's redirect URI (with `code`, `state` and `iss`). Stops at the first
/// redirect that leaves the provider's origin, without requesting it. `Err` when the provider refuses: an error
/// page (unknown login, bad client or redirect URI: the status and body) or an `error` at the redirect URI.
pub async fn authorize(authorization_url: &str, login: &str) -> Result<Url, String> {
    let url = drive(authorization_url, Some(login)).await?;
    match url.query_pairs().find(|(k, _)| k == "error") {
        Some((_, error)) => {
            let description = url
                .query_pairs()
                .find(|(k, _)| k == "error_description")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            Err(format!("{error}: {description} ({url})"))
        }
        None => Ok(url),
    }
}

/// Like [`authorize`] but the user cancels at the first interaction: returns the redirect to the client's
/// redirect URI carrying `error=access_denied` (and `state`).
pub async fn deny(authorization_url: &str) -> Result<Url, String> {
    drive(authorization_url, None).await
}

/// A query parameter of a URL.
pub fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The decoded payload of a JWT (no signature check).
pub fn jwt_payload(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).unwrap_or_else(|| panic!("not a JWT: {jwt}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_else(|e| panic!("JWT payload is not base64url ({e}): {jwt}"));
    serde_json::from_slice(&bytes).expect("JWT payload is JSON")
}

/// The PKCE S256 `code_challenge` of a verifier: `BASE64URL(SHA-256(verifier))`.
pub fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()))
}

enum Step {
    Get(Url),
    Post(Url, String),
}

async fn drive(authorization_url: &str, login: Option<&str>) -> Result<Url, String> {
    let start = Url::parse(authorization_url).map_err(|e| format!("bad authorization URL {authorization_url}: {e}"))?;
    let origin = start.origin();
    let mut jar = CookieJar::default();
    let mut step = Step::Get(start);
    for _ in 0..MAX_HOPS {
        let (url, response) = match step {
            Step::Get(url) => {
                let cookie = jar.header_for(&url);
                let response = http(Method::Get, &url, &[("cookie", cookie)], None).await?;
                (url, response)
            }
            Step::Post(url, body) => {
                let cookie = jar.header_for(&url);
                let headers = [("cookie", cookie), ("content-type", FORM.to_owned())];
                let response = http(Method::Post, &url, &headers, Some(body)).await?;
                (url, response)
            }
        };
        jar.store(&url, &response);
        let status = response.status;
        if (300..400).contains(&status) {
            let location =
                response.header("location").ok_or_else(|| format!("{status} without a Location at {url}"))?;
            let target = url.join(location).map_err(|e| format!("bad Location {location}: {e}"))?;
            if target.origin() != origin {
                return Ok(target);
            }
            step = Step::Get(target);
            continue;
        }
        let body = String::from_utf8_lossy(&response.body).into_owned();
        if !(200..300).contains(&status) {
            return Err(format!("{status} at {url}: {body}"));
        }
        // An interaction page of provider.mjs: one login or consent form, and an abort form.
        let actions = form_actions(&body);
        let find = |suffix: &str| actions.iter().find(|a| a.ends_with(suffix));
        let (action, form) = match login {
            None => (find("/abort"), String::new()),
            Some(login) => match (find("/login"), find("/confirm")) {
                (Some(action), _) => {
                    let form =
                        url::form_urlencoded::Serializer::new(String::new()).append_pair("login", login).finish();
                    (Some(action), form)
                }
                (None, confirm) => (confirm, String::new()),
            },
        };
        let action = action.ok_or_else(|| format!("no interaction form at {url}: {body}"))?;
        step = Step::Post(url.join(action).map_err(|e| format!("bad form action {action}: {e}"))?, form);
    }
    Err(format!("more than {MAX_HOPS} hops from {authorization_url}"))
}

fn form_actions(html: &str) -> Vec<String> {
    html.split("action=\"").skip(1).filter_map(|rest| rest.split('"').next()).map(str::to_owned).collect()
}

const FORM: &str = "application/x-www-form-urlencoded";

/// A GET of a JSON document (discovery, JWKS).
pub async fn get_json(url: &str) -> serde_json::Value {
    let parsed = Url::parse(url).unwrap_or_else(|e| panic!("bad URL {url}: {e}"));
    let response = http(Method::Get, &parsed, &[], None).await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    response.json().unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

// A minimal HTTP/1.1 client over std's TcpStream (plain http on loopback only), so that the harness plays the
// browser without sharing any HTTP client crate, cookie store or TLS setup with the code under test.

#[derive(Debug, Clone, Copy)]
enum Method {
    Get,
    Post,
}

#[derive(Debug)]
struct Response {
    status: u16,
    /// Lower-case names.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| {
            format!("status {}, body is not JSON ({e}): {}", self.status, String::from_utf8_lossy(&self.body))
        })
    }
}

async fn http(method: Method, url: &Url, headers: &[(&str, String)], body: Option<String>) -> Result<Response, String> {
    let url = url.clone();
    let headers: Vec<(String, String)> =
        headers.iter().filter(|(_, v)| !v.is_empty()).map(|(n, v)| ((*n).to_owned(), v.clone())).collect();
    tokio::task::spawn_blocking(move || http_blocking(method, &url, &headers, body.as_deref()))
        .await
        .map_err(|e| format!("HTTP task: {e}"))?
}

fn http_blocking(
    method: Method,
    url: &Url,
    headers: &[(String, String)],
    body: Option<&str>,
) -> Result<Response, String> {
    if url.scheme() != "http" {
        return Err(format!("only plain http is supported: {url}"));
    }
    let host = url.host_str().ok_or_else(|| format!("no host in {url}"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let mut stream = TcpStream::connect((host, port)).map_err(|e| format!("connect {url}: {e}"))?;
    stream.set_read_timeout(Some(HTTP_TIMEOUT)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(HTTP_TIMEOUT)).map_err(|e| e.to_string())?;
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let method = match method {
        Method::Get => "GET",
        Method::Post => "POST",
    };
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\naccept: */*\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        request.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body.unwrap_or_default());
    stream.write_all(request.as_bytes()).map_err(|e| format!("send {url}: {e}"))?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| format!("read {url}: {e}"))?;

    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| format!("no HTTP header from {url}"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut rest = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line from {url}: {head}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        rest = dechunk(&rest).ok_or_else(|| format!("bad chunked body from {url}"))?;
    } else if let Some(length) = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()) {
        rest.truncate(length);
    }
    Ok(Response { status, headers, body: rest })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// Just enough of RFC 6265 for one origin: name, value, path; a cookie set with `Max-Age=0` or an `Expires` in
/// the past is removed.
#[derive(Debug, Default)]
struct CookieJar {
    /// (name, path, value)
    cookies: Vec<(String, String, String)>,
}

impl CookieJar {
    fn store(&mut self, url: &Url, response: &Response) {
        for (_, set_cookie) in response.headers.iter().filter(|(n, _)| n == "set-cookie") {
            let mut parts = set_cookie.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else { continue };
            let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
            let mut path = default_path(url);
            let mut expired = false;
            for attribute in parts {
                let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
                let (key, val) = (key.trim().to_ascii_lowercase(), val.trim());
                match key.as_str() {
                    "path" if val.starts_with('/') => path = val.to_owned(),
                    "max-age" => expired |= val.parse::<i64>().is_ok_and(|age| age <= 0),
                    "expires" => expired |= val.contains("1970"),
                    _ => {}
                }
            }
            self.cookies.retain(|(n, p, _)| !(n == &name && p == &path));
            if !expired {
                self.cookies.push((name, path, value));
            }
        }
    }

    fn header_for(&self, url: &Url) -> String {
        let request_path = url.path();
        self.cookies
            .iter()
            .filter(|(_, path, _)| {
                request_path == path
                    || (request_path.starts_with(path.as_str())
                        && (path.ends_with('/') || request_path[path.len()..].starts_with('/')))
            })
            .map(|(name, _, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn default_path(url: &Url) -> String {
    match url.path().rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(i) => url.path()[..i].to_owned(),
    }
}

fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("oidc-provider")
}

/// Runs `npm ci` once when `node_modules` is missing. Threads of one test binary share the result through a
/// `OnceLock`; concurrent test binaries each install into their own temporary directory and atomically rename
/// its `node_modules` into place: the first rename wins, the others find the directory there and discard theirs.
fn ensure_node_modules(dir: &Path) {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    let result = INSTALLED.get_or_init(|| {
        let target = dir.join("node_modules");
        if target.join("oidc-provider").join("package.json").exists() {
            return Ok(());
        }
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let staging = dir.join(format!(".install-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&staging).map_err(|e| format!("create {}: {e}", staging.display()))?;
        let result = (|| {
            for file in ["package.json", "package-lock.json"] {
                std::fs::copy(dir.join(file), staging.join(file)).map_err(|e| format!("copy {file}: {e}"))?;
            }
            let output = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&staging)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| {
                    format!("the OpenID Connect provider tests need `npm` on PATH to install oidc-provider: {e}")
                })?;
            if !output.status.success() {
                return Err(format!(
                    "npm ci in {} failed ({}):\n{}\n{}",
                    staging.display(),
                    output.status,
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            match std::fs::rename(staging.join("node_modules"), &target) {
                Ok(()) => Ok(()),
                // Another process installed first.
                Err(_) if target.join("oidc-provider").join("package.json").exists() => Ok(()),
                Err(e) => Err(format!("rename node_modules into {}: {e}", dir.display())),
            }
        })();
        let _ = std::fs::remove_dir_all(&staging);
        result
    });
    if let Err(message) = result {
        panic!("{message}");
    }
}

/// SHA-256 (FIPS 180-4), for PKCE challenges; the test dependencies have no hash crate.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
        0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
        0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
        0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
        0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
        0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
        0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] =
        [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0_u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh.wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (state, value) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *state = state.wrapping_add(value);
        }
    }
    let mut out = [0_u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}
