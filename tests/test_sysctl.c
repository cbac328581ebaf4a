/* sysctl: the queue-limit reader, over a directory laid out like /proc/sys
 * (a temporary one: no root needed, nothing of the kernel touched). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "sysctl.h"

static char dir[] = "/tmp/qtune-sysctl-XXXXXX";
static int dirfd_ = -1;
static struct qt_diags diags;

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "we");
	cr_assert(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static void make_tree(void)
{
	char path[512];

	cr_assert(mkdtemp(dir));
	for (const char *const *d = (const char *const[]){ "net", "net/core", "net/ipv4", NULL }; *d; d++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *d);
		cr_assert_eq(mkdir(path, 0755), 0);
	}
	dirfd_ = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert(dirfd_ >= 0);
}

static void remove_tree(void)
{
	char cmd[600];

	diags_free(&diags);
	if (dirfd_ >= 0)
		close(dirfd_);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(sysctl, .init = make_tree, .fini = remove_tree);

Test(sysctl, queue_limits_are_read_once_with_their_values)
{
	struct queue_limits l;

	put("net/core/somaxconn", "4096\n");
	put("net/ipv4/tcp_max_syn_backlog", "512\n");
	put("net/ipv4/tcp_syncookies", "0\n");
	cr_assert_eq(sysctl_read_limits(dirfd_, &l, &diags), 0);
	cr_assert(l.have_somaxconn && l.have_max_syn_backlog && l.have_syncookies);
	cr_assert_eq(l.somaxconn, 4096);
	cr_assert_eq(l.max_syn_backlog, 512);
	cr_assert_eq(l.syncookies, 0);
	cr_assert_eq(diags.n, 0);
}

Test(sysctl, an_unreadable_limit_is_unknown_with_a_warning_naming_it)
{
	struct queue_limits l;

	put("net/core/somaxconn", "4096\n");
	put("net/ipv4/tcp_syncookies", "lots\n");
	/* tcp_max_syn_backlog is missing, as in a namespace that lacks it. */
	cr_assert_eq(sysctl_read_limits(dirfd_, &l, &diags), 0);
	cr_assert(l.have_somaxconn);
	cr_assert_eq(l.somaxconn, 4096);
	cr_assert_not(l.have_max_syn_backlog);
	cr_assert_not(l.have_syncookies);
	cr_assert_eq(l.max_syn_backlog, 0);
	cr_assert_eq(l.syncookies, 0);
	cr_assert_eq(diags.n, 2);
	cr_assert_eq(diags.v[0].level, QT_LEVEL_WARN);
	cr_assert_str_eq(diags.v[0].msg, "cannot read net.ipv4.tcp_max_syn_backlog: No such file or directory");
	cr_assert_str_eq(diags.v[1].msg, "cannot read net.ipv4.tcp_syncookies: not an integer");
}

Test(sysctl, a_symlinked_limit_is_not_followed)
{
	struct queue_limits l;
	char target[512], link[512];

	put("net/core/elsewhere", "1\n");
	snprintf(target, sizeof(target), "%s/net/core/elsewhere", dir);
	snprintf(link, sizeof(link), "%s/net/core/somaxconn", dir);
	cr_assert_eq(symlink(target, link), 0);
	put("net/ipv4/tcp_max_syn_backlog", "512\n");
	put("net/ipv4/tcp_syncookies", "1\n");
	cr_assert_eq(sysctl_read_limits(dirfd_, &l, &diags), 0);
	cr_assert_not(l.have_somaxconn);
	cr_assert_eq(diags.n, 1);
	cr_assert(strstr(diags.v[0].msg, "net.core.somaxconn"));
}
