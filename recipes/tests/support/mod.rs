//! Test support of the recipes: the workspace's PostgreSQL harness ([`TestSchema`]: a fresh schema per test,
//! under the machine-wide lock of the PostgreSQL tests), shared with the server's tests.

#[path = "pg_schema.rs"]
mod pg_schema;

#[allow(unused_imports, reason = "each test file uses a different part of the harness")]
pub(crate) use pg_schema::TestSchema;
