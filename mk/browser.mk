# Browser tests of the web page (tests/browser, Playwright via playwright-core + Debian's
# chromium; docs/page.md).
# `make test-browser`: installs the npm test dependency if missing (npm ci, from the committed
# lockfile), starts the freshly built nnlabd on a free loopback port, runs the suite with node's
# built-in test runner, stops the daemon. Screenshots land in $(BUILD)/screenshots/.
BROWSER_DIR := tests/browser
BROWSER_TESTS := $(wildcard $(BROWSER_DIR)/*.test.mjs)
SCREENSHOT_DIR := $(abspath $(BUILD))/screenshots

.PHONY: test-browser
test-browser: $(NNLABD) ## run the Playwright tests of the page (tests/browser/) in headless Chromium
	@set -e; \
	if [ ! -d $(BROWSER_DIR)/node_modules/playwright-core ]; then \
	  (cd $(BROWSER_DIR) && npm ci --no-audit --no-fund --loglevel=error); fi; \
	mkdir -p $(SCREENSHOT_DIR); \
	port=$$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'); \
	$(NNLABD) --host 127.0.0.1 --port $$port 2>$(SCREENSHOT_DIR)/nnlabd.log & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null || true' EXIT; \
	for i in $$(seq 100); do curl -fsS -o /dev/null http://127.0.0.1:$$port/healthz 2>/dev/null && break; sleep 0.1; done; \
	echo "== browser tests against nnlabd on port $$port (screenshots: $(SCREENSHOT_DIR))"; \
	NNLAB_URL=http://127.0.0.1:$$port SCREENSHOT_DIR=$(SCREENSHOT_DIR) \
	  node --test --test-concurrency=1 $(BROWSER_TESTS)

TEST_TARGETS += test-browser
