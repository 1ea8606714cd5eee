// The demo login page: passwordless sign-in (6-digit code or magic link) and third-party sign-in (OAuth2 /
// OpenID Connect providers) against auth-server through the official SuperTokens web SDK, unchanged.
// Bundled by build.mjs into dist/app.js.
import SuperTokens from "supertokens-web-js";
import Session from "supertokens-web-js/recipe/session";
import Passwordless from "supertokens-web-js/recipe/passwordless";
import ThirdParty from "supertokens-web-js/recipe/thirdparty";
import Multitenancy from "supertokens-web-js/recipe/multitenancy";
import STGeneralError from "supertokens-web-js/utils/error";

// serve.mjs writes /config.js with the API origin it was started with.
const apiDomain = (window.demoConfig && window.demoConfig.apiDomain) || "http://localhost:3001";

// ?mode=cookie|header picks the token transfer method; it is remembered (per origin) so that a magic link
// opened later in this browser uses the same one.
const MODE_KEY = "authgen-demo-mode";
const requested = new URLSearchParams(window.location.search).get("mode");
if (requested === "cookie" || requested === "header") {
  window.localStorage.setItem(MODE_KEY, requested);
}
const mode = window.localStorage.getItem(MODE_KEY) === "header" ? "header" : "cookie";

// ?tenant=<id> signs in on that tenant of auth-server (its --tenants-file), remembered like the mode;
// ?tenant=public goes back to the default. A magic link names its tenant itself (tenantId in its query).
const TENANT_KEY = "authgen-demo-tenant";
const query = new URLSearchParams(window.location.search);
const requestedTenant = query.get("tenant") ?? (window.location.pathname === "/auth/verify" ? query.get("tenantId") : null);
if (requestedTenant === "public" || requestedTenant === "") {
  window.localStorage.removeItem(TENANT_KEY);
} else if (requestedTenant !== null) {
  window.localStorage.setItem(TENANT_KEY, requestedTenant);
}
const tenant = window.localStorage.getItem(TENANT_KEY) || "public";

SuperTokens.init({
  appInfo: { appName: "authgen demo", apiDomain, apiBasePath: "/auth" },
  recipeList: [
    Session.init({ tokenTransferMethod: mode }),
    Passwordless.init(),
    ThirdParty.init(),
    // The SDK asks for the tenant on every call and puts it in the path (/auth/<tenant>/...) unless public.
    Multitenancy.init({ override: { functions: (original) => ({ ...original, getTenantId: () => tenant }) } }),
  ],
});

// The protected route: the server's example for the page's tenant, which refuses other tenants' sessions.
const protectedPath = tenant === "public" ? "/sessioninfo" : `/${tenant}/sessioninfo`;

// For the end-to-end test and for poking around in the console.
window.authgenDemo = { Session, Passwordless, ThirdParty, Multitenancy, mode, apiDomain, tenant };

const $ = (id) => document.getElementById(id);
const EMAIL_KEY = "authgen-demo-email";

function setStatus(text, state = "idle") {
  const status = $("status");
  status.textContent = text;
  status.dataset.state = state;
}

function show(view) {
  $("email-form").hidden = view !== "email";
  $("third-party").hidden = view !== "email" || $("providers").childElementCount === 0;
  $("code-form").hidden = view !== "code";
  $("signed-in").hidden = view !== "signed-in";
  $("title").textContent = view === "signed-in" ? "Signed in" : "Sign in";
  document.body.dataset.view = view;
}

async function refreshSessionState() {
  const exists = await Session.doesSessionExist();
  $("session-state").textContent = exists ? "active" : "none";
  return exists;
}

function describeError(error) {
  if (STGeneralError.isThisError(error)) {
    return error.message;
  }
  // fetch rejects with a TypeError when the browser refuses the response (CORS) or cannot connect.
  return `could not reach auth-server at ${apiDomain} (${error && error.message ? error.message : error}); ` +
    "is it running, and is this page's origin its --website-domain?";
}

async function busy(button, work) {
  button.disabled = true;
  try {
    await work();
  } finally {
    button.disabled = false;
  }
}

function showSignedIn(userId, email) {
  $("user-id").textContent = userId;
  $("user-email").textContent = email || "–";
  $("api-status").textContent = "";
  $("api-result").hidden = true;
  show("signed-in");
}

async function onSignedIn(user, via) {
  const email = user.emails && user.emails[0];
  if (email) {
    window.localStorage.setItem(EMAIL_KEY, email);
  } else {
    window.localStorage.removeItem(EMAIL_KEY);
  }
  showSignedIn(user.id, email);
  setStatus(`Signed in as ${email || user.id}${via ? ` with ${via}` : ""}.`, "ok");
  await refreshSessionState();
}

async function showEmailForm(message, state) {
  await Passwordless.clearLoginAttemptInfo();
  show("email");
  setStatus(message, state);
  $("email").focus();
}

