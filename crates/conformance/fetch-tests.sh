#!/usr/bin/env bash
# Fetches the Nix 2.8 language tests (tests/lang/ and tests/lang.sh) from Debian's
# source package into <repo>/.cache/nix-lang-tests/. Idempotent: does nothing when
# the tests are already there. Needs root (or an existing deb-src entry) to add the
# deb-src source; needs only Debian's mirrors, no other network.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="$repo_root/.cache/nix-lang-tests"

if [[ -f "$dest/lang.sh" && -d "$dest/lang" && -f "$dest/.complete" ]]; then
    echo "fetch-tests: already present in $dest"
    exit 0
fi

have_deb_src() {
    grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

if ! have_deb_src; then
    src=/etc/apt/sources.list.d/debian.sources
    if [[ ! -f "$src" ]]; then
        echo "fetch-tests: no deb-src entry and no $src to derive one from" >&2
        exit 1
    fi
    # Same mirrors and suites as the binary entries, but for source packages.
    sed -E 's/^Types:.*/Types: deb-src/' "$src" >/etc/apt/sources.list.d/nixweb-deb-src.sources
    apt-get update -qq
elif ! apt-cache showsrc nix >/dev/null 2>&1 || [[ -z "$(apt-cache showsrc nix 2>/dev/null)" ]]; then
    apt-get update -qq
fi

if ! command -v dpkg-source >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev
fi

work="$(mktemp -d)"
# apt downloads as its _apt user when that user can write here.
chown _apt "$work" 2>/dev/null || chmod 777 "$work"
trap 'rm -rf "$work"' EXIT
(
    cd "$work"
    # Unpacking as root is fine here; the tree is thrown away after copying.
    apt-get source -qq nix >/dev/null
)
unpacked="$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'nix-*' | head -n1)"
if [[ -z "$unpacked" || ! -f "$unpacked/tests/lang.sh" ]]; then
    echo "fetch-tests: source package did not contain tests/lang.sh" >&2
    exit 1
fi

version="$(cat "$unpacked/.version" 2>/dev/null || echo unknown)"
rm -rf "$dest"
mkdir -p "$dest"
cp -a "$unpacked/tests/lang" "$dest/lang"
cp -a "$unpacked/tests/lang.sh" "$dest/lang.sh"
echo "$version" >"$dest/.complete"
echo "fetch-tests: Nix $version language tests in $dest ($(ls "$dest/lang" | wc -l) files)"
