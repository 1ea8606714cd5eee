#!/usr/bin/env bash
# Passwordless flow under load, SQLite on loopback: createCode and consume throughput and p99 for the generated
# router serving AuthRecipes against a minimal hand-written axum handler doing the same store, crypto and token
# work. Both run in interleaved rounds of one process (server and load generator share the machine's cores,
# alike for both modes); the figures are medians over the rounds, with the generated/hand-written ratio.
#
# Usage: bench/recipes.sh [DURATION_SECONDS] [CONCURRENCY] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release --quiet -p auth-server --example recipes_bench -- "${1:-5}" "${2:-16}" "${3:-3}"
