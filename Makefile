# nnlab — top-level build.  `make` builds, `make test` tests, `make run` serves, `make bench`
# measures; `make help` lists every target.
#
# Layout of the build:
#   core/*.c            -> $(BUILD)/libnnlab.a      (the numeric library; no HTTP, no JSON)
#   server/*.c - main.c -> $(BUILD)/libnnlabsrv.a   (request -> response logic, HTTP layer)
#   server/main.c       -> $(BUILD)/nnlabd          (the daemon)
#   tests/unit/test_*.c -> $(BUILD)/tests/test_*    (one Criterion binary per file)
#   tests/support/*.c   -> linked into every test binary (fixture loader, helpers; handler_test.c
#                          into the unit tests only)
# mk/<concern>.mk adds the targets of one concern (assets, http, browser, deploy, fuzz,
# reliability, bench) and registers its suites in TEST_TARGETS / BENCH_TARGETS.
# Every target carries a `## what it does` comment: that is what `make help` prints.
#
# Options:  SAN=1 (clang, AddressSanitizer + UndefinedBehaviorSanitizer, build/san)
#           NATIVE=1 (-march=native; the default build is portable and picks SIMD at run time)
#           CC=clang (any C11 compiler; the code builds warning-free under gcc and clang)

.DEFAULT_GOAL := all
SHELL := /bin/bash

BUILD ?= build
CC ?= cc
PKGS := libmicrohttpd libcjson stb zlib

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

# Per-object optimisation. The recurrent training kernels' loops have run-time lengths of a few
# elements (hidden 6, 24 gate rows), the float32 optimisers' the parameter count: gcc's -O2 cost
# model vectorizes only loops whose trip count is a known multiple of the vector width, so these
# files are built with -O3. -fno-trapping-math lets it if-convert the clamps of the branch-free
# exp (nn_rnn_math.h) and the optimisers' choices; -fno-math-errno lets Adam use the sqrt
# instruction in vector form (same correctly rounded result). Nothing in them reads errno or
# traps, and the bits do not change (every fma is written out; gcc does not contract in -std=c11).
# (In a SAN=1 build this also lifts them from -O1 to -O3.)
RNN_OPT_OBJ := $(BUILD)/core/nn_rnn_fast.o $(BUILD)/core/nn_adam.o $(BUILD)/core/nn_optim.o
$(RNN_OPT_OBJ): override CFLAGS += -O3 -fno-trapping-math -fno-math-errno
# stb_image's translation unit is built with -fwrapv: stb 2.27 lets a corrupt JPEG overflow an
# int (server/srv_stb_image.c says where); defined wrapping keeps that deterministic, and UBSan
# keeps checking our own code.
$(BUILD)/server/srv_stb_image.o: override CFLAGS += -fwrapv
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs libmicrohttpd libcjson zlib 2>/dev/null)

