# Makefile: builds liboutbox (static and shared), the outbox command, its man page and tests.
# `make` builds build/; `make check` builds a sanitized tree in build/check/ and runs every test.

VERSION    := 0.1.0
SOVERSION  := 0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share
# Where the systemd user manager looks for units (systemd.unit(5), user unit search path): a
# system package's /usr/lib/systemd/user, /usr/local/lib/systemd/user, and otherwise
# $XDG_DATA_HOME/systemd/user, so PREFIX=$HOME/.local gives ~/.local/share/systemd/user.
USERUNITDIR ?= $(if $(filter /usr /usr/local,$(PREFIX)),$(PREFIX)/lib/systemd/user,$(DATADIR)/systemd/user)
DESTDIR    ?=

BUILD      ?= build
SANITIZE   ?= 0
CC         ?= cc
PKG_CONFIG ?= pkg-config
PYTHON     ?= /usr/bin/python3

LIB_PKGS   := sqlite3 openssl
# Headers only: these libraries are loaded with dlopen when they are used (libsecret for a keyring,
# libcurl and json-c for OAuth, expat for autoconfig, GMime to re-encode a message for a strict
# server, libidn2 for a non-ASCII host name, GNU SASL for a computed AUTH), so a plain send never
# pays for loading them.
DL_PKGS    := libsecret-1 libcurl json-c expat gmime-3.0 libidn2 libgsasl
# Quiet when pkg-config or a library is missing: `make check` and `make demo` install them first.
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIB_PKGS) $(DL_PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(LIB_PKGS) 2>/dev/null) -ldl -lpthread

WARNINGS   := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
              -Wmissing-prototypes -Wvla -Wpointer-arith -Wcast-qual -Wno-unused-parameter
CFLAGS     ?= -O2 -g
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -fPIC -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
              -Iinclude -Isrc/lib $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS    ?=
ifeq ($(SANITIZE),1)
ALL_CFLAGS := $(filter-out -D_FORTIFY_SOURCE=2,$(ALL_CFLAGS)) -O1 -fsanitize=address,undefined \
              -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=address,undefined
endif
# ThreadSanitizer cannot share a build with AddressSanitizer: it gets a tree of its own for the
# code that runs threads (the runner's workers, recorder and janitor, the DNS lookup).
ifeq ($(SANITIZE),thread)
ALL_CFLAGS := $(filter-out -D_FORTIFY_SOURCE=2,$(ALL_CFLAGS)) -O1 -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=thread
endif

# The terminal UI is a program of its own, outbox-ui (run by `outbox ui`): only it links ncursesw,
# so no other command pays for loading curses, and liboutbox never does.
TUI_PKGS   := ncursesw
TUI_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(TUI_PKGS) 2>/dev/null)
TUI_LIBS   := $(shell $(PKG_CONFIG) --libs $(TUI_PKGS) 2>/dev/null)

