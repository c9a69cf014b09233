# nnlabd's HTTP layer: embedded page assets, the HTTP integration tests (plain and sanitized).
#
# Every file under web/ (except tests, node_modules and dot-files) and server/openapi.json is
# compiled into the daemon: server/assets/mkassets.c (a host tool) writes $(BUILD)/gen/assets.c.
# The file list is recorded in $(BUILD)/gen/assets.list, rewritten only when it changes, so
# adding or removing a page file regenerates the table too.
WEB_ASSETS := $(shell find web -type f -not -path 'web/tests/*' -not -path 'web/node_modules/*' \
                -not -path '*/.*' -not -name '*.test.*' -not -name '*.spec.*' 2>/dev/null | LC_ALL=C sort)
OPENAPI_DOC := $(wildcard server/openapi.json)
ASSET_ARGS := $(foreach f,$(WEB_ASSETS),$(f:web/%=/%)=$(f)) $(if $(OPENAPI_DOC),/openapi.json=$(OPENAPI_DOC))

$(BUILD)/gen/mkassets: server/assets/mkassets.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -o $@ $<

$(BUILD)/gen/assets.list: FORCE
	@mkdir -p $(dir $@)
	@echo '$(ASSET_ARGS)' | cmp -s - $@ || echo '$(ASSET_ARGS)' > $@

$(BUILD)/gen/assets.c: $(BUILD)/gen/mkassets $(BUILD)/gen/assets.list $(WEB_ASSETS) $(OPENAPI_DOC)
	$(BUILD)/gen/mkassets $@ $(ASSET_ARGS)

$(BUILD)/gen/assets.o: $(BUILD)/gen/assets.c server/http_assets.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(NNLABD): $(BUILD)/gen/assets.o

.PHONY: FORCE
FORCE:

# HTTP integration tests: each tests/http/test_*.c is a Criterion binary that starts the real
# daemon ($NNLABD_BIN) on a free port and talks to it with libcurl; the other tests/http/*.c are
# shared helpers.
HTTP_TEST_SRC := $(wildcard tests/http/test_*.c)
HTTP_SUP_SRC := $(filter-out $(HTTP_TEST_SRC),$(wildcard tests/http/*.c))
HTTP_SUP_OBJ := $(HTTP_SUP_SRC:%.c=$(BUILD)/%.o)
HTTP_TEST_BIN := $(HTTP_TEST_SRC:tests/http/%.c=$(BUILD)/tests/http/%)
HTTP_JOBS ?= 2

$(BUILD)/tests/http/test_%: $(BUILD)/tests/http/test_%.o $(HTTP_SUP_OBJ) $(SUP_OBJ) $(LIBNN)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcurl -lcriterion -lm

.PHONY: test-http test-http-san http-tests
http-tests: $(HTTP_TEST_BIN)
tests: $(HTTP_TEST_BIN)

test-http: $(HTTP_TEST_BIN) $(NNLABD)
	@fail=0; for t in $(HTTP_TEST_BIN); do echo "== $$t (against $(NNLABD))"; \
	  NNLABD_BIN=$(NNLABD) $$t --jobs $(HTTP_JOBS) --short-filename || fail=1; done; exit $$fail

# The same tests against the ASan+UBSan daemon (build/san/nnlabd).
test-http-san: $(HTTP_TEST_BIN)
	@$(MAKE) --no-print-directory SAN=1 daemon
	@fail=0; for t in $(HTTP_TEST_BIN); do echo "== $$t (against build/san/nnlabd)"; \
	  NNLABD_BIN=build/san/nnlabd NNLAB_TEST_SLOW=4 $$t --jobs $(HTTP_JOBS) --short-filename \
	  || fail=1; done; exit $$fail

TEST_TARGETS += test-http test-http-san

# wrk against the running daemon (release build): /conv and /mlp, 2 and 32 connections.
.PHONY: bench-http
bench-http: $(NNLABD)
	@tests/http/bench_http.sh $(NNLABD) $(or $(BENCH_SECONDS),10)

BENCH_TARGETS += bench-http

# /conv on the 256x256 sample PNG with 16 filters (a 254x254x16 answer), JSON against .npy
# ("output_format": "npy"), end to end over HTTP in the same run (bench/http_formats.c, libcurl).
$(BUILD)/bench/http_formats: bench/http_formats.c bench/bench.h $(LIBSRV) $(LIBNN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ibench $(PKG_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBSRV) $(LIBNN) -lcurl -lm

.PHONY: bench-http-formats
bench-http-formats: $(BUILD)/bench/http_formats $(NNLABD)
	@$(BUILD)/bench/http_formats $(NNLABD) $(or $(BENCH_FORMAT_ROUNDS),40)

BENCH_TARGETS += bench-http-formats
