-- Rate-limit counters, one row per limit and subject (a hash): the count of the current fixed window, which
-- starts at window_start; a row whose window has ended (expires_at) is pruned or restarted by the next hit.
-- WITHOUT ROWID: the key is the table's own b-tree, so counting a new key inserts into two b-trees, not three.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY NOT NULL,
    window_start INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    count INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX rate_limits_expires_at ON rate_limits (expires_at);