async function sendCode(event) {
  event.preventDefault();
  const email = $("email").value.trim();
  if (!email) {
    setStatus("Enter your email address.", "error");
    return;
  }
  await busy($("send-code"), async () => {
    setStatus("Sending a code…", "pending");
    try {
      const response = await Passwordless.createCode({ email });
      if (response.status === "OK") {
        window.localStorage.setItem(EMAIL_KEY, email);
        $("code-recipient").textContent = email;
        $("code").value = "";
        show("code");
        setStatus(`Code sent to ${email}. Enter it below, or open the magic link.`, "ok");
        $("code").focus();
      } else {
        setStatus(`Sign-in is not allowed: ${response.reason}`, "error");
      }
    } catch (error) {
      setStatus(`Could not send a code: ${describeError(error)}`, "error");
    }
  });
}

async function consumeCode(event) {
  event.preventDefault();
  const userInputCode = $("code").value.trim();
  if (!userInputCode) {
    setStatus("Enter the code you received.", "error");
    return;
  }
  await busy($("consume-code"), async () => {
    setStatus("Checking the code…", "pending");
    try {
      const response = await Passwordless.consumeCode({ userInputCode });
      await handleConsumeResponse(response);
    } catch (error) {
      setStatus(`Could not sign in: ${describeError(error)}`, "error");
    }
  });
}

async function handleConsumeResponse(response) {
  switch (response.status) {
    case "OK":
      await Passwordless.clearLoginAttemptInfo();
      await onSignedIn(response.user);
      break;
    case "INCORRECT_USER_INPUT_CODE_ERROR":
      setStatus(
        `Wrong code (attempt ${response.failedCodeInputAttemptCount} of ${response.maximumCodeInputAttempts}).`,
        "error",
      );
      break;
    case "EXPIRED_USER_INPUT_CODE_ERROR":
      setStatus("This code has expired: resend a new one.", "error");
      break;
    case "RESTART_FLOW_ERROR":
      await showEmailForm("This code or link is no longer valid. Please start again.", "error");
      break;
    default:
      await showEmailForm(`Sign-in is not allowed: ${response.reason || response.status}`, "error");
  }
}

async function resendCode() {
  await busy($("resend-code"), async () => {
    try {
      const response = await Passwordless.resendCode();
      if (response.status === "OK") {
        setStatus("A new code is on its way.", "ok");
      } else {
        await showEmailForm("Please start again.", "error");
      }
    } catch (error) {
      setStatus(`Could not resend: ${describeError(error)}`, "error");
    }
  });
}

async function callApi() {
  await busy($("call-api"), async () => {
    $("api-status").textContent = `Calling ${protectedPath}…`;
    $("api-status").dataset.status = "pending";
    try {
      // The SDK intercepts fetch to the API domain: it adds the session (cookies or the authorization
      // header), and refreshes the session and retries when the access token has expired.
      const response = await fetch(`${apiDomain}${protectedPath}`, { credentials: "include" });
      const text = await response.text();
      let body = text;
      try {
        body = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // Not JSON: shown as it is.
      }
      $("api-result").textContent = body;
      $("api-result").hidden = false;
      $("api-status").textContent = `GET ${protectedPath} → ${response.status}`;
      $("api-status").dataset.status = String(response.status);
      if (response.status === 401) {
        await refreshSessionState();
        await showEmailForm("Your session has ended. Please sign in again.", "error");
      }
    } catch (error) {
      $("api-status").textContent = `GET ${protectedPath} failed: ${describeError(error)}`;
      $("api-status").dataset.status = "error";
    }
  });
}

async function signOut() {
  await busy($("sign-out"), async () => {
    try {
      await Session.signOut();
      window.localStorage.removeItem(EMAIL_KEY);
      await refreshSessionState();
      await showEmailForm("Signed out.", "idle");
    } catch (error) {
      setStatus(`Could not sign out: ${describeError(error)}`, "error");
    }
  });
}

// --- third-party sign-in ------------------------------------------------------------------------

const PROVIDER_NAME_KEY = "authgen-demo-provider-name";

/** One "Sign in with …" button per provider that GET /auth/loginmethods reports. */
async function showProviders() {
  let providers = [];
  try {
    // getLoginMethods takes the tenant as an argument rather than asking getTenantId.
    const methods = await Multitenancy.getLoginMethods({ tenantId: tenant });
    providers = (methods.thirdParty && methods.thirdParty.providers) || [];
  } catch (error) {
    // Passwordless still works; the third-party buttons are just missing.
    console.info(`no third-party providers: ${describeError(error)}`);
  }
  const list = $("providers");
  list.replaceChildren(...providers.map((provider) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary provider";
    button.dataset.providerId = provider.id;
    button.textContent = `Sign in with ${provider.name || provider.id}`;
    button.addEventListener("click", () => signInWithProvider(button, provider));
    return button;
  }));
}

