#!/usr/bin/env bash
# Side by side: authgen, openapi-generator and progenitor over the same conformance corpus. For each spec and
# each tool: run the generator as its documentation says, then `cargo check` the crate it wrote, with the
# Cargo.toml and dependencies exactly as the tool wrote them, and sort the result into one outcome:
#
#   compiles          the tool exited 0 and wrote a crate (a Cargo.toml), and `cargo check` of that crate,
#                     default features, exited 0 (warnings allowed)
#   does-not-compile  the tool exited 0 and wrote a crate, and `cargo check` failed (or wrote no Cargo.toml)
#   refuses           the tool exited non-zero with an error message: its own diagnostics (authgen's errors,
#                     progenitor's error chain, openapi-generator's SpecValidationException report)
#   panics            a Rust panic, a Java exception other than openapi-generator's validation report (with its
#                     stack trace), death by a signal, or no exit within GEN_TIMEOUT seconds
#
# "generates" = compiles + does-not-compile. Each failure keeps its first line (for `cargo check`, the number of
# errors and the first error).
#
# Usage: bench/sidebyside.sh [CORPUS_DIR] [OUT_DIR]
#   CORPUS_DIR  default tests/corpus; every file but *.md is a spec, every folder a multi-file spec whose root
#               is its openapi.yaml, openapi.yml or openapi.json (each tool is given that root file)
#   OUT_DIR     default bench/sidebyside; gets results.tsv (one line per spec and tool), summary.md (the
#               counts per tool, with versions and date) and per-spec.md (the outcome of every spec per tool)
# Environment:
#   TOOLS          tools to run, default "authgen openapi-generator progenitor"; also "openapi-generator-rust"
#                  (openapi-generator's `rust` client generator)
#   WORK           scratch directory for the generated crates and logs, default ${TMPDIR:-/tmp}/authgen-sidebyside;
#                  it must not be inside a cargo workspace (the crates are checked as standalone packages)
#   CHECK_TARGET   CARGO_TARGET_DIR shared by every `cargo check`, so common dependencies compile once
#                  (default $WORK/target)
#   GEN_TIMEOUT    seconds a generator may run (default 600); CHECK_TIMEOUT for `cargo check` (default 1800)
#   AUTHGEN_REPO   the checkout whose authgen runs (default: this one); built with `cargo build --release -p authgen`
#                  there, its commit goes into the report
#   AUTHGEN        an authgen binary to use instead of building one (labelled with AUTHGEN_REPO's commit)
#   OPENAPI_GENERATOR  the openapi-generator command (default openapi-generator-cli, PyPI `openapi-generator-cli`)
#   REUSE=1        keep a previous result from $WORK when the spec's files and the tool's version are unchanged
#
# Needs: Java 17+ and `pip install openapi-generator-cli`; `cargo install cargo-progenitor --locked`;
# network access to crates.io (each crate's dependencies are resolved as the tool declared them).
set -euo pipefail
# The whole script is one compound command, read before it runs, so the file can be edited during a long run.
{
repo=$(cd "$(dirname "$0")/.." && pwd)
corpus=$(cd "${1:-$repo/tests/corpus}" && pwd)
out=${2:-$repo/bench/sidebyside}
tools=${TOOLS:-authgen openapi-generator progenitor}
work=${WORK:-${TMPDIR:-/tmp}/authgen-sidebyside}
check_target=${CHECK_TARGET:-$work/target}
gen_timeout=${GEN_TIMEOUT:-600}
check_timeout=${CHECK_TIMEOUT:-1800}
oag=${OPENAPI_GENERATOR:-openapi-generator-cli}
authgen_repo=$(cd "${AUTHGEN_REPO:-$repo}" && pwd)
mkdir -p "$out" "$work"
work=$(cd "$work" && pwd)
case "$work/" in "$repo"/*) echo "WORK ($work) is inside the repository's cargo workspace; choose another" >&2; exit 2 ;; esac
started=$(date +%s)

# Versions, recorded in the output; a missing tool stops the run before anything is measured.
declare -A version
for tool in $tools; do
  case $tool in
    authgen)
      if [ -z "${AUTHGEN:-}" ]; then
        (cd "$authgen_repo" && cargo build --release --quiet -p authgen)
        AUTHGEN=$(cd "$authgen_repo" && cargo metadata --format-version 1 --no-deps |
          sed 's/.*"target_directory":"\([^"]*\)".*/\1/')/release/authgen
      fi
      commit=$(git -C "$authgen_repo" rev-parse --short HEAD)
      git -C "$authgen_repo" diff --quiet HEAD -- generator templates || commit+=" with uncommitted changes"
      version[$tool]="$("$AUTHGEN" --version) ($commit)" ;;
    openapi-generator | openapi-generator-rust)
      command -v "$oag" >/dev/null || { echo "$oag not found: pip install openapi-generator-cli" >&2; exit 2; }
      generator=rust-axum; [ "$tool" = openapi-generator ] || generator=rust
      version[$tool]="openapi-generator $("$oag" version 2>/dev/null | tail -1), \`$generator\`" ;;
    progenitor)
      # `cargo progenitor --version` is its crate-version option, so the version comes from cargo's install list.
      version[$tool]=$(cargo install --list | sed -n 's/^\(cargo-progenitor\) v\([^:]*\):$/\1 \2/p')
      [ -n "${version[$tool]}" ] || { echo "cargo-progenitor not found: cargo install cargo-progenitor --locked" >&2; exit 2; } ;;
    *) echo "unknown tool $tool" >&2; exit 2 ;;
  esac
