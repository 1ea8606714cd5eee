// A real OpenID Connect provider (the `oidc-provider` package) on loopback, for authgen's third-party
// sign-in tests. It is a test fixture, not a production configuration.
//
// Start: `PORT=0 node provider.mjs`. Once listening it prints exactly one line on stdout,
//
//     ISSUER=http://127.0.0.1:<port>
//
// and then runs until it is killed or its stdin closes (so it never outlives the test that spawned it).
// Diagnostics go to stderr.
//
// Environment:
//   PORT            port on 127.0.0.1; 0 or unset picks a free one.
//   OIDC_CLIENTS    JSON array of clients: [{ "client_id", "client_secret", "redirect_uris": [..],
//                   optional "token_endpoint_auth_method" (default client_secret_basic; oidc-provider
//                   accepts client_secret_basic and client_secret_post from a client registered with either),
//                   optional "require_pkce" (default false: PKCE S256 is accepted but optional for
//                   confidential clients) }].
//                   Default: one client `authgen-web` / `authgen-secret`, redirect URI
//                   http://localhost:3000/auth/callback/my-oidc.
//   OIDC_CODE_TTL   authorization code lifetime in seconds (default 60).
//
// Endpoints (oidc-provider's defaults, relative to the issuer):
//   GET  /.well-known/openid-configuration   discovery
//   GET  /jwks                                signing keys (an RS256 and an ES256 key, generated at startup)
//   GET  /auth                                authorization endpoint
//   POST /token                               token endpoint
//   GET  /me                                  userinfo endpoint
//
// Interaction routes (ours; oidc-provider's dev interactions are disabled). The authorization endpoint
// redirects the browser to /interaction/<uid> whenever it needs a login or a consent:
//   GET  /interaction/<uid>          a tiny HTML page with ONE form whose `action` is one of:
//   POST /interaction/<uid>/login    body `login=<name>` (form-urlencoded). A known account finishes the login
//                                    prompt (303 back to the authorization endpoint); an unknown name is
//                                    rejected with 403 and the interaction stays open.
//   POST /interaction/<uid>/confirm  grants every scope and claim the client asked for (consent prompt).
//   POST /interaction/<uid>/abort    ends the flow with error=access_denied at the client's redirect URI.
//
// API doubles of the OAuth2 providers without id_tokens, over this provider's access tokens (ours; the paths
// mirror the real APIs under a /github or /facebook prefix):
//   POST /github/applications/<client_id>/token   GitHub's token check for OAuth apps: basic auth with a
//                                   registered client's id and secret (401 otherwise), JSON body {access_token};
//                                   200 {app: {client_id}, user: {login, id}, ...} when the token was issued to
//                                   that client, 404 when it was not (or is unknown), 422 without a token.
//   GET  /github/user               GitHub's user API: {login, id} (numeric ids) for a Bearer access token.
//   GET  /github/user/emails        GitHub's emails API: [{email, primary: true, verified, visibility}].
//   GET  /facebook/me               the Graph API's /me: {id, email?} for a Bearer access token.
//   GET  /facebook/debug_token      ?input_token=<token>&access_token=<client_id>|<client_secret>: 400
//                                   OAuthException unless the app token is a registered client's; otherwise 200
//                                   {data: {app_id, is_valid: true, user_id, ...}} for a live token (of any
//                                   client, as Facebook answers) and {data: {is_valid: false, error}} otherwise.
//
// Accounts (any other login name is rejected):
//   alice    email alice@example.com, email_verified true, name "Alice Example"
//   bob      email bob@example.com, email_verified false, name "Bob Example"
//   noemail  no email claim at all, name "No Email"
// The email and profile claims are in the id_token (conformIdTokenClaims: false) and from userinfo, whenever
// the matching scope was requested.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const ACCOUNTS = {
  alice: {
    email: 'alice@example.com',
    email_verified: true,
    name: 'Alice Example',
    given_name: 'Alice',
    family_name: 'Example',
  },
  bob: {
    email: 'bob@example.com',
    email_verified: false,
    name: 'Bob Example',
    given_name: 'Bob',
    family_name: 'Example',
  },
  noemail: {
    name: 'No Email',
  },
};

const DEFAULT_CLIENTS = [
  {
    client_id: 'authgen-web',
    client_secret: 'authgen-secret',
    redirect_uris: ['http://localhost:3000/auth/callback/my-oidc'],
  },
];

function fail(message) {
  process.stderr.write(`provider.mjs: ${message}\n`);
  process.exit(2);
}

