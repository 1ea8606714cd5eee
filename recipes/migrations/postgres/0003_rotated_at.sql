-- When each refresh token was rotated away, so that a session keeps only its newest few: enough for theft
-- detection (a thief replays a recent token), without a row per refresh for the session's 100-day life.
ALTER TABLE rotated_refresh_tokens ADD COLUMN rotated_at BIGINT NOT NULL DEFAULT 0;
