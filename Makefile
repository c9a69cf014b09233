# nnlab — top-level build.  `make` builds, `make test` tests, `make run` serves, `make bench` measures.
#
# Layout of the build:
#   core/*.c            -> $(BUILD)/libnnlab.a      (the numeric library; no HTTP, no JSON)
#   server/*.c - main.c -> $(BUILD)/libnnlabsrv.a   (request -> response logic, HTTP layer)
#   server/main.c       -> $(BUILD)/nnlabd          (the daemon)
#   tests/unit/test_*.c -> $(BUILD)/tests/test_*    (one Criterion binary per file)
#   tests/support/*.c   -> linked into every test binary (fixture loader, helpers)
# Each part may add targets in mk/<part>.mk and register them in TEST_TARGETS / BENCH_TARGETS.
#
# Options:  SAN=1 (clang, AddressSanitizer + UndefinedBehaviorSanitizer, build/san)
#           NATIVE=1 (-march=native; the default build is portable and picks SIMD at run time)
#           CC=clang (any C11 compiler; the code builds warning-free under gcc and clang)

.DEFAULT_GOAL := all
SHELL := /bin/bash

BUILD ?= build
CC ?= cc
PKGS := libmicrohttpd libcjson stb

ifeq ($(SAN),1)
  BUILD := build/san
  CC := clang
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
  OPT := -O1
else
  SANFLAGS :=
  OPT := -O2
endif
ifeq ($(NATIVE),1)
  ARCHFLAGS := -march=native
endif

WARN := -Wall -Wextra -Werror -Wvla -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -Icore -Iserver -Itests/support
CFLAGS ?= $(OPT) -g
override CFLAGS += -std=c11 $(WARN) $(SANFLAGS) $(ARCHFLAGS) -pthread -MMD -MP
LDFLAGS += $(SANFLAGS) -pthread
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs libmicrohttpd libcjson 2>/dev/null)

CORE_SRC := $(wildcard core/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
SRV_SRC := $(filter-out server/main.c,$(wildcard server/*.c))
SRV_OBJ := $(SRV_SRC:%.c=$(BUILD)/%.o)
SUP_SRC := $(wildcard tests/support/*.c)
SUP_OBJ := $(SUP_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

LIBNN := $(BUILD)/libnnlab.a
LIBSRV := $(BUILD)/libnnlabsrv.a
NNLABD := $(BUILD)/nnlabd

TEST_TARGETS := test-unit
BENCH_TARGETS :=

.PHONY: all lib daemon tests test test-unit bench run deps deps-run deps-test clean fixtures help

all: lib daemon tests

lib: $(LIBNN)
daemon: $(NNLABD)
tests: $(UNIT_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c $< -o $@

$(LIBNN): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBSRV): $(SRV_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(NNLABD): $(BUILD)/server/main.o $(LIBSRV) $(LIBNN)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# Unit tests link the server library too, so request handlers are tested without a socket.
$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(SUP_OBJ) $(LIBSRV) $(LIBNN)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcriterion -lm

test-unit: $(UNIT_BIN)
	@failed=""; for t in $(UNIT_BIN); do echo "== $$t"; \
	  $$t --jobs 2 --short-filename || failed="$$failed $$t"; done; \
	  if [ -n "$$failed" ]; then echo "test-unit: FAILED:$$failed"; exit 1; fi

-include mk/*.mk

# `make test`: install what is missing (as root), build everything, run every test suite.
# Suites run cheapest-first (unit, then HTTP, browser, deployment, reliability); -k runs every
# suite even after a failure, and make still exits non-zero.
TEST_ORDER := test-unit test-net-generic test-http test-http-san lint-web test-browser deploy-lint \
              deploy-test reliability-quick
ORDERED_TESTS = $(foreach t,$(TEST_ORDER),$(filter $t,$(TEST_TARGETS))) \
                $(filter-out $(TEST_ORDER),$(TEST_TARGETS))
test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -k $(ORDERED_TESTS)
	@echo "make test: all suites passed"

bench: lib
	@$(MAKE) --no-print-directory $(BENCH_TARGETS)

run:
	@$(MAKE) --no-print-directory deps DEPS=run
	@$(MAKE) --no-print-directory daemon
	$(NNLABD) $(ARGS)

# One dependency target for everything: `make deps` installs what `make test` needs (a superset);
# `make deps DEPS=run` only what `make run` needs. As root it runs apt-get; otherwise it prints
# the exact apt-get line and fails. deps-run / deps-test are shorthands for the two profiles.
DEPS ?= test
deps:
	@scripts/deps.sh $(DEPS)
deps-run:
	@$(MAKE) --no-print-directory deps DEPS=run
deps-test:
	@$(MAKE) --no-print-directory deps DEPS=test

fixtures:
	/usr/bin/python3 tests/reference/generate.py tests/fixtures

clean:
	rm -rf build

help:
	@sed -n '1,16p' Makefile

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
