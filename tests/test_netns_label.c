/* netns_label: names for namespaces from what the scan found, the cgroup
 * paths of Docker, containerd, Podman, CRI-O and Kubernetes (systemd and
 * cgroupfs drivers), and which --netns arguments name which label. */
#include <criterion/criterion.h>
#include <string.h>

#include "netns_label.h"

#define ID64 "3f4e5d6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80"

static struct netns_label from(const char *cgroup)
{
	struct netns_label l;

	netns_label_from_cgroup(cgroup, &l);
	return l;
}

Test(netns_label, docker_systemd_and_cgroupfs)
{
	struct netns_label l = from("0::/system.slice/docker-" ID64 ".scope\n");

	cr_assert_eq(l.kind, NETNS_KIND_DOCKER);
	cr_assert_str_eq(l.id, "3f4e5d6a7b8c");
	cr_assert_str_eq(l.text, "docker 3f4e5d6a7b8c");
	l = from("12:pids:/docker/" ID64 "\n0::/docker/" ID64 "\n");
	cr_assert_eq(l.kind, NETNS_KIND_DOCKER);
	cr_assert_str_eq(l.id, "3f4e5d6a7b8c");
}

Test(netns_label, containerd_podman_crio)
{
	cr_assert_eq(from("0::/system.slice/cri-containerd-" ID64 ".scope\n").kind, NETNS_KIND_CONTAINERD);
	cr_assert_str_eq(from("0::/machine.slice/libpod-" ID64 ".scope\n").text, "podman 3f4e5d6a7b8c");
	cr_assert_eq(from("0::/machine.slice/crio-" ID64 ".scope\n").kind, NETNS_KIND_CRIO);
	/* conmon is Podman's monitor, not the container. */
	cr_assert_eq(from("0::/machine.slice/libpod-conmon-" ID64 ".scope\n").kind, NETNS_KIND_NONE);
}

Test(netns_label, kubernetes_pod_wins_over_its_container)
{
	struct netns_label l = from("0::/kubepods.slice/kubepods-burstable.slice/"
				    "kubepods-burstable-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/"
				    "cri-containerd-" ID64 ".scope\n");

	cr_assert_eq(l.kind, NETNS_KIND_POD);
	cr_assert_str_eq(l.id, "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901");
	cr_assert_str_eq(l.text, "pod 1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901");
	/* cgroupfs driver, guaranteed QoS (no class slice). */
	l = from("0::/kubepods/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901/" ID64 "\n");
	cr_assert_eq(l.kind, NETNS_KIND_POD);
	cr_assert_str_eq(l.id, "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901");
}

Test(netns_label, lookalikes_are_nobodys)
{
	/* Too short, not hex, a pod outside kubepods, a malformed UID. */
	cr_assert_eq(from("0::/system.slice/docker-3f4e5d.scope\n").kind, NETNS_KIND_NONE);
	cr_assert_eq(from("0::/system.slice/docker-" "zz" ID64 ".scope\n").kind, NETNS_KIND_NONE);
	cr_assert_eq(from("0::/user.slice/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901\n").kind, NETNS_KIND_NONE);
	cr_assert_eq(from("0::/kubepods/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f90\n").kind, NETNS_KIND_NONE);
	cr_assert_eq(from("0::/kubepods/pod1b2c3d4e-5f60-7182-93a4xb5c6d7e8f901\n").kind, NETNS_KIND_NONE);
	cr_assert_eq(from("0::/system.slice/nginx.service\n").kind, NETNS_KIND_NONE);
	cr_assert_eq(from("").kind, NETNS_KIND_NONE);
	cr_assert_eq(from(NULL).kind, NETNS_KIND_NONE);
	/* /docker/<id> needs the docker parent. */
	cr_assert_eq(from("0::/other/" ID64 "\n").kind, NETNS_KIND_NONE);
}

/* Below a unit, cgroups are named by the unit's own processes: every user
 * may create them beneath user@UID.service (Delegate=yes), and a
 * delegated service beneath itself. A container's name there is anyone's
 * claim, so it names no container; the unit itself still does. */