const port = Number.parseInt(process.env.PORT ?? '0', 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad PORT ${process.env.PORT}`);

const codeTtl = Number.parseInt(process.env.OIDC_CODE_TTL ?? '60', 10);
if (!Number.isInteger(codeTtl) || codeTtl < 1) fail(`bad OIDC_CODE_TTL ${process.env.OIDC_CODE_TTL}`);

let clientsInput = DEFAULT_CLIENTS;
if (process.env.OIDC_CLIENTS) {
  try {
    clientsInput = JSON.parse(process.env.OIDC_CLIENTS);
  } catch (error) {
    fail(`OIDC_CLIENTS is not JSON: ${error.message}`);
  }
  if (!Array.isArray(clientsInput)) fail('OIDC_CLIENTS must be a JSON array');
}

// Clients that must use PKCE although they are confidential.
const pkceRequired = new Set();
const clients = clientsInput.map((c) => {
  if (!c.client_id || !c.client_secret || !Array.isArray(c.redirect_uris)) {
    fail(`a client needs client_id, client_secret and redirect_uris: ${JSON.stringify(c)}`);
  }
  if (c.require_pkce) pkceRequired.add(c.client_id);
  return {
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
  };
});

// Fresh signing keys on every start: the first one (RS256) signs id_tokens by default.
function signingKey(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}` };
}
const keys = [
  signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
  signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
];

// The issuer carries the port, so listen first and build the provider once the port is known.
const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    // Put the scope-requested claims into the id_token as well, not only into userinfo.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
    },
    pkce: {
      required: (_ctx, client) => client.clientAuthMethod === 'none' || pkceRequired.has(client.clientId),
    },
    ttl: {
      AuthorizationCode: codeTtl,
      AccessToken: 3600,
      IdToken: 3600,
      Grant: 3600,
      Interaction: 600,
      Session: 3600,
      RefreshToken: 86400,
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    async findAccount(_ctx, id) {
      const account = ACCOUNTS[id];
      if (!account) return undefined;
      return {
        accountId: id,
        // oidc-provider keeps only the claims of the granted scopes.
        async claims() {
          return { sub: id, ...account };
        },
      };
    },
  });
  provider.on('server_error', (_ctx, error) => process.stderr.write(`server_error: ${error.stack}\n`));

  const oidc = provider.callback();
  server.on('request', (req, res) => {
    const path = new URL(req.url, issuer).pathname;
    if (path.startsWith('/github/') || path.startsWith('/facebook/')) {
      apiDouble(provider, req, res, new URL(req.url, issuer)).catch((error) => {
        process.stderr.write(`api double error: ${error.stack}\n`);
        if (!res.headersSent) sendJson(res, 500, { message: error.message });
      });
    } else if (path.startsWith('/interaction/')) {
      interaction(provider, req, res, path).catch((error) => {
        process.stderr.write(`interaction error: ${error.stack}\n`);
        if (!res.headersSent) send(res, 400, `interaction failed: ${error.message}`);
      });
    } else {
      oidc(req, res);
    }
  });

  process.stdout.write(`ISSUER=${issuer}\n`);
});

function send(res, status, body, type = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendJson(res, status, body) {
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8');
}

async function jsonBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    return {};
  }
}

// GitHub's user ids are numbers.
const GITHUB_IDS = { alice: 1001, bob: 1002, noemail: 1003 };

// A live access token of this provider, or undefined.
async function accessToken(provider, value) {
  if (typeof value !== 'string' || value === '') return undefined;
  const token = await provider.AccessToken.find(value);
  return token && !token.isExpired ? token : undefined;
}

function bearer(req) {
  const match = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
  return match ? match[1] : undefined;
}

// The registered client with this id and secret, or undefined.
function registeredClient(id, secret) {
  return clients.find((c) => c.client_id === id && c.client_secret === secret);
}

