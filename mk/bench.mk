# Benchmarks: every bench/bench_*.c is a program printing one JSON line per case.
# `make bench` runs the ones with a PyTorch counterpart (bench_conv, bench_net, bench_grad) paired with
# bench/torch_bench.py for BENCH_ROUNDS rounds (bench/compare.py: the machine's speed drifts
# within seconds, so every case is measured on both sides back to back, ~0.3-0.6 s each) and ends
# with one "ratio" line per case; then the training epoch (bench_train) the same way for
# BENCH_TRAIN_ROUNDS rounds; the others (bench_rnn) run once; then wrk against the daemon.
# The method is described in docs/performance.md.
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
BENCH_CMP := $(BUILD)/bench/bench_conv $(BUILD)/bench/bench_net $(BUILD)/bench/bench_grad
BENCH_ROUNDS ?= 9
# A training epoch takes seconds on each side (two on PyTorch's: both memory formats), so the
# epoch benchmark runs fewer rounds.
BENCH_TRAIN := $(BUILD)/bench/bench_train
BENCH_TRAIN_ROUNDS ?= 3
RNN_TABLE := $(BUILD)/bench/rnn_table

$(BUILD)/bench/%: bench/%.c $(LIBNN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ibench $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBNN) -lz -lm

.PHONY: bench-nnlab bench-compare bench-train bench-http rnn-table
bench-nnlab: $(BENCH_BIN) ## run the benchmarks without a PyTorch counterpart (bench_rnn)
	@for b in $(filter-out $(BENCH_CMP) $(BENCH_TRAIN),$(BENCH_BIN)); do $$b; done

bench-compare: $(BENCH_CMP) ## bench_conv, bench_net and bench_grad paired with PyTorch, BENCH_ROUNDS (9) rounds
	@if [ -x /usr/bin/python3 ]; then /usr/bin/python3 bench/compare.py $(BENCH_ROUNDS) $(BENCH_CMP); \
	else for b in $(BENCH_CMP); do $$b; done; \
	  echo '{"note": "python3 not installed: PyTorch comparison skipped (apt-get install python3-torch)"}'; fi

bench-train: $(BENCH_TRAIN) ## one Fashion-MNIST training epoch paired with PyTorch, BENCH_TRAIN_ROUNDS (3) rounds
	@if [ -x /usr/bin/python3 ]; then /usr/bin/python3 bench/compare.py $(BENCH_TRAIN_ROUNDS) $(BENCH_TRAIN); \
	else $(BENCH_TRAIN); \
	  echo '{"note": "python3 not installed: PyTorch comparison skipped (apt-get install python3-torch)"}'; fi

# wrk against the release daemon: /conv and /mlp, 2 and 32 connections.
bench-http: $(NNLABD) ## wrk against the release daemon: /conv and /mlp, BENCH_SECONDS (10) s per case
	@tests/http/bench_http.sh $(NNLABD) $(or $(BENCH_SECONDS),10)

# The table of docs/recurrent.md: Elman / LSTM / GRU, seeds 1-5, the assignment's settings.
rnn-table: $(RNN_TABLE) ## print the recurrent nets' results table (seeds 1-5) and its CPU time
	@$(RNN_TABLE)

# /conv on the 256x256 sample PNG with 16 filters (a 254x254x16 answer), JSON against .npy
# ("output_format": "npy"), end to end over HTTP in the same run (bench/http_formats.c, libcurl).
$(BUILD)/bench/http_formats: bench/http_formats.c bench/bench.h $(LIBSRV) $(LIBNN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ibench $(PKG_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBSRV) $(LIBNN) -lcurl -lm

.PHONY: bench-http-formats
bench-http-formats: $(BUILD)/bench/http_formats $(NNLABD) ## /conv JSON vs .npy answer over HTTP, BENCH_FORMAT_ROUNDS (40) paired rounds
	@$(BUILD)/bench/http_formats $(NNLABD) $(or $(BENCH_FORMAT_ROUNDS),40)

BENCH_TARGETS += bench-compare bench-train bench-nnlab bench-http bench-http-formats
