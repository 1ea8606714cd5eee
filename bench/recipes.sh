#!/usr/bin/env bash
# Passwordless flow under load, SQLite on loopback: createCode and consume throughput and p99 for the generated
# router serving AuthRecipes against a minimal hand-written axum handler doing the same store, crypto and token
# work. Both run in interleaved rounds of one process (server and load generator share the machine's cores,
# alike for both modes); the figures are medians over the rounds, with the generated/hand-written ratio.
# Then a protected route behind VerifySession, the same way: the session checked by its token alone (before
# sessions were checked in the store), in the store on every request (TTL 0), and with the default TTL, with
# each one's throughput ratio to the token-only check.
#
# Usage: bench/recipes.sh [DURATION_SECONDS] [CONCURRENCY] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release --quiet -p auth-server --example recipes_bench -- "${1:-5}" "${2:-16}" "${3:-3}"
