#!/usr/bin/env bash
# Runs both conformance suites the way CI should: fetches the Nix 2.8 language tests if
# needed, runs `lang` and `corpus` against the embedded evaluator, and (when a Nix 2.8
# nix-instantiate is installed) also checks the corpus records against it live.
# Exits non-zero if either suite is not exactly as its expected-failures list says.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
cd "$repo_root"

bash "$here/fetch-tests.sh" || exit 2

status=0
cargo run -q -p nixweb-conformance -- lang "$@" || status=1

live=()
if nix-instantiate --version 2>/dev/null | grep -q ' 2\.8\.'; then
    live=(--live)
fi
cargo run -q -p nixweb-conformance -- corpus "${live[@]}" "$@" || status=1

exit "$status"
