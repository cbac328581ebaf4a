#!/bin/sh
# tools/check-layers.sh: checks the module map of docs/ARCHITECTURE.md
# against src/. The map is the markdown table headed
#   | file | layer | promise | may also include |
# with one row per src/*.c and per header that has no .c (src/ctx.h). It
# fails when a file of src/ has no row or a row names no file, when a layer
# is not one of pure, system, render, command, base, and when a file's
# #include "..." lines, followed through our own headers, reach a layer its
# own may not use:
#   pure    only pure and base (no I/O: testable as any user)
#   render  pure, base, render (a renderer reads nothing)
#   system, command, base: anything (base is the toolbox every layer uses)
# A header takes the layer of its .c. The last column names the headers a
# file may reach all the same, each with its reason: an exception is
# written down in the map, never silent. Run by `make check`.
#
#   tools/check-layers.sh [ARCHITECTURE.md [SRCDIR]]
set -eu
cd "$(dirname "$0")/.."
map=${1:-docs/ARCHITECTURE.md}
srcdir=${2:-src}
[ -r "$map" ] || { echo "check-layers: $map: not readable" >&2; exit 2; }
# shellcheck disable=SC2046 # one argument per file
exec awk -v map="$map" -v srcdir="$srcdir" -f tools/check-layers.awk \
	$(ls "$srcdir"/*.c "$srcdir"/*.h)
