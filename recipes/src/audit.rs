//! The audit trail: one structured `tracing` event (target [`TARGET`]) for each thing an operator may have to
//! account for later: a code sent, a code consumed, a wrong or expired code, a flow restarted, a sign-in or
//! sign-up, a refresh, a token theft, a sign-out, a request refused by a rate limit, an email verification link
//! sent, an email verified.
//!
//! Every event has an `event` field naming it (the `EVENT_*` constants, stable for log queries and for the
//! server's metrics, which count them) and only identifiers an operator needs: a user id, a session handle, a
//! recipe, a provider id, the contact a code went to. Never a code, a link, a token, a device id, a
//! pre-auth session id or a secret: each of them, or what it is derived from, lets its holder sign in. Text
//! that came from a user is escaped ([`crate::logsafe`]). Route them with `RUST_LOG=audit=info` or a
//! `tracing` layer filtering on the target.

use crate::contact::Contact;
use crate::logsafe::Escaped;

/// The `tracing` target of every audit event.
pub const TARGET: &str = "audit";

/// A code (and/or magic link) was created and sent: createCode, or resendCode (`resend = true`).
pub const EVENT_CODE_CREATED: &str = "code_created";
/// A code or magic link was consumed: the sign-in or sign-up follows.
pub const EVENT_CODE_CONSUMED: &str = "code_consumed";
/// A wrong or expired code was entered for a device.
pub const EVENT_FAILED_ATTEMPT: &str = "failed_attempt";
/// A flow was restarted: its device is gone (consumed, expired, attempts exhausted) or the link is not valid.
pub const EVENT_FLOW_RESTARTED: &str = "flow_restarted";
/// A user signed in or up (`recipe` is `passwordless` or `thirdparty`; `provider` for third-party).
pub const EVENT_SIGN_IN_UP: &str = "sign_in_up";
/// A session was refreshed (its refresh token rotated).
pub const EVENT_REFRESH: &str = "refresh";
/// A used refresh token came back: the session is revoked.
pub const EVENT_THEFT_DETECTED: &str = "theft_detected";
/// A session was signed out.
pub const EVENT_SIGN_OUT: &str = "sign_out";
/// A request was refused by a rate limit.
pub const EVENT_RATE_LIMITED: &str = "rate_limited";
/// An email verification link was sent to a signed-in user's email.
pub const EVENT_VERIFICATION_EMAIL_SENT: &str = "verification_email_sent";
/// An email was verified with the token of a verification link.
pub const EVENT_EMAIL_VERIFIED: &str = "email_verified";

/// The kind of contact (`email`, `phone`), for events and metrics.
fn contact_kind(contact: &Contact) -> &'static str {
    match contact {
        Contact::Email(_) => "email",
        Contact::Phone(_) => "phone",
    }
}

pub(crate) fn code_created(contact: &Contact, resend: bool) {
    tracing::info!(target: TARGET, event = EVENT_CODE_CREATED, recipe = "passwordless",
        contact_kind = contact_kind(contact), contact = %Escaped(contact), resend, "code sent");
}

/// `method` is `user_input_code` or `link_code`.
pub(crate) fn code_consumed(method: &'static str) {
    tracing::info!(target: TARGET, event = EVENT_CODE_CONSUMED, recipe = "passwordless", method, "code consumed");
}

pub(crate) fn failed_attempt(expired: bool, attempts: i32, maximum: i32) {
    tracing::info!(target: TARGET, event = EVENT_FAILED_ATTEMPT, recipe = "passwordless",
        reason = if expired { "expired_code" } else { "incorrect_code" }, attempts, maximum, "code refused");
}

/// `reason`: `attempts_exhausted`, `device_gone` (consumed, expired or never there), `invalid_link`,
/// `device_mismatch`.
pub(crate) fn flow_restarted(reason: &'static str) {
    tracing::info!(target: TARGET, event = EVENT_FLOW_RESTARTED, recipe = "passwordless", reason, "flow restarted");
}

pub(crate) fn signed_in(recipe: &'static str, provider: Option<&str>, user_id: &str, created_new_user: bool) {
    let provider = provider.map(Escaped);
    tracing::info!(target: TARGET, event = EVENT_SIGN_IN_UP, recipe, provider = provider.as_ref().map(tracing::field::display),
        user_id, created_new_user, "signed in");
}

pub(crate) fn refreshed(user_id: &str, session_handle: &str) {
    tracing::info!(target: TARGET, event = EVENT_REFRESH, user_id, session_handle, "session refreshed");
}

pub(crate) fn theft_detected(user_id: &str, session_handle: &str) {
    tracing::warn!(target: TARGET, event = EVENT_THEFT_DETECTED, user_id, session_handle,
        "refresh token reused: token theft detected, session revoked");
}

pub(crate) fn signed_out(user_id: &str, session_handle: &str) {
    tracing::info!(target: TARGET, event = EVENT_SIGN_OUT, user_id, session_handle, "signed out");
}

/// A request refused by the rate limit `limit` (its name, e.g. `codes-per-contact`, which says what it counts
/// and on which operations); the client may try again in `retry_after_s` seconds.
pub(crate) fn rate_limited(limit: &str, retry_after_s: i64) {
    tracing::warn!(target: TARGET, event = EVENT_RATE_LIMITED, limit, retry_after_s, "rate limited");
}

pub(crate) fn verification_email_sent(user_id: &str, email: &str) {
    tracing::info!(target: TARGET, event = EVENT_VERIFICATION_EMAIL_SENT, recipe = "emailverification", user_id,
        email = %Escaped(email), "verification email sent");
}

pub(crate) fn email_verified(user_id: &str, email: &str) {
    tracing::info!(target: TARGET, event = EVENT_EMAIL_VERIFIED, recipe = "emailverification", user_id,
        email = %Escaped(email), "email verified");
}
