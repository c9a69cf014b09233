# Benchmarks: every bench/bench_*.c is a program printing one JSON line per case.
# `make bench` runs them all, then (if Debian's python3-torch is installed) bench/torch_bench.py,
# which prints the same cases for PyTorch on this machine in the same run, for comparison.
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

$(BUILD)/bench/%: bench/%.c $(LIBNN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ibench $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBNN) -lm

.PHONY: bench-nnlab bench-torch
bench-nnlab: $(BENCH_BIN)
	@for b in $(BENCH_BIN); do $$b; done

bench-torch:
	@if [ -f bench/torch_bench.py ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then \
	  /usr/bin/python3 bench/torch_bench.py; \
	else echo '{"note": "python3-torch not installed: PyTorch comparison skipped (apt-get install python3-torch)"}'; fi

BENCH_TARGETS += bench-nnlab bench-torch
