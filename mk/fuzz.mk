# Fuzzing (tests/fuzz/, docs/reliability.md): one libFuzzer harness per request handler and
# decoder, clang-14 with ASan + UBSan + leak detection.
#
#   make fuzz            each harness for FUZZ_SECONDS (default 300) s, one after another
#                        (image_msan, the MemorySanitizer one, too)
#   make fuzz-quick      each for FUZZ_QUICK_SECONDS (default 15) s (part of reliability-quick)
#   tests/fuzz/run.sh NAME SECONDS   one harness
#
# The fuzzers have their own objects, compiled with -fsanitize=fuzzer-no-link,address,undefined
# into build/fuzz/ (never the normal build's objects). fuzz_image_msan is the image decoding path
# under MemorySanitizer: its objects (build/fuzz-msan/) are built with MSan and linked without any
# library, so no uninstrumented code runs in it (see tests/fuzz/fuzz_image_msan.c).

FUZZ_CC ?= clang-14
FUZZ_BUILD := build/fuzz
FUZZ_NAMES := conv pool mlp cnn train train_cnn run base64 image npy check image_msan
FUZZ_SECONDS ?= 300
FUZZ_QUICK_SECONDS ?= 15
# UBSan stays recoverable so that tests/fuzz/ubsan.supp can silence a known, tracked report;
# run.sh sets halt_on_error=1, so any other report still stops the fuzzer.
FUZZ_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -g -O1 $(WARN) $(FUZZ_SAN) -pthread -MMD -MP \
  -fsanitize-coverage-ignorelist=tests/fuzz/coverage_ignore.txt
FUZZ_OBJ := $(CORE_SRC:%.c=$(FUZZ_BUILD)/%.o) \
            $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(wildcard server/srv_*.c)) \
            $(FUZZ_BUILD)/gen/rnn_export_py.o
FUZZ_BIN := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
MSAN_BUILD := build/fuzz-msan
MSAN_CFLAGS := -std=c11 -g -O1 $(WARN) -fsanitize=memory -fsanitize-memory-track-origins=2 \
  -fno-omit-frame-pointer -pthread -MMD -MP
MSAN_OBJ := $(CORE_SRC:%.c=$(MSAN_BUILD)/%.o) \
            $(patsubst %.c,$(MSAN_BUILD)/%.o,$(wildcard server/srv_*.c))
MSAN_LIB := $(MSAN_BUILD)/libmsan.a

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

# stb_image's translation unit with -fwrapv, as in the normal build (Makefile).
$(FUZZ_BUILD)/server/srv_stb_image.o: FUZZ_CFLAGS += -fwrapv
$(MSAN_BUILD)/server/srv_stb_image.o: MSAN_CFLAGS += -fwrapv

$(MSAN_BUILD)/flags: fuzz-flags-check
	@mkdir -p $(dir $@)
	@echo '$(FUZZ_CC) $(MSAN_CFLAGS)' | cmp -s - $@ || echo '$(FUZZ_CC) $(MSAN_CFLAGS)' > $@

$(MSAN_BUILD)/%.o: %.c $(MSAN_BUILD)/flags
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(PKG_CFLAGS) $(MSAN_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# The PyTorch export's template (mk/assets.mk generates its C source).
$(FUZZ_BUILD)/gen/rnn_export_py.o: $(BUILD)/gen/rnn_export_py.c $(FUZZ_BUILD)/flags
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(PKG_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# Keep the objects: the pattern chain would otherwise delete them as intermediates.
.SECONDARY: $(FUZZ_OBJ) $(MSAN_OBJ)

$(MSAN_LIB): $(MSAN_OBJ)
	rm -f $@ && ar rcs $@ $^

# An explicit rule: it takes precedence over the ASan pattern rule below. The linker takes from
# the archive only the objects the harness needs; no library is linked, so an object that
# needed cJSON or libmicrohttpd (uninstrumented) would fail the link instead of hiding from MSan.
$(FUZZ_BUILD)/fuzz_image_msan: tests/fuzz/fuzz_image_msan.c tests/fuzz/fuzz_common.h $(MSAN_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -Itests/fuzz $(PKG_CFLAGS) $(MSAN_CFLAGS) -fsanitize=fuzzer \
	  -o $@ $< $(MSAN_LIB)

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