CORE_SRC := $(wildcard core/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
SRV_SRC := $(filter-out server/main.c,$(wildcard server/*.c))
SRV_OBJ := $(SRV_SRC:%.c=$(BUILD)/%.o)
# tests/support/handler_test.c calls the request handlers: only the unit tests, which link the
# server library, get it (SUP_SRV_OBJ); every test binary gets the rest (SUP_OBJ).
SUP_SRV_SRC := tests/support/handler_test.c
SUP_SRC := $(filter-out $(SUP_SRV_SRC),$(wildcard tests/support/*.c))
SUP_OBJ := $(SUP_SRC:%.c=$(BUILD)/%.o)
SUP_SRV_OBJ := $(SUP_SRV_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

LIBNN := $(BUILD)/libnnlab.a
LIBSRV := $(BUILD)/libnnlabsrv.a
NNLABD := $(BUILD)/nnlabd

TEST_TARGETS := test-unit
BENCH_TARGETS :=

.PHONY: all lib daemon test-bins test test-unit test-net-generic bench run deps deps-run deps-test \
        clean fixtures help

all: lib daemon test-bins ## build the library, the daemon and every test binary (the default)

lib: $(LIBNN) ## build the numeric library, build/libnnlab.a
daemon: $(NNLABD) ## build the daemon, build/nnlabd
test-bins: $(UNIT_BIN) ## build every unit and HTTP test binary without running them

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
$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(SUP_OBJ) $(SUP_SRV_OBJ) $(LIBSRV) $(LIBNN)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcriterion -lm

test-unit: $(UNIT_BIN) ## run every Criterion suite in tests/unit/
	@failed=""; for t in $(UNIT_BIN); do echo "== $$t"; \
	  $$t --jobs 2 --short-filename || failed="$$failed $$t"; done; \
	  if [ -n "$$failed" ]; then echo "test-unit: FAILED:$$failed"; exit 1; fi

# The convolution and pooling kernels pick AVX-512 at run time; this reruns the pool and CNN
# suites on the portable kernels, so both paths stay tested on a machine that has AVX-512.
test-net-generic: $(BUILD)/tests/test_pool $(BUILD)/tests/test_pool_sep $(BUILD)/tests/test_cnn ## rerun the pool and CNN suites with NNLAB_SIMD=generic
	@echo "== pool and cnn suites with NNLAB_SIMD=generic"
	@NNLAB_SIMD=generic $(BUILD)/tests/test_pool --jobs 2 --short-filename
	@NNLAB_SIMD=generic $(BUILD)/tests/test_pool_sep --jobs 2 --short-filename
	@NNLAB_SIMD=generic $(BUILD)/tests/test_cnn --jobs 2 --short-filename

TEST_TARGETS += test-net-generic

-include mk/*.mk

# `make test`: install what is missing (as root), build everything, run every test suite.
# Suites run cheapest-first (unit, then HTTP, browser, deployment, reliability); -k runs every
# suite even after a failure, and make still exits non-zero.
TEST_ORDER := test-unit test-net-generic test-http test-python test-notebook test-http-san lint-web test-browser \
              deploy-lint deploy-test reliability-quick
ORDERED_TESTS = $(foreach t,$(TEST_ORDER),$(filter $t,$(TEST_TARGETS))) \
                $(filter-out $(TEST_ORDER),$(TEST_TARGETS))
test: deps ## install what is missing, build, run every suite in TEST_ORDER (about 12 min)
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -k $(ORDERED_TESTS)
	@echo "make test: all suites passed"

bench: lib ## run every benchmark (BENCH_TARGETS), one JSON line per case
	@$(MAKE) --no-print-directory $(BENCH_TARGETS)

run: ## install what the daemon needs, build it, serve on 127.0.0.1:8080 (ARGS="--port ...")
	@$(MAKE) --no-print-directory deps DEPS=run
	@$(MAKE) --no-print-directory daemon
	$(NNLABD) $(ARGS)

# One dependency target for everything: `make deps` installs what `make test` needs (a superset);
# `make deps DEPS=run` only what `make run` needs. As root it runs apt-get; otherwise it prints
# the exact apt-get line and fails. deps-run / deps-test are shorthands for the two profiles.
DEPS ?= test
deps: ## install the Debian packages of profile DEPS (test, the default, or run)
	@scripts/deps.sh $(DEPS)
deps-run: ## install what `make run` needs (deps DEPS=run)
	@$(MAKE) --no-print-directory deps DEPS=run
deps-test: ## install what `make test` needs (deps DEPS=test)
	@$(MAKE) --no-print-directory deps DEPS=test

fixtures: ## regenerate tests/fixtures/ with PyTorch and NumPy (needs python3-torch)
	/usr/bin/python3 tests/reference/generate.py tests/fixtures

clean: ## remove build/
	rm -rf build

# Every rule line `target: ... ## what it does` in the Makefile and mk/*.mk, one line each,
# grouped by the file that defines it.
help: ## list every target with what it does
	@awk '/^[a-zA-Z0-9_.-]+:[^=]*## / { \
	    if (FILENAME != last) { printf "%s%s:\n", (last ? "\n" : ""), FILENAME; last = FILENAME } \
	    t = $$0; sub(/:.*/, "", t); d = $$0; sub(/^[^#]*## /, "", d); printf "  %-22s %s\n", t, d }' \
	  $(filter-out %.d,$(MAKEFILE_LIST))
	@echo; echo "Options: SAN=1 (clang, ASan+UBSan, build/san)  NATIVE=1 (-march=native)  CC=clang  BUILD=dir"

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
