/* output: rendering helpers shared by the commands. A streaming JSON writer
 * (one document per run, stable field names, "schema" versioned by the
 * caller), colour that is used only on a terminal and never with NO_COLOR,
 * and the check that output really reached its destination. */
#ifndef QTUNE_OUTPUT_H
#define QTUNE_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"

/* Version of the JSON output schema (docs/schema); fields are only added
 * within it. */
#define QTUNE_JSON_SCHEMA 1

#define JW_MAX_DEPTH 16

struct jw {
	FILE *f;
	int depth;
	bool first[JW_MAX_DEPTH];
	bool after_key;
};

void jw_init(struct jw *w, FILE *f);
void jw_object_begin(struct jw *w);
void jw_object_end(struct jw *w);
void jw_array_begin(struct jw *w);
void jw_array_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_string(struct jw *w, const char *s);   /* NULL writes null */
void jw_int(struct jw *w, int64_t v);
void jw_uint(struct jw *w, uint64_t v);
void jw_double(struct jw *w, double v);   /* a finite rate >= 0, 3 decimals */
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Key and value in one call, for the common case. */
void jw_kstring(struct jw *w, const char *key, const char *s);
void jw_kint(struct jw *w, const char *key, int64_t v);
void jw_kbool(struct jw *w, const char *key, bool v);
/* The separator before an array element that somebody else writes to the
 * same stream (--all-netns: each namespace's document, written by the
 * child that audited it); the caller flushes before handing over. */
void jw_external_element(struct jw *w);

/* The network namespace a document describes: inode 0 and initial -1 when
 * qtune stopped before it could tell (a usage error, a --netns it could
 * not enter). */
struct output_netns {
	uint64_t inode;
	int initial;            /* 1 initial, 0 not, -1 unknown */
	const char *label;      /* --all-netns: its label (netns_label.h); NULL: no member */
};

/* The members every document starts with: schema, command, qtune version,
 * kernel release and the network namespace it describes. */
void output_json_header(struct jw *w, const char *command, const char *kernel,
			struct output_netns ns);
/* The diagnostics as a "messages" array (level, file, line, column, text). */
void output_json_diags(struct jw *w, const struct qt_diags *d);

/* which (one of OUT_*), or "" when colour is off. The sequences are
 * constant strings: a caller may hold any number of them at once. */
const char *output_color(bool color, const char *which);
#define OUT_RED "\033[31m"
#define OUT_GREEN "\033[32m"
#define OUT_YELLOW "\033[33m"
#define OUT_BOLD "\033[1m"
#define OUT_RESET "\033[0m"

/* Whether text output to f may use colour: a terminal, and NO_COLOR unset
 * or empty. */
bool output_use_color(bool text, FILE *f, const char *no_color_env);

/* Flushes and checks the stream: -EIO (or -errno) when anything written to
 * it was lost, as for `qtune show > /dev/full`. */
int output_finish(FILE *f);

#endif
