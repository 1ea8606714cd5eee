-- Users, passwordless devices and codes, sessions and JWT signing keys, shared by every auth-server instance.
-- The same tables as the SQLite store: secrets are stored only as hashes (devices by the hash of their device
-- id, the preAuthSessionId; codes by the hash of their link code; sessions by the hash of their current
-- refresh token). Times are milliseconds since the Unix epoch.
--
-- Concurrency rests on these constraints and on row locks taken by single statements (see
-- recipes/src/store/postgres.rs): the partial unique indexes on users make concurrent sign-ups of one contact
-- insert one row, the primary key of passwordless_devices makes a consume `DELETE ... RETURNING` succeed once,
-- and the unique refresh_token_hash makes a rotation `UPDATE ... WHERE refresh_token_hash = old` succeed once.

CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    email TEXT,
    phone_number TEXT,
    time_joined BIGINT NOT NULL,
    CHECK ((email IS NULL) <> (phone_number IS NULL))
);
CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX users_tenant_phone_number ON users (tenant_id, phone_number) WHERE phone_number IS NOT NULL;

CREATE TABLE passwordless_devices (
    device_id_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    email TEXT,
    phone_number TEXT,
    link_code_salt TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    CHECK ((email IS NULL) <> (phone_number IS NULL))
);
CREATE INDEX passwordless_devices_tenant_email ON passwordless_devices (tenant_id, email);
CREATE INDEX passwordless_devices_tenant_phone_number ON passwordless_devices (tenant_id, phone_number);

CREATE TABLE passwordless_codes (
    code_id TEXT PRIMARY KEY,
    device_id_hash TEXT NOT NULL REFERENCES passwordless_devices (device_id_hash) ON DELETE CASCADE,
    link_code_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX passwordless_codes_device ON passwordless_codes (device_id_hash);

CREATE TABLE sessions (
    session_handle TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    refresh_token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Refresh tokens that were rotated away: presenting one again is token theft.
CREATE TABLE rotated_refresh_tokens (
    refresh_token_hash TEXT PRIMARY KEY,
    session_handle TEXT NOT NULL REFERENCES sessions (session_handle) ON DELETE CASCADE
);
CREATE INDEX rotated_refresh_tokens_session ON rotated_refresh_tokens (session_handle);

-- Access-token signing keys, shared by every instance: each signs with the newest and verifies with every key
-- whose tokens may still be alive.
CREATE TABLE signing_keys (
    key_id TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    private_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX signing_keys_algorithm_created ON signing_keys (algorithm, created_at);
