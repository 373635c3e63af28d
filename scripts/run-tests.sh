#!/usr/bin/env bash
# The test phase of `npm test`: every compiled test file, with a private TMPDIR that is
# removed afterwards, so the temp directories the tests and the servers they start make
# (os.tmpdir(), python's tempfile, mktemp) never pile up in /tmp, pass or fail.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d "${TMPDIR:-/tmp}/mailroom-tests.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 755 "$root" # mktemp makes it 0700: a test that runs a private PostgreSQL as user postgres must reach its dir inside
# shellcheck disable=SC2046 # one argument per test file
TMPDIR="$root" node --test --test-concurrency=2 $(find dist -name '*.test.js' | sort)
