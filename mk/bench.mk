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

# The vanishing gradient measured by nnlab and by PyTorch on the same run (docs/recurrent.md,
# "Gradients through time"): bench/rnn_gradients.py against a daemon started on a free port.
# Needs python3-torch; a few minutes (PyTorch trains 2 epochs of 5000 sequences per model).
.PHONY: rnn-gradients
rnn-gradients: $(NNLABD) ## nnlab's gradient_by_step against PyTorch autograd on the exported run (T = 60, 2 epochs; needs python3-torch)
	@set -e; out=$$(mktemp); $(NNLABD) --host 127.0.0.1 --port 0 > $$out 2>/dev/null & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null || true; rm -f $$out' EXIT; \
	for i in $$(seq 100); do grep -q '^listening on ' $$out && break; sleep 0.1; done; \
	/usr/bin/python3 bench/rnn_gradients.py --url "$$(sed -n 's/^listening on //p' $$out)" $(RNN_GRADIENTS_ARGS)
