# Reliability (issue 7): fuzzing, known-bad images, load, slow clients, soak, numerics.
#
#   make fuzz            each libFuzzer harness for FUZZ_SECONDS (default 300) s (image_msan too)
#   make fuzz-quick      each for FUZZ_QUICK_SECONDS (default 15) s, leaks detected (in make test)
#   make bad-images      every tests/data/bad_images file POSTed to the sanitizer daemon
#   make bad-images-valgrind   the same against the release daemon under valgrind memcheck
#   make load            wrk, LOAD_SECONDS (60) s at LOAD_CONNECTIONS (64) on the release daemon
#   make load-quick      the same for 10 s                                         (in make test)
#   make slow-clients    slow / broken / malformed clients on the sanitizer daemon (in make test)
#   make slow-clients-valgrind   the same (shorter) under valgrind --leak-check=full
#   make numerics        huge / tiny values, diverging trainings, sanitizer daemon (in make test)
#   make soak            mixed load for SOAK_SECONDS (600) s on the sanitizer daemon (errors,
#                        leaks), then SOAK_RELEASE_SECONDS (300) s on the release one (flat RSS)
#   make soak-quick      the same for 30 s + 20 s                                  (in make test)
#   make reliability     all of the long versions
#   make reliability-quick   every quick version above (this is what `make test` runs)
# Results of the long runs are appended (one JSON line each) to build/reliability/results.jsonl.
#
# The fuzzers have their own objects, compiled with -fsanitize=fuzzer-no-link,address,undefined
# into build/fuzz/ (never the normal build's objects). fuzz_image_msan is the image decoding path
# under MemorySanitizer: its objects (build/fuzz-msan/) are the image decoder's alone, so that no
# uninstrumented library is linked (see tests/fuzz/fuzz_image_msan.c).

FUZZ_CC ?= clang-14
FUZZ_BUILD := build/fuzz
FUZZ_NAMES := conv pool mlp cnn train base64 image image_msan
FUZZ_SECONDS ?= 300
FUZZ_QUICK_SECONDS ?= 15
# UBSan stays recoverable so that tests/fuzz/ubsan.supp can silence a known, tracked report;
# run.sh sets halt_on_error=1, so any other report still stops the fuzzer.
FUZZ_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -g -O1 $(WARN) $(FUZZ_SAN) -pthread -MMD -MP \
  -fsanitize-coverage-ignorelist=tests/fuzz/coverage_ignore.txt
FUZZ_OBJ := $(CORE_SRC:%.c=$(FUZZ_BUILD)/%.o) \
            $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(wildcard server/srv_*.c))
FUZZ_BIN := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
MSAN_BUILD := build/fuzz-msan
MSAN_CFLAGS := -std=c11 -g -O1 $(WARN) -fsanitize=memory -fsanitize-memory-track-origins=2 \
  -fno-omit-frame-pointer -pthread -MMD -MP
MSAN_SRC := server/srv_pixels.c server/srv_jpeg_walk.c server/srv_png_walk.c server/srv_zwalk.c \
            server/srv_budget.c server/srv_response.c server/srv_buf.c core/nn_status.c
MSAN_OBJ := $(MSAN_SRC:%.c=$(MSAN_BUILD)/%.o)
REL_PY ?= /usr/bin/python3
REL_OUT := build/reliability
SAN_NNLABD := build/san/nnlabd
LOAD_SECONDS ?= 60
LOAD_CONNECTIONS ?= 64
SOAK_SECONDS ?= 600
SOAK_RELEASE_SECONDS ?= 300

# The objects depend on the flags they were built with (rewritten only when they change).
$(FUZZ_BUILD)/flags: fuzz-flags-check
	@mkdir -p $(dir $@)
	@echo '$(FUZZ_CC) $(FUZZ_CFLAGS)' | cmp -s - $@ || echo '$(FUZZ_CC) $(FUZZ_CFLAGS)' > $@

