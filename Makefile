# hindsight — see README.md. `make`, `make check`, `make demo`, `make install`.
# Build variants go to their own directory: `make O=build-asan SAN=1 check`.

O        ?= build
CC       ?= cc
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR    = $(PREFIX)/bin
MANDIR    = $(PREFIX)/share/man
DOCDIR    = $(PREFIX)/share/doc/hindsight
UNITDIR  ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
USERUNITDIR ?= $(PREFIX)/lib/systemd/user
COMPDIR  ?= $(PREFIX)/share/bash-completion/completions
RSYNC    ?= /usr/bin/rsync
VERSION   = 0.1.0

PKGS      = jansson inih
CSTD      = -std=c17
WARN      = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral \
            -Wstrict-prototypes -Wmissing-prototypes -Wvla
CFLAGS   ?= -O2 -g
ALL_CFLAGS = $(CSTD) -D_GNU_SOURCE $(WARN) $(CFLAGS) -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
             -include $(O)/config.h $(shell pkg-config --cflags $(PKGS))
LDLIBS    = $(shell pkg-config --libs $(PKGS)) -pthread
ifeq ($(TEST_HOOKS),1)
ALL_CFLAGS += -DHS_TEST_HOOKS
endif
ifeq ($(SAN),1)
ALL_CFLAGS += -DHS_SANITIZE -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=address,undefined
endif

