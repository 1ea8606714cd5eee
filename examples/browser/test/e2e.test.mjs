// End-to-end: the demo page, with the official supertokens-web-js SDK, in headless Chromium, against
// auth-server on another origin: passwordless sign-in, and third-party sign-in through a real OpenID Connect
// provider (server/tests/oidc-provider), on `public` and, with the SDK's multitenancy, on a tenant whose own
// provider is that one. Run once per framework adapter of auth-server.
//
//   node --test test/e2e.test.mjs
//
// Environment:
//   AUTH_SERVER_BIN   the auth-server binary (default: target/debug/auth-server; relative paths are
//                     taken from the repository root)
//   CHROMIUM_BIN      the browser (default: /usr/bin/chromium)
//   E2E_WEB_PORT      the website origin's port, http://localhost:<port> (default 3000)
//   E2E_API_PORT      auth-server's port, http://localhost:<port> (default 3001)
//   E2E_THIRD_PORT    the foreign origin's port, http://127.0.0.1:<port> (default 3002)
//   E2E_FRAMEWORKS    comma-separated subset of axum,actix-web to run (default: both when available)
//   E2E_SCREENSHOT    where to save the signed-in screenshot (default: examples/browser/screenshot.png;
//                     "none" to skip)
//   E2E_VERBOSE       print the children's output as it comes
//
// The OpenID Connect provider runs from server/tests/oidc-provider/provider.mjs on a free loopback port; its
// node_modules must be installed (`npm ci` there; run-e2e.sh does it).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { Proc, captureResponseBodies, decodeFrontToken, escapeRegExp, eventually, exchangeJson, headerSet, recordTraffic, sleep } from "./support.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const exampleDir = path.resolve(here, "..");
const repoRoot = path.resolve(exampleDir, "..", "..");

const AUTH_SERVER_BIN = path.resolve(repoRoot, process.env.AUTH_SERVER_BIN || "target/debug/auth-server");
const CHROMIUM_BIN = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const WEB_PORT = Number(process.env.E2E_WEB_PORT || 3000);
const API_PORT = Number(process.env.E2E_API_PORT || 3001);
const THIRD_PORT = Number(process.env.E2E_THIRD_PORT || 3002);
const WEBSITE = `http://localhost:${WEB_PORT}`;
const API = `http://localhost:${API_PORT}`;
const THIRD = `http://127.0.0.1:${THIRD_PORT}`;
const SCREENSHOT = process.env.E2E_SCREENSHOT || path.join(exampleDir, "screenshot.png");
const ACCESS_TOKEN_LIFETIME_S = 2;

// The third-party provider: oidc-provider with one confidential client whose redirect URI is the demo page's
// callback path.
const OIDC_PROVIDER_DIR = path.join(repoRoot, "server", "tests", "oidc-provider");
const PROVIDER_ID = "my-oidc";
const OIDC_CLIENT_ID = "authgen-web";
const OIDC_CLIENT_SECRET = "authgen-secret";
const CALLBACK = `${WEBSITE}/auth/callback/${PROVIDER_ID}`;

// What the generated CORS policy allows (spec/auth.yaml): content-type, the header parameters and the
// security schemes' headers; the same list SuperTokens' getAllCORSHeaders() gives plus content-type.
const EXPECTED_ALLOWED_HEADERS = ["content-type", "rid", "fdi-version", "anti-csrf", "authorization", "st-auth-mode"];

const STEP_TIMEOUT_MS = 10_000;
const TEST_TIMEOUT_MS = 60_000;

// --- the server command line, per framework -------------------------------------------------------

function authServerHelp() {
  return execFileSync(AUTH_SERVER_BIN, ["--help"], { encoding: "utf8", timeout: 15_000 });
}

/** The frameworks to run, each with its extra auth-server arguments or the reason it is skipped. */
function frameworks() {
  if (!fs.existsSync(AUTH_SERVER_BIN)) {
    throw new Error(`auth-server binary not found at ${AUTH_SERVER_BIN}: run \`cargo build -p auth-server\` or set AUTH_SERVER_BIN`);
  }
  const help = authServerHelp();
  const hasFlag = /--framework\b/.test(help);
  const wanted = (process.env.E2E_FRAMEWORKS || "axum,actix-web").split(",").map((name) => name.trim());
  const list = [
    { name: "axum", args: hasFlag ? ["--framework", "axum"] : [] },
    {
      name: "actix-web",
      args: ["--framework", "actix-web"],
      skip: !hasFlag
        ? "auth-server --help lists no --framework flag yet"
        : !/actix-web/.test(help)
          ? "auth-server --help does not list actix-web as a --framework value"
          : false,
    },
  ];
  for (const framework of list) {
    if (!wanted.includes(framework.name)) {
      framework.skip = "not in E2E_FRAMEWORKS";
    }
    if (framework.skip) {
      console.log(`note: skipping the ${framework.name} suite: ${framework.skip}`);
    }
  }
  return list;
}

/**
 * The auth-server command line for one framework: a temp SQLite file, log delivery, 2 s access tokens, and
 * the OpenID Connect provider at `issuer` as the third-party provider `my-oidc`.
 */
function authServerCommand(framework, databaseFile, issuer, tenantsFile) {
  return {
    command: AUTH_SERVER_BIN,
    args: [
      ...framework.args,
      "--listen", `127.0.0.1:${API_PORT}`,
      "--database", `sqlite://${databaseFile}`,
      "--website-domain", WEBSITE,
      "--api-domain", API,
      "--contact-method", "EMAIL_OR_PHONE",
      "--flow-type", "USER_INPUT_CODE_AND_MAGIC_LINK",
      "--delivery", "log",
      "--access-token-lifetime-s", String(ACCESS_TOKEN_LIFETIME_S),
      "--third-party-provider",
      `id=${PROVIDER_ID},issuer=${issuer},client_id=${OIDC_CLIENT_ID},client_secret=${OIDC_CLIENT_SECRET}`,
      "--tenants-file", tenantsFile,
    ],
  };
}

