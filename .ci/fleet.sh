#!/usr/bin/env bash
# CI for fleet use, on Debian 12 as root: installs ansible-core, prometheus
# (for promtool) and python3-jsonschema from Debian's packages, builds, then
#  - runs the Prometheus and JSON-schema tests with their tools required
#    (QTUNE_REQUIRE_TOOLS=1: a missing promtool or jsonschema fails them
#    instead of skipping),
#  - checks the Ansible module's documentation with ansible-doc,
#  - verifies the systemd units with systemd-analyze,
#  - runs the Ansible playbook test (tests/ansible/run.sh) against
#    localhost in a named network namespace (with all_netns: every
#    namespace of the host checked).
# Each step says how long the run has taken so far.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
step() {
	echo "== $* (after $((SECONDS - start))s)"
}
passed=0

if [ "$(id -u)" -ne 0 ]; then
	echo "fleet.sh: run as root (network namespaces, apt-get)" >&2
	exit 2
fi

step "install ansible-core, prometheus (promtool), python3-jsonschema"
export DEBIAN_FRONTEND=noninteractive
# The prometheus package would start its server on :9090 where services may
# start: forbid starting services while installing, as Debian's build
# chroots do, unless the machine already does.
own_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	own_policy=1
fi
trap '[ "$own_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d' EXIT
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
	build-essential pkg-config libyaml-dev libcap-dev libcriterion-dev iproute2 \
	ansible-core prometheus prometheus-node-exporter tmux curl python3-jsonschema >/dev/null
[ "$own_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
own_policy=0
promtool --version 2>&1 | sed -n 1p

step "build"
make -j"$(nproc)" build/qtune build/qtune-hooks build/qtune-tests

step "prometheus and JSON-schema tests (promtool, python3-jsonschema required)"
QTUNE_REQUIRE_TOOLS=1 QTUNE_BIN="$PWD/build/qtune" QTUNE_HOOKS_BIN="$PWD/build/qtune-hooks" QTUNE_SRCDIR="$PWD" \
	build/qtune-tests --filter '@(prometheus|e2e_prometheus|e2e_json_schema|e2e_drops|e2e_allnetns)/*'
passed=$((passed + 1))

step "ansible-doc of the module"
ANSIBLE_LIBRARY="$PWD/packaging/ansible" ansible-doc qtune >/dev/null
# Parsed, not compiled: no __pycache__ left in the tree the packages are built from.
/usr/bin/python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' packaging/ansible/qtune.py
passed=$((passed + 1))

step "systemd-analyze verify"
if command -v systemd-analyze >/dev/null; then
	units=$(mktemp -d)
	# The installed path does not exist here: point ExecStart at the build.
	sed "s|/usr/sbin/qtune|$PWD/build/qtune|" packaging/systemd/qtune-check.service \
		> "$units/qtune-check.service"
	cp packaging/systemd/qtune-check.timer "$units/"
	# verify exits 0 on unknown keys and only prints them: any output fails.
	report=$(cd "$units" && systemd-analyze verify --man=no ./qtune-check.service \
		./qtune-check.timer 2>&1) || { echo "$report"; exit 1; }
	rm -rf "$units"
	if [ -n "$report" ]; then
		echo "$report"
		echo "fleet.sh: systemd-analyze verify complained" >&2
		exit 1
	fi
	passed=$((passed + 1))
else
	echo "systemd-analyze not found: units not verified"
fi

step "ansible playbook against localhost"
tests/ansible/run.sh build/qtune
passed=$((passed + 1))

step "done"
echo "fleet: $passed passed, 0 failed"
