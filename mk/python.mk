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

# The assignment as a notebook (examples/assignment.ipynb), executed top to bottom through the
# client with Debian's jupyter-nbconvert and python3-ipykernel / python3-matplotlib, against a
# daemon that clients/python/tests/daemon.py starts (the one the pytest suite uses; $NNLAB_URL
# when set). Cells record no timings, and the notebook prints none, so an execution changes
# nothing but the embedded figures' bytes on another matplotlib version.
#   make test-notebook   executes it into $(BUILD)/notebook/ and checks that every text output
#                        is the committed one (so the committed notebook shows what the code gives)
#   make notebook        executes it in place, to commit with its outputs
NOTEBOOK := examples/assignment.ipynb
NBCONVERT = PYDEVD_DISABLE_FILE_VALIDATION=1 NNLABD_BIN=$(NNLABD) $(PYTEST_PY) clients/python/tests/daemon.py -- \
  jupyter nbconvert --to notebook --execute --ExecutePreprocessor.record_timing=False \
  --ExecutePreprocessor.timeout=120

.PHONY: test-notebook notebook
test-notebook: $(NNLABD) ## execute examples/assignment.ipynb against a daemon it starts; its text outputs must be the committed ones
	@set -o pipefail; $(NBCONVERT) --output-dir $(BUILD)/notebook $(NOTEBOOK) 2>&1 | { grep -v '^0.00s - ' || true; }
	@$(PYTEST_PY) clients/python/tests/notebook_outputs.py $(NOTEBOOK) $(BUILD)/notebook/assignment.ipynb

notebook: $(NNLABD) ## re-execute examples/assignment.ipynb in place (commit it with its outputs)
	@set -o pipefail; $(NBCONVERT) --inplace $(NOTEBOOK) 2>&1 | { grep -v '^0.00s - ' || true; }

TEST_TARGETS += test-notebook
