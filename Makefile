# Atrium — plain GNU make. `make` builds bin/; `make run` and `make test` are
# the two commands README.md promises.

CC      ?= cc
PKGS    := fuse3 jansson libcurl libxml-2.0 openssl sqlite3 zlib
WARN    := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-declarations \
           -Wwrite-strings -Wvla -Wformat-security -Wno-unused-parameter \
           -Wframe-larger-than=16384
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(SAN) -D_GNU_SOURCE -I. \
             $(shell pkg-config --cflags $(PKGS))
LDLIBS  := $(shell pkg-config --libs $(PKGS)) -lcivetweb -lpthread
PY      := /usr/bin/python3

# Object directory per flavour, so `make asan` never mixes with the normal build.
O       ?= build
BIN     ?= bin

COMMON_SRC := $(wildcard common/*.c)
CORE_SRC   := $(wildcard src/*.c)
S3_SRC     := $(wildcard s3/*.c)
FUSE_SRC   := $(wildcard fuse/*.c)
# The daemon's parts but its entry (main.c): the settings, admin API,
# metrics, access log, service and TLS code, unit-tested like the rest.
DAEMON_SRC := $(filter-out daemon/main.c,$(wildcard daemon/*.c))
LIB_SRC    := $(COMMON_SRC) $(CORE_SRC) $(S3_SRC) $(FUSE_SRC) $(DAEMON_SRC)
# The web console's static files, compiled in (tools/embed-console.sh).
CONSOLE_FILES := $(sort $(wildcard console/*.html console/*.js console/*.css console/*.svg))
LIB_OBJ    := $(LIB_SRC:%.c=$(O)/%.o) $(O)/console_files.o
COMMON_OBJ := $(COMMON_SRC:%.c=$(O)/%.o)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
BENCH_SRC  := tools/atrium-bench.c
BENCH_COMMON := common/sigv4.c common/buf.c common/hash.c common/uri.c common/timefmt.c
# The CLI talks HTTP (libcurl) and links common/ only (libcommon.a).
CLI_SRC    := tools/atrium.c tools/cli_fmt.c tools/cli_conf.c tools/cli_fs.c tools/cli_http.c \
	      tools/cli_progress.c tools/cli_user.c
CLI_CFLAGS  = $(shell pkg-config --cflags libcurl)
CLI_LIBS    = $(shell pkg-config --libs libcurl openssl)

.PHONY: FORCE all deps deps-run s3rver install run test unit integration asan asan-unit asan-integration tsan load fuzz fuzz-bins fuzz-check check-layers bench bench-md5 bench-fuse bench-readdir bench-tiers bench-remote crash-soak clean
all: $(BIN)/atriumd $(BIN)/atrium

# install-deps.sh run|build|test: what running needs, plus building, plus
# testing. `make run` takes the first two, `make test` all.
deps:
	@bash tools/install-deps.sh test

deps-run:
	@bash tools/install-deps.sh build

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# The version (tools/version.sh: git describe, else VERSION), as a header
# rewritten only when it changes, so that only what prints it is rebuilt.
$(O)/version.h: FORCE
	@mkdir -p $(dir $@)
	@v=$$(sh tools/version.sh); printf '#define ATRIUM_VERSION "%s"\n' "$$v" > $@.tmp; \
	  if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(O)/daemon/main.o: $(O)/version.h
$(O)/daemon/main.o: ALL_CFLAGS += -I$(O)

$(O)/console_files.c: tools/embed-console.sh $(CONSOLE_FILES) Makefile
	@mkdir -p $(dir $@)
	sh tools/embed-console.sh $@ $(CONSOLE_FILES)

$(O)/console_files.o: $(O)/console_files.c daemon/console.h
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(O)/libatrium.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(O)/libcommon.a: $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Debian's civetweb 1.15 loads OpenSSL by dlopen and dlsym: daemon/main.c
# answers its dlopen and defines SSL_get_peer_certificate, both exported
# from the executable (so HTTPS needs no libssl-dev at run time).
TLS_LDFLAGS := -Wl,--export-dynamic-symbol=SSL_get_peer_certificate \
	       -Wl,--export-dynamic-symbol=dlopen

$(BIN)/atriumd: $(O)/daemon/main.o $(O)/libatrium.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) $(TLS_LDFLAGS)

$(BIN)/atrium: $(CLI_SRC) tools/cli.h tools/cli_fmt.h $(O)/libcommon.a $(O)/version.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(O) $(CLI_CFLAGS) -o $@ $(CLI_SRC) $(O)/libcommon.a $(CLI_LIBS)

# The CLI's formatter is not in libatrium.a: its unit test compiles it in.
$(O)/tests/test_cli_fmt: tests/unit/test_cli_fmt.c tools/cli_fmt.c tools/cli_fmt.h $(O)/libatrium.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< tools/cli_fmt.c $(O)/libatrium.a $(LDLIBS) -lcmocka

$(O)/tests/test_%: tests/unit/test_%.c $(O)/libatrium.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(O)/libatrium.a $(LDLIBS) -lcmocka

# The S3 driver's check against a real remote (tests/integration/test_ufs_s3.py
# runs it against a second atriumd and against s3rver).
$(O)/tests/ufs_s3_check: tests/unit/ufs_s3_check.c $(O)/libatrium.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(O)/libatrium.a $(LDLIBS)

$(BIN)/atrium-bench: $(BENCH_SRC) $(BENCH_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(BENCH_SRC) $(BENCH_COMMON) $(LDLIBS)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# s3rver (npm, into build/npm) for tests/integration/test_ufs_s3.py: quick
# when it is there; without npm those tests are skipped.
s3rver:
	@bash tools/install-deps.sh s3rver

integration: $(BIN)/atriumd $(BIN)/atrium $(O)/tests/ufs_s3_check s3rver
	ATRIUMD=$(abspath $(BIN)/atriumd) ATRIUM=$(abspath $(BIN)/atrium) \
	  UFS_S3_CHECK=$(abspath $(O)/tests/ufs_s3_check) $(PY) -m pytest -q -p no:cacheprovider tests/integration

# Crash consistency, many more kill points than `make integration` runs
# (tests/integration/test_crash.py: CRASH_ROUNDS rounds of the S3 test and of
# the S3 + mount test; CRASH_SEED picks another seed).
CRASH_ROUNDS ?= 200
crash-soak: $(BIN)/atriumd $(BIN)/atrium
	CRASH_ROUNDS=$(CRASH_ROUNDS) ATRIUMD=$(abspath $(BIN)/atriumd) ATRIUM=$(abspath $(BIN)/atrium) \
	  $(PY) -m pytest -q -s -p no:cacheprovider tests/integration/test_crash.py

# The sanitizer flavour: clang, AddressSanitizer + UndefinedBehaviorSanitizer
# (LeakSanitizer included), every report fatal. SAN_ENV makes any report end
# the process with status 86: a unit test fails, and an integration daemon
# fails its test (it died) or the session teardown (it must exit 0 on SIGTERM;
# leaks are reported at that exit). No suppressions are needed today.
ASAN_MAKE = $(MAKE) O=build-asan BIN=build-asan/bin CC=clang \
	    CFLAGS='-O1 -g -fno-omit-frame-pointer' \
	    SAN='-fsanitize=address,undefined -fno-sanitize-recover=all'
SAN_ENV   = ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:exitcode=86 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Unit tests under ASan + UBSan; any report fails.
asan:
	$(SAN_ENV) $(ASAN_MAKE) unit

# The integration suite against a sanitized atriumd (build-asan/bin/atriumd).
asan-integration: s3rver
	$(ASAN_MAKE) build-asan/bin/atriumd build-asan/bin/atrium build-asan/tests/ufs_s3_check
	$(SAN_ENV) ATRIUMD=$(abspath build-asan/bin/atriumd) ATRIUM=$(abspath build-asan/bin/atrium) \
	  UFS_S3_CHECK=$(abspath build-asan/tests/ufs_s3_check) $(PY) -m pytest -q -p no:cacheprovider tests/integration

# The ThreadSanitizer flavour (build-tsan/): clang -fsanitize=thread, then
# the unit tests and the integration tests that run requests in parallel
# (TSAN_TESTS) against build-tsan/bin/atriumd. Like SAN_ENV, TSAN_ENV makes a
# report end the process with status 86 (at exit: the daemon's SIGTERM exit
# fails the session teardown, with the reports in its stderr). civetweb,
# SQLite, OpenSSL and libc are not instrumented; tests/tsan.supp (one entry
# today) takes false positives, each with its justification. Not part of
# `make test` (docs/reliability.md).
TSAN_MAKE = $(MAKE) O=build-tsan BIN=build-tsan/bin CC=clang \
	    CFLAGS='-O1 -g -fno-omit-frame-pointer' SAN='-fsanitize=thread'
TSAN_ENV  = TSAN_OPTIONS='exitcode=86 halt_on_error=0 second_deadlock_stack=1 suppressions=$(abspath tests/tsan.supp)'
TSAN_TESTS ?= tests/integration/test_concurrency.py tests/integration/test_slow_clients.py \
	      tests/integration/test_multipart.py tests/integration/test_crash.py \
	      tests/integration/test_range_cond.py tests/integration/test_mount.py \
	      tests/integration/test_mount_cross.py tests/integration/test_ufs_s3.py

tsan: s3rver
	$(TSAN_MAKE) build-tsan/bin/atriumd build-tsan/bin/atrium build-tsan/tests/ufs_s3_check
	$(TSAN_ENV) $(TSAN_MAKE) unit
	$(TSAN_ENV) ATRIUMD=$(abspath build-tsan/bin/atriumd) ATRIUM=$(abspath build-tsan/bin/atrium) \
	  UFS_S3_CHECK=$(abspath build-tsan/tests/ufs_s3_check) $(PY) -m pytest -q -p no:cacheprovider $(TSAN_TESTS)

# Bounded load test (tools/load.py): its own atriumd on loopback, 256
# keep-alive connections of mixed 4 KiB / 1-8 MiB PUT, GET and LIST from
# atrium-bench for LOAD_SECONDS (150), then zero errors, RSS under its bound
# and no descriptor leak are checked. Not part of `make test`.
LOAD_SECONDS ?= 150
load: all $(BIN)/atrium-bench
	LOAD_SECONDS=$(LOAD_SECONDS) ATRIUMD=$(abspath $(BIN)/atriumd) \
	  ATRIUM_BENCH=$(abspath $(BIN)/atrium-bench) $(PY) tools/load.py

# libFuzzer targets: tests/fuzz/fuzz_<name>.c over a fuzzer-instrumented
# library (build-fuzz/), each with its committed corpus tests/fuzz/corpus/<name>/.
# `make fuzz` explores for FUZZ_TIME seconds per target, keeping what it finds
# in build-fuzz/corpus/<name>/ (copy an input worth keeping into the committed
# corpus); `make fuzz-check` (part of `make test`) replays every committed
# input and then runs FUZZ_RUNS mutations from a fixed seed. Crashes land in
# build-fuzz/artifacts/.
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_TIME  ?= 60
FUZZ_RUNS  ?= 10000
FUZZ_MAKE   = $(MAKE) O=build-fuzz BIN=build-fuzz/bin CC=clang \
	      CFLAGS='-O1 -g -fno-omit-frame-pointer' \
	      SAN='-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all'
FUZZ_FLAGS  = -timeout=10 -rss_limit_mb=2048 -artifact_prefix=build-fuzz/artifacts/

$(O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(O)/libatrium.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(O)/libatrium.a $(LDLIBS)

fuzz-bins: $(FUZZ_NAMES:%=$(O)/fuzz/fuzz_%)

fuzz-check:
	@$(FUZZ_MAKE) fuzz-bins
	@mkdir -p build-fuzz/artifacts build-fuzz/log
	@set -e; for n in $(FUZZ_NAMES); do \
	  rm -rf build-fuzz/replay/$$n; mkdir -p build-fuzz/replay/$$n; \
	  c=tests/fuzz/corpus/$$n; test -d $$c || c=; \
	  if ! $(SAN_ENV) build-fuzz/fuzz/fuzz_$$n $(FUZZ_FLAGS) -seed=1 -runs=$(FUZZ_RUNS) \
	      -max_total_time=300 build-fuzz/replay/$$n $$c >build-fuzz/log/$$n.txt 2>&1; then \
	    tail -n 60 build-fuzz/log/$$n.txt; echo "fuzz_$$n FAILED (build-fuzz/log/$$n.txt)"; exit 1; \
	  fi; \
	  echo "fuzz_$$n: $$(test -z "$$c" || ls $$c | wc -l) corpus inputs and $(FUZZ_RUNS) runs, no finding"; \
	done

fuzz:
	@$(FUZZ_MAKE) fuzz-bins
	@mkdir -p build-fuzz/artifacts
	@set -e; for n in $(FUZZ_NAMES); do \
	  mkdir -p build-fuzz/corpus/$$n; echo "== fuzz_$$n for $(FUZZ_TIME)s"; \
	  c=tests/fuzz/corpus/$$n; test -d $$c || c=; \
	  $(SAN_ENV) build-fuzz/fuzz/fuzz_$$n $(FUZZ_FLAGS) -max_total_time=$(FUZZ_TIME) \
	    -print_final_stats=1 build-fuzz/corpus/$$n $$c 2>&1 | \
	    grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|Test unit written' || true; \
	  test -z "$$(ls build-fuzz/artifacts 2>/dev/null)" || { echo "findings in build-fuzz/artifacts"; exit 1; }; \
	done

check-layers:
	@bash tools/check-layers.sh

run: deps-run all
	@mkdir -p data
	$(BIN)/atriumd --data ./data --port 39999 --mount ./mnt

# make install [PREFIX=/usr/local] [DESTDIR=staging]: both binaries, the man
# pages, the systemd unit (Type=notify), its sysusers.d entry, a sample
# configuration (never over an existing one), the logrotate file and bash
# completion. The unit and atriumd.8 get the installed paths.
PREFIX       ?= /usr/local
DESTDIR      ?=
BINDIR       ?= $(PREFIX)/bin
SBINDIR      ?= $(PREFIX)/sbin
MANDIR       ?= $(PREFIX)/share/man
SYSCONFDIR   ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR      ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
SYSUSERSDIR  ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/sysusers.d,$(PREFIX)/lib/sysusers.d)
LOGROTATEDIR ?= /etc/logrotate.d
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL_SED = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		  -e 's|@SYSUSERSDIR@|$(SYSUSERSDIR)|g'

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/atrium $(DESTDIR)$(LOGROTATEDIR) $(DESTDIR)$(COMPLETIONDIR)
	install -m 0755 $(BIN)/atriumd $(DESTDIR)$(SBINDIR)/atriumd
	install -m 0755 $(BIN)/atrium $(DESTDIR)$(BINDIR)/atrium
	install -m 0644 docs/man/atrium.1 $(DESTDIR)$(MANDIR)/man1/atrium.1
	$(INSTALL_SED) docs/man/atriumd.8 > $(DESTDIR)$(MANDIR)/man8/atriumd.8
	$(INSTALL_SED) dist/atriumd.service.in > $(DESTDIR)$(UNITDIR)/atriumd.service
	chmod 0644 $(DESTDIR)$(MANDIR)/man8/atriumd.8 $(DESTDIR)$(UNITDIR)/atriumd.service
	install -m 0644 dist/atriumd.sysusers $(DESTDIR)$(SYSUSERSDIR)/atriumd.conf
	test -e $(DESTDIR)$(SYSCONFDIR)/atrium/atriumd.conf || \
	  install -m 0644 dist/atriumd.conf $(DESTDIR)$(SYSCONFDIR)/atrium/atriumd.conf
	install -m 0644 dist/atriumd.logrotate $(DESTDIR)$(LOGROTATEDIR)/atriumd
	install -m 0644 tools/atrium.bash-completion $(DESTDIR)$(COMPLETIONDIR)/atrium

test: deps
	$(MAKE) check-layers
	$(MAKE) all unit
	$(MAKE) asan
	$(MAKE) integration
	$(MAKE) asan-integration
	$(MAKE) fuzz-check

bench: deps all $(BIN)/atrium-bench
	bash tools/bench.sh

# Multi-buffer MD5 against OpenSSL's, 1 to 16 concurrent streams
# (tests/bench/md5mb.c; docs/performance.md). Not a test.
$(O)/bench/md5mb: tests/bench/md5mb.c $(O)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(O)/libcommon.a $(LDLIBS)

bench-md5: $(O)/bench/md5mb
	$(O)/bench/md5mb

# The FUSE mount against a plain directory on the same disk (tools/bench-fuse.sh;
# BENCH_FUSE_SIZE=1G and BENCH_FUSE_FILES=10000 by default).
bench-fuse: deps all
	bash tools/bench-fuse.sh

# Listing a directory of 100,000 files through the mount against a plain
# directory (tools/bench-readdir.sh; docs/performance.md). Not a test.
bench-readdir: all
	bash tools/bench-readdir.sh

# The block cache's tiers: GET throughput from memory, the disk tier and the
# local UFS (tools/bench-tiers.sh), and the disk tier's hit ratio, segmented
# LRU against plain LRU (tools/bench-dcache-policy.sh; docs/performance.md).
# Not a test.
bench-tiers: all $(BIN)/atrium-bench
	bash tools/bench-tiers.sh
	bash tools/bench-dcache-policy.sh

# The cache tiers in front of a remote store behind a latency proxy
# (tools/bench-remote.py; docs/performance.md). Not a test.
bench-remote: all $(BIN)/atrium-bench
	$(PY) tools/bench-remote.py

clean:
	rm -rf build build-asan build-tsan build-fuzz bin

-include $(LIB_OBJ:.o=.d) $(O)/daemon/main.d