LIB_SRC    := $(sort $(wildcard src/lib/*.c))
CLI_SRC    := $(sort $(wildcard src/cli/*.c))
TUI_SRC    := $(sort $(wildcard src/tui/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TUI_OBJ    := $(TUI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Small programs the end-to-end tests drive library parts through, before a command uses them.
TOOL_SRC   := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN   := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
# What the tools share (their JSON-lines output), linked into each; outside the tools' wildcard.
TOOL_LIB   := $(sort $(wildcard tests/tools/lib/*.c))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
REPLAY_BIN := $(FUZZ_NAMES:%=$(BUILD)/tests/replay_%)

STATIC_LIB := $(BUILD)/liboutbox.a
SHARED_LIB := $(BUILD)/liboutbox.so.$(VERSION)
OUTBOX     := $(BUILD)/outbox
OUTBOX_UI  := $(BUILD)/outbox-ui
MANPAGE    := $(BUILD)/outbox.1
PCFILE     := $(BUILD)/outbox.pc

.PHONY: all check tsan unit unit-bins replay-bins fuzz fuzz-replay e2e demo install install-units uninstall clean deps bench
all: $(OUTBOX) $(OUTBOX_UI) $(STATIC_LIB) $(SHARED_LIB) $(MANPAGE) $(PCFILE)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(STATIC_LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(SHARED_LIB): $(LIB_OBJ) src/lib/liboutbox.map
	$(CC) -shared -Wl,-soname,liboutbox.so.$(SOVERSION) -Wl,--version-script=src/lib/liboutbox.map \
	    $(LDFLAGS) -o $@ $(LIB_OBJ) $(PKG_LIBS)
	ln -sf liboutbox.so.$(VERSION) $(BUILD)/liboutbox.so.$(SOVERSION)
	ln -sf liboutbox.so.$(SOVERSION) $(BUILD)/liboutbox.so

$(TUI_OBJ): ALL_CFLAGS += -Isrc/tui $(TUI_CFLAGS)

$(OUTBOX): $(CLI_OBJ) $(STATIC_LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(STATIC_LIB) $(PKG_LIBS)

$(OUTBOX_UI): $(TUI_OBJ) $(STATIC_LIB)
	$(CC) $(LDFLAGS) -o $@ $(TUI_OBJ) $(STATIC_LIB) $(PKG_LIBS) $(TUI_LIBS)

$(MANPAGE): doc/outbox.1.in
	@mkdir -p $(BUILD)
	sed -e 's/@VERSION@/$(VERSION)/g' $< > $@

$(PCFILE): outbox.pc.in
	@mkdir -p $(BUILD)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' -e 's|@REQUIRES@|$(LIB_PKGS)|g' $< > $@

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(STATIC_LIB) $(PKG_LIBS) \
	    $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

# test_layout checks the UI's layout rules, so it links the UI's objects (all but its main).
TUI_TEST_OBJ := $(filter-out %/program.o,$(TUI_OBJ))
$(BUILD)/tests/test_layout: tests/unit/test_layout.c tests/unit/unit.h $(TUI_TEST_OBJ) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc/tui $(TUI_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(TUI_TEST_OBJ) $(STATIC_LIB) \
	    $(PKG_LIBS) $(TUI_LIBS) $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

# The UI's curses-free parts (text in columns, button letters) are tested without a terminal.
TUI_PURE_OBJ := $(BUILD)/obj/src/tui/textcol.o $(BUILD)/obj/src/tui/mnemonic.o
$(BUILD)/tests/test_tui_text: tests/unit/test_tui_text.c tests/unit/unit.h $(TUI_PURE_OBJ) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -Isrc/tui $(LDFLAGS) -o $@ $< $(TUI_PURE_OBJ) $(STATIC_LIB) $(PKG_LIBS) \
	    $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

# Each fuzz target also builds as an ordinary program that replays its saved corpus, so the
# inputs the fuzzer found run in every `make check`.
$(BUILD)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/replay.c $(STATIC_LIB) $(PKG_LIBS)

replay-bins: $(REPLAY_BIN)

$(BUILD)/tests/tools/%: tests/tools/%.c $(TOOL_LIB) $(wildcard tests/tools/lib/*.h) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/tools/lib $(LDFLAGS) -o $@ $< $(TOOL_LIB) $(STATIC_LIB) $(PKG_LIBS)

fuzz-replay: $(REPLAY_BIN)
	@set -e; for n in $(FUZZ_NAMES); do $(BUILD)/tests/replay_$$n tests/fuzz/corpus/$$n; done

# Coverage-guided fuzzing with libFuzzer: make fuzz, then build/fuzz/fuzz_NAME tests/fuzz/corpus/NAME
FUZZ_CC ?= clang
fuzz: $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc/lib $(PKG_CFLAGS) -o $@ $< $(LIB_SRC) $(PKG_LIBS)

deps:
	scripts/install-deps

# The test build: sanitizers on, in its own tree so it never mixes with the release objects.
check:
	scripts/install-deps
	scripts/check-banned
	$(MAKE) --no-print-directory BUILD=build/check SANITIZE=1 all unit-bins replay-bins
	$(MAKE) --no-print-directory BUILD=build/check SANITIZE=1 unit fuzz-replay e2e
	$(MAKE) --no-print-directory tsan

# The code that runs threads of ours (the queue runner's workers, recorder and janitor, the DNS
# lookup, the OAuth refreshes of parallel connections, setup's DNS queries and probes) again under
# ThreadSanitizer: the unit tests of the store and queue, and the end-to-end tests of the queue
# (test_oauth_queue among them), the resolvers (test_dns_deadline, test_setup_dns) and setup's
# probes (test_setup_probe), through the test tools, and the whole setup run with its lookups and
# probes overlapping (test_setup_cli, test_setup_pipeline) or cancelled (test_setup_cancel). Any
# report fails the run, except races wholly inside uninstrumented OpenSSL (tests/tsan.supp).
TSAN_UNIT := test_queue test_store test_net
tsan:
	$(MAKE) --no-print-directory BUILD=build/tsan SANITIZE=thread all $(TSAN_UNIT:%=build/tsan/tests/%) \
	    $(TOOL_SRC:tests/tools/%.c=build/tsan/tests/tools/%)
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$(abspath tests/tsan.supp)" \
	    tests/run-unit $(TSAN_UNIT:%=build/tsan/tests/%)
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$(abspath tests/tsan.supp)" OUTBOX_BIN=$(abspath build/tsan/outbox) tests/run-e2e -k "queue or dns or setup_probe or setup_cli or setup_pipeline or setup_cancel"

# The test tools come with the unit tests, so one build makes everything the tests run.
unit-bins: $(UNIT_BIN) $(TOOL_BIN)

# test_convert decodes what convert.c wrote with GMime itself, linked rather than loaded.
$(BUILD)/tests/test_convert: PKG_LIBS += $(shell $(PKG_CONFIG) --libs gmime-3.0 2>/dev/null)

# test_sasl plays the server with GNU SASL, and fuzz_sasl checks with it: linked, not loaded.
$(BUILD)/tests/test_sasl $(BUILD)/tests/replay_sasl build/fuzz/fuzz_sasl: PKG_LIBS += $(shell $(PKG_CONFIG) --libs libgsasl 2>/dev/null)

unit: $(UNIT_BIN)
	tests/with-keyring tests/run-unit $(UNIT_BIN)

e2e: $(OUTBOX) $(OUTBOX_UI) $(TOOL_BIN)
	OUTBOX_BIN=$(abspath $(OUTBOX)) tests/run-e2e

demo:
	scripts/install-deps
	$(MAKE) --no-print-directory all
	scripts/demo $(abspath $(OUTBOX))

bench: all
	bench/run $(abspath $(OUTBOX))

install: all install-units
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/outbox \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DATADIR)/bash-completion/completions
	install -m 0755 $(OUTBOX) $(DESTDIR)$(BINDIR)/outbox
	install -m 0755 $(OUTBOX_UI) $(DESTDIR)$(BINDIR)/outbox-ui
	ln -sf outbox $(DESTDIR)$(BINDIR)/sendmail
	ln -sf outbox $(DESTDIR)$(BINDIR)/mailq
	install -m 0644 $(STATIC_LIB) $(DESTDIR)$(LIBDIR)/liboutbox.a
	install -m 0755 $(SHARED_LIB) $(DESTDIR)$(LIBDIR)/liboutbox.so.$(VERSION)
	ln -sf liboutbox.so.$(VERSION) $(DESTDIR)$(LIBDIR)/liboutbox.so.$(SOVERSION)
	ln -sf liboutbox.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/liboutbox.so
	install -m 0644 include/outbox/*.h $(DESTDIR)$(INCLUDEDIR)/outbox/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' -e 's|@REQUIRES@|$(LIB_PKGS)|g' outbox.pc.in \
	    > $(DESTDIR)$(LIBDIR)/pkgconfig/outbox.pc
	install -m 0644 $(MANPAGE) $(DESTDIR)$(MANDIR)/man1/outbox.1
	install -m 0644 contrib/completion/outbox.bash $(DESTDIR)$(DATADIR)/bash-completion/completions/outbox

# The units name the installed binary: @BINDIR@ is filled in here.
install-units:
	install -d $(DESTDIR)$(USERUNITDIR)
	for u in contrib/systemd/*.service contrib/systemd/*.timer; do \
	    sed 's|@BINDIR@|$(BINDIR)|g' $$u > $(DESTDIR)$(USERUNITDIR)/$$(basename $$u); done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/outbox $(DESTDIR)$(BINDIR)/outbox-ui $(DESTDIR)$(BINDIR)/sendmail $(DESTDIR)$(BINDIR)/mailq $(DESTDIR)$(LIBDIR)/liboutbox.* \
	    $(DESTDIR)$(LIBDIR)/pkgconfig/outbox.pc $(DESTDIR)$(MANDIR)/man1/outbox.1 \
	    $(DESTDIR)$(DATADIR)/bash-completion/completions/outbox
	rm -rf $(DESTDIR)$(INCLUDEDIR)/outbox
	rm -f $(DESTDIR)$(USERUNITDIR)/outbox-queue*

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TUI_OBJ:.o=.d)
