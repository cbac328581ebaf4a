/* timeit: runs several commands side by side, round-robin, RUNS times
 * each after one untimed warm-up round, with stdout and stderr on
 * /dev/null; prints each one's median, min and max wall time, its peak
 * resident memory (ru_maxrss from wait4) and the ratio of the first
 * command's median to each other's.
 *
 *   timeit RUNS [expect=N] COMMAND [ARG...] [::: [expect=N] COMMAND [ARG...]]...
 *
 * Exits 1 when any run of any command did not exit 0 (or the N its
 * expect=N asks for: `qtune check` exits 1 on drift). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 8
#define MAX_RUNS 101

struct cmd {
	char **argv;
	char name[128];
	double ms[MAX_RUNS];
	long maxrss_kib;
	int failures;
	int expect;             /* the exit status of a good run */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double run(struct cmd *c)
{
	struct rusage ru;
	int status;
	double t0 = now_ms(), t;
	pid_t pid = fork();

	if (pid < 0) {
		perror("timeit: fork");
		exit(2);
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execvp(c->argv[0], c->argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid) {
		perror("timeit: wait4");
		exit(2);
	}
	t = now_ms() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != c->expect)
		c->failures++;
	if (ru.ru_maxrss > c->maxrss_kib)
		c->maxrss_kib = ru.ru_maxrss;
	return t;
}

int main(int argc, char **argv)
{
	struct cmd cmds[MAX_CMDS];
	int ncmds = 0, runs, failed = 0;

	if (argc < 3 || (runs = atoi(argv[1])) < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: timeit RUNS COMMAND [ARG...] [::: COMMAND [ARG...]]...\n");
		return 2;
	}
	memset(cmds, 0, sizeof(cmds));
	for (int i = 2; i < argc && ncmds < MAX_CMDS;) {
		struct cmd *c = &cmds[ncmds++];
		size_t len = 0;

		if (strncmp(argv[i], "expect=", 7) == 0)
			c->expect = atoi(argv[i++] + 7);
		c->argv = &argv[i];
		while (i < argc && strcmp(argv[i], ":::") != 0) {
			int n = snprintf(c->name + len, sizeof(c->name) - len, "%s%s",
					 len ? " " : "", argv[i]);
			if (n > 0 && (size_t)n < sizeof(c->name) - len)
				len += (size_t)n;
			i++;
		}
		if (i < argc)
			argv[i++] = NULL;     /* ends this command's argv */
	}
	for (int c = 0; c < ncmds; c++)
		run(&cmds[c]);                /* warm-up: page cache, dentries */
	for (int c = 0; c < ncmds; c++) {
		cmds[c].failures = 0;
		cmds[c].maxrss_kib = 0;
	}
	for (int r = 0; r < runs; r++)
		for (int c = 0; c < ncmds; c++)
			cmds[c].ms[r] = run(&cmds[c]);

	printf("%-50s %10s %10s %10s %13s\n", "command", "median ms", "min ms", "max ms",
	       "peak RSS KiB");
	double med[MAX_CMDS];
	for (int c = 0; c < ncmds; c++) {
		qsort(cmds[c].ms, (size_t)runs, sizeof(double), dbl_cmp);
		med[c] = runs % 2 ? cmds[c].ms[runs / 2]
				  : (cmds[c].ms[runs / 2 - 1] + cmds[c].ms[runs / 2]) / 2;
		printf("%-50s %10.1f %10.1f %10.1f %13ld%s\n", cmds[c].name, med[c], cmds[c].ms[0],
		       cmds[c].ms[runs - 1], cmds[c].maxrss_kib,
		       cmds[c].failures ? "  (FAILED)" : "");
		failed |= cmds[c].failures != 0;
	}
	for (int c = 1; c < ncmds; c++)
		printf("ratio %s / %s: %.2f\n", cmds[0].name, cmds[c].name, med[0] / med[c]);
	return failed;
}