// A tenant besides public: emails only, with the same OpenID Connect provider configured as its own (under
// another display name), as a B2B customer brings its identity provider.
const TENANT = "acme";
const TENANT_PROVIDER_NAME = "Acme SSO";

function tenantsToml(issuer) {
  return [
    "[[tenant]]",
    `id = "${TENANT}"`,
    `first_factors = ["otp-email", "link-email", "thirdparty"]`,
    `contact_method = "EMAIL"`,
    "",
    "[[tenant.provider]]",
    `id = "${PROVIDER_ID}"`,
    `name = "${TENANT_PROVIDER_NAME}"`,
    `issuer = "${issuer}"`,
    `client_id = "${OIDC_CLIENT_ID}"`,
    `client_secret = "${OIDC_CLIENT_SECRET}"`,
    "",
  ].join("\n");
}

/** The environment for children: none of the developer's AUTH_* settings leak in. */
function childEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("AUTH_")));
  return { ...env, RUST_LOG: "info", NO_COLOR: "1", ...extra };
}

// --- shared fixtures: the two static servers and the browser ------------------------------------

let browser;
let website;
let thirdOrigin;
let oidcProvider;
let issuer;
const tempDirs = [];

before(async () => {
  if (!fs.existsSync(path.join(OIDC_PROVIDER_DIR, "node_modules", "oidc-provider"))) {
    throw new Error(`the OpenID Connect provider's packages are missing: run \`npm ci\` in ${OIDC_PROVIDER_DIR}`);
  }
  // It exits when its stdin closes, so it gets a pipe that stays open for the whole run.
  oidcProvider = new Proc("oidc-provider", process.execPath, [path.join(OIDC_PROVIDER_DIR, "provider.mjs")], {
    env: childEnv({
      PORT: "0",
      OIDC_CLIENTS: JSON.stringify([
        { client_id: OIDC_CLIENT_ID, client_secret: OIDC_CLIENT_SECRET, redirect_uris: [CALLBACK] },
      ]),
    }),
    cwd: OIDC_PROVIDER_DIR,
    stdin: "pipe",
  });
  [, issuer] = await oidcProvider.waitForLine(/^ISSUER=(http:\/\/127\.0\.0\.1:\d+)$/, { timeoutMs: 30_000 });

  website = new Proc("serve:website", process.execPath, [
    path.join(exampleDir, "serve.mjs"), "--host", "127.0.0.1", "--port", String(WEB_PORT), "--api-domain", API,
  ], { env: childEnv() });
  await website.waitForLine(/^demo page on /, { timeoutMs: 30_000 });
  thirdOrigin = new Proc("serve:third-origin", process.execPath, [
    path.join(exampleDir, "serve.mjs"), "--host", "127.0.0.1", "--port", String(THIRD_PORT), "--api-domain", API, "--no-build",
  ], { env: childEnv() });
  await thirdOrigin.waitForLine(/^demo page on /, { timeoutMs: STEP_TIMEOUT_MS });

  // launch() gives Chromium a fresh, empty profile directory of its own (and removes it on close).
  browser = await chromium.launch({
    executablePath: CHROMIUM_BIN,
    headless: true,
    timeout: 30_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, { timeout: 60_000 });

after(async () => {
  await browser?.close().catch(() => {});
  await Promise.all([website?.stop(), thirdOrigin?.stop(), oidcProvider?.stop()]);
  for (const dir of tempDirs) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, { timeout: 30_000 });

/** A fresh browser context (no cookies, no storage) with a page whose traffic is recorded. */
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 900, height: 760 }, deviceScaleFactor: 1 });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  const traffic = await recordTraffic(page);
  return { context, page, traffic };
}

async function open(page, url) {
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]");
}

const doesSessionExist = (page) => page.evaluate(() => window.authgenDemo.Session.doesSessionExist());

/** The page's status line, once it is not pending any more. */
async function settledStatus(page) {
  await page.waitForFunction(() => document.getElementById("status").dataset.state !== "pending");
  return page.evaluate(() => ({
    text: document.getElementById("status").textContent,
    state: document.getElementById("status").dataset.state,
  }));
}

/** Clicks "Call /sessioninfo" and returns the HTTP status and body the page shows. */
async function callProtectedRoute(page) {
  await page.click("#call-api");
  await page.waitForFunction(() => {
    const status = document.getElementById("api-status").dataset.status;
    return status && status !== "pending";
  });
  return page.evaluate(() => ({
    status: document.getElementById("api-status").dataset.status,
    body: document.getElementById("api-result").textContent,
  }));
}

/** Types the email and clicks "Send code"; returns the code and magic link auth-server logged for it. */
async function sendCode(page, server, email) {
  const mark = server.mark();
  await page.fill("#email", email);
  await page.click("#send-code");
  const status = await settledStatus(page);
  assert.equal(status.state, "ok", `createCode failed: ${status.text}`);
  await page.waitForSelector("#code-form:not([hidden])");
  const [, code, link] = await server.waitForLine(
    new RegExp(`passwordless code for ${escapeRegExp(email)}: code=(\\d{6}) link=(\\S+)`),
    { from: mark },
  );
  return { code, link };
}

async function waitSignedIn(page) {
  await page.waitForSelector("#signed-in:not([hidden])");
  const status = await settledStatus(page);
  assert.equal(status.state, "ok", status.text);
  return {
    userId: (await page.textContent("#user-id")).trim(),
    email: (await page.textContent("#user-email")).trim(),
  };
}

function lastExchange(traffic, method, pathname) {
  const found = traffic.exchanges.filter((e) => e.method === method && e.path === pathname);
  assert.ok(found.length > 0, `no ${method} ${pathname} was seen; saw ${traffic.exchanges.map((e) => `${e.method} ${e.path} ${e.status}`).join(", ")}`);
  return found[found.length - 1];
}

/**
 * Cookies the browser holds for the API's host, whatever their path (sRefreshToken's is
 * /auth/session/refresh). Cookies ignore ports, so the SDK's own frontend cookies set by the page on
 * localhost:3000 are among them.
 */
