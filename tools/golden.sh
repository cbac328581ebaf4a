#!/bin/sh
# tools/golden.sh: regenerates tests/golden/NAME.out (and NAME.err) from
# tests/golden/cases with the qtune given (`make golden`). Each case runs
# in its own network namespace (unshare -n), as tests/e2e_golden.c runs it
# in the sandbox's; it fails when a case does not exit as the cases say.
#
#   tools/golden.sh QTUNE
set -eu
cd "$(dirname "$0")/.."
qtune=$(realpath "$1")

grep -v '^#' tests/golden/cases | while read -r name rc args; do
	[ -n "$name" ] || continue
	out=tests/golden/$name
	# shellcheck disable=SC2086 # the arguments are words
	got=0; unshare -n "$qtune" $args >"$out.out" 2>"$out.err" || got=$?
	[ -s "$out.err" ] || rm -f "$out.err"
	if [ "$got" != "$rc" ]; then
		echo "golden: $name exits $got, not $rc" >&2; exit 1
	fi
	echo "golden: $name"
done
