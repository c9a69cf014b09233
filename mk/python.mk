# The Python client (clients/python, `import nnlab`): its pytest suite against a real daemon
# that the test session starts (build/nnlabd on a free port; or $NNLAB_URL when set). Debian's
# python3-pytest and python3-numpy (scripts/deps.sh test), run by /usr/bin/python3. Nothing is
# written into the source tree (no bytecode, no pytest cache).
PYTEST_PY ?= /usr/bin/python3

.PHONY: test-python
test-python: $(NNLABD) ## run the Python client's pytest suite (clients/python/tests) against a daemon it starts
	@PYTHONDONTWRITEBYTECODE=1 NNLABD_BIN=$(NNLABD) $(PYTEST_PY) -m pytest -q -p no:cacheprovider \
	  clients/python/tests

TEST_TARGETS += test-python
