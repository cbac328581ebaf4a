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
LIBS_PC   := yaml-0.1 libcap

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
MANPAGES  := $(wildcard man/*.[0-9])

.PHONY: all check lint-man install uninstall clean deb rpm fuzz bench golden

all: $(BUILD)/qtune

$(BUILD)/obj/%.o: src/%.c src/*.h | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The test build adds the fault-injection hooks; the shipped binary has none.
$(BUILD)/tobj/%.o: src/%.c src/*.h | $(BUILD)/tobj
	$(CC) $(ALL_CFLAGS) -DQTUNE_TEST_HOOKS -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c tests/*.h src/*.h | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -DQTUNE_TEST_HOOKS -Isrc -Itests -c -o $@ $<

$(BUILD)/libqtune.a: $(OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libqtune-test.a: $(TOBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/qtune: $(BUILD)/obj/main.o $(BUILD)/libqtune.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/main.o: src/main.c src/*.h | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/qtune-tests: $(TESTOBJ) $(BUILD)/libqtune-test.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

$(BUILD)/obj $(BUILD)/tobj $(BUILD)/tests:
	mkdir -p $@

# One runner, so one summary line. Tests enter their own network and mount
# namespaces (they need root); QTUNE_BIN is the binary the end-to-end tests run.
check: $(BUILD)/qtune $(BUILD)/qtune-tests lint-man
	QTUNE_BIN=$(abspath $(BUILD)/qtune) QTUNE_SRCDIR=$(CURDIR) \
	  $(BUILD)/qtune-tests $(TEST_ARGS)

lint-man:
	@for m in $(MANPAGES); do \
	  echo "mandoc -Tlint $$m"; mandoc -Tlint -Wwarning $$m || exit 1; done

install: $(BUILD)/qtune
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(DATADIR)/qtune/profiles $(DESTDIR)$(SYSCONFDIR)/qtune/profiles \
	  $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/qtune $(DESTDIR)$(SBINDIR)/qtune
	for m in $(filter %.8,$(MANPAGES)); do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/; done
	for m in $(filter %.5,$(MANPAGES)); do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/; done
	install -m 0644 profiles/*.yaml $(DESTDIR)$(DATADIR)/qtune/profiles/
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/qtune $(DESTDIR)$(MANDIR)/man8/qtune.8 \
	  $(DESTDIR)$(MANDIR)/man5/qtune-profile.5
	rm -rf $(DESTDIR)$(DATADIR)/qtune $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build dist