async function apiDouble(provider, req, res, url) {
  const path = url.pathname;
  const githubCheck = /^\/github\/applications\/([^/]+)\/token$/.exec(path);
  if (githubCheck && req.method === 'POST') {
    const [scheme, encoded] = (req.headers.authorization ?? '').split(' ');
    const [user, ...rest] = Buffer.from(encoded ?? '', 'base64').toString('utf8').split(':');
    const clientId = decodeURIComponent(githubCheck[1]);
    if (scheme !== 'Basic' || user !== clientId || !registeredClient(user, rest.join(':'))) {
      return sendJson(res, 401, { message: 'Requires authentication' });
    }
    const { access_token: value } = await jsonBody(req);
    if (typeof value !== 'string' || value === '') return sendJson(res, 422, { message: 'Validation Failed' });
    const token = await accessToken(provider, value);
    if (!token || token.clientId !== clientId) return sendJson(res, 404, { message: 'Not Found' });
    return sendJson(res, 200, {
      id: 1,
      token: value,
      app: { client_id: token.clientId, name: token.clientId, url: 'http://127.0.0.1' },
      user: { login: token.accountId, id: GITHUB_IDS[token.accountId] },
      scopes: (token.scope ?? '').split(' ').filter(Boolean),
    });
  }
  if (req.method !== 'GET') return sendJson(res, 405, { message: 'method not allowed' });
  if (path === '/facebook/debug_token') {
    const [appId, ...secret] = (url.searchParams.get('access_token') ?? '').split('|');
    if (!registeredClient(appId, secret.join('|'))) {
      return sendJson(res, 400, {
        error: { message: 'Invalid OAuth access token signature.', type: 'OAuthException', code: 190 },
      });
    }
    const token = await accessToken(provider, url.searchParams.get('input_token'));
    if (!token) {
      return sendJson(res, 200, {
        data: { is_valid: false, error: { code: 190, message: 'Invalid OAuth access token.' }, scopes: [] },
      });
    }
    return sendJson(res, 200, {
      data: {
        app_id: token.clientId,
        type: 'USER',
        application: token.clientId,
        expires_at: token.exp,
        is_valid: true,
        scopes: (token.scope ?? '').split(' ').filter(Boolean),
        user_id: `fb-${token.accountId}`,
      },
    });
  }
  const token = await accessToken(provider, bearer(req));
  if (!token) return sendJson(res, 401, { message: 'Bad credentials' });
  const account = ACCOUNTS[token.accountId] ?? {};
  if (path === '/github/user') {
    return sendJson(res, 200, { login: token.accountId, id: GITHUB_IDS[token.accountId], name: account.name });
  }
  if (path === '/github/user/emails') {
    const emails = account.email
      ? [{ email: account.email, primary: true, verified: account.email_verified, visibility: 'public' }]
      : [];
    return sendJson(res, 200, emails);
  }
  if (path === '/facebook/me') {
    return sendJson(res, 200, account.email ? { id: `fb-${token.accountId}`, email: account.email } : { id: `fb-${token.accountId}` });
  }
  return sendJson(res, 404, { message: 'Not Found' });
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function interaction(provider, req, res, path) {
  const [, , uid, action] = path.split('/');
  // Throws (-> 400) when the interaction cookie is missing or the interaction expired.
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, 'interaction mismatch');
  const prompt = details.prompt.name;

  if (req.method === 'GET' && action === undefined) {
    const form = prompt === 'login'
      ? `<form method="post" action="/interaction/${escape(uid)}/login">`
        + '<input name="login" autofocus><button>Sign in</button></form>'
      : `<form method="post" action="/interaction/${escape(uid)}/confirm">`
        + `<p>Allow ${escape(details.params.client_id)}: ${escape(details.params.scope ?? '')}?</p>`
        + '<button>Allow</button></form>';
    const abort = `<form method="post" action="/interaction/${escape(uid)}/abort"><button>Cancel</button></form>`;
    return send(
      res,
      200,
      `<!doctype html><html><body data-prompt="${escape(prompt)}">${form}${abort}</body></html>`,
      'text/html; charset=utf-8',
    );
  }
  if (req.method !== 'POST') return send(res, 405, 'method not allowed');

  if (action === 'login') {
    if (prompt !== 'login') return send(res, 400, `the open prompt is ${prompt}, not login`);
    const login = (await formBody(req)).get('login') ?? '';
    if (!Object.hasOwn(ACCOUNTS, login)) return send(res, 403, `unknown account: ${login}`);
    return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  }

  if (action === 'confirm') {
    if (prompt !== 'consent') return send(res, 400, `the open prompt is ${prompt}, not consent`);
    const { grantId: existing, params, session } = details;
    const grant = existing
      ? await provider.Grant.find(existing)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    const consent = existing ? {} : { grantId };
    return provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
  }

  if (action === 'abort') {
    return provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'the user cancelled the sign-in' },
      { mergeWithLastSubmission: false },
    );
  }

  return send(res, 404, 'no such interaction action');
}

// Never outlive the parent: exit when stdin closes (the parent died or dropped the pipe) or on a signal.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