async function apiCookies(context) {
  const host = new URL(API).hostname;
  return (await context.cookies()).filter((cookie) => cookie.domain.replace(/^\./, "") === host);
}

async function cookieNames(context) {
  return (await apiCookies(context)).map((cookie) => cookie.name).sort();
}

/** Asserts the response came back through CORS for the website origin with credentials. */
async function assertCredentialedCors(exchange, origin = WEBSITE) {
  const headers = await exchange.response.allHeaders();
  assert.equal(headers["access-control-allow-origin"], origin, `${exchange.path}: allow-origin`);
  assert.equal(headers["access-control-allow-credentials"], "true", `${exchange.path}: allow-credentials`);
  return headers;
}

/** Asserts how the session tokens travelled for the transfer mode, right after sign-in. */
async function assertTokenTransport(context, consume, mode) {
  const headers = await assertCredentialedCors(consume);
  const exposed = headerSet(headers["access-control-expose-headers"]);
  assert.ok(headers["front-token"], "consume: front-token header");
  assert.ok(exposed.includes("front-token"), `front-token is not exposed: ${exposed}`);
  const cookies = await apiCookies(context);
  const byName = Object.fromEntries(cookies.map((cookie) => [cookie.name, cookie]));
  if (mode === "cookie") {
    assert.match(headers["set-cookie"] || "", /sAccessToken=/, "cookie mode: sAccessToken is set");
    assert.equal(headers["st-access-token"], undefined, "cookie mode: no st-access-token header");
    assert.ok(byName.sAccessToken?.httpOnly, "the browser keeps an HttpOnly sAccessToken cookie");
    assert.ok(byName.sRefreshToken?.httpOnly, "the browser keeps an HttpOnly sRefreshToken cookie");
    assert.equal(byName.sRefreshToken.path, "/auth/session/refresh");
  } else {
    assert.ok(headers["st-access-token"], "header mode: st-access-token header");
    assert.ok(headers["st-refresh-token"], "header mode: st-refresh-token header");
    assert.ok(exposed.includes("st-access-token") && exposed.includes("st-refresh-token"), `tokens not exposed: ${exposed}`);
    assert.doesNotMatch(headers["set-cookie"] || "", /sAccessToken=[^;]/, "header mode: no access token cookie");
    assert.equal(byName.sAccessToken, undefined, "header mode: the browser has no sAccessToken cookie");
    // The SDK keeps header-mode tokens in its own (frontend) storage.
    assert.ok(byName["st-access-token"], "header mode: the SDK stored the access token");
  }
  return decodeFrontToken(headers["front-token"]);
}

/**
 * Waits until the access token has expired, calls the protected route again and checks that the SDK
 * refreshed the session on the 401 and retried.
 */
async function assertAutomaticRefresh(page, traffic, frontToken, userId, mode) {
  const expiresAt = frontToken.ate;
  assert.ok(expiresAt > Date.now() - 60_000 && expiresAt - Date.now() <= (ACCESS_TOKEN_LIFETIME_S + 1) * 1000,
    `access token expiry ${new Date(expiresAt).toISOString()} is not about ${ACCESS_TOKEN_LIFETIME_S} s away`);
  await sleep(Math.max(0, expiresAt - Date.now()) + 1_200);
  const from = traffic.exchanges.length;
  const result = await callProtectedRoute(page);
  assert.equal(result.status, "200", `after expiry: ${result.body}`);
  assert.equal(JSON.parse(result.body).userId, userId);
  const seen = traffic.exchanges.slice(from).map((e) => `${e.method} ${e.path} ${e.status}`);
  const sessionInfo = seen.indexOf("GET /sessioninfo 401");
  const refresh = seen.indexOf("POST /auth/session/refresh 200");
  const retried = seen.lastIndexOf("GET /sessioninfo 200");
  assert.ok(sessionInfo >= 0 && refresh > sessionInfo && retried > refresh,
    `expected 401 → refresh 200 → 200, saw: ${seen.join(", ")}`);
  const refreshExchange = traffic.exchanges.slice(from).find((e) => e.path === "/auth/session/refresh");
  const refreshRequestHeaders = await refreshExchange.request.allHeaders();
  const refreshResponseHeaders = await assertCredentialedCors(refreshExchange);
  if (mode === "header") {
    assert.match(refreshRequestHeaders.authorization || "", /^Bearer \S+/, "header mode: refresh sends the refresh token");
    assert.ok(refreshResponseHeaders["st-access-token"], "header mode: refresh returns a new access token");
  } else {
    assert.equal(refreshRequestHeaders.authorization, undefined, "cookie mode: no authorization header");
    assert.match(refreshResponseHeaders["set-cookie"] || "", /sAccessToken=[^;]/, "cookie mode: refresh sets a new access token cookie");
  }
  const newFrontToken = decodeFrontToken(refreshResponseHeaders["front-token"]);
  assert.ok(newFrontToken.ate > expiresAt, "the refreshed access token expires later");
}

/**
 * Console errors and warnings other than the browser's note on each expected 401 (the SDK's session
 * probes and the call that triggers the refresh): the SDK warns there when a response lacks something.
 */
function unexpectedConsoleMessages(traffic) {
  return traffic.console.filter((message) =>
    (message.type === "error" || message.type === "warning") &&
    // The provider's own pages (a third-party flow passes through them) are not the demo's concern.
    !(issuer && message.url.startsWith(`${issuer}/`)) &&
    !/^Failed to load resource: the server responded with a status of 401 \(Unauthorized\)$/.test(message.text));
}

