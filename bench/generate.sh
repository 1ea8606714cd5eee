#!/usr/bin/env bash
# Generation speed: authgen, openapi-generator (`rust-axum`) and progenitor on the same specs, whole process,
# timed by hyperfine in one run per spec, with each tool's median over authgen's median and authgen's peak RSS.
#
# Each tool is first run once on the spec; a tool that exits non-zero (it cannot handle the spec) is reported
# with the first line of its output and left out of that spec's timing, and the script goes on.
#
# Usage: bench/generate.sh [RUNS] [SPEC...]
#   RUNS   hyperfine runs per command (default 10; 2 warm-up runs before them)
#   SPEC   default: spec/auth.yaml tests/corpus/twilio-api-v2010.json tests/corpus/okta-management.yaml
# Environment:
#   TOOLS              default "authgen openapi-generator progenitor"
#   AUTHGEN            an authgen binary to use instead of `cargo build --release -p authgen` in this checkout
#   OPENAPI_GENERATOR  the openapi-generator command (default openapi-generator-cli)
#   WORK               scratch directory for the generated crates (default ${TMPDIR:-/tmp}/authgen-generate-bench)
# Needs: hyperfine, python3, GNU time (/usr/bin/time); Java 17+ and `pip install openapi-generator-cli`;
# `cargo install cargo-progenitor --locked`. Tools that are missing are reported and skipped.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
runs=${1:-10}
shift || true
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(spec/auth.yaml tests/corpus/twilio-api-v2010.json tests/corpus/okta-management.yaml)
tools=${TOOLS:-authgen openapi-generator progenitor}
oag=${OPENAPI_GENERATOR:-openapi-generator-cli}
work=${WORK:-${TMPDIR:-/tmp}/authgen-generate-bench}
mkdir -p "$work"
for need in hyperfine python3 /usr/bin/time; do
  command -v "$need" >/dev/null || { echo "$need not found" >&2; exit 2; }
done

if [ -z "${AUTHGEN:-}" ]; then
  cargo build --release -q -p authgen
  AUTHGEN=${CARGO_TARGET_DIR:-$repo/target}/release/authgen
fi

# The command line of TOOL for SPEC writing into DIR (DIR is emptied before each run by hyperfine's --prepare).
command_of() {
  local tool=$1 spec=$2 dir=$3
  case $tool in
    authgen) echo "$AUTHGEN generate --framework axum --framework actix-web --spec $spec --out $dir --crate-name bench_api" ;;
    openapi-generator) echo "$oag generate -g rust-axum -i $spec -o $dir --additional-properties packageName=bench_api,packageVersion=0.1.0" ;;
    openapi-generator-skip) echo "$(command_of openapi-generator "$spec" "$dir") --skip-validate-spec" ;;
    progenitor) echo "cargo progenitor -i $spec -o $dir -n bench_api -v 0.1.0" ;;
  esac
}

available=()
for tool in $tools; do
  case $tool in
    authgen) available+=(authgen) ;;
    openapi-generator) if command -v "$oag" >/dev/null; then available+=("$tool"); else echo "openapi-generator: $oag not found (pip install openapi-generator-cli); skipped"; fi ;;
    progenitor) if cargo progenitor --help >/dev/null 2>&1; then available+=("$tool"); else echo "progenitor: not installed (cargo install cargo-progenitor --locked); skipped"; fi ;;
    *) echo "unknown tool $tool" >&2; exit 2 ;;
  esac
done

echo "generate.sh: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), authgen $(git -C "$repo" rev-parse --short HEAD)"
for spec in "${specs[@]}"; do
  name=$(basename "$spec"); name=${name%.*}
  echo
  echo "== $spec ($(du -h "$spec" | cut -f1))"
  cmds=() labels=()
  for tool in "${available[@]}"; do
    dir=$work/$name-$tool
    rm -rf "$dir"
    log=$work/$name-$tool.log
    variant=$tool
    if ! $(command_of "$tool" "$spec" "$dir") >"$log" 2>&1; then
      echo "$tool cannot handle $spec: $(grep -m1 -v '^[[:space:]]*$' "$log" | cut -c1-160 || echo 'no output')"
      # openapi-generator's validator refuses some valid documents (e.g. a link's requestBody that is an object);
      # it offers --skip-validate-spec to generate anyway, and the timing then says so in its label.
      [ "$tool" = openapi-generator ] || continue
      grep -q SpecValidationException "$log" || continue
      rm -rf "$dir"
      variant=openapi-generator-skip
      if ! $(command_of "$variant" "$spec" "$dir") >"$log" 2>&1; then
        echo "  nor with --skip-validate-spec: $(grep -m1 -v '^[[:space:]]*$' "$log" || echo 'no output')"
        continue
      fi
      echo "  timed with --skip-validate-spec (label openapi-generator-skip)"
    fi
    cmds+=("$(command_of "$variant" "$spec" "$dir")")
    labels+=("$variant")
  done
  [ ${#cmds[@]} -gt 0 ] || continue
  # One --prepare per command, in the commands' order: each run starts from an empty output directory.
  args=()
  for i in "${!cmds[@]}"; do
    args+=(-n "${labels[$i]}" --prepare "rm -rf $work/$name-${labels[$i]}")
  done
  hyperfine -N -w 2 -r "$runs" --style none --export-json "$work/$name.json" "${args[@]}" "${cmds[@]}" >/dev/null
  python3 - "$work/$name.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
base = next((r for r in results if r["command"] == "authgen"), None)
print(f"{'tool':<20}{'median':>12}{'min':>12}{'max':>12}{'x authgen':>12}")
for r in results:
    ratio = f"{r['median'] / base['median']:.1f}x" if base else "-"
    print(f"{r['command']:<20}{r['median'] * 1000:>10.0f}ms{r['min'] * 1000:>10.0f}ms{r['max'] * 1000:>10.0f}ms{ratio:>12}")
PY
  if [[ " ${labels[*]} " == *" authgen "* ]]; then
    rss=()
    for _ in 1 2 3 4 5; do
      rm -rf "$work/$name-authgen"
      /usr/bin/time -f '%M' -o "$work/rss" $(command_of authgen "$spec" "$work/$name-authgen") >/dev/null 2>&1
      rss+=("$(tail -1 "$work/rss")")
    done
    median=$(printf '%s\n' "${rss[@]}" | sort -n | sed -n 3p)
    echo "authgen peak RSS: $((median / 1024)) MB (median of 5 runs)"
  fi
done
