#!/bin/sh
# tools/test-deps.sh: installs, on Debian 12 as root, every package the
# whole test suite (make check) uses beyond the build's: the real servers
# the tests run (nginx, haproxy, redis, memcached), tmux for the terminal
# tests, Prometheus's promtool and node_exporter, python3-jsonschema,
# curl, the sanitizer runtime, valgrind, and systemd-sysctl and procps for
# make check-boot. No service is started by the installation (a
# policy-rc.d that refuses every start, removed again afterwards unless
# one was there before): the tests start each server themselves, in a
# private network namespace, on loopback. .ci/run uses this list too.
set -eu

export DEBIAN_FRONTEND=noninteractive
made_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	made_policy=1
fi
trap '[ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT

apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	build-essential pkg-config libyaml-dev libcap-dev libmd-dev libmnl-dev libcriterion-dev \
	iproute2 mandoc strace python3-jsonschema clang libclang-rt-14-dev valgrind \
	systemd procps prometheus prometheus-node-exporter tmux curl \
	nginx-light haproxy redis-server memcached >/dev/null