async function signOutAndCheck(page, context, mode) {
  await page.click("#sign-out");
  await page.waitForSelector("#email-form:not([hidden])");
  assert.equal((await settledStatus(page)).text, "Signed out.");
  assert.equal(await doesSessionExist(page), false, "doesSessionExist after sign-out");
  assert.equal(await page.textContent("#session-state"), "none");
  const names = await cookieNames(context);
  if (mode === "cookie") {
    assert.ok(!names.includes("sAccessToken") && !names.includes("sRefreshToken"), `session cookies left: ${names}`);
  } else {
    assert.ok(!names.includes("st-access-token") && !names.includes("st-refresh-token"), `stored tokens left: ${names}`);
  }
  // The protected route now refuses the browser.
  const status = await page.evaluate(async (api) => (await fetch(`${api}/sessioninfo`, { credentials: "include" })).status, API);
  assert.equal(status, 401, "GET /sessioninfo after sign-out");
}

// --- third-party sign-in -------------------------------------------------------------------------

/**
 * Clicks "Sign in with my-oidc" on the demo page and goes through whatever the provider asks in Chromium:
 * the login form (types `login`), the consent form (allows), or nothing when the provider still has a
 * session and a grant for the user. Resolves once the demo page is ready again after the callback, with the
 * prompts seen and the callback URL the provider sent the browser to.
 */
async function signInWithProvider(page, login, { cancel = false, name = PROVIDER_ID } = {}) {
  const button = page.locator(`#providers button[data-provider-id="${PROVIDER_ID}"]`);
  assert.equal((await button.textContent()).trim(), `Sign in with ${name}`);
  let callbackUrl = null;
  const onNavigated = (frame) => {
    if (frame === page.mainFrame() && frame.url().startsWith(`${CALLBACK}?`)) {
      callbackUrl = frame.url();
    }
  };
  page.on("framenavigated", onNavigated);
  try {
    // The page marks itself ready again once the callback is handled; forget the current mark first.
    await page.evaluate(() => delete document.body.dataset.ready);
    await button.click();
    const prompts = [];
    const readyOrPrompt = "body[data-ready=true], body[data-prompt]";
    for (;;) {
      await page.waitForSelector(readyOrPrompt);
      const prompt = await page.evaluate(() => document.body.dataset.prompt || null);
      if (prompt === null) {
        break;
      }
      assert.ok(page.url().startsWith(`${issuer}/interaction/`), `the provider's page: ${page.url()}`);
      prompts.push(prompt);
      assert.ok(prompts.length <= 3, `the provider keeps prompting: ${prompts}`);
      // Leave the prompt's page: the next one (or the demo page) is waited for by the loop.
      await page.evaluate(() => delete document.body.dataset.prompt);
      if (cancel) {
        await page.click(`form[action$="/abort"] button`);
      } else if (prompt === "login") {
        await page.fill(`input[name="login"]`, login);
        await page.click(`form[action$="/login"] button`);
      } else {
        assert.equal(prompt, "consent");
        await page.click(`form[action$="/confirm"] button`);
      }
    }
    assert.equal(new URL(page.url()).origin, WEBSITE, "back on the demo page");
    assert.equal(new URL(page.url()).pathname, "/", "the page leaves the callback path");
    assert.ok(callbackUrl, "the provider sent the browser to the callback path");
    return { prompts, callbackUrl };
  } finally {
    page.off("framenavigated", onNavigated);
  }
}

/**
 * A fresh page (as newPage) that also keeps the bodies of GET /auth/authorisationurl: the page leaves for the
 * provider as soon as it has read one.
 */
async function newThirdPartyPage() {
  const opened = await newPage();
  opened.traffic.authorisationUrlBodies = await captureResponseBodies(opened.page, `${API}/auth/authorisationurl?*`);
  return opened;
}

/** Checks the SDK's GET /auth/authorisationurl and where it sent the browser. */
async function assertAuthorisationUrl(traffic) {
  const exchange = lastExchange(traffic, "GET", "/auth/authorisationurl");
  const captured = traffic.authorisationUrlBodies.filter((c) => c.url === exchange.url);
  assert.ok(captured.length > 0, `the body of ${exchange.url} was not captured`);
  const last = captured[captured.length - 1];
  assert.equal(last.error, undefined, `capturing ${exchange.url}: ${last.error}`);
  assert.equal(exchange.status, 200);
  const query = new URL(exchange.url).searchParams;
  assert.equal(query.get("thirdPartyId"), PROVIDER_ID);
  assert.equal(query.get("redirectURIOnProviderDashboard"), CALLBACK);
  assert.equal((await exchange.request.allHeaders()).rid, "thirdparty");
  await assertCredentialedCors(exchange);
  const body = JSON.parse(last.body);
  assert.equal(body.status, "OK");
  const url = new URL(body.urlWithQueryParams);
  assert.equal(`${url.origin}${url.pathname}`, `${issuer}/auth`, "the provider's authorization endpoint");
  assert.equal(url.searchParams.get("client_id"), OIDC_CLIENT_ID);
  assert.equal(url.searchParams.get("redirect_uri"), CALLBACK);
  assert.equal(url.searchParams.get("response_type"), "code");
  assert.ok(url.searchParams.get("scope").split(" ").includes("openid"), url.searchParams.get("scope"));
  // The browser went to that URL plus the SDK's state.
  const visit = traffic.exchanges.find((e) => e.at >= exchange.at && e.url.startsWith(`${issuer}/auth?`));
  assert.ok(visit, "the browser went to the provider's authorization endpoint");
  const visited = new URL(visit.url).searchParams;
  assert.ok(visited.get("state"), "the SDK adds a state");
  for (const [name, value] of url.searchParams) {
    assert.equal(visited.get(name), value, `the authorization request keeps ${name}`);
  }
  // PKCE: auth-server uses it when the provider's discovery document lists S256 (this one does); the SDK
  // keeps the verifier and sends it back with the callback.
  if (body.pkceCodeVerifier !== undefined) {
    assert.equal(url.searchParams.get("code_challenge_method"), "S256");
    assert.equal(url.searchParams.get("code_challenge"), createHash("sha256").update(body.pkceCodeVerifier).digest("base64url"));
  } else {
    assert.equal(url.searchParams.get("code_challenge"), null);
  }
  return { state: visited.get("state"), pkceCodeVerifier: body.pkceCodeVerifier };
}

