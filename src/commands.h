/* commands: one handler per command, each in its own cmd_*.c. A handler
 * gets the prepared context (namespace entered, /proc/sys open, lock held
 * when the command table asks for it) and its own arguments (argv[0] is the
 * command name), writes its report to ctx->out, adds diagnostics to
 * ctx->diags, and returns the worst level it saw. main() maps that level to
 * the exit status and prints the diagnostics. */
#ifndef QTUNE_COMMANDS_H
#define QTUNE_COMMANDS_H

#include "ctx.h"
#include "diag.h"

enum qt_level cmd_show(struct qt_ctx *ctx, int argc, char **argv);
enum qt_level cmd_validate(struct qt_ctx *ctx, int argc, char **argv);
enum qt_level cmd_check(struct qt_ctx *ctx, int argc, char **argv);
enum qt_level cmd_apply(struct qt_ctx *ctx, int argc, char **argv);
enum qt_level cmd_rollback(struct qt_ctx *ctx, int argc, char **argv);
enum qt_level cmd_listeners(struct qt_ctx *ctx, int argc, char **argv);
enum qt_level cmd_relisten(struct qt_ctx *ctx, int argc, char **argv);
enum qt_level cmd_profiles(struct qt_ctx *ctx, int argc, char **argv);

#endif
