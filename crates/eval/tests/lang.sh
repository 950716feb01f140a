#!/usr/bin/env bash
# Local tally of Nix 2.8's official language tests against our evaluator (the real runner
# lives in crates/conformance). Usage: crates/eval/tests/lang.sh [-v]
# Needs the tests in .cache/nix-lang-tests (crates/conformance/fetch-tests.sh).
set -u
root="$(cd "$(dirname "$0")/../../.." && pwd)"
bin="${NIXWEB_EVAL_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/examples/nix-instantiate}"
[ -x "$bin" ] || { echo "build first: cargo build --release -p nixweb-eval --example nix-instantiate" >&2; exit 1; }
cd "$root/.cache/nix-lang-tests" || exit 1
export TEST_VAR=foo
verbose="${1:-}"
pass() { eval "$1=\$(( $1 + 1 ))"; }
po=0 pon=0 pf=0 pfn=0 ef=0 efn=0 eo=0 eon=0 ex=0 exn=0
failed=()
for f in lang/parse-okay-*.nix; do pon=$((pon+1)); if "$bin" --parse - < "$f" >/dev/null 2>&1; then pass po; else failed+=("$f"); fi; done
for f in lang/parse-fail-*.nix; do pfn=$((pfn+1)); if ! "$bin" --parse - < "$f" >/dev/null 2>&1; then pass pf; else failed+=("$f"); fi; done
for f in lang/eval-fail-*.nix; do efn=$((efn+1)); if ! timeout 10 "$bin" --eval "$f" >/dev/null 2>&1; then pass ef; else failed+=("$f"); fi; done
for f in lang/eval-okay-*.nix; do
  i="${f%.nix}"
  if [ -e "$i.exp" ]; then
    eon=$((eon+1)); flags=""; [ -e "$i.flags" ] && flags="$(cat "$i.flags")"
    if out="$(NIX_PATH=lang/dir3:lang/dir4 timeout 10 "$bin" $flags --eval --strict "$f" 2>/dev/null)" && [ "$out" == "$(cat "$i.exp")" ]; then pass eo; else failed+=("$f"); fi
  fi
  if [ -e "$i.exp.xml" ]; then
    exn=$((exn+1))
    if timeout 10 "$bin" --eval --xml --no-location --strict "$f" 2>/dev/null | cmp -s - "$i.exp.xml"; then pass ex; else failed+=("$f (xml)"); fi
  fi
done
echo "parse-okay $po/$pon  parse-fail $pf/$pfn  eval-fail $ef/$efn  eval-okay $eo/$eon  eval-okay-xml $ex/$exn"
[ -n "$verbose" ] && printf 'FAILED %s\n' "${failed[@]}"
exit 0