done
declare -A invocation=(
  [authgen]='authgen generate --framework axum --spec SPEC --out DIR --crate-name NAME'
  [openapi-generator]='openapi-generator-cli generate -g rust-axum -i SPEC -o DIR --additional-properties packageName=NAME,packageVersion=0.1.0'
  [openapi-generator-rust]='openapi-generator-cli generate -g rust -i SPEC -o DIR --additional-properties packageName=NAME,packageVersion=0.1.0'
  [progenitor]='cargo progenitor -i SPEC -o DIR -n NAME -v 0.1.0'
)

# The specs: (label, path of the file given to the tools, crate name).
labels=() paths=() names=()
for entry in "$corpus"/*; do
  base=$(basename "$entry")
  if [ -d "$entry" ]; then
    root=
    for f in openapi.yaml openapi.yml openapi.json; do [ -f "$entry/$f" ] && { root=$f; break; }; done
    [ -n "$root" ] || { echo "skipping $base/: no openapi.yaml, openapi.yml or openapi.json" >&2; continue; }
    labels+=("$base/$root") paths+=("$entry/$root") stem=$base
  else
    case $base in *.md) continue ;; esac
    labels+=("$base") paths+=("$entry") stem=${base%.*}
  fi
  names+=("sbs_$(tr 'A-Z' 'a-z' <<<"$stem" | tr -c 'a-z0-9\n' '_')")
done
total=${#labels[@]}
[ "$total" -gt 0 ] || { echo "no specs in $corpus" >&2; exit 2; }

# A line fit for a TSV cell: no tabs, no ANSI colours, no surrounding blanks, at most 300 characters.
oneline() { sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' -e 's/\t/ /g' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' | head -1 | cut -c1-300; }

# Sorts a generator run that did not leave a crate: prints "refuses<TAB>first line" or "panics<TAB>first line".
classify_failure() { # tool rc log
  local tool=$1 rc=$2 log=$3 line
  if [ "$rc" = 124 ]; then
    printf 'panics\tno exit within %ss (killed)\n' "$gen_timeout"; return
  fi
  if line=$(grep -m1 -A1 "panicked at" "$log"); then
    # "thread 'main' (pid) panicked at <registry path>/crate-1.0/src/x.rs:1:2:" and the message on the next line.
    printf 'panics\t%s\n' "$(tr '\n' ' ' <<<"$line" | sed -e "s/^thread '[^']*' \(([0-9]*) \)\{0,1\}//" \
      -e 's|/[^ ]*/registry/src/[^/]*/||' | oneline)"; return
  fi
  # Java: the uncaught exception (caught ones are logged with stacks too, even by successful runs).
  if line=$(grep -m1 '^Exception in thread' "$log"); then
    case $line in
      *SpecValidationException*) # openapi-generator's validation report: counts, then one "-..." line per error
        printf 'refuses\t%s\n' "$(awk '/^Exception in thread/ { on = 1 } on && /^[[:space:]]*-/ { print; exit }' "$log" | oneline)" ;;
      *) printf 'panics\t%s\n' "$(sed 's/^Exception in thread "[^"]*" //' <<<"$line" | oneline)" ;;
    esac
    return
  fi
  if [ "$rc" -ge 128 ]; then
    printf 'panics\tkilled by signal %s\n' "$((rc - 128))"; return
  fi
  # progenitor prints the failure first ("gen fail: ..." before "Error: generation experienced errors"); authgen
  # may print warnings before its errors.
  case $tool in
    progenitor) line=$(grep -m1 -v '^[[:space:]]*$' "$log" || true) ;;
    *) line=$(grep -m1 -i -E 'error' "$log" || true) ;;
  esac
  [ -n "$line" ] || line=$(grep -m1 -v '^[[:space:]]*$' "$log" || echo "exit code $rc, no output")
  printf 'refuses\t%s\n' "$(oneline <<<"$line")"
}

