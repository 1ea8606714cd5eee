#!/usr/bin/env bash
# Generated adapters against hand-written baselines doing the same work (parse the createCode body, check it,
# answer JSON), on axum and actix-web, in one run: each server gets one worker thread, wrk gets the other core.
# Prints requests/s, p99 latency and the generated/hand-written ratio per framework.
#
# The modes are measured in interleaved rounds and each figure is the median over the rounds, so a burst of
# background load hits every mode alike. bench/adapters-instructions.sh counts the instructions per request of
# the same servers, a figure that background load does not move.
#
# Usage: bench/adapters.sh [DURATION_SECONDS] [CONNECTIONS] [ROUNDS]    (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-32}
rounds=${3:-3}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
cargo build --release --quiet -p authgen-bench --bin bench-server
server=${CARGO_TARGET_DIR:-target}/release/bench-server
lua=$(mktemp)
trap 'rm -f "$lua"; kill $(jobs -p) 2>/dev/null || true' EXIT
cat >"$lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"email":"johndoe@gmail.com"}'
wrk.headers["content-type"] = "application/json"
wrk.headers["rid"] = "passwordless"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.3f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect + summary.errors.read))
end
LUA
port=18080
modes=(handwritten-axum generated-axum handwritten-actix generated-actix)
declare -A rps p99
for round in $(seq "$rounds"); do
  for mode in "${modes[@]}"; do
    port=$((port + 1))
    taskset -c 0 "$server" "$mode" "$port" & pid=$!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
    # Warm up, then measure.
    taskset -c 1 wrk -t1 -c"$connections" -d2s -s "$lua" "http://127.0.0.1:$port/auth/signinup/code" >/dev/null
    out=$(taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" -s "$lua" "http://127.0.0.1:$port/auth/signinup/code")
    read -r _ r l errors < <(grep '^RESULT' <<<"$out")
    [ "$errors" = 0 ] || { echo "$mode: $errors errors" >&2; exit 1; }
    rps[$mode]+="$r "; p99[$mode]+="$l "
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for mode in "${modes[@]}"; do
  rps[$mode]=$(median <<<"${rps[$mode]}"); p99[$mode]=$(median <<<"${p99[$mode]}")
done
printf 'median of %s rounds of %ss, %s connections\n' "$rounds" "$duration" "$connections"
printf '%-18s %12s %10s\n' mode "requests/s" "p99 ms"
for mode in "${modes[@]}"; do
  printf '%-18s %12.0f %10.3f\n' "$mode" "${rps[$mode]}" "${p99[$mode]}"
done
for fw in axum actix; do
  awk -v g="${rps[generated-$fw]}" -v h="${rps[handwritten-$fw]}" -v fw="$fw" \
    'BEGIN { printf "%s: generated/hand-written throughput ratio %.3f\n", fw, g / h }'
done
