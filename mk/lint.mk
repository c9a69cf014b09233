# Source-shape checks of the C code (DEVELOPERS.md, "Style"). `make lint-c` lists every function
# in core/ and server/ longer than 80 lines (scripts/long_functions.py; a signature over several
# lines counts whole) and fails if there is one that scripts/long_functions.allow does not name
# with its reason. It runs before the unit suites, so `make test-unit` fails on a new long
# function too.
LONG_FUNCTION_MAX := 80

.PHONY: lint-c
lint-c: ## fail if a function in core/ or server/ is longer than 80 lines (scripts/long_functions.py)
	@scripts/long_functions.py --max $(LONG_FUNCTION_MAX) --allow scripts/long_functions.allow core server

test-unit: lint-c
