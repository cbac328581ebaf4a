/* listeners-driver: runs cmd_listeners() the way main() will, for the
 * benchmark while build/qtune has no `listeners` command yet (and to time
 * the library code alone). Usage: listeners-driver [--json] [-v] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "commands.h"
#include "ctx.h"
#include "output.h"
#include "sysctl.h"

int main(int argc, char **argv)
{
	struct qt_ctx ctx = { .root = "", .procsys_fd = -1, .proc_fd = -1, .out = stdout };
	struct utsname u;
	struct stat st;
	char *args[] = { "listeners", NULL };
	enum qt_level level;
	int status;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			ctx.output = QT_OUT_JSON;
		else if (strcmp(argv[i], "-v") == 0)
			ctx.verbosity = 1;
		else if (strcmp(argv[i], "-q") == 0)
			ctx.verbosity = -1;
	}
	if (sysctl_open_root(&ctx.procsys_fd) < 0 ||
	    (ctx.proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror("listeners-driver: /proc");
		return 2;
	}
	if (stat("/proc/thread-self/ns/net", &st) == 0)
		ctx.netns_inode = st.st_ino;
	ctx.netns_initial = -1;
	if (uname(&u) == 0)
		snprintf(ctx.kernel_release, sizeof(ctx.kernel_release), "%s", u.release);
	output_setup_color(&ctx, getenv("NO_COLOR"));
	level = cmd_listeners(&ctx, 1, args);
	if (output_finish(stdout) < 0 && level < QT_LEVEL_ERROR) {
		diags_error(&ctx.diags, "writing output failed");
		level = QT_LEVEL_ERROR;
	}
	diags_print(stderr, &ctx.diags, QT_LEVEL_WARN);
	status = diag_exit_status(diags_worst(&ctx.diags) > level ? diags_worst(&ctx.diags) : level);
	diags_free(&ctx.diags);
	return status;
}
