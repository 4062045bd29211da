# Atrium — plain GNU make. `make` builds bin/; `make run` and `make test` are
# the two commands README.md promises.

CC      ?= cc
PKGS    := fuse3 libxml-2.0 openssl sqlite3 zlib
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
CORE_SRC   := $(filter-out src/main.c,$(wildcard src/*.c))
S3_SRC     := $(wildcard s3/*.c)
FUSE_SRC   := $(wildcard fuse/*.c)
LIB_SRC    := $(COMMON_SRC) $(CORE_SRC) $(S3_SRC) $(FUSE_SRC)
LIB_OBJ    := $(LIB_SRC:%.c=$(O)/%.o)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
BENCH_SRC  := tools/atrium-bench.c

.PHONY: all deps run test unit integration asan asan-unit check-layers bench clean
all: $(BIN)/atriumd

deps:
	@bash tools/install-deps.sh

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(O)/libatrium.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/atriumd: $(O)/src/main.o $(O)/libatrium.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/test_%: tests/unit/test_%.c $(O)/libatrium.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(O)/libatrium.a $(LDLIBS) -lcmocka

$(BIN)/atrium-bench: $(BENCH_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDLIBS)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

integration: $(BIN)/atriumd
	ATRIUMD=$(abspath $(BIN)/atriumd) $(PY) -m pytest -q -p no:cacheprovider tests/integration

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer; any report fails.
asan:
	$(MAKE) O=build-asan BIN=build-asan/bin CC=clang CFLAGS='-O1 -g -fno-omit-frame-pointer' \
	  SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' unit

check-layers:
	@bash tools/check-layers.sh

run: deps all
	@mkdir -p data
	$(BIN)/atriumd --data ./data --port 39999

test: deps
	$(MAKE) check-layers
	$(MAKE) all unit
	$(MAKE) asan
	$(MAKE) integration

bench: deps all $(BIN)/atrium-bench
	bash tools/bench.sh

clean:
	rm -rf build build-asan bin

-include $(LIB_OBJ:.o=.d) $(O)/src/main.d
