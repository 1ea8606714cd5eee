"""schemathesis hooks for the contract test (server/tests/contract.rs), which sets the variables read here.

They teach the run what spec/auth.yaml cannot state (the operations' descriptions say so), by giving values the
spec accepts the one meaning the server also needs, never by turning a check off:
- thirdPartyId must name a provider configured on the server;
- the deviceId of consume and resend must belong to the preAuthSessionId (createCode returned both);
- the Apple callback's state must be base64 JSON naming a page of the website;
- tokens sent for an OpenID Connect provider (the run's provider is one) must include an id_token, as an
  access token alone does not say which app it was issued to.
A value is replaced only when it is one the spec accepts, so a case generated to break the schema still breaks
it. Refresh and sign-out need a live session, and each case may end the one it is given (a refresh rotates the
refresh token, a sign-out revokes the session), so every such case gets a session of its own, signed in by the
Rust test before the run. The email verification operations never end a session, so they share one.
"""

import json
import os

import schemathesis

_PROVIDER = os.environ["AUTHGEN_CONTRACT_PROVIDER"]
_DEVICE = {
    "deviceId": os.environ["AUTHGEN_CONTRACT_DEVICE_ID"],
    "preAuthSessionId": os.environ["AUTHGEN_CONTRACT_PRE_AUTH_SESSION_ID"],
}
_APPLE_STATE = os.environ["AUTHGEN_CONTRACT_APPLE_STATE"]
_EV_ACCESS = os.environ["AUTHGEN_CONTRACT_EV_ACCESS"]
with open(os.environ["AUTHGEN_CONTRACT_SESSIONS"], encoding="utf-8") as f:
    _SESSIONS = iter(json.load(f))


def _any_string(value):
    return isinstance(value, str)


def _id(value):
    # minLength 1, and a preAuthSessionId needs a character other than `=` (pattern `[^=]`).
    return isinstance(value, str) and value.strip("=") != ""


# path -> where -> field -> (is the generated value one the spec accepts?, the value the server needs)
_PINNED = {
    "/auth/authorisationurl": {"query": {"thirdPartyId": (_any_string, _PROVIDER)}},
    "/auth/signinup": {"body": {"thirdPartyId": (_any_string, _PROVIDER)}},
    "/auth/signinup/code/consume": {"body": {k: (_id, v) for k, v in _DEVICE.items()}},
    "/auth/signinup/code/resend": {"body": {k: (_id, v) for k, v in _DEVICE.items()}},
    "/auth/callback/apple": {"body": {"state": (_any_string, _APPLE_STATE)}},
}


# An id_token in the shape of a JWT, signed by nobody: the server must check it and turn it down.
_UNSIGNED_ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzY2hlbWF0aGVzaXMifQ.c2lnbmF0dXJl"


@schemathesis.hook
def before_call(ctx, case, kwargs):
    if case.path == "/auth/signinup" and isinstance(case.body, dict):
        tokens = case.body.get("oAuthTokens")
        if isinstance(tokens, dict) and "id_token" not in tokens:
            tokens["id_token"] = _UNSIGNED_ID_TOKEN
    for where, fields in _PINNED.get(case.path, {}).items():
        container = getattr(case, where)
        if not isinstance(container, dict):
            continue
        for name, (accepted, value) in fields.items():
            if name in container and accepted(container[name]):
                container[name] = value


@schemathesis.auth(refresh_interval=None).apply_to(path=["/auth/session/refresh", "/auth/signout"])
class FreshSession:
    """A new header-mode session per case: the refresh token for refresh, the access token for sign-out."""

    def get(self, case, ctx):
        return next(_SESSIONS, None)

    def set(self, case, data, ctx):
        if data is None:
            return
        token = data["refresh"] if case.path.endswith("/refresh") else data["access"]
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {token}"


@schemathesis.auth(refresh_interval=None).apply_to(
    path=["/auth/user/email/verify/token", "/auth/user/email/verify"]
)
class EmailVerificationSession:
    """The one header-mode session of the email verification operations (its user's email is verified)."""

    def get(self, case, ctx):
        return _EV_ACCESS

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
