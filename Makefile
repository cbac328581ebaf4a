# qtune — plain Makefile. `make`, `make check`, `make install`, `make deb`,
# `make rpm`, `make fuzz`, `make bench`. SANITIZE=1 builds and tests with
# AddressSanitizer and UndefinedBehaviorSanitizer in a separate directory.

VERSION   := $(shell cat VERSION)
PREFIX    ?= /usr
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share
DOCDIR    ?= $(DATADIR)/doc/qtune
SYSCONFDIR ?= /etc
DESTDIR   ?=

CC        ?= cc
PKG_CONFIG ?= pkg-config
LIBS_PC   := yaml-0.1 libcap libmd libmnl

ifeq ($(SANITIZE),1)
BUILD     ?= build/sanitize
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD     ?= build
SAN_FLAGS :=
endif

WARN      := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith \
             -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wno-unused-parameter
HARDEN    := -fstack-protector-strong -fstack-clash-protection -fPIE \
             -D_FORTIFY_SOURCE=2 -D_GNU_SOURCE
CFLAGS    ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(HARDEN) $(SAN_FLAGS) $(CFLAGS) \
             -DQTUNE_VERSION='"$(VERSION)"' \
             $(shell $(PKG_CONFIG) --cflags $(LIBS_PC))
ALL_LDFLAGS = -pie -Wl,-z,relro -Wl,-z,now -Wl,--as-needed $(SAN_FLAGS) $(LDFLAGS)
LDLIBS    := $(shell $(PKG_CONFIG) --libs $(LIBS_PC))