async function signInWithProvider(button, provider) {
  await busy(button, async () => {
    setStatus(`Going to ${provider.name || provider.id}…`, "pending");
    try {
      // The SDK asks auth-server for the provider's authorisation URL (GET /auth/authorisationurl), keeps a
      // state (and the PKCE verifier, if any) in sessionStorage, and adds the state to the URL.
      const url = await ThirdParty.getAuthorisationURLWithQueryParamsAndSetState({
        thirdPartyId: provider.id,
        frontendRedirectURI: `${window.location.origin}/auth/callback/${provider.id}`,
      });
      window.sessionStorage.setItem(PROVIDER_NAME_KEY, provider.name || provider.id);
      window.location.assign(url);
    } catch (error) {
      setStatus(`Could not start the sign-in with ${provider.name || provider.id}: ${describeError(error)}`, "error");
    }
  });
}

/** The provider sent the browser back to /auth/callback/<id>?code=…&state=…: finish the sign-in. */
async function finishThirdPartySignIn() {
  const thirdPartyId = decodeURIComponent(window.location.pathname.slice("/auth/callback/".length));
  const name = window.sessionStorage.getItem(PROVIDER_NAME_KEY) || thirdPartyId;
  setStatus(`Signing in with ${name}…`, "pending");
  let response;
  try {
    // Checks the state against sessionStorage, then POST /auth/signinup with the callback's query.
    response = await ThirdParty.signInAndUp();
  } catch (error) {
    window.history.replaceState(null, "", "/");
    if (STGeneralError.isThisError(error)) {
      await showEmailForm(`Sign-in with ${name} failed (GENERAL_ERROR): ${error.message}`, "error");
    } else if (error instanceof TypeError) {
      await showEmailForm(`Could not sign in with ${name}: ${describeError(error)}`, "error");
    } else {
      // The SDK's own checks (no or wrong state, an error from the provider such as access_denied).
      await showEmailForm(`Sign-in with ${name} failed: ${error && error.message ? error.message : error}`, "error");
    }
    return;
  }
  window.history.replaceState(null, "", "/");
  switch (response.status) {
    case "OK":
      await onSignedIn(response.user, name);
      break;
    case "NO_EMAIL_GIVEN_BY_PROVIDER":
      await showEmailForm(
        `${name} did not give an email address (NO_EMAIL_GIVEN_BY_PROVIDER): allow access to your email there, or sign in another way.`,
        "error",
      );
      break;
    case "SIGN_IN_UP_NOT_ALLOWED":
      await showEmailForm(`Sign-in with ${name} is not allowed: ${response.reason}`, "error");
      break;
    default:
      await showEmailForm(`Sign-in with ${name} failed: ${response.status}`, "error");
  }
}

async function consumeMagicLink() {
  setStatus("Signing in with the magic link…", "pending");
  try {
    // Without arguments the SDK reads preAuthSessionId and tenantId from the query and the link code
    // from the fragment.
    const response = await Passwordless.consumeCode();
    window.history.replaceState(null, "", "/");
    await handleConsumeResponse(response);
  } catch (error) {
    window.history.replaceState(null, "", "/");
    await showEmailForm(`Could not sign in with the link: ${describeError(error)}`, "error");
  }
}

async function start() {
  $("api-domain").textContent = apiDomain;
  $(`mode-${mode}`).setAttribute("aria-current", "true");
  $("email-form").addEventListener("submit", sendCode);
  $("code-form").addEventListener("submit", consumeCode);
  $("resend-code").addEventListener("click", resendCode);
  $("change-email").addEventListener("click", () => showEmailForm("Enter your email address.", "idle"));
  $("call-api").addEventListener("click", callApi);
  $("sign-out").addEventListener("click", signOut);

  await showProviders();

  try {
    if (window.location.pathname === "/auth/verify") {
      await consumeMagicLink();
    } else if (window.location.pathname.startsWith("/auth/callback/")) {
      await finishThirdPartySignIn();
    } else if (await refreshSessionState()) {
      showSignedIn(await Session.getUserId(), window.localStorage.getItem(EMAIL_KEY));
      setStatus("Welcome back: your session is still active.", "ok");
    } else {
      const attempt = await Passwordless.getLoginAttemptInfo();
      if (attempt) {
        const email = window.localStorage.getItem(EMAIL_KEY) || "your email";
        $("code-recipient").textContent = email;
        show("code");
        setStatus(`Enter the code sent to ${email}.`, "idle");
      } else {
        show("email");
        setStatus(`Sign in with your email (tokens in ${mode === "header" ? "headers" : "cookies"}).`, "idle");
      }
    }
  } catch (error) {
    show("email");
    setStatus(`Could not start: ${describeError(error)}`, "error");
  }
  await refreshSessionState().catch(() => {});
  document.body.dataset.ready = "true";
}

start();
