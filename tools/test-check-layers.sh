#!/bin/sh
# tools/test-check-layers.sh: check-layers.sh against small made-up trees,
# each breaking one rule, and one that keeps them all. Run by `make check`.
set -eu
cd "$(dirname "$0")/.."
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fails=0

# tree NAME: a src/ with a pure module, a system one and a renderer, and
# its map; the caller then breaks one thing.
tree() {
	d=$t/$1
	mkdir -p "$d/src"
	printf '#include "pure.h"\n' >"$d/src/pure.c"
	printf '#include "data.h"\n' >"$d/src/pure.h"
	printf 'struct data { int x; };\n' >"$d/src/data.h"
	printf '#include "sys.h"\n#include "pure.h"\n' >"$d/src/sys.c"
	printf '#include "data.h"\n' >"$d/src/sys.h"
	printf '#include "render.h"\n#include "pure.h"\n' >"$d/src/render.c"
	printf '#include "data.h"\n' >"$d/src/render.h"
	cat >"$d/map.md" <<'MAP'
| file | layer | promise | may also include |
|---|---|---|---|
| `src/pure.c` | pure | data in, data out | |
| `src/data.h` | pure | plain data | |
| `src/sys.c` | system | reads | |
| `src/render.c` | render | prints | |
MAP
}

# expect OK|FAIL NAME [TEXT]: runs the check on tree NAME; with FAIL, its
# message must contain TEXT.
expect() {
	if tools/check-layers.sh "$t/$2/map.md" "$t/$2/src" >"$t/out" 2>&1; then got=OK; else got=FAIL; fi
	if [ "$got" != "$1" ] || { [ -n "${3:-}" ] && ! grep -qF -- "$3" "$t/out"; }; then
		echo "test-check-layers: $2: expected $1${3:+ with '$3'}, got $got:" >&2
		cat "$t/out" >&2
		fails=$((fails + 1))
	fi
}

tree good
expect OK good

tree pure_includes_system
printf '#include "sys.h"\n' >>"$t/pure_includes_system/src/pure.c"
expect FAIL pure_includes_system "src/pure.c (pure) reaches sys.h (system)"

tree through_a_header
printf '#include "sys.h"\n' >>"$t/through_a_header/src/data.h"
expect FAIL through_a_header "reaches sys.h (system) through pure.h -> data.h -> sys.h"

tree renderer_reads
printf '#include "sys.h"\n' >>"$t/renderer_reads/src/render.h"
expect FAIL renderer_reads "src/render.c (render) reaches sys.h (system)"

tree exception_written_down
printf '#include "sys.h"\n' >>"$t/exception_written_down/src/render.c"
sed -i 's/| prints | |/| prints | `sys.h` (a reason) |/' "$t/exception_written_down/map.md"
expect OK exception_written_down

tree unknown_file
printf '\n' >"$t/unknown_file/src/new.c"
expect FAIL unknown_file "src/new.c: no row"

tree unknown_header
printf '\n' >"$t/unknown_header/src/types.h"
expect FAIL unknown_header "types.h: a header without a .c needs its own row"

tree stale_row
rm "$t/stale_row/src/render.c" "$t/stale_row/src/render.h"
expect FAIL stale_row "render.c does not exist"

tree bad_layer
sed -i 's/| system | reads/| sytem | reads/' "$t/bad_layer/map.md"
expect FAIL bad_layer "layer 'sytem' is none of"

tree no_table
printf 'no table here\n' >"$t/no_table/map.md"
expect FAIL no_table "no table headed"

if [ "$fails" -ne 0 ]; then
	echo "test-check-layers: $fails failed" >&2
	exit 1
fi
echo "test-check-layers: 10 cases pass"
