# The web page's checks (tests/browser; docs/page.md): ESLint over the page's JavaScript, and the
# Playwright tests (playwright-core + Debian's chromium, axe-core for accessibility).
# `make test-browser` starts the freshly built nnlabd on a free loopback port, runs the suite with
# node's built-in test runner, stops the daemon. Screenshots land in $(BUILD)/screenshots/.
BROWSER_DIR := tests/browser
BROWSER_TESTS := $(wildcard $(BROWSER_DIR)/*.test.mjs)
SCREENSHOT_DIR := $(abspath $(BUILD))/screenshots

# npm ci from the committed lockfile (playwright-core, axe-core, eslint), again whenever the
# lockfile changes; --prefer-offline takes what npm's cache already holds.
BROWSER_NPM := $(BROWSER_DIR)/node_modules/.package-lock.json
$(BROWSER_NPM): $(BROWSER_DIR)/package-lock.json $(BROWSER_DIR)/package.json
	cd $(BROWSER_DIR) && npm ci --prefer-offline --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: test-browser lint-web
test-browser: $(NNLABD) $(BROWSER_NPM) ## run the Playwright tests of the page (tests/browser/) in headless Chromium
	@set -e; \
	mkdir -p $(SCREENSHOT_DIR); \
	port=$$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'); \
	$(NNLABD) --host 127.0.0.1 --port $$port 2>$(SCREENSHOT_DIR)/nnlabd.log & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null || true' EXIT; \
	for i in $$(seq 100); do curl -fsS -o /dev/null http://127.0.0.1:$$port/healthz 2>/dev/null && break; sleep 0.1; done; \
	echo "== browser tests against nnlabd on port $$port (screenshots: $(SCREENSHOT_DIR))"; \
	NNLAB_URL=http://127.0.0.1:$$port SCREENSHOT_DIR=$(SCREENSHOT_DIR) \
	  node --test --test-concurrency=1 $(BROWSER_TESTS)

lint-web: $(BROWSER_NPM) ## ESLint over the page's modules (web/) and the browser tests
	$(BROWSER_DIR)/node_modules/.bin/eslint --max-warnings 0 --config $(BROWSER_DIR)/eslint.config.js web $(BROWSER_DIR)

TEST_TARGETS += lint-web test-browser
