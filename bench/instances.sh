#!/usr/bin/env bash
# Sign-in flows per second (createCode + consume) through release auth-server processes, in one run: one instance
# on SQLite, one instance on PostgreSQL, and two instances sharing one PostgreSQL database behind a client that
# alternates between them (createCode on one, consume on the other). The configurations run in interleaved rounds;
# the figures are medians over the rounds, with the ratios to the SQLite instance. Needs PostgreSQL
# (AUTHGEN_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test); each round uses a fresh schema.
#
# Usage: bench/instances.sh [DURATION_SECONDS] [CONCURRENCY] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p auth-server --bin auth-server --example instances_bench
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/examples/instances_bench" --server "$target/release/auth-server" "${1:-5}" "${2:-16}" "${3:-3}"