Test(netns_label, names_below_a_delegated_unit_are_nobodys)
{
	cr_assert_eq(from("0::/user.slice/user-1000.slice/user@1000.service/docker-" ID64 ".scope\n").kind,
		     NETNS_KIND_NONE);
	cr_assert_eq(from("0::/user.slice/user-1000.slice/user@1000.service/app.slice/libpod-" ID64
			  ".scope\n").kind, NETNS_KIND_NONE);
	cr_assert_eq(from("0::/user.slice/user-1000.slice/user@1000.service/kubepods/"
			  "pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901\n").kind, NETNS_KIND_NONE);
	cr_assert_eq(from("0::/system.slice/runner.service/docker/" ID64 "\n").kind, NETNS_KIND_NONE);
	cr_assert_eq(from("0::/system.slice/runner.service/cri-containerd-" ID64 ".scope\n").kind,
		     NETNS_KIND_NONE);
	/* The container's own scope is a unit: what lies below it is its own. */
	cr_assert_str_eq(from("0::/system.slice/docker-" ID64 ".scope/init.scope\n").text,
			 "docker 3f4e5d6a7b8c");
	cr_assert_eq(from("0::/system.slice/docker-" ID64 ".scope/libpod-" ID64 ".scope\n").kind,
		     NETNS_KIND_DOCKER);
}

Test(netns_label, precedence_and_escaping)
{
	struct netns_label l;
	const char *cg = "0::/system.slice/docker-" ID64 ".scope\n";

	netns_label_make(&(struct netns_label_source){ .initial = true, .name = "x", .cgroup = cg }, &l);
	cr_assert_str_eq(l.text, "initial");
	netns_label_make(&(struct netns_label_source){ .name = "blue", .cgroup = cg, .pid = 5 }, &l);
	cr_assert_eq(l.kind, NETNS_KIND_NAMED);
	cr_assert_str_eq(l.text, "blue");
	netns_label_make(&(struct netns_label_source){ .runtime = "docker", .runtime_file = "f00",
						       .cgroup = cg, .pid = 5, .comm = "nginx" }, &l);
	cr_assert_str_eq(l.text, "docker 3f4e5d6a7b8c");
	netns_label_make(&(struct netns_label_source){ .runtime = "docker", .runtime_file = "f00",
						       .pid = 5, .comm = "nginx" }, &l);
	cr_assert_eq(l.kind, NETNS_KIND_RUNTIME);
	cr_assert_str_eq(l.text, "docker netns f00");
	netns_label_make(&(struct netns_label_source){ .pid = 42, .comm = "evil\033[2J",
						       .cgroup = "0::/user.slice\n" }, &l);
	cr_assert_eq(l.kind, NETNS_KIND_PROCESS);
	cr_assert_str_eq(l.text, "pid 42 (evil\\x1b[2J)");
	netns_label_make(&(struct netns_label_source){ 0 }, &l);
	cr_assert_eq(l.kind, NETNS_KIND_NONE);
	cr_assert_str_eq(l.text, "");
}

Test(netns_label, matching_arguments)
{
	struct netns_label d = from("0::/system.slice/docker-" ID64 ".scope\n"), n, p;

	netns_label_make(&(struct netns_label_source){ .name = "blue" }, &n);
	netns_label_make(&(struct netns_label_source){ .pid = 42, .comm = "x" }, &p);
	cr_assert(netns_label_matches(&d, "docker 3f4e5d6a7b8c"));
	cr_assert(netns_label_matches(&d, "3f4e5d6a7b8c"));
	cr_assert(netns_label_matches(&d, "docker:3f4e"));
	cr_assert(netns_label_matches(&d, "3f4e"));
	cr_assert(netns_label_matches(&d, ID64));
	cr_assert_not(netns_label_matches(&d, "3f4"));
	cr_assert_not(netns_label_matches(&d, "pod:3f4e5d6a7b8c"));
	cr_assert_not(netns_label_matches(&d, "3f4e5d6a7b8d"));
	cr_assert(netns_label_matches(&n, "blue"));
	cr_assert(netns_label_matches(&n, "named:blue"));
	cr_assert_not(netns_label_matches(&n, "blu"));
	cr_assert(netns_label_matches(&p, "pid:42"));
	cr_assert(netns_label_matches(&p, "pid 42 (x)"));
	cr_assert_not(netns_label_matches(&p, "4"));
	cr_assert_not(netns_label_matches(&p, ""));
}
