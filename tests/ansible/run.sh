#!/usr/bin/env bash
# The Ansible module with real ansible-core against localhost: a named
# network namespace made for the test (deleted at the end, whatever
# happens), the qtune binary of the build, and tests/ansible/playbook.yml,
# whose assertions read every value back from the kernel. Needs root
# (ip netns, /proc/sys of the namespace); installs ansible-core from
# Debian's packages when ansible-playbook is missing.
#
#   tests/ansible/run.sh [QTUNE_BINARY]      (default: build/qtune)
#
# apply writes its state record under /var/lib/qtune (one per namespace)
# and takes the lock in /run, as it does for any user; the record of the
# test namespace is removed at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
qtune=$(realpath "${1:-$top/build/qtune}")
ns=qtune-ansible-test
tmp=$(mktemp -d /tmp/qtune-ansible.XXXXXX)
state_dir_existed=0
[ -d /var/lib/qtune ] && state_dir_existed=1
ns_inode=

cleanup() {
	if [ -n "$ns_inode" ]; then
		rm -f /var/lib/qtune/*.netns-"$ns_inode"
		[ "$state_dir_existed" = 1 ] || rmdir /var/lib/qtune 2>/dev/null || true
	fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
	echo "run.sh: needs root (network namespaces)" >&2
	exit 2
fi
[ -x "$qtune" ] || { echo "run.sh: no qtune binary at $qtune (run make first)" >&2; exit 2; }
if ! command -v ansible-playbook >/dev/null; then
	echo "== installing ansible-core"
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
		--no-install-recommends ansible-core >/dev/null
fi
ansible-playbook --version | sed -n 1p

# A leftover from an interrupted run would hold other values.
ip netns del "$ns" 2>/dev/null || true
ip netns add "$ns"
ns_inode=$(stat -L -c %i "/run/netns/$ns")
ip netns exec "$ns" sh -c 'echo 128 > /proc/sys/net/core/somaxconn'

# Per-namespace net.* keys only: unshare -n does not sandbox the others.
# The directory is mktemp's (0700, root's), which qtune's trust rule accepts.
cat > "$tmp/ansible-test.yaml" <<'YAML'
qtune: 1
name: ansible-test
description: written by tests/ansible/run.sh
sysctl:
  net.core.somaxconn: 3000
  net.ipv4.tcp_max_syn_backlog: {min: 9000}
  net.ipv4.ip_local_port_range: "20000 40000"
YAML
printf 'qtune: 1\nsysctl:\n  net.core.somaxconn: [1, 2]\n' > "$tmp/invalid.yaml"
# Only ever run in check mode: qtune must refuse it before writing.
printf 'qtune: 1\nsysctl:\n  net.core.netdev_max_backlog: 5000\n' > "$tmp/global.yaml"
chmod 0644 "$tmp"/*.yaml

export ANSIBLE_LIBRARY="$top/packaging/ansible"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_LOCAL_TEMP="$tmp/ansible-local" ANSIBLE_REMOTE_TEMP="$tmp/ansible-remote"
export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
# From the scratch directory, so no ansible.cfg of the tree is picked up.
cd "$tmp"
ansible-playbook -i localhost, "$here/playbook.yml" \
	-e "qtune_bin=$qtune" -e "netns=$ns" -e "profile=$tmp/ansible-test.yaml" \
	-e "bad_profile=$tmp/invalid.yaml" -e "global_profile=$tmp/global.yaml"
echo "ansible: 1 passed, 0 failed"