LIB_SRC    = $(filter-out src/lib/sanitize.c,$(wildcard src/lib/*.c))
# linked directly, not from the archive: the sanitizer runtime's weak
# default would otherwise win and the object never be pulled in
SAN_OBJ    = $(if $(filter 1,$(SAN)),$(O)/src/lib/sanitize.o)
SERVER_SRC = $(wildcard src/server/*.c)
CLIENT_SRC = $(wildcard src/client/*.c)
UNIT_SRC   = $(wildcard tests/unit/test_*.c)

LIB_OBJ    = $(LIB_SRC:%.c=$(O)/%.o)
SERVER_OBJ = $(SERVER_SRC:%.c=$(O)/%.o)
CLIENT_OBJ = $(CLIENT_SRC:%.c=$(O)/%.o)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)

all: $(O)/hindsight $(O)/hindsight-server

# Compiled-in paths live in a header rewritten only when they change, so
# `make install PREFIX=/opt` after `make` rebuilds what depends on them.
$(O)/config.h: FORCE
	@mkdir -p $(O)
	@printf '#define HS_VERSION "%s"\n#define RSYNC_PATH "%s"\n#define BINDIR "%s"\n' \
	  '$(VERSION)' '$(RSYNC)' '$(BINDIR)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

$(O)/%.o: %.c $(O)/config.h $(wildcard src/lib/*.h src/server/*.h src/client/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/libhindsight.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(O)/hindsight-server: $(SERVER_OBJ) $(SAN_OBJ) $(O)/libhindsight.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ncurses for `hindsight browse` only: the server does not link it
$(O)/src/client/browse.o $(O)/src/client/browse_draw.o: ALL_CFLAGS += $(shell pkg-config --cflags ncursesw)
$(O)/hindsight: $(CLIENT_OBJ) $(SAN_OBJ) $(O)/libhindsight.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs ncursesw)

# The client without its main(), so unit tests can call its parsers; an
# archive, so each test links only the objects it uses.
$(O)/libhindsight-client.a: $(filter-out $(O)/src/client/main.o,$(CLIENT_OBJ))
	$(AR) rcs $@ $^

$(O)/tests/%: tests/unit/%.c $(SAN_OBJ) $(O)/libhindsight-client.a $(O)/libhindsight.a $(O)/config.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc/lib -Isrc/client $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS) -lcmocka

# Every binary runs even when one fails; the target fails if any did.
unit: $(UNIT_BIN)
	@rc=0; for t in $(UNIT_BIN); do echo "# $$t"; $$t || rc=1; done; exit $$rc

# The hooks build (TEST_HOOKS=1) is for the tests that need test-only hooks
# (landlock.t, sealed-*.t, faults.t).
e2e: all
	$(MAKE) O=$(O)-hooks TEST_HOOKS=1 SAN=$(SAN) CC=$(CC) all
	HS_BIN=$(abspath $(O)) HS_TEST_BIN=$(abspath $(O)-hooks) prove -v tests/e2e/*.t

# Everything, then everything again under ASan+UBSan. CI runs exactly this.
check: deps
	$(MAKE) O=$(O) unit e2e
	$(MAKE) O=$(O)-asan SAN=1 CC=clang unit e2e
	$(MAKE) lint
	$(MAKE) fuzz

# The long variants of the reliability suite (more kill points, bigger
# trees): the same end-to-end tests, with HS_LONG=1. Not part of CI.
check-long: deps
	HS_LONG=1 $(MAKE) O=$(O) e2e

lint: $(O)/config.h
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	  --inline-suppr --suppress=missingIncludeSystem --std=c11 --include=$(O)/config.h -I src/lib src tests/unit

# deps first, then a sub-make: pkg-config's answers are read when make
# parses this file, which on a fresh machine is before deps installed them.
demo: deps
	$(MAKE) O=$(O) all
	./scripts/demo.sh $(abspath $(O))

# Installs the Debian packages the build and the tests need (root only).
deps:
	@./scripts/deps.sh

# The client's timer and service go to both the system and the user unit
# directories (systemd searches PREFIX/lib/systemd for both), ExecStart
# naming BINDIR; the server's go through install-contrib.
install: all install-contrib
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(USERUNITDIR) $(DESTDIR)$(COMPDIR) \
	  $(DESTDIR)$(DOCDIR)/contrib
	install -m 755 $(O)/hindsight $(O)/hindsight-server $(DESTDIR)$(BINDIR)/
	install -m 644 man/hindsight.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/hindsight.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/hindsight-server.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 contrib/server.conf $(DESTDIR)$(DOCDIR)/contrib/
	sed 's|@BINDIR@|$(BINDIR)|g' contrib/systemd/hindsight.service.in > $(O)/hindsight.service
	for d in $(DESTDIR)$(UNITDIR) $(DESTDIR)$(USERUNITDIR); do \
	  install -m 644 $(O)/hindsight.service contrib/systemd/hindsight.timer $$d/ || exit 1; \
	done
	install -m 644 contrib/bash-completion/hindsight $(DESTDIR)$(COMPDIR)/hindsight
	install -m 644 README.md COPYING docs/DESIGN.md docs/SECURITY.md $(DESTDIR)$(DOCDIR)/

# contrib/ names /usr/local/bin/hindsight-server; installed, it names BINDIR's.
# The systemd units and snippets go where systemd looks for them under
# PREFIX (it reads /usr/local/lib/... too); the sshd drop-in changes how sshd
# treats a group, and the sysctl drop-in (sealed mode's fs.protected_hardlinks=0)
# weakens a protection for every user, so both are only copied to the docs,
# for the admin to enable.
# Needs no build: tests/e2e/contrib.t runs it.
CONTRIB_BIN = sed 's|/usr/local/bin/hindsight-server|$(BINDIR)/hindsight-server|g'
install-contrib:
	install -d $(DESTDIR)$(DOCDIR)/contrib/sshd_config.d $(DESTDIR)$(DOCDIR)/contrib/sysctl.d \
	  $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	$(CONTRIB_BIN) contrib/sshd_config.d/hindsight.conf >$(DESTDIR)$(DOCDIR)/contrib/sshd_config.d/hindsight.conf
	$(CONTRIB_BIN) contrib/systemd/hindsight-prune.service >$(DESTDIR)$(UNITDIR)/hindsight-prune.service
	$(CONTRIB_BIN) contrib/systemd/hindsight-prune.timer >$(DESTDIR)$(UNITDIR)/hindsight-prune.timer
	$(CONTRIB_BIN) contrib/systemd/hindsight-sealer.socket >$(DESTDIR)$(UNITDIR)/hindsight-sealer.socket
	$(CONTRIB_BIN) contrib/systemd/hindsight-sealer.service >$(DESTDIR)$(UNITDIR)/hindsight-sealer.service
	chmod 644 $(DESTDIR)$(DOCDIR)/contrib/sshd_config.d/hindsight.conf \
	  $(DESTDIR)$(UNITDIR)/hindsight-prune.service $(DESTDIR)$(UNITDIR)/hindsight-prune.timer \
	  $(DESTDIR)$(UNITDIR)/hindsight-sealer.socket $(DESTDIR)$(UNITDIR)/hindsight-sealer.service
	install -m 644 contrib/sysctl.d/hindsight.conf $(DESTDIR)$(DOCDIR)/contrib/sysctl.d/hindsight.conf
	install -m 644 contrib/sysusers.d/hindsight.conf $(DESTDIR)$(SYSUSERSDIR)/hindsight.conf
	install -m 644 contrib/tmpfiles.d/hindsight.conf $(DESTDIR)$(TMPFILESDIR)/hindsight.conf

clean:
	rm -rf build build-asan build-clang build-hooks build-asan-hooks build-test build-fuzz $(O)

# Fuzzing (docs/FUZZING.md): the libFuzzer harnesses in tests/fuzz/, built
# with clang under ASan+UBSan in a sub-make into $(FUZZ_O), each run for
# FUZZ_SECONDS on a scratch copy of its checked-in corpus, so the tree is
# never written. A crash, leak, timeout or broken invariant fails the target.
# `make fuzz FUZZ_SECONDS=600` is the longer run.
FUZZ_O       ?= build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_FLAGS   ?=
FUZZ_CFLAGS   = -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all \
                -fsanitize=fuzzer-no-link,address,undefined
FUZZ_NAMES    = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

fuzz:
	$(MAKE) O=$(FUZZ_O) SAN= TEST_HOOKS= CC=clang CFLAGS='$(FUZZ_CFLAGS)' fuzz-run

# Internal: only meaningful in the sub-make above, where O is $(FUZZ_O).
fuzz-run: $(FUZZ_NAMES:%=$(O)/%)
	@rc=0; for h in $(FUZZ_NAMES); do \
	  rm -rf $(O)/corpus/$$h && mkdir -p $(O)/corpus/$$h $(O)/artifacts && \
	  cp tests/fuzz/corpus/$$h/* $(O)/corpus/$$h/ && \
	  echo "# $$h: $(FUZZ_SECONDS) s" && \
	  $(O)/$$h -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=8448 \
	    -dict=tests/fuzz/$$h.dict -print_final_stats=1 \
	    -artifact_prefix=$(O)/artifacts/$$h- $(FUZZ_FLAGS) $(O)/corpus/$$h || \
	  { rc=1; echo "# $$h FAILED: the input is in $(O)/artifacts/"; }; \
	done; exit $$rc

$(O)/fuzz_%: tests/fuzz/fuzz_%.c $(O)/libhindsight.a $(O)/config.h
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -Isrc/lib -o $@ $< $(O)/libhindsight.a $(LDLIBS)

.PHONY: fuzz fuzz-run

# Benchmarks (bench/, results in docs/BENCHMARKS.md), never part of
# `make check`: timings are reported, they gate nothing.
BENCH_TOOLS = $(O)/bench/deltree $(O)/bench/clonetree $(O)/bench/unlink-list $(O)/bench/stat-list \
              $(O)/bench/gentree $(O)/bench/hwm.so

bench-tools: $(BENCH_TOOLS)

$(O)/bench/deltree: bench/deltree.c $(O)/libhindsight.a $(O)/config.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc/lib $(LDFLAGS) -o $@ $< $(O)/libhindsight.a $(LDLIBS)

$(O)/bench/clonetree: bench/clonetree.c $(O)/libhindsight.a $(O)/config.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc/lib $(LDFLAGS) -o $@ $< $(O)/libhindsight.a $(LDLIBS)

$(O)/bench/unlink-list: bench/unlink_list.c $(O)/config.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

$(O)/bench/stat-list: bench/stat_list.c $(O)/config.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

$(O)/bench/gentree: bench/gentree.c $(O)/config.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< -lm

# preloaded into hindsight-server serve by bench/push.sh to read its own
# peak RSS at exit, apart from the rsync it runs (whose environment, built
# from scratch, does not carry LD_PRELOAD)
$(O)/bench/hwm.so: bench/hwm.c $(O)/config.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $<

# `make bench`: bench/bench.sh, as root, on the full profile (100k files,
# 2 GiB; about half an hour) or PROFILE=small (minutes). It installs what
# it needs (bench/deps.sh), builds the server and the helpers, and writes
# its results to $(O)/bench-PROFILE/ (the full profile's plots to
# docs/bench/). Never part of `make check`.
PROFILE ?= full
bench: all bench-tools
	@./bench/deps.sh
	PROFILE=$(PROFILE) ./bench/bench.sh $(abspath $(O))

.PHONY: bench-tools bench

.PHONY: all unit e2e check check-long lint demo deps install install-contrib clean FORCE
