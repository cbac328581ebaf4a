#!/usr/bin/env bash
# CI for the packages, on Debian 12 as root: builds the .deb and the .rpm
# from the tree (make deb, make rpm: each from a tarball copy, so the
# working tree's build/ does not matter), lints both, installs the .deb,
# runs the installed qtune, removes it and checks that nothing is left.
# The .rpm is installed into a scratch root (rpm --root) and run there.
#
# The package builds run `make check` as root (DEB_BUILD_OPTIONS and
# RPMBUILD_FLAGS pass through); .ci/run already runs the suite, so set
# PACKAGING_NOCHECK=1 to skip it in the package builds.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(cat VERSION)
deb=dist/qtune_${version}_$(dpkg --print-architecture).deb
rpm_bin=dist/qtune-${version}-1.$(uname -m).rpm
rpm_src=dist/qtune-${version}-1.src.rpm
scratch=$(mktemp -d)
installed=0

step_start=$SECONDS
step() {
	echo "== $* (after $((SECONDS - step_start))s)"
}

fail() {
	echo "packaging.sh: FAIL: $*" >&2
	exit 1
}

cleanup() {
	if [ "$installed" = 1 ]; then
		dpkg -r qtune >/dev/null 2>&1 || true
	fi
	rm -rf "$scratch"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
	fail "run as root (dpkg -i, and the test suite in the package builds)"
fi
if dpkg-query -W -f='${Status}' qtune 2>/dev/null | grep -q 'ok installed'; then
	fail "qtune is already installed; remove it first (this script installs and removes it)"
fi

step "install the tools"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
	build-essential pkg-config libyaml-dev libcap-dev libmd-dev libmnl-dev libcriterion-dev \
	iproute2 mandoc debhelper dpkg-dev fakeroot lintian rpm rpmlint \
	man-db file git >/dev/null

if [ "${PACKAGING_NOCHECK:-0}" = 1 ]; then
	export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }nocheck"
	rpmbuild_flags="--without check"
else
	rpmbuild_flags=""
fi

rm -f dist/qtune_* dist/qtune-*

step "make deb"
make deb >"$scratch/deb.log" 2>&1 || { tail -50 "$scratch/deb.log"; fail "make deb"; }
[ -f "$deb" ] || fail "$deb was not built"

step "make rpm"
make rpm RPMBUILD_FLAGS="$rpmbuild_flags" >"$scratch/rpm.log" 2>&1 ||
	{ tail -50 "$scratch/rpm.log"; fail "make rpm"; }
[ -f "$rpm_bin" ] || fail "$rpm_bin was not built"
[ -f "$rpm_src" ] || fail "$rpm_src was not built"

step "lintian"
# Every warning is either fixed or overridden (packaging/debian/*.lintian-overrides).
lintian --fail-on error,warning --display-info "$deb" || fail "lintian on $deb"

step "rpmlint"
# packaging/rpm/rpmlint.toml sets what a distribution profile would and
# says why each filtered message does not apply.
rc=0
rpmlint -c packaging/rpm/rpmlint.toml "$rpm_bin" "$rpm_src" packaging/rpm/qtune.spec \
	>"$scratch/rpmlint.out" 2>&1 || rc=$?
cat "$scratch/rpmlint.out"
[ "$rc" = 0 ] && grep -Eq '[[:space:]]0 errors,' "$scratch/rpmlint.out" ||
	fail "rpmlint reports errors (exit $rc)"

step "rpm contents"
rpm -qlp "$rpm_bin" >"$scratch/rpm.list" 2>/dev/null
for want in /usr/sbin/qtune '/usr/share/man/man8/qtune.8*' \
	    '/usr/share/man/man5/qtune-profile.5*' '/usr/share/qtune/profiles/*.yaml' \
	    /usr/share/qtune/prometheus/qtune-rules.yml \
	    /usr/share/bash-completion/completions/qtune /etc/qtune/profiles; do
	grep -qx -- "$(printf '%s' "$want" | sed 's/\./\\./g; s/\*/.*/g')" "$scratch/rpm.list" ||
		fail "rpm -qlp $rpm_bin lacks $want"
done
cat "$scratch/rpm.list"

step "rpm: install into a scratch root and run"
rpmroot="$scratch/rpmroot"
mkdir -p "$rpmroot"
rpm --root "$rpmroot" --initdb
rpm --root "$rpmroot" -i --nodeps "$rpm_bin" 2>/dev/null
[ "$("$rpmroot/usr/sbin/qtune" --version)" = "qtune $version" ] || fail "rpm's qtune --version"
"$rpmroot/usr/sbin/qtune" --root "$rpmroot" validate web || fail "rpm's qtune validate web"

step "dpkg -i"
# What the package would add, and which of those paths exist already
# (shared directories): after dpkg -r, nothing else may remain.
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's,^\.,,; s,/$,,' | grep -v '^$' >"$scratch/paths"
while IFS= read -r f; do
	if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi
done <"$scratch/paths" >"$scratch/before"
dpkg -i "$deb" >/dev/null
installed=1
dpkg -L qtune >"$scratch/deb.list"
for want in /usr/sbin/qtune /usr/share/man/man8/qtune.8.gz \
	    /usr/share/man/man5/qtune-profile.5.gz /usr/share/qtune/profiles/web.yaml \
	    /usr/share/qtune/prometheus/qtune-rules.yml \
	    /usr/share/bash-completion/completions/qtune /usr/share/doc/qtune/copyright \
	    /etc/qtune/profiles; do
	grep -qx -- "$want" "$scratch/deb.list" || fail "the .deb lacks $want"
done

step "run the installed qtune"
[ "$(command -v qtune)" = /usr/sbin/qtune ] || fail "qtune is not /usr/sbin/qtune on PATH"
got=$(qtune --version)
[ "$got" = "qtune $version" ] || fail "qtune --version says '$got', VERSION says $version"
echo "$got"
qtune validate web || fail "qtune validate web"
qtune profiles | grep -q '^web ' || fail "qtune profiles does not list web"
man -w qtune || fail "man -w qtune"
man -w qtune-profile || fail "man -w qtune-profile"
bash -c 'source /usr/share/bash-completion/completions/qtune && complete -p qtune' ||
	fail "the bash completion does not load"

step "dpkg -r"
dpkg -r qtune >/dev/null
installed=0
if dpkg-query -W -f='${Status}' qtune 2>/dev/null | grep -q 'ok installed'; then
	fail "qtune is still installed"
fi
left=0
while IFS= read -r f; do
	grep -qxF -- "$f" "$scratch/before" && continue
	if [ -e "$f" ] || [ -L "$f" ]; then
		echo "left behind: $f" >&2
		left=1
	fi
done <"$scratch/paths"
[ "$left" = 0 ] || fail "dpkg -r left files behind"

step "done: packages in dist/"
ls -l dist/
