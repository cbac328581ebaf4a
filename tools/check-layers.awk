# check-layers.awk: the work of tools/check-layers.sh (see there). The
# arguments are the files of SRCDIR; -v map, -v srcdir.

function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
function unquote(s) { s = trim(s); gsub(/`/, "", s); return s }
function base(p) { sub(/.*\//, "", p); return p }
function fail(msg) { print "check-layers: " msg > "/dev/stderr"; bad++ }

# The layer of a file name ("findings.h"): its own row, else its .c's.
function layer_of(name,   c) {
	if (name in layer)
		return layer[name]
	c = name; sub(/\.h$/, ".c", c)
	return (c in layer) ? layer[c] : ""
}

# Which layers a layer may reach.
function allowed(from, to) {
	if (from == "pure")
		return to == "pure" || to == "base"
	if (from == "render")
		return to == "pure" || to == "base" || to == "render"
	return 1
}

# Follows file's includes through our headers; via is how we got there.
function walk(root, file, via,   i, h) {
	for (i = 1; i <= ninc[file]; i++) {
		h = inc[file, i]
		if (!((srcdir "/" h) in present) || seen[root, h]++)
			continue
		check(root, h, via == "" ? h : via " -> " h)
		walk(root, srcdir "/" h, via == "" ? h : via " -> " h)
	}
}

function check(root, h, via,   rl, hl) {
	rl = layer_of(base(root)); hl = layer_of(h)
	if (hl == "" || allowed(rl, hl) || index(" " exc[base(root)] " ", " " h " "))
		return
	fail(root " (" rl ") reaches " h " (" hl ")" (via != h ? " through " via : "") \
	     "; move what it needs into a " rl " header, or name " h " with its reason in the map")
}

BEGIN {
	valid["pure"] = valid["system"] = valid["render"] = valid["command"] = valid["base"] = 1
	# The map.
	intable = 0
	while ((getline line < map) > 0) {
		lineno++
		if (line !~ /^\|/) { if (intable) intable = 2; continue }
		n = split(line, cell, "|")
		if (intable != 1) {
			if (tolower(trim(cell[2])) == "file" && tolower(trim(cell[3])) == "layer" &&
			    tolower(trim(cell[4])) == "promise") {
				if (rows) fail(map ":" lineno ": a second module table")
				intable = 1; header = 1
			}
			continue
		}
		if (header) { header = 0; continue }   # the |---| line
		f = unquote(cell[2]); l = unquote(cell[3]); p = trim(cell[4])
		rows++
		if (f !~ /^src\/[A-Za-z0-9_]+\.[ch]$/) { fail(map ":" lineno ": '" f "' is not a file of src/"); continue }
		if (base(f) in layer) fail(map ":" lineno ": " f " has a second row")
		if (!(l in valid)) fail(map ":" lineno ": " f ": layer '" l "' is none of pure, system, render, command, base")
		if (p == "") fail(map ":" lineno ": " f ": no promise")
		layer[base(f)] = l; rowline[base(f)] = lineno
		if (n > 5) {
			# "may also include": `x.h` (why), `y.h` (why)
			e = cell[5]; list = ""
			while (match(e, /`[A-Za-z0-9_]+\.h`/)) {
				list = list " " substr(e, RSTART + 1, RLENGTH - 2)
				e = substr(e, RSTART + RLENGTH)
			}
			exc[base(f)] = list
		}
	}
	close(map)
	if (!rows) { fail(map ": no table headed | file | layer | promise |"); exit 1 }

	# The files, and their includes of our own headers.
	for (i = 1; i < ARGC; i++) {
		f = ARGV[i]; ARGV[i] = ""
		present[f] = 1; nfiles++
		while ((getline line < f) > 0)
			if (match(line, /^#[ \t]*include[ \t]+"[^"]+"/)) {
				h = substr(line, RSTART, RLENGTH); sub(/^[^"]*"/, "", h); sub(/"$/, "", h)
				inc[f, ++ninc[f]] = h
			}
		close(f)
	}
	# Every file has a row, every row a file.
	for (f in present) {
		b = base(f); c = b; sub(/\.h$/, ".c", c)
		if (b ~ /\.c$/ && !(b in layer))
			fail(f ": no row in " map " (add: | `src/" b "` | LAYER | what it promises |)")
		if (b ~ /\.h$/ && !((srcdir "/" c) in present) && !(b in layer))
			fail(f ": a header without a .c needs its own row in " map)
		if (b ~ /\.h$/ && ((srcdir "/" c) in present) && (b in layer))
			fail(map ":" rowline[b] ": " b ": list the module by " c " only")
	}
	for (b in layer)
		if (!((srcdir "/" b) in present))
			fail(map ":" rowline[b] ": " srcdir "/" b " does not exist (remove its row)")
	# The rules.
	# A .c reaches its header's includes through its own #include; a
	# header without a .c is walked on its own.
	for (f in present) {
		c = f; sub(/\.h$/, ".c", c)
		if (f ~ /\.c$/ || !(c in present))
			walk(f, f, "")
	}
	if (bad) {
		printf "check-layers: %d problem%s\n", bad, bad == 1 ? "" : "s" > "/dev/stderr"
		exit 1
	}
	printf "check-layers: %d files, layers as %s says\n", nfiles, map
	exit 0
}
