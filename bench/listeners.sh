#!/bin/sh
# bench/listeners.sh: the scale table. For each row (listeners /
# established loopback connections) bench/mklisteners.c builds a private
# network namespace (the machine's own namespace and sysctls are never
# touched) and bench/timeit.c times, side by side in one run, round-robin:
# `qtune listeners` (every owner named), `qtune check` on a compliant
# profile (no finding: no owner walk), `qtune check` on a profile every
# listener fails (every owner named), `ss -ltnp` and `ss -ltn`. Prints
# timeit's table per row, then one summary line per row: medians, ratios,
# qtune's peak RSS, and µs per descriptor walked for qtune listeners and
# ss -ltnp. Needs root (a network namespace) and iproute2's ss.
#
#   BUILD=build bench/listeners.sh                  (what `make bench` runs)
#   ROWS=10000/20000 RUNS=3 bench/listeners.sh      (one row, quickly)
#
# Environment: BUILD (build), CC (cc), RUNS (7), ROWS (the four rows of
# issue 19), QTUNE ($BUILD/qtune), QTUNE_EXTRA (more commands for timeit,
# `:::`-separated, e.g. "::: build/qtune --jobs 1 listeners" for the walk
# on one thread beside the default; each gets an EXTRA line after the
# row's ROW line), LDLIBS.
set -eu

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CC=${CC:-cc}
RUNS=${RUNS:-7}
ROWS=${ROWS:-"1000/10000 10000/20000 10000/100000 50000/50000"}
QTUNE=${QTUNE:-$BUILD/qtune}
QTUNE_EXTRA=${QTUNE_EXTRA:-}
LDLIBS=${LDLIBS:-$(make -s --no-print-directory print-ldlibs)}
B=$BUILD/bench

if [ "${1:-}" = --inside ]; then
	# Run by mklisteners inside the populated namespace.
	n=$($QTUNE --no-owners listeners 2>/dev/null | grep -cE '^127\.[0-9.]+:[0-9]+ +[0-9]' || true)
	owned=$($QTUNE listeners | grep -c 'mklisteners\[' || true)
	ssn=$(ss -ltn | tail -n +2 | wc -l)
	if [ "$n" -ne "$LISTENERS" ] || [ "$ssn" -ne "$LISTENERS" ] || [ "$owned" -ne "$LISTENERS" ]; then
		echo "listeners.sh: expected $LISTENERS listeners, each with its owner: qtune sees $n ($owned owned), ss $ssn" >&2
		exit 1
	fi
	# The descriptors an owner walk reads: every fd of every process of
	# this namespace.
	me=$(readlink /proc/self/ns/net)
	fds=0
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/net" 2>/dev/null)" = "$me" ] || continue
		k=$(ls "$p/fd" 2>/dev/null | wc -l)
		fds=$((fds + k))
	done
	out=$B/row.txt
	# shellcheck disable=SC2086 # the commands are word lists on purpose
	"$B/timeit" "$RUNS" $QTUNE listeners ::: $QTUNE check "$B/compliant.yaml" \
		::: expect=1 $QTUNE check "$B/flagged.yaml" ::: ss -ltnp ::: ss -ltn \
		$QTUNE_EXTRA | tee "$out"
	# timeit's rows: name..., median, min, max, peak RSS KiB.
	awk -v l="$LISTENERS" -v c="$CONNECTIONS" -v fds="$fds" '
		/^command / { next }
		/^ratio / { next }
		{
			k = $NF == "(FAILED)" ? 1 : 0;
			med[NR] = $(NF-3-k); rss[NR] = $(NF-k);
			name[NR] = $1; for (i = 2; i <= NF-4-k; i++) name[NR] = name[NR] " " $i
		}
		END {
			ls = med[2]; ok = med[3]; bad = med[4]; ssp = med[5]; ssn = med[6];
			printf "ROW %s/%s fds=%d | listeners %.1f ms (%.2f x ss -ltnp, %.2f x ss -ltn) | check ok %.1f ms (%.2f x ss -ltn) | check flagged %.1f ms | ss -ltnp %.1f ms | ss -ltn %.1f ms | RSS KiB listeners %d, check ok %d, flagged %d, ss -ltnp %d | us/fd qtune %.3f, ss -ltnp %.3f\n",
				l, c, fds, ls, ls / ssp, ls / ssn, ok, ok / ssn, bad, ssp, ssn,
				rss[2], rss[3], rss[4], rss[5], ls * 1000 / fds, ssp * 1000 / fds
			# QTUNE_EXTRA: each against the default listeners and both ss.
			for (r = 7; r in med; r++)
				printf "EXTRA %s/%s | %s %.1f ms (%.2f x listeners, %.2f x ss -ltnp, %.2f x ss -ltn) | RSS KiB %d\n",
					l, c, name[r], med[r], med[r] / ls, med[r] / ssp, med[r] / ssn, rss[r]
		}' "$out"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "listeners.sh: needs root (it creates a network namespace)" >&2
	exit 2
fi
command -v ss >/dev/null || { echo "listeners.sh: ss (iproute2) not found" >&2; exit 2; }
if ! [ -x "$QTUNE" ]; then
	echo "listeners.sh: $QTUNE not found: build first (make)" >&2
	exit 2
fi
mkdir -p "$B"
CFLAGS_BENCH="-std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE"
$CC $CFLAGS_BENCH -o "$B/mklisteners" bench/mklisteners.c
$CC $CFLAGS_BENCH -o "$B/timeit" bench/timeit.c
# The listeners' backlogs are 128 and 4096: the first profile accepts
# every one, the second none (below-min for each: every owner named).
printf 'qtune: 1\nname: compliant\nsysctl: {}\nlisteners:\n  min_backlog: 64\n' >"$B/compliant.yaml"
printf 'qtune: 1\nname: flagged\nsysctl: {}\nlisteners:\n  min_backlog: 8192\n' >"$B/flagged.yaml"
chmod 644 "$B/compliant.yaml" "$B/flagged.yaml"
export QTUNE QTUNE_EXTRA B RUNS

echo "kernel $(uname -r), $(nproc) CPUs; rows $ROWS; $RUNS runs each"
for row in $ROWS; do
	LISTENERS=${row%/*}
	CONNECTIONS=${row#*/}
	export LISTENERS CONNECTIONS
	echo "== $LISTENERS listeners, $CONNECTIONS connections"
	"$B/mklisteners" -l "$LISTENERS" -c "$CONNECTIONS" -- sh "$0" --inside
done