/** Checks the SDK's POST /auth/signinup for the callback and returns its JSON response. */
async function assertSignInUpRequest(traffic, callbackUrl, { state, pkceCodeVerifier }) {
  const exchange = lastExchange(traffic, "POST", "/auth/signinup");
  const callback = new URL(callbackUrl);
  assert.equal(callback.searchParams.get("state"), state, "the provider returns the SDK's state");
  assert.ok(callback.searchParams.get("code"), "the provider returns a code");
  const sent = exchange.request.postDataJSON();
  assert.equal((await exchange.request.allHeaders()).rid, "thirdparty");
  assert.equal(sent.thirdPartyId, PROVIDER_ID);
  assert.equal(sent.redirectURIInfo.redirectURIOnProviderDashboard, CALLBACK);
  assert.deepEqual(sent.redirectURIInfo.redirectURIQueryParams, Object.fromEntries(callback.searchParams));
  assert.equal(sent.redirectURIInfo.pkceCodeVerifier, pkceCodeVerifier, "the SDK returns the PKCE verifier");
  assert.equal(exchange.status, 200);
  await assertCredentialedCors(exchange);
  return { exchange, body: await exchangeJson(exchange) };
}

// --- the suites ---------------------------------------------------------------------------------

let screenshotTaken = false;