# Runs one tool over one spec; prints "outcome<TAB>generate seconds<TAB>check seconds<TAB>detail".
run_one() { # tool spec name dir
  local tool=$1 spec=$2 name=$3 dir=$4 rc=0 t0 t1 t2 errors first
  rm -rf "$dir"; mkdir -p "$dir"
  local log=$dir.generate.log
  t0=$(date +%s.%N)
  export RUST_BACKTRACE=0
  case $tool in
    authgen) timeout -k 10 "$gen_timeout" "$AUTHGEN" generate --framework axum --spec "$spec" --out "$dir" \
      --crate-name "$name" >"$log" 2>&1 || rc=$? ;;
    openapi-generator) timeout -k 10 "$gen_timeout" "$oag" generate -g rust-axum -i "$spec" -o "$dir" \
      --additional-properties "packageName=$name,packageVersion=0.1.0" >"$log" 2>&1 || rc=$? ;;
    openapi-generator-rust) timeout -k 10 "$gen_timeout" "$oag" generate -g rust -i "$spec" -o "$dir" \
      --additional-properties "packageName=$name,packageVersion=0.1.0" >"$log" 2>&1 || rc=$? ;;
    progenitor) timeout -k 10 "$gen_timeout" cargo progenitor -i "$spec" -o "$dir" -n "$name" -v 0.1.0 \
      >"$log" 2>&1 || rc=$? ;;
  esac
  t1=$(date +%s.%N)
  local gen_s
  gen_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  if [ "$rc" != 0 ]; then
    local verdict
    verdict=$(classify_failure "$tool" "$rc" "$log")
    printf '%s\t%s\t\t%s\n' "${verdict%%$'\t'*}" "$gen_s" "${verdict#*$'\t'}"
    return
  fi
  if [ ! -f "$dir/Cargo.toml" ]; then
    printf 'does-not-compile\t%s\t\texited 0 but wrote no Cargo.toml\n' "$gen_s"; return
  fi
  rc=0
  (cd "$dir" && CARGO_TARGET_DIR=$check_target timeout -k 10 "$check_timeout" \
    cargo check --quiet --message-format short) >"$dir.check.log" 2>&1 || rc=$?
  t2=$(date +%s.%N)
  if grep -q -e 'No space left on device' -e 'Cannot allocate memory' "$dir.check.log"; then
    # The machine failed, not the crate: not an outcome (and not kept for REUSE).
    printf 'not-measured\t%s\t\t%s\n' "$gen_s" "$(grep -m1 -e 'No space left' -e 'Cannot allocate' "$dir.check.log" | oneline)"
    return
  fi
  local check_s
  check_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')
  if [ "$rc" = 0 ]; then
    printf 'compiles\t%s\t%s\t\n' "$gen_s" "$check_s"; return
  fi
  if [ "$rc" = 124 ]; then
    printf 'does-not-compile\t%s\t%s\tcargo check did not finish within %ss\n' "$gen_s" "$check_s" "$check_timeout"; return
  fi
  # cargo ends with "error: could not compile `x` (lib) due to N previous errors" when rustc found errors.
  errors=$(sed -n 's/.*due to \([0-9]*\) previous error.*/\1/p' "$dir.check.log" | head -1)
  first=$(grep -m1 -E '(^|: )error(\[E[0-9]+\])?: ' "$dir.check.log" || grep -m1 -v '^[[:space:]]*$' "$dir.check.log" || echo "cargo check exit code $rc")
  # Paths relative to the crate, so the line reads the same on any machine.
  first=$(sed "s|$dir/||g" <<<"$first" | oneline)
  printf 'does-not-compile\t%s\t%s\t%s%s\n' "$gen_s" "$check_s" "${errors:+$errors errors, the first: }" "$first"
}

