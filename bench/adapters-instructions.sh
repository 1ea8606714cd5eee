#!/usr/bin/env bash
# Instructions per request of the servers of bench/adapters.sh, counted by valgrind (cachegrind, no cache
# simulation): a figure that the machine's load does not move, unlike requests/s. Each mode is run twice under
# wrk, for a short and a long load, and the difference in instructions over the difference in requests is the
# cost of one request (start-up and shutdown cancel out). Prints instructions/request per mode and the
# generated/hand-written ratio per framework (above 1: the generated adapter costs more).
#
# Usage: bench/adapters-instructions.sh [SHORT_SECONDS] [LONG_SECONDS]   (needs valgrind and wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
short=${1:-3}
long=${2:-9}
for tool in valgrind wrk; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install $tool)" >&2; exit 2; }
done
cargo build --release --quiet -p authgen-bench --bin bench-server
server=${CARGO_TARGET_DIR:-target}/release/bench-server
work=$(mktemp -d)
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null || true' EXIT
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"email":"johndoe@gmail.com"}'
wrk.headers["content-type"] = "application/json"
wrk.headers["rid"] = "passwordless"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read))
end
LUA
port=18180
# Prints "requests instructions" for one run of MODE under load for SECONDS.
count() {
  local mode=$1 seconds=$2 pid out requests errors
  port=$((port + 1))
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$server" "$mode" "$port" \
    2>"$work/valgrind" & pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
  out=$(wrk -t1 -c8 -d"${seconds}s" -s "$work/post.lua" "http://127.0.0.1:$port/auth/signinup/code")
  read -r _ requests errors < <(grep '^RESULT' <<<"$out")
  [ "$errors" = 0 ] || { echo "$mode: $errors errors" >&2; exit 1; }
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  echo "$requests $(awk '/I *refs:/ { gsub(",", "", $4); print $4 }' "$work/valgrind")"
}
modes=(handwritten-axum generated-axum handwritten-actix generated-actix)
declare -A per
printf '%-18s %14s\n' mode "instr/request"
for mode in "${modes[@]}"; do
  read -r r1 i1 < <(count "$mode" "$short")
  read -r r2 i2 < <(count "$mode" "$long")
  per[$mode]=$(awk -v r1="$r1" -v i1="$i1" -v r2="$r2" -v i2="$i2" 'BEGIN { printf "%.0f", (i2 - i1) / (r2 - r1) }')
  printf '%-18s %14s\n' "$mode" "${per[$mode]}"
done
for fw in axum actix; do
  awk -v g="${per[generated-$fw]}" -v h="${per[handwritten-$fw]}" -v fw="$fw" \
    'BEGIN { printf "%s: generated/hand-written instructions per request %.3f\n", fw, g / h }'
done
