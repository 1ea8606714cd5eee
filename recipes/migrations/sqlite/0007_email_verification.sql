-- Email verification (the EmailVerification recipe). A token is stored only as its SHA-256 hash, for the
-- user and the email it verifies, until it is used (deleted with every other token of that user and email)
-- or expires. A verified (user, email) pair is one row of verified_emails: an email counts as verified for
-- a user while the user still has that email. Sign-ins that prove the email themselves (a passwordless code
-- sent to it, a provider that reports it verified) keep the users.email_verified flag instead.
CREATE TABLE email_verification_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX email_verification_tokens_user_email ON email_verification_tokens (user_id, email);
CREATE INDEX email_verification_tokens_expires_at ON email_verification_tokens (expires_at);

CREATE TABLE verified_emails (
    user_id TEXT NOT NULL,
    email TEXT NOT NULL,
    verified_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, email)
);
