//! The SQL of [`super::Store::count_hits`]: one multi-row upsert per batch of rate-limit counters.

use std::collections::BTreeMap;

use super::{CounterHit, StoreError};

/// Counters per statement, 4 parameters each: far below both databases' limits on parameters per statement
/// (SQLite 32,766, PostgreSQL 65,535).
pub(super) const ROWS_PER_STATEMENT: usize = 256;

/// The upsert of `rows` counters, with parameters `(key, window_start, expires_at, hits)` per row, returning
/// each counter's `key` and `count`. A row of an earlier window starts again at its hits; a hit of an earlier
/// window than the row's (an instance whose clock is behind) counts in the row's window.
pub(super) fn upsert_sql(rows: usize) -> String {
    let values: Vec<String> =
        (0..rows).map(|i| format!("(${}, ${}, ${}, ${})", 4 * i + 1, 4 * i + 2, 4 * i + 3, 4 * i + 4)).collect();
    format!(
        "INSERT INTO rate_limits (key, window_start, expires_at, count) VALUES {} \
         ON CONFLICT (key) DO UPDATE SET \
         count = CASE WHEN rate_limits.window_start < excluded.window_start THEN excluded.count \
            ELSE rate_limits.count + excluded.count END, \
         expires_at = CASE WHEN rate_limits.window_start < excluded.window_start \
            THEN excluded.expires_at ELSE rate_limits.expires_at END, \
         window_start = CASE WHEN rate_limits.window_start < excluded.window_start \
            THEN excluded.window_start ELSE rate_limits.window_start END \
         RETURNING key, count",
        values.join(", ")
    )
}

/// The counts of `hits`, in their order, from the counts by key the statements returned.
pub(super) fn in_request_order(hits: &[CounterHit], counts: &BTreeMap<String, i64>) -> Result<Vec<i64>, StoreError> {
    hits.iter()
        .map(|hit| {
            counts.get(&hit.key).copied().ok_or_else(|| StoreError::Corrupt {
                table: "rate_limits",
                detail: format!("no count came back for `{}`", hit.key),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_has_its_four_parameters() {
        let sql = upsert_sql(2);
        assert!(sql.contains("VALUES ($1, $2, $3, $4), ($5, $6, $7, $8) ON CONFLICT"), "{sql}");
    }
}
