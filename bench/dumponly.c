/* dumponly: one listeners_dump() and nothing else (no owner attribution, no
 * findings, no output), so that the sock_diag part of `qtune listeners` can
 * be timed on its own, against `ss -ltn`, which does the same work. Linked
 * against $BUILD/libqtune.a by bench/listeners.sh. Exits 1 when the dump
 * fails, and prints how many listeners it saw with -v. */
#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "diag.h"
#include "listeners.h"

int main(int argc, char **argv)
{
	struct qt_ctx ctx;
	struct listener_set set = { 0 };
	struct qt_diags d = { 0 };
	int r;

	memset(&ctx, 0, sizeof(ctx));
	r = listeners_dump(&ctx, &set, &d);
	if (r < 0)
		fprintf(stderr, "dumponly: %s\n", d.n ? d.v[0].msg : "dump failed");
	else if (argc > 1 && strcmp(argv[1], "-v") == 0)
		printf("%zu\n", set.n);
	listener_set_free(&set);
	diags_free(&d);
	return r < 0;
}
