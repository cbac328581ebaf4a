#!/usr/bin/env bash
# .ci/valgrind.sh [CRITERION ARGS...]: the whole Criterion suite under
# valgrind memcheck, as root (the tests enter namespaces). Covers three kinds
# of process:
#   - the test runner and its workers: Criterion re-executes the test binary
#     for every test ("boxfort-worker"), so children are traced; every other
#     program a test starts (setpriv, sh for system(), the qtune wrapper) is
#     skipped, it runs natively;
#   - the unit tests, in-process in those workers;
#   - every qtune the end-to-end tests run: QTUNE_BIN is a wrapper that runs
#     build/valgrind/qtune under its own memcheck (exit 99 on an error).
# Any error or definite leak in any of them fails the run: each process
# logs to build/valgrind/logs/, and a non-empty log is a failure even when
# the test that ran the process ignored its exit status.
set -euo pipefail
cd "$(dirname "$0")/.."

b=build/valgrind
logs=$PWD/$b/logs
# The shipped flags (-O2 -g): memcheck judges the code that ships.
make -s BUILD=$b "$b/qtune" "$b/qtune-tests"

rm -rf "$logs"
mkdir -p "$logs"
# The qtune runs as uid 65534 (e2e_privileges) log here too.
chmod 1777 "$logs"

common=(--quiet --leak-check=full --errors-for-leak-kinds=definite
	--show-leak-kinds=definite --num-callers=30 --vgdb=no)

cat > "$b/qtune-vg" <<EOF
#!/bin/sh
# Written by .ci/valgrind.sh: qtune under memcheck, for QTUNE_BIN.
exec valgrind ${common[*]} --error-exitcode=99 --trace-children=no \\
	--log-file=$logs/qtune.%p.log $PWD/$b/qtune "\$@"
EOF
chmod 0755 "$b/qtune-vg"

start=$(date +%s)
rc=0
QTUNE_BIN=$PWD/$b/qtune-vg QTUNE_SRCDIR=$PWD \
	valgrind "${common[@]}" --error-exitcode=1 \
	--trace-children=yes --trace-children-skip='/bin/*,/usr/bin/*,/usr/sbin/*,/sbin/*,*/qtune-vg' \
	--log-file="$logs/tests.%p.log" \
	"$b/qtune-tests" --jobs 1 "$@" || rc=$?
echo "valgrind: the suite took $(($(date +%s) - start)) s"

bad=0
for f in "$logs"/*.log; do
	[ -s "$f" ] || continue
	echo "== $f" >&2
	cat "$f" >&2
	bad=1
done
if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ]; then
	echo "valgrind: FAILED (suite exit $rc; logs in $logs)" >&2
	exit 1
fi
echo "valgrind: no error, no definite leak ($(ls "$logs" | wc -l) processes checked)"