# The spec's identity for REUSE: a hash of every file of the spec (its folder for a multi-file spec).
spec_hash() { # path
  local p=$1
  case $(dirname "$p") in "$corpus") sha256sum "$p" | cut -c1-16 ;;
    *) (cd "$(dirname "$p")" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16) ;; esac
}

tsv=$out/results.tsv
reused=0
printf 'spec\ttool\toutcome\tgenerate_s\tcheck_s\tfirst line of the failure\n' >"$tsv"
for i in "${!labels[@]}"; do
  hash=$(spec_hash "${paths[$i]}")
  for tool in $tools; do
    dir=$work/$tool/${names[$i]}
    key="${labels[$i]} $hash ${version[$tool]} ${invocation[$tool]}"
    if [ "${REUSE:-0}" = 1 ] && [ -f "$dir.result" ] && [ "$(head -1 "$dir.result")" = "$key" ]; then
      row=$(tail -1 "$dir.result") reused=$((reused + 1))
    else
      row=$(run_one "$tool" "${paths[$i]}" "${names[$i]}" "$dir")
      case $row in not-measured*) rm -f "$dir.result" ;; *) printf '%s\n%s\n' "$key" "$row" >"$dir.result" ;; esac
    fi
    printf '%s\t%s\t%s\n' "${labels[$i]}" "$tool" "$row" | tee -a "$tsv" | cut -c1-200 >&2
  done
done
elapsed=$(($(date +%s) - started))

# The reports: the counts per tool (summary.md) and the outcome of each spec per tool (per-spec.md).
day=$(date -u +%Y-%m-%d)
{
  printf 'Side by side over the %s specs of `%s`, %s, by `bench/sidebyside.sh` (wall time %dm%02ds%s):\n\n' \
    "$total" "$(basename "$(dirname "$corpus")")/$(basename "$corpus")" "$day" $((elapsed / 60)) $((elapsed % 60)) \
    "$([ "$reused" = 0 ] || echo ", $reused of $((total * $(wc -w <<<"$tools"))) results reused from an earlier run")"
  printf '| tool | generates | compiles | refuses | panics | generating, total |\n|---|---|---|---|---|---|\n'
  for tool in $tools; do
    awk -F'\t' -v t="$tool" -v n="$total" -v v="${version[$tool]}" '
      $2 == t { c[$3]++; s += $4 }
      END { printf "| %s | %d/%d | %d/%d | %d/%d | %d/%d | %.0f s |\n", v, c["compiles"] + c["does-not-compile"], n,
            c["compiles"], n, c["refuses"], n, c["panics"], n, s }' "$tsv"
  done
  awk -F'\t' '$3 == "not-measured" { printf "\n**Not measured** (the machine failed, run again): %s with %s: %s\n", $1, $2, $6 }' "$tsv"
  printf '\nInvocations (`cargo check` in DIR follows every one that exits 0):\n\n'
  for tool in $tools; do printf -- '- %s: `%s`\n' "$tool" "${invocation[$tool]}"; done
  printf '\n%s; `cargo check` with %s, dependencies resolved from crates.io on the day.\n' \
    "$(java -version 2>&1 | head -1)" "$(rustc --version)"
} >"$out/summary.md"
{
  printf '# Side by side, per spec\n\nWritten by `bench/sidebyside.sh` on %s: the outcome of every spec with every tool, %s\n\n' \
    "$day" 'and the first line of each failure (in full in [results.tsv](results.tsv)). The counts and what each outcome means are in the README, section "Side by side with openapi-generator and progenitor".'
  printf '| spec |'; for tool in $tools; do printf ' %s |' "$tool"; done; printf '\n|---|'
  for tool in $tools; do printf -- '---|'; done; printf '\n'
  for label in "${labels[@]}"; do
    printf '| `%s` |' "$label"
    for tool in $tools; do
      awk -F'\t' -v s="$label" -v t="$tool" '
        $1 == s && $2 == t {
          d = $6; if (length(d) > 150) d = substr(d, 1, 147) "..."
          gsub(/\|/, "\\|", d); gsub(/`/, "'"'"'", d); gsub(/</, "\\&lt;", d)
          printf " %s%s |", ($3 == "compiles" ? "compiles" : "**" $3 "**"), (d == "" ? "" : ": " d)
        }' "$tsv"
    done
    printf '\n'
  done
} >"$out/per-spec.md"
cat "$out/summary.md"
exit
}
