-- Concurrent refresh as SuperTokens' core does it: refreshing with a session's current refresh token issues a
-- child token that stays pending until it is used (a request with its access token, or a refresh with it).
-- Until then the current token may be presented again and gets the same child, derived from the presented token
-- and the session's salt (HMAC), so that only hashes are stored; once the child is used, it becomes current and
-- the old token joins the rotated ones, whose reuse is theft.
ALTER TABLE sessions ADD COLUMN pending_refresh_token_hash TEXT;
ALTER TABLE sessions ADD COLUMN refresh_token_salt TEXT;
CREATE UNIQUE INDEX sessions_pending_refresh_token ON sessions (pending_refresh_token_hash)
    WHERE pending_refresh_token_hash IS NOT NULL;