$(FUZZ_BUILD)/core/%.o: core/%.c $(FUZZ_BUILD)/flags tests/fuzz/coverage_ignore.txt
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(PKG_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/server/%.o: server/%.c $(FUZZ_BUILD)/flags tests/fuzz/coverage_ignore.txt
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(PKG_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(MSAN_BUILD)/flags: fuzz-flags-check
	@mkdir -p $(dir $@)
	@echo '$(FUZZ_CC) $(MSAN_CFLAGS)' | cmp -s - $@ || echo '$(FUZZ_CC) $(MSAN_CFLAGS)' > $@

$(MSAN_BUILD)/%.o: %.c $(MSAN_BUILD)/flags
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(PKG_CFLAGS) $(MSAN_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# Keep the objects: the pattern chain would otherwise delete them as intermediates.
.SECONDARY: $(FUZZ_OBJ) $(MSAN_OBJ)

# An explicit rule: it takes precedence over the ASan pattern rule below.
$(FUZZ_BUILD)/fuzz_image_msan: tests/fuzz/fuzz_image_msan.c tests/fuzz/fuzz_common.h $(MSAN_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -Itests/fuzz $(PKG_CFLAGS) $(MSAN_CFLAGS) -fsanitize=fuzzer \
	  -o $@ $< $(MSAN_OBJ)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -Itests/fuzz $(PKG_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer \
	  -o $@ $< $(FUZZ_OBJ) $(PKG_LIBS) -lm

.PHONY: bad-images-valgrind reliability-quick fuzz-flags-check fuzz-build fuzz fuzz-quick bad-images load load-quick slow-clients \
        slow-clients-valgrind numerics soak soak-quick reliability san-daemon

fuzz-build: $(FUZZ_BIN)

# One harness after another (2 cores are shared); each prints its execution count.
fuzz: $(FUZZ_BIN)
	@mkdir -p $(REL_OUT)
	@set -e; for n in $(FUZZ_NAMES); do \
	  tests/fuzz/run.sh $$n $(FUZZ_SECONDS) $(REL_OUT)/results.jsonl; done

fuzz-quick: $(FUZZ_BIN)
	@set -e; for n in $(FUZZ_NAMES); do tests/fuzz/run.sh $$n $(FUZZ_QUICK_SECONDS); done

san-daemon:
	@$(MAKE) --no-print-directory SAN=1 daemon

# The walks that bound image decoding are tested against zlib itself (the reference inflater).
$(BUILD)/tests/test_image_walk: PKG_LIBS += -lz

# Strict: fails on the files that reproduce open bugs too (their "known_issue" in make.py).
bad-images: san-daemon
	$(REL_PY) tests/reliability/bad_images.py --daemon $(SAN_NNLABD) $(BAD_IMAGES_FLAGS)

# The same files against the release daemon under valgrind memcheck (uninitialised reads).
bad-images-valgrind: daemon
	$(REL_PY) tests/reliability/bad_images.py --daemon $(NNLABD) --valgrind $(BAD_IMAGES_FLAGS)

load: daemon
	@mkdir -p $(REL_OUT)
	$(REL_PY) tests/reliability/load.py --daemon $(NNLABD) --seconds $(LOAD_SECONDS) \
	  --connections $(LOAD_CONNECTIONS) --json $(REL_OUT)/results.jsonl

load-quick: daemon
	$(REL_PY) tests/reliability/load.py --daemon $(NNLABD) --seconds 10 --connections 64

slow-clients: san-daemon
	$(REL_PY) tests/reliability/slow_clients.py --daemon $(SAN_NNLABD)

slow-clients-valgrind: daemon
	$(REL_PY) tests/reliability/slow_clients.py --daemon $(NNLABD) --valgrind

numerics: san-daemon
	$(REL_PY) tests/reliability/numerics.py --daemon $(SAN_NNLABD)

# Leaks and errors on the sanitizer build (LSan at exit); flat RSS on the release build (ASan's
# allocator holds freed memory and finished threads' records, so its RSS is not a leak signal).
soak: san-daemon daemon
	@mkdir -p $(REL_OUT)
	$(REL_PY) tests/reliability/soak.py --daemon $(SAN_NNLABD) --seconds $(SOAK_SECONDS) \
	  --no-rss-check --json $(REL_OUT)/results.jsonl
	$(REL_PY) tests/reliability/soak.py --daemon $(NNLABD) --seconds $(SOAK_RELEASE_SECONDS) \
	  --json $(REL_OUT)/results.jsonl

soak-quick: san-daemon daemon
	$(REL_PY) tests/reliability/soak.py --daemon $(SAN_NNLABD) --seconds 30 --no-rss-check
	$(REL_PY) tests/reliability/soak.py --daemon $(NNLABD) --seconds 20

reliability: fuzz bad-images bad-images-valgrind load slow-clients slow-clients-valgrind numerics soak

# The quick versions, all run even if one fails (a summary names the failures). In `make test`
# the known-bad-image files that reproduce open, reported bugs print XFAIL instead of failing.
RELIABILITY_QUICK := fuzz-quick bad-images load-quick slow-clients numerics soak-quick
reliability-quick:
	@failed=""; for t in $(RELIABILITY_QUICK); do echo "== reliability: $$t"; \
	  $(MAKE) --no-print-directory $$t BAD_IMAGES_FLAGS=--known-ok || failed="$$failed $$t"; \
	done; if [ -n "$$failed" ]; then echo "reliability-quick: FAILED:$$failed"; exit 1; fi; \
	echo "reliability-quick: all passed"

TEST_TARGETS += reliability-quick
