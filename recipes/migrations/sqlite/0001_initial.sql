-- Users, passwordless devices and codes, sessions and JWT signing keys.
-- Secrets are stored only as hashes: devices by the hash of their device id (the preAuthSessionId), codes by
-- the hash of their link code, sessions by the hash of their current refresh token.

CREATE TABLE users (
    user_id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    email TEXT,
    phone_number TEXT,
    time_joined INTEGER NOT NULL,
    CHECK ((email IS NULL) <> (phone_number IS NULL))
);
CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX users_tenant_phone_number ON users (tenant_id, phone_number) WHERE phone_number IS NOT NULL;

CREATE TABLE passwordless_devices (
    device_id_hash TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    email TEXT,
    phone_number TEXT,
    link_code_salt TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    CHECK ((email IS NULL) <> (phone_number IS NULL))
);
CREATE INDEX passwordless_devices_tenant_email ON passwordless_devices (tenant_id, email);
CREATE INDEX passwordless_devices_tenant_phone_number ON passwordless_devices (tenant_id, phone_number);

CREATE TABLE passwordless_codes (
    code_id TEXT PRIMARY KEY NOT NULL,
    device_id_hash TEXT NOT NULL REFERENCES passwordless_devices (device_id_hash) ON DELETE CASCADE,
    link_code_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX passwordless_codes_device ON passwordless_codes (device_id_hash);

CREATE TABLE sessions (
    session_handle TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    refresh_token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Refresh tokens that were rotated away: presenting one again is token theft.
CREATE TABLE rotated_refresh_tokens (
    refresh_token_hash TEXT PRIMARY KEY NOT NULL,
    session_handle TEXT NOT NULL REFERENCES sessions (session_handle) ON DELETE CASCADE
);
CREATE INDEX rotated_refresh_tokens_session ON rotated_refresh_tokens (session_handle);

CREATE TABLE signing_keys (
    key_id TEXT PRIMARY KEY NOT NULL,
    algorithm TEXT NOT NULL,
    private_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
