# Benchmarks: every bench/bench_*.c is a program printing one JSON line per case.
# `make bench` runs the ones with a PyTorch counterpart (bench_conv, bench_net, bench_grad) paired with
# bench/torch_bench.py for BENCH_ROUNDS rounds (bench/compare.py: the machine's speed drifts
# within seconds, so every case is measured on both sides back to back, ~0.3-0.6 s each) and ends
# with one "ratio" line per case; the others (bench_rnn) run once.
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
BENCH_CMP := $(BUILD)/bench/bench_conv $(BUILD)/bench/bench_net $(BUILD)/bench/bench_grad
BENCH_ROUNDS ?= 9

$(BUILD)/bench/%: bench/%.c $(LIBNN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ibench $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBNN) -lm

.PHONY: bench-nnlab bench-compare
bench-nnlab: $(BENCH_BIN)
	@for b in $(filter-out $(BENCH_CMP),$(BENCH_BIN)); do $$b; done

bench-compare: $(BENCH_CMP)
	@if [ -x /usr/bin/python3 ]; then /usr/bin/python3 bench/compare.py $(BENCH_ROUNDS) $(BENCH_CMP); \
	else for b in $(BENCH_CMP); do $$b; done; \
	  echo '{"note": "python3 not installed: PyTorch comparison skipped (apt-get install python3-torch)"}'; fi

BENCH_TARGETS += bench-compare bench-nnlab
