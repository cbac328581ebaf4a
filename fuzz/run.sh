#!/usr/bin/env bash
# fuzz/run.sh [SECONDS]: builds the libFuzzer targets (clang,
# -fsanitize=fuzzer,address,undefined) into build/fuzz/ and runs each for
# SECONDS (default 60) on a scratch copy of its seed corpus, so fuzz/seeds
# is never written. Exits non-zero when a target crashes, leaks, trips a
# sanitizer or fails to build; the reproducer is kept in build/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
case $secs in
''|*[!0-9]*) echo "usage: fuzz/run.sh [SECONDS]" >&2; exit 2 ;;
esac
CLANG=${CLANG:-clang}
out=build/fuzz
mkdir -p "$out"

# -iquote, not -I: src/limits.h must not stand in for <limits.h>.
cflags="-std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -DQTUNE_VERSION=\"fuzz\"
	-Wall -Wextra -Werror -Wno-unused-parameter -iquote src
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
	$(pkg-config --cflags yaml-0.1 libcap libmd libmnl)"
libs=$(pkg-config --libs yaml-0.1 libcap libmd libmnl)

# The library, without main(): each target brings its own entry point.
# Compiled once (instrumented for coverage), linked into both targets.
echo "== build $out/obj"
mkdir -p "$out/obj"
objs=()
for f in src/*.c; do
	[ "$f" != src/main.c ] || continue
	o=$out/obj/$(basename "$f" .c).o
	objs+=("$o")
	# shellcheck disable=SC2086
	$CLANG $cflags -fsanitize=fuzzer-no-link -c -o "$o" "$f" &
done
wait_all() { local r=0; for j in $(jobs -p); do wait "$j" || r=1; done; return $r; }
wait_all

status=0
for target in profile sysctld; do
	bin=$out/fuzz_$target
	echo "== build $bin"
	# shellcheck disable=SC2086
	$CLANG $cflags -fsanitize=fuzzer -o "$bin" "fuzz/fuzz_$target.c" fuzz/fuzz_tree.c \
		"${objs[@]}" $libs

	corpus=$(mktemp -d "$out/corpus-$target.XXXXXX")
	cp fuzz/seeds/"$target"/* "$corpus"/
	dict=()
	[ ! -f "fuzz/$target.dict" ] || dict=(-dict="fuzz/$target.dict")
	echo "== run fuzz_$target for ${secs}s ($(ls "$corpus" | wc -l) seeds)"
	rc=0
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$bin" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=512 \
		-timeout=10 -print_final_stats=1 -artifact_prefix="$out/crash-$target-" \
		"${dict[@]}" "$corpus" >"$out/fuzz_$target.log" 2>&1 || rc=$?
	# The full log (with libFuzzer's recommended dictionary) stays in
	# build/fuzz; the tail says how it ended.
	grep -v -e '^"' -e '^#[0-9]' -e 'ecommended dictionary' "$out/fuzz_$target.log" | tail -n 30
	if [ "$rc" -ne 0 ]; then
		echo "fuzz_$target: FAILED, exit $rc (log: $out/fuzz_$target.log," \
		     "reproducer: $out/crash-$target-*)" >&2
		status=1
	fi
	rm -rf "$corpus"
done
exit $status
