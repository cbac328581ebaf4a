#!/bin/sh
# bench/allnetns.sh: `qtune listeners --all-netns` against the loop an
# operator writes today, `for each namespace: nsenter --net=… ss -ltnp`,
# side by side (bench/timeit.c: round-robin, median, peak RSS). In a PID
# and mount namespace of its own (so only the namespaces made here are
# seen), NS network namespaces (100) each get a holder process with lo up,
# LISTENERS listeners (10) and CONNS established loopback connections (3).
# The machine's own namespace and sysctls are never touched. Root.
#
#   BUILD=build bench/allnetns.sh            (what `make bench` runs)
#   NS=100 LISTENERS=10 CONNS=3 RUNS=7 bench/allnetns.sh
set -eu

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CC=${CC:-cc}
RUNS=${RUNS:-7}
NS=${NS:-100}
LISTENERS=${LISTENERS:-10}
CONNS=${CONNS:-3}
QTUNE=${QTUNE:-$BUILD/qtune}
B=$BUILD/bench

if [ "${1:-}" = --inside ]; then
	# PID 1's helper is done: NS holders are up. Check what both see.
	pids=$(cat "$B/allnetns.pids")
	n=$($QTUNE --no-owners listeners --all-netns 2>/dev/null | awk "/^summary:/ {s = 1; next} s && \$1 ~ /^[0-9]+$/ {t += \$(NF - 2)} END {print t + 0}")
	want=$((NS * LISTENERS))
	# (and the initial namespace's own)
	if [ "$n" -lt "$want" ]; then
		echo "allnetns.sh: qtune sees $n listeners, expected $want" >&2; $QTUNE --no-owners listeners --all-netns | tail -5 >&2
		exit 1
	fi
	loop="for p in $pids; do nsenter --net=/proc/\$p/ns/net ss -ltnp; done"
	[ -n "${DEBUG:-}" ] && $QTUNE --no-owners listeners --all-netns | tail -8
	"$B/timeit" "$RUNS" "$QTUNE" listeners --all-netns ::: sh -c "$loop" ${EXTRA:+::: $EXTRA}
	exit 0
fi

mkdir -p "$B"
rm -f "$B/allnetns.pids" "$B/allnetns.pids.ready"
$CC -O2 -o "$B/timeit" bench/timeit.c
# The namespaces, then the timing, in a PID namespace with its own /proc.
exec unshare --pid --fork --mount --mount-proc sh -c '
	set -eu
	python3 - "$0" "$1" "$2" "$3" <<PY &
import ctypes, os, socket, sys, time
ns, nl, nc, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
libc = ctypes.CDLL(None, use_errno=True)
pids = []
for i in range(ns):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        if libc.unshare(0x40000000) != 0:
            os._exit(1)
        os.system("ip link set lo up")
        ls = []
        for k in range(nl):
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", 9000 + k)); s.listen(128); ls.append(s)
        cs = []
        for k in range(nc):
            c = socket.create_connection(("127.0.0.1", 9000 + k % nl)); cs.append(c)
            cs.append(ls[k % nl].accept()[0])
        os.write(w, b"x"); os.close(w)
        while True:
            time.sleep(3600)
    os.close(w)
    assert os.read(r, 1) == b"x"
    os.close(r)
    pids.append(pid)
open(out, "w").write(" ".join(map(str, pids)))
open(out + ".ready", "w").close()
while True:
    time.sleep(3600)
PY
	while [ ! -e "$3.ready" ]; do sleep 0.1; done
	sh bench/allnetns.sh --inside
	kill $! 2>/dev/null || true
' "$NS" "$LISTENERS" "$CONNS" "$B/allnetns.pids"
