# Fuzzing (tests/fuzz/, docs/reliability.md): one libFuzzer harness per request handler and
# decoder, clang-14 with ASan + UBSan + leak detection.
#
#   make fuzz            each harness for FUZZ_SECONDS (default 300) s, one after another
#   make fuzz-quick      each for FUZZ_QUICK_SECONDS (default 15) s (part of reliability-quick)
#   tests/fuzz/run.sh NAME SECONDS   one harness
#
# The fuzzers have their own objects, compiled with -fsanitize=fuzzer-no-link,address,undefined
# into build/fuzz/ (never the normal build's objects).

FUZZ_CC ?= clang-14
FUZZ_BUILD := build/fuzz
FUZZ_NAMES := conv pool mlp cnn train base64 image npy check
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

# Keep the objects: the pattern chain would otherwise delete them as intermediates.
.SECONDARY: $(FUZZ_OBJ)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -Itests/fuzz $(PKG_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer \
	  -o $@ $< $(FUZZ_OBJ) $(PKG_LIBS) -lm

.PHONY: fuzz-flags-check fuzz-build fuzz fuzz-quick

fuzz-build: $(FUZZ_BIN) ## build the fuzz harnesses into build/fuzz/

# One harness after another (2 cores are shared); each prints its execution count.
fuzz: $(FUZZ_BIN) ## run each fuzz harness for FUZZ_SECONDS (300) s
	@mkdir -p build/reliability
	@set -e; for n in $(FUZZ_NAMES); do \
	  tests/fuzz/run.sh $$n $(FUZZ_SECONDS) build/reliability/results.jsonl; done

fuzz-quick: $(FUZZ_BIN) ## run each fuzz harness for FUZZ_QUICK_SECONDS (15) s
	@set -e; for n in $(FUZZ_NAMES); do tests/fuzz/run.sh $$n $(FUZZ_QUICK_SECONDS); done