for (const framework of frameworks()) {
  describe(`auth-server (${framework.name})`, { skip: framework.skip || false }, () => {
    let server;

    before(async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `authgen-e2e-${framework.name}-`));
      tempDirs.push(dir);
      const tenantsFile = path.join(dir, "tenants.toml");
      fs.writeFileSync(tenantsFile, tenantsToml(issuer));
      const { command, args } = authServerCommand(framework, path.join(dir, "auth.db"), issuer, tenantsFile);
      server = new Proc(`auth-server:${framework.name}`, command, args, { env: childEnv(), cwd: dir });
      await server.waitForLine(/listening on http:\/\//, { timeoutMs: 30_000 });
    }, { timeout: 60_000 });

    after(async () => {
      const exit = await server?.stop();
      if (exit && exit.code !== 0 && exit.signal === null) {
        console.log(`auth-server (${framework.name}) exited with code ${exit.code}\n${server.tail()}`);
      }
    }, { timeout: 30_000 });

    for (const mode of ["cookie", "header"]) {
      it(`${mode} mode: signs in with the one-time code, calls the protected route, refreshes after expiry, signs out`,
        { timeout: TEST_TIMEOUT_MS }, async () => {
          const { context, page, traffic } = await newPage();
          try {
            await open(page, `${WEBSITE}/?mode=${mode}`);
            assert.equal(await page.evaluate(() => window.authgenDemo.mode), mode);
            assert.equal(await page.getAttribute(`#mode-${mode}`, "aria-current"), "true");
            assert.equal(await doesSessionExist(page), false, "no session before sign-in");

            const email = `otp-${mode}@example.com`;
            const { code } = await sendCode(page, server, email);
            await page.fill("#code", code);
            await page.click("#consume-code");
            const user = await waitSignedIn(page);
            assert.match(user.userId, /^[0-9a-f-]{36}$/, "user id");
            assert.equal(user.email, email);

            const consume = lastExchange(traffic, "POST", "/auth/signinup/code/consume");
            assert.equal(consume.status, 200);
            const consumeBody = await consume.response.json();
            assert.equal(consumeBody.status, "OK");
            assert.equal(consumeBody.user.id, user.userId);
            assert.equal(consumeBody.createdNewRecipeUser, true);
            assert.equal(consume.request.postDataJSON().userInputCode, code);
            const frontToken = await assertTokenTransport(context, consume, mode);
            assert.equal(frontToken.uid, user.userId);

            assert.equal(await doesSessionExist(page), true, "doesSessionExist after sign-in");
            assert.equal(await page.evaluate(() => window.authgenDemo.Session.getUserId()), user.userId);

            const info = await callProtectedRoute(page);
            assert.equal(info.status, "200", info.body);
            assert.equal(JSON.parse(info.body).userId, user.userId);
            await assertCredentialedCors(lastExchange(traffic, "GET", "/sessioninfo"));

            if (mode === "cookie" && !screenshotTaken && SCREENSHOT !== "none") {
              await page.evaluate(() => document.activeElement?.blur());
              await page.screenshot({ path: SCREENSHOT });
              screenshotTaken = true;
            }

            await assertAutomaticRefresh(page, traffic, frontToken, user.userId, mode);
            assert.equal(await doesSessionExist(page), true, "doesSessionExist after the refresh");
            await signOutAndCheck(page, context, mode);
            assert.deepEqual(unexpectedConsoleMessages(traffic), []);
          } finally {
            await context.close();
          }
        });

      it(`${mode} mode: signs in with the magic link`, { timeout: TEST_TIMEOUT_MS }, async () => {
        const { context, page, traffic } = await newPage();
        try {
          await open(page, `${WEBSITE}/?mode=${mode}`);
          const email = `link-${mode}@example.com`;
          const { link } = await sendCode(page, server, email);
          const url = new URL(link);
          assert.equal(url.origin, WEBSITE, "the link points at the website");
          assert.equal(url.pathname, "/auth/verify");
          assert.ok(url.searchParams.get("preAuthSessionId"), "preAuthSessionId in the link");
          assert.equal(url.searchParams.get("tenantId"), "public");
          assert.ok(url.hash.length > 1, "the link code is in the fragment");

          // The user clicks the link in the same browser: the page consumes it.
          await page.goto(link);
          await page.waitForSelector("body[data-ready=true]");
          const user = await waitSignedIn(page);
          assert.equal(user.email, email);
          assert.equal(new URL(page.url()).pathname, "/", "the page leaves /auth/verify");

          const consume = lastExchange(traffic, "POST", "/auth/signinup/code/consume");
          const body = consume.request.postDataJSON();
          assert.equal(body.linkCode, url.hash.slice(1));
          assert.equal(body.preAuthSessionId, url.searchParams.get("preAuthSessionId"));
          assert.equal(body.userInputCode, undefined);
          assert.equal((await consume.response.json()).user.id, user.userId);
          await assertTokenTransport(context, consume, mode);

          assert.equal(await doesSessionExist(page), true);
          const info = await callProtectedRoute(page);
          assert.equal(info.status, "200", info.body);
          assert.equal(JSON.parse(info.body).userId, user.userId);

          // A magic link works once.
          const reused = await page.evaluate(async ({ api, linkCode, preAuthSessionId }) => {
            const response = await fetch(`${api}/auth/signinup/code/consume`, {
              method: "POST",
              headers: { "content-type": "application/json", rid: "passwordless" },
              body: JSON.stringify({ linkCode, preAuthSessionId }),
            });
            return response.json();
          }, { api: API, linkCode: url.hash.slice(1), preAuthSessionId: url.searchParams.get("preAuthSessionId") });
          assert.equal(reused.status, "RESTART_FLOW_ERROR");

          await signOutAndCheck(page, context, mode);
          assert.deepEqual(unexpectedConsoleMessages(traffic), []);
        } finally {
          await context.close();
        }
      });
    }

    it("CORS: the website origin succeeds with credentials; preflights allow exactly the generated headers",
      { timeout: TEST_TIMEOUT_MS }, async () => {
        const { context, page, traffic } = await newPage();
        try {
          await open(page, `${WEBSITE}/?mode=cookie`);
          const email = "cors-allowed@example.com";
          const { code } = await sendCode(page, server, email);
          await page.fill("#code", code);
          await page.click("#consume-code");
          const user = await waitSignedIn(page);
          const info = await callProtectedRoute(page);
          assert.equal(info.status, "200", info.body);
          assert.equal(JSON.parse(info.body).userId, user.userId);

          const wanted = ["/auth/signinup/code", "/auth/signinup/code/consume", "/sessioninfo"];
          for (const pathname of wanted) {
            const preflight = traffic.preflights.find((p) => new URL(p.url).pathname === pathname);
            assert.ok(preflight, `no preflight seen for ${pathname}; saw ${traffic.preflights.map((p) => p.url)}`);
            assert.ok(preflight.status >= 200 && preflight.status < 300, `${pathname} preflight status ${preflight.status}`);
            assert.equal(preflight.headers["access-control-allow-origin"], WEBSITE, `${pathname} preflight allow-origin`);
            assert.equal(preflight.headers["access-control-allow-credentials"], "true", `${pathname} preflight allow-credentials`);
            assert.deepEqual(headerSet(preflight.headers["access-control-allow-headers"]), [...EXPECTED_ALLOWED_HEADERS].sort(),
              `${pathname} preflight access-control-allow-headers`);
            const methods = headerSet(preflight.headers["access-control-allow-methods"]);
            assert.ok(methods.includes("post") && methods.includes("get"), `${pathname} allow-methods: ${methods}`);
          }
          // Every SDK request that needed a preflight passed it: no CORS failure at all.
          assert.deepEqual(traffic.corsFailures, []);
          assert.deepEqual(traffic.console.filter((m) => /CORS/i.test(m.text)), []);
          // Credentials went both ways: the browser stored the session cookie and sent it back.
          assert.ok((await cookieNames(context)).includes("sAccessToken"));
          const sessionInfoRequest = await lastExchange(traffic, "GET", "/sessioninfo").request.allHeaders();
          assert.match(sessionInfoRequest.cookie || "", /sAccessToken=/, "the protected call carried the cookie");
        } finally {
          await context.close();
        }
      });

    it("CORS: the same page on a third origin is refused by the browser and gets no session",
      { timeout: TEST_TIMEOUT_MS }, async () => {
        const { context, page, traffic } = await newPage();
        try {
          // A session on the real website first, in the same browser.
          await open(page, `${WEBSITE}/?mode=cookie`);
          const { code } = await sendCode(page, server, "cors-owner@example.com");
          await page.fill("#code", code);
          await page.click("#consume-code");
          await waitSignedIn(page);

          const foreign = await context.newPage();
          const foreignTraffic = await recordTraffic(foreign);
          await open(foreign, `${THIRD}/?mode=cookie`);
          const email = "cors-foreign@example.com";
          const mark = server.mark();
          await foreign.fill("#email", email);
          await foreign.click("#send-code");
          const status = await settledStatus(foreign);
          assert.equal(status.state, "error", `createCode from ${THIRD} should fail: ${status.text}`);
          assert.match(status.text, /could not reach auth-server/);
          assert.equal(await foreign.isHidden("#code-form"), true);

          // The browser blocked it: the console names CORS, and DevTools reports the preflight failure.
          const blocked = foreignTraffic.console.filter((m) =>
            m.text.includes("blocked by CORS policy") && m.text.includes(`from origin '${THIRD}'`) && m.text.includes("/auth/signinup/code"));
          assert.ok(blocked.length > 0, `no CORS error in the console: ${JSON.stringify(foreignTraffic.console)}`);
          const failure = await eventually(() => foreignTraffic.corsFailures.find((f) => f.url === `${API}/auth/signinup/code`),
            () => `no CORS failure reported for createCode: ${JSON.stringify(foreignTraffic.corsFailures)}`);
          assert.equal(failure.corsError, "PreflightMissingAllowOriginHeader");
          assert.ok(foreignTraffic.failed.some((f) => f.method === "POST" && f.url === `${API}/auth/signinup/code`));
          const preflight = foreignTraffic.preflights.find((p) => p.url === `${API}/auth/signinup/code`);
          assert.ok(preflight, "the preflight was answered");
          assert.equal(preflight.headers["access-control-allow-origin"], undefined, "no allow-origin for a foreign origin");
          // The POST itself never reached the server: no code was created for that email.
          await sleep(500);
          assert.deepEqual(server.linesMatching(new RegExp(escapeRegExp(email)), mark), []);

          // No session on the foreign origin, and it cannot read the website's session either.
          assert.equal(await doesSessionExist(foreign), false);
          const readAttempt = await foreign.evaluate(async (api) => {
            try {
              const response = await fetch(`${api}/sessioninfo`, { credentials: "include" });
              return `status ${response.status}`;
            } catch (error) {
              return `${error.name}: ${error.message}`;
            }
          }, API);
          assert.equal(readAttempt, "TypeError: Failed to fetch");
          await eventually(() => foreignTraffic.corsFailures.some((f) => f.url === `${API}/sessioninfo`),
            () => `no CORS failure reported for /sessioninfo: ${JSON.stringify(foreignTraffic.corsFailures)}`);

          // The website's own session is untouched.
          assert.equal(await doesSessionExist(page), true);
          const info = await callProtectedRoute(page);
          assert.equal(info.status, "200", info.body);
        } finally {
          await context.close();
        }
      });

    let aliceId;

    for (const mode of ["cookie", "header"]) {
      it(`${mode} mode: signs in with the OpenID Connect provider (login and consent in Chromium), again as the same user`,
        { timeout: TEST_TIMEOUT_MS }, async () => {
          const { context, page, traffic } = await newThirdPartyPage();
          try {
            await open(page, `${WEBSITE}/?mode=${mode}`);
            // The buttons come from GET /auth/loginmethods, through the SDK.
            const methods = lastExchange(traffic, "GET", "/auth/loginmethods");
            assert.deepEqual((await exchangeJson(methods)).thirdParty.providers, [{ id: PROVIDER_ID, name: PROVIDER_ID }]);
            assert.deepEqual(await page.$$eval("#providers button", (buttons) => buttons.map((b) => b.dataset.providerId)),
              [PROVIDER_ID]);
            assert.equal(await page.isVisible(`#providers button[data-provider-id="${PROVIDER_ID}"]`), true);

            const first = await signInWithProvider(page, "alice");
            assert.deepEqual(first.prompts, ["login", "consent"], "a fresh browser logs in and consents");
            const signInUp = await assertSignInUpRequest(traffic, first.callbackUrl, await assertAuthorisationUrl(traffic));
            assert.equal(signInUp.body.status, "OK", JSON.stringify(signInUp.body));

            const user = await waitSignedIn(page);
            assert.match(user.userId, /^[0-9a-f-]{36}$/, "user id");
            assert.equal(user.email, "alice@example.com");
            assert.match((await settledStatus(page)).text, new RegExp(`with ${PROVIDER_ID}\\.$`));
            assert.equal(signInUp.body.user.id, user.userId);
            assert.deepEqual(signInUp.body.user.emails, ["alice@example.com"]);
            assert.deepEqual(signInUp.body.user.thirdParty, [{ id: PROVIDER_ID, userId: "alice" }]);
            const method = signInUp.body.user.loginMethods[0];
            assert.equal(method.recipeId, "thirdparty");
            assert.equal(method.verified, true, "alice's email is verified at the provider");
            if (aliceId === undefined) {
              assert.equal(signInUp.body.createdNewRecipeUser, true, "alice's first sign-in signs her up");
              aliceId = user.userId;
            } else {
              assert.equal(signInUp.body.createdNewRecipeUser, false);
              assert.equal(user.userId, aliceId, "alice is the same user whatever the token transfer method");
            }
            const frontToken = await assertTokenTransport(context, signInUp.exchange, mode);
            assert.equal(frontToken.uid, user.userId);

            assert.equal(await doesSessionExist(page), true, "doesSessionExist after the third-party sign-in");
            const info = await callProtectedRoute(page);
            assert.equal(info.status, "200", info.body);
            assert.equal(JSON.parse(info.body).userId, user.userId);

            // Sign out, then sign in again: the provider remembers the login and the consent, so the
            // browser comes straight back, and it is the same user.
            await signOutAndCheck(page, context, mode);
            const second = await signInWithProvider(page, "alice");
            assert.deepEqual(second.prompts, [], "the provider's session and grant skip its pages");
            const again = await assertSignInUpRequest(traffic, second.callbackUrl, await assertAuthorisationUrl(traffic));
            assert.equal(again.body.status, "OK", JSON.stringify(again.body));
            assert.equal(again.body.createdNewRecipeUser, false, "the second sign-in signs in");
            const secondUser = await waitSignedIn(page);
            assert.equal(secondUser.userId, user.userId, "the same user id the second time");
            assert.equal(secondUser.email, "alice@example.com");
            const secondInfo = await callProtectedRoute(page);
            assert.equal(secondInfo.status, "200", secondInfo.body);
            assert.equal(JSON.parse(secondInfo.body).userId, user.userId);
            await signOutAndCheck(page, context, mode);
            assert.deepEqual(unexpectedConsoleMessages(traffic), []);

            if (mode === "cookie") {
              // The callback URL once more: the SDK still holds the state, so it sends the used code again;
              // auth-server answers GENERAL_ERROR and the page says so.
              const from = traffic.exchanges.length;
              await page.evaluate(() => delete document.body.dataset.ready);
              await page.goto(second.callbackUrl);
              await page.waitForSelector("body[data-ready=true]");
              const status = await settledStatus(page);
              assert.equal(status.state, "error", status.text);
              assert.match(status.text, /GENERAL_ERROR/);
              const replay = traffic.exchanges.slice(from).find((e) => e.method === "POST" && e.path === "/auth/signinup");
              assert.ok(replay, "the SDK posted the replayed callback");
              assert.equal((await exchangeJson(replay)).status, "GENERAL_ERROR");
              assert.equal(await doesSessionExist(page), false);
              assert.equal(await page.isVisible("#email-form"), true);
            }
          } finally {
            await context.close();
          }
        });
    }

    it("third-party sign-in without an email at the provider shows NO_EMAIL_GIVEN_BY_PROVIDER", { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { context, page, traffic } = await newThirdPartyPage();
        try {
          await open(page, `${WEBSITE}/?mode=cookie`);
          const { prompts, callbackUrl } = await signInWithProvider(page, "noemail");
          assert.deepEqual(prompts, ["login", "consent"]);
          const signInUp = await assertSignInUpRequest(traffic, callbackUrl, await assertAuthorisationUrl(traffic));
          assert.deepEqual(signInUp.body, { status: "NO_EMAIL_GIVEN_BY_PROVIDER" });
          const status = await settledStatus(page);
          assert.equal(status.state, "error");
          assert.match(status.text, /NO_EMAIL_GIVEN_BY_PROVIDER/);
          assert.equal(await page.isVisible("#email-form"), true);
          assert.equal(await page.isHidden("#signed-in"), true);
          assert.equal(await doesSessionExist(page), false, "no session without a user");
          const names = await cookieNames(context);
          assert.ok(!names.includes("sAccessToken"), `no session cookie: ${names}`);
          assert.deepEqual(unexpectedConsoleMessages(traffic), []);
        } finally {
          await context.close();
        }
      });

    it("third-party sign-in cancelled at the provider shows the provider's error", { timeout: TEST_TIMEOUT_MS }, async () => {
      const { context, page, traffic } = await newThirdPartyPage();
      try {
        await open(page, `${WEBSITE}/?mode=cookie`);
        const { prompts, callbackUrl } = await signInWithProvider(page, "alice", { cancel: true });
        assert.deepEqual(prompts, ["login"]);
        assert.equal(new URL(callbackUrl).searchParams.get("error"), "access_denied");
        const status = await settledStatus(page);
        assert.equal(status.state, "error");
        assert.match(status.text, /access_denied/);
        // The SDK stops at the provider's error: no POST /auth/signinup.
        assert.deepEqual(traffic.exchanges.filter((e) => e.path === "/auth/signinup"), []);
        assert.equal(await doesSessionExist(page), false);
      } finally {
        await context.close();
      }
    });

    it(`tenant ${TENANT}: the SDK's multitenancy signs in with a magic link and with the tenant's own provider`,
      { timeout: TEST_TIMEOUT_MS }, async () => {
        const { context, page, traffic } = await newPage();
        try {
          await open(page, `${WEBSITE}/?mode=cookie&tenant=${TENANT}`);
          assert.equal(await page.evaluate(() => window.authgenDemo.tenant), TENANT);
          // The SDK puts the tenant in every path; the login methods are the tenant's.
          const methods = await exchangeJson(lastExchange(traffic, "GET", `/auth/${TENANT}/loginmethods`));
          assert.deepEqual(methods.thirdParty.providers, [{ id: PROVIDER_ID, name: TENANT_PROVIDER_NAME }]);
          assert.deepEqual(methods.firstFactors, ["otp-email", "link-email", "thirdparty"]);

          // Passwordless: the magic link carries the tenant, and the SDK consumes it on that tenant.
          const email = "tenant-link@example.com";
          const { link } = await sendCode(page, server, email);
          assert.equal(lastExchange(traffic, "POST", `/auth/${TENANT}/signinup/code`).status, 200);
          assert.equal(new URL(link).searchParams.get("tenantId"), TENANT);
          await page.goto(link);
          await page.waitForSelector("body[data-ready=true]");
          const user = await waitSignedIn(page);
          assert.equal(user.email, email);
          const consume = lastExchange(traffic, "POST", `/auth/${TENANT}/signinup/code/consume`);
          const consumed = await consume.response.json();
          assert.equal(consumed.status, "OK");
          assert.deepEqual(consumed.user.tenantIds, [TENANT]);
          // The tenant's protected route accepts the tenant's session; its token names the tenant.
          const info = await callProtectedRoute(page);
          assert.equal(info.status, "200", info.body);
          assert.equal(JSON.parse(info.body).userId, user.userId);
          assert.equal(JSON.parse(info.body).accessTokenPayload.tId, TENANT);
          assert.equal(lastExchange(traffic, "GET", `/${TENANT}/sessioninfo`).status, 200);
          await signOutAndCheck(page, context, "cookie");

          // Third party: the tenant's provider, through the tenant's routes.
          // alice of acme is a user of acme: a new one, whoever alice is on public.
          const signedIn = await signInWithProvider(page, "alice", { name: TENANT_PROVIDER_NAME });
          assert.deepEqual(signedIn.prompts, ["login", "consent"]);
          assert.equal(lastExchange(traffic, "GET", `/auth/${TENANT}/authorisationurl`).status, 200);
          const signInUp = await exchangeJson(lastExchange(traffic, "POST", `/auth/${TENANT}/signinup`));
          assert.equal(signInUp.status, "OK", JSON.stringify(signInUp));
          assert.deepEqual(signInUp.user.tenantIds, [TENANT]);
          assert.deepEqual(signInUp.user.thirdParty, [{ id: PROVIDER_ID, userId: "alice" }]);
          assert.equal(signInUp.createdNewRecipeUser, true);
          const alice = await waitSignedIn(page);
          assert.equal(alice.userId, signInUp.user.id);
          const aliceInfo = await callProtectedRoute(page);
          assert.equal(aliceInfo.status, "200", aliceInfo.body);
          assert.equal(JSON.parse(aliceInfo.body).accessTokenPayload.tId, TENANT);
          await signOutAndCheck(page, context, "cookie");
          // No call went to a tenant-less path but the session's own (refresh, sign-out).
          const tenantless = traffic.exchanges
            .filter((e) => e.url.startsWith(`${API}/auth/`) && !e.path.startsWith(`/auth/${TENANT}/`))
            .map((e) => e.path)
            .filter((p) => p !== "/auth/signout" && p !== "/auth/session/refresh");
          assert.deepEqual(tenantless, []);
          assert.deepEqual(unexpectedConsoleMessages(traffic), []);
        } finally {
          await page.evaluate(() => window.localStorage.clear()).catch(() => {});
          await context.close();
        }
      });
  });
}