SRC       := $(filter-out src/main.c,$(wildcard src/*.c))
OBJ       := $(SRC:src/%.c=$(BUILD)/obj/%.o)
TOBJ      := $(SRC:src/%.c=$(BUILD)/tobj/%.o)
TESTSRC   := $(wildcard tests/*.c)
TESTOBJ   := $(TESTSRC:tests/%.c=$(BUILD)/tests/%.o)
# The unit tests need no root: every tests/test_*.c that does not include
# the namespace sandbox (sandbox.h; the unit runner is linked without it),
# and the helpers they share (every other tests/*.c that is not the sandbox
# and includes no sandbox.h). A test that needs root includes sandbox.h, or
# lives in an e2e_*.c.
TESTHELPERS := $(filter-out tests/test_% tests/e2e_% tests/sandbox.c,$(TESTSRC))
UNITSRC   := $(shell grep -L '"sandbox.h"' tests/test_*.c $(TESTHELPERS))
UNITOBJ   := $(UNITSRC:tests/%.c=$(BUILD)/tests/%.o)
MANPAGES  := $(wildcard man/*.[0-9])

.PHONY: all check check-unit check-boot check-layers golden lint-man install uninstall clean deb rpm fuzz bench print-ldlibs

all: $(BUILD)/qtune

$(BUILD)/obj/%.o: src/%.c src/*.h | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The test build adds the fault-injection hooks; the shipped binary has none.
$(BUILD)/tobj/%.o: src/%.c src/*.h | $(BUILD)/tobj
	$(CC) $(ALL_CFLAGS) -DQTUNE_TEST_HOOKS -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c tests/*.h src/*.h | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -DQTUNE_TEST_HOOKS -iquote src -iquote tests -c -o $@ $<

$(BUILD)/libqtune.a: $(OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libqtune-test.a: $(TOBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/qtune: $(BUILD)/obj/main.o $(BUILD)/libqtune.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/main.o: src/main.c src/*.h | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The binary with the test hooks, for end-to-end tests that need one (a
# write a confined command attempts); never installed.
$(BUILD)/qtune-hooks: $(BUILD)/tobj/main.o $(BUILD)/libqtune-test.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/qtune-tests: $(TESTOBJ) $(BUILD)/libqtune-test.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

$(BUILD)/qtune-unit-tests: $(UNITOBJ) $(BUILD)/libqtune-test.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

$(BUILD)/obj $(BUILD)/tobj $(BUILD)/tests:
	mkdir -p $@

# One runner, so one summary line. Tests enter their own network and mount
# namespaces (they need root); QTUNE_BIN is the binary the end-to-end tests run.
# Afterwards, the machine's /run/qtune.lock must be as before: the suite
# runs every qtune in sandboxes with a /run of their own.
# Regenerates tests/golden/ (the outputs e2e_golden compares) with this
# build, when a change of output is meant; review the diff before committing.
golden: $(BUILD)/qtune
	tools/golden.sh $(BUILD)/qtune

check: $(BUILD)/qtune $(BUILD)/qtune-hooks $(BUILD)/qtune-tests lint-man check-layers
	@before=$$(stat -c %i.%Z /run/qtune.lock 2>/dev/null); \
	QTUNE_BIN=$(abspath $(BUILD)/qtune) QTUNE_HOOKS_BIN=$(abspath $(BUILD)/qtune-hooks) \
	  QTUNE_SRCDIR=$(CURDIR) \
	  $(BUILD)/qtune-tests $(TEST_ARGS) || exit 1; \
	after=$$(stat -c %i.%Z /run/qtune.lock 2>/dev/null); \
	if [ "$$before" != "$$after" ]; then \
	  echo "make check: the suite created /run/qtune.lock outside its sandboxes" >&2; exit 1; fi

# The tests that need no root, as whoever runs them: a build directory
# readable by any user passes this as any user (nobody included).
check-unit: $(BUILD)/qtune-unit-tests
	QTUNE_SRCDIR=$(CURDIR) $(BUILD)/qtune-unit-tests $(TEST_ARGS)

# The differential test of the boot replay (tests/boot_diff/bootdiff.py):
# seeded random sysctl.d trees through the real systemd-sysctl and
# `sysctl --system`, each in a fresh network and mount namespace, compared
# with qtune's prediction; then the fixture of each rule. Root. Longer runs
# by hand: make check-boot BOOTDIFF_COUNT=5000 BOOTDIFF_SEED=7; BOOTDIFF_ARGS=--report-only
# reports without failing.
BOOTDIFF_COUNT ?= 300
BOOTDIFF_SEED  ?= 16
BOOTDIFF_ARGS  ?=
check-boot: $(BUILD)/qtune
	python3 tests/boot_diff/bootdiff.py --qtune $(BUILD)/qtune --seed $(BOOTDIFF_SEED) \
	  --count $(BOOTDIFF_COUNT) --fixtures tests/fixtures/sysctld $(BOOTDIFF_ARGS)

# The module map (docs/ARCHITECTURE.md) against the includes of src/.
check-layers:
	@tools/test-check-layers.sh
	@tools/check-layers.sh

lint-man:
	@for m in $(MANPAGES); do \
	  echo "mandoc -Tlint $$m"; mandoc -Tlint -Wwarning $$m || exit 1; done

# Install layout. qtune looks for profiles in /etc/qtune/profiles and
# /usr/share/qtune/profiles, so keep PREFIX=/usr (the default) for a
# working install; local profiles in SYSCONFDIR are never removed.
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ANSIBLEMODDIR ?= $(DATADIR)/ansible/plugins/modules
SYSTEMDUNITDIR ?= $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null || echo $(PREFIX)/lib/systemd/system)

install: $(BUILD)/qtune
	install -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DATADIR)/qtune/profiles \
	  $(DESTDIR)$(SYSCONFDIR)/qtune/profiles $(DESTDIR)$(DOCDIR) \
	  $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(BUILD)/qtune $(DESTDIR)$(SBINDIR)/qtune
	for m in $(filter %.8,$(MANPAGES)); do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/; done
	for m in $(filter %.5,$(MANPAGES)); do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/; done
	for p in profiles/*.yaml; do [ ! -e "$$p" ] || \
	  install -m 0644 "$$p" $(DESTDIR)$(DATADIR)/qtune/profiles/ || exit 1; done
	install -m 0644 packaging/bash-completion/qtune $(DESTDIR)$(BASHCOMPDIR)/qtune
	install -m 0644 README.md LICENSE $(DESTDIR)$(DOCDIR)/
	install -d -m 0755 $(DESTDIR)$(ANSIBLEMODDIR) $(DESTDIR)$(SYSTEMDUNITDIR) \
	  $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR)/schema
	install -m 0644 packaging/ansible/qtune.py $(DESTDIR)$(ANSIBLEMODDIR)/qtune.py
	install -m 0644 packaging/systemd/qtune-check.service packaging/systemd/qtune-check.timer \
	  $(DESTDIR)$(SYSTEMDUNITDIR)/
	# An example only: the unit's defaults hold without it, and a file in
	# /etc would be left behind by dpkg -r as a conffile.
	install -m 0644 packaging/systemd/qtune.default $(DESTDIR)$(DOCDIR)/examples/qtune.default
	install -m 0644 docs/json-schema.md docs/SECURITY.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 docs/schema/*.json $(DESTDIR)$(DOCDIR)/schema/
	install -d -m 0755 $(DESTDIR)$(DATADIR)/qtune/prometheus
	install -m 0644 packaging/prometheus/qtune-rules.yml $(DESTDIR)$(DATADIR)/qtune/prometheus/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/qtune $(DESTDIR)$(BASHCOMPDIR)/qtune
	rm -f $(DESTDIR)$(ANSIBLEMODDIR)/qtune.py $(DESTDIR)$(SYSTEMDUNITDIR)/qtune-check.service \
	  $(DESTDIR)$(SYSTEMDUNITDIR)/qtune-check.timer
	for m in $(notdir $(filter %.8,$(MANPAGES))); do rm -f $(DESTDIR)$(MANDIR)/man8/$$m; done
	for m in $(notdir $(filter %.5,$(MANPAGES))); do rm -f $(DESTDIR)$(MANDIR)/man5/$$m; done
	rm -rf $(DESTDIR)$(DATADIR)/qtune $(DESTDIR)$(DOCDIR)
	-rmdir $(DESTDIR)$(SYSCONFDIR)/qtune/profiles $(DESTDIR)$(SYSCONFDIR)/qtune 2>/dev/null

# Packages are built from a tarball of the tree (tracked and untracked files,
# not what .gitignore names), so the working tree's build/ never leaks in.
# The version lives in VERSION alone: the Debian changelog and the RPM spec
# must say the same, or the build stops. DEB_BUILD_OPTIONS=nocheck and
# RPMBUILD_FLAGS="--without check" skip the tests in the package builds.
PKG_TARBALL   := build/pkg/qtune-$(VERSION).tar.gz
RPMBUILD_FLAGS ?=
RPM_PACKAGER  ?= qtune authors <qtune@example.org>

define pkg_check_version
	@v=$$($(2)); if [ "$$v" != "$(VERSION)" ]; then \
	  echo "make: $(1) says version '$$v' but VERSION says '$(VERSION)'" >&2; exit 1; fi
endef

define pkg_tarball
	rm -rf build/pkg && mkdir -p build/pkg
	{ if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    git ls-files -co --exclude-standard; \
	  else find . \( -path ./build -o -path ./dist -o -path ./.git \) -prune -o -type f -print | \
	    sed 's,^\./,,'; \
	  fi; } | while IFS= read -r f; do [ ! -f "$$f" ] || printf '%s\n' "$$f"; done | \
	  LC_ALL=C sort > build/pkg/files
	tar -czf $(PKG_TARBALL) --owner=0 --group=0 --numeric-owner \
	  --transform 's,^,qtune-$(VERSION)/,' -T build/pkg/files
endef

deb:
	$(call pkg_check_version,packaging/debian/changelog,dpkg-parsechangelog -l packaging/debian/changelog -SVersion)
	$(pkg_tarball)
	rm -rf build/deb && mkdir -p build/deb dist
	tar -xzf $(PKG_TARBALL) -C build/deb
	cp -R build/deb/qtune-$(VERSION)/packaging/debian build/deb/qtune-$(VERSION)/debian
	chmod 0755 build/deb/qtune-$(VERSION)/debian/rules
	cd build/deb/qtune-$(VERSION) && dpkg-buildpackage -us -uc -b
	cp build/deb/qtune_$(VERSION)_*.deb dist/
	@ls -l dist/qtune_$(VERSION)_*.deb

# --nodeps: Debian names the build dependencies differently (libyaml-dev, not
# libyaml-devel). brp-compress needs bash (read -d); Debian's rpm runs it
# with dash, so it is called through bash here.
rpm:
	$(call pkg_check_version,packaging/rpm/qtune.spec,sed -n 's/^Version:[[:space:]]*//p' packaging/rpm/qtune.spec)
	$(pkg_tarball)
	rm -rf build/rpm && mkdir -p build/rpm/SOURCES dist
	cp $(PKG_TARBALL) build/rpm/SOURCES/
	rpmbuild -ba --nodeps --define "_topdir $(CURDIR)/build/rpm" \
	  --define "packager $(RPM_PACKAGER)" \
	  --define "__brp_compress bash /usr/lib/rpm/brp-compress %{?_prefix}" \
	  $(RPMBUILD_FLAGS) packaging/rpm/qtune.spec
	cp build/rpm/RPMS/*/qtune-$(VERSION)-*.rpm build/rpm/SRPMS/qtune-$(VERSION)-*.src.rpm dist/
	@ls -l dist/qtune-$(VERSION)-*.rpm

# libFuzzer targets (clang + libclang-rt-14-dev), each run FUZZ_SECONDS on
# a scratch copy of fuzz/seeds; non-zero exit on any crash.
FUZZ_SECONDS ?= 60
fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)

# Benchmarks are run by hand (root: they build a network namespace of their
# own); they print ratios against the tools a user would otherwise run.
bench: $(BUILD)/qtune
	BUILD=$(BUILD) CC=$(CC) LDLIBS="$(LDLIBS)" bench/listeners.sh
	BUILD=$(BUILD) CC=$(CC) bench/allnetns.sh

print-ldlibs:
	@echo $(LDLIBS)

clean:
	rm -rf build dist
