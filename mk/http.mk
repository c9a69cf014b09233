# HTTP integration tests: each tests/http/test_*.c is a Criterion binary that starts the real
# daemon ($NNLABD_BIN) on a free port and talks to it with libcurl; the other tests/http/*.c are
# shared helpers. The same binaries run against the release and the ASan+UBSan daemon.
HTTP_TEST_SRC := $(wildcard tests/http/test_*.c)
HTTP_SUP_SRC := $(filter-out $(HTTP_TEST_SRC),$(wildcard tests/http/*.c))
HTTP_SUP_OBJ := $(HTTP_SUP_SRC:%.c=$(BUILD)/%.o)
HTTP_TEST_BIN := $(HTTP_TEST_SRC:tests/http/%.c=$(BUILD)/tests/http/%)
HTTP_JOBS ?= 2

$(BUILD)/tests/http/test_%: $(BUILD)/tests/http/test_%.o $(HTTP_SUP_OBJ) $(SUP_OBJ) $(LIBNN)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcurl -lcriterion -lm

.PHONY: test-http test-http-san test-http-bins
test-http-bins: $(HTTP_TEST_BIN) ## build the HTTP test binaries without running them
test-bins: $(HTTP_TEST_BIN)

test-http: $(HTTP_TEST_BIN) $(NNLABD) ## run the HTTP tests (tests/http/) against the release daemon
	@fail=0; for t in $(HTTP_TEST_BIN); do echo "== $$t (against $(NNLABD))"; \
	  NNLABD_BIN=$(NNLABD) $$t --jobs $(HTTP_JOBS) --short-filename || fail=1; done; exit $$fail

test-http-san: $(HTTP_TEST_BIN) ## run the HTTP tests against the ASan+UBSan daemon (build/san/nnlabd)
	@$(MAKE) --no-print-directory SAN=1 daemon
	@fail=0; for t in $(HTTP_TEST_BIN); do echo "== $$t (against build/san/nnlabd)"; \
	  NNLABD_BIN=build/san/nnlabd NNLAB_TEST_SLOW=4 $$t --jobs $(HTTP_JOBS) --short-filename \
	  || fail=1; done; exit $$fail

TEST_TARGETS += test-http test-http-san
