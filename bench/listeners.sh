#!/bin/sh
# bench/listeners.sh: `qtune listeners` against `ss -ltnp` and `ss -ltn` on
# 10,000 listening sockets and 20,000 established loopback connections, in a
# private network namespace that bench/mklisteners.c creates (the machine's
# own namespace and sysctls are never touched). Prints the median of RUNS
# timed runs of each, side by side, the ratios and each one's peak RSS.
# Needs root (a network namespace) and iproute2's ss. bench/dumponly (one
# listeners_dump() and nothing else, linked against $BUILD/libqtune.a) is
# timed against `ss -ltn`, the same work: the sock_diag dump alone.
#
#   BUILD=build bench/listeners.sh        (what `make bench` runs)
#
# Environment: BUILD (build), CC (cc), RUNS (7), LISTENERS (10000),
# CONNECTIONS (20000), QTUNE ($BUILD/qtune), LDLIBS (the Makefile's).
set -eu

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CC=${CC:-cc}
RUNS=${RUNS:-7}
LISTENERS=${LISTENERS:-10000}
CONNECTIONS=${CONNECTIONS:-20000}
QTUNE=${QTUNE:-$BUILD/qtune}
# The libraries qtune links with, from the Makefile (make bench passes them).
LDLIBS=${LDLIBS:-$(make -s --no-print-directory print-ldlibs)}
B=$BUILD/bench

if [ "${1:-}" = --inside ]; then
	# Run by mklisteners inside the populated namespace.
	shift
	n=$($Q_TEXT | grep -c '^127\.0\.0\.1:' || true)
	owned=$($Q_TEXT | grep -c 'mklisteners\[' || true)
	ssn=$(ss -ltn | tail -n +2 | wc -l)
	echo "qtune sees $n listeners, $owned of them with their owner named; ss -ltn sees $ssn"
	dn=$("$B/dumponly" -v)
	echo "dumponly sees $dn"
	if [ "$n" -ne "$LISTENERS" ] || [ "$ssn" -ne "$LISTENERS" ] || [ "$dn" -ne "$LISTENERS" ]; then
		echo "listeners.sh: expected $LISTENERS listeners" >&2
		exit 1
	fi
	# shellcheck disable=SC2086 # the commands are word lists on purpose
	exec "$B/timeit" "$RUNS" $Q_TEXT ::: ss -ltnp ::: ss -ltn ::: $Q_JSON \
		::: "$B/dumponly"
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "listeners.sh: needs root (it creates a network namespace)" >&2
	exit 2
fi
command -v ss >/dev/null || { echo "listeners.sh: ss (iproute2) not found" >&2; exit 2; }
mkdir -p "$B"
CFLAGS_BENCH="-std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE"
# shellcheck disable=SC2086
$CC $CFLAGS_BENCH -o "$B/mklisteners" bench/mklisteners.c
# shellcheck disable=SC2086
$CC $CFLAGS_BENCH -o "$B/timeit" bench/timeit.c

if ! [ -x "$QTUNE" ] || ! [ -f "$BUILD/libqtune.a" ]; then
	echo "listeners.sh: $QTUNE or $BUILD/libqtune.a not found: build first (make)" >&2
	exit 2
fi
# shellcheck disable=SC2086
$CC $CFLAGS_BENCH -Isrc -o "$B/dumponly" bench/dumponly.c "$BUILD/libqtune.a" \
	$LDLIBS
Q_TEXT="$QTUNE listeners"
Q_JSON="$QTUNE --output json listeners"
export Q_TEXT Q_JSON B RUNS LISTENERS

echo "kernel $(uname -r), $(nproc) CPUs; $LISTENERS listeners, $CONNECTIONS connections, $RUNS runs each"
exec "$B/mklisteners" -l "$LISTENERS" -c "$CONNECTIONS" -- sh "$0" --inside
