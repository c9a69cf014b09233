# Reliability (tests/reliability/, docs/reliability.md): known-bad images, load, slow clients,
# soak, numerics; with the fuzzers of mk/fuzz.mk, the quick versions form `make reliability-quick`.
#
#   make bad-images      every tests/data/bad_images file POSTed to the sanitizer daemon
#   make bad-images-valgrind   the same against the release daemon under valgrind memcheck
#   make load            wrk, LOAD_SECONDS (60) s at LOAD_CONNECTIONS (64) on the release daemon
#   make load-quick      the same for 10 s                                         (in make test)
#   make slow-clients    slow / broken / malformed clients on the sanitizer daemon (in make test)
#   make slow-clients-valgrind   the same (shorter) under valgrind --leak-check=full
#   make slowloris       300 / 3000 slowloris connections from one / many addresses, release daemon
#   make numerics        huge / tiny values, diverging trainings, sanitizer daemon (in make test)
#   make soak            mixed load for SOAK_SECONDS (600) s on the sanitizer daemon (errors,
#                        leaks), then SOAK_RELEASE_SECONDS (300) s on the release one (flat RSS)
#   make soak-quick      the same for 30 s + 20 s                                  (in make test)
#   make reliability     all of the long versions, fuzzing included
#   make reliability-quick   every quick version, fuzz-quick included (this is what `make test` runs)
# Results of the long runs are appended (one JSON line each) to build/reliability/results.jsonl.

REL_PY ?= /usr/bin/python3
REL_OUT := build/reliability
SAN_NNLABD := build/san/nnlabd
LOAD_SECONDS ?= 60
LOAD_CONNECTIONS ?= 64
SOAK_SECONDS ?= 600
SOAK_RELEASE_SECONDS ?= 300

.PHONY: bad-images bad-images-valgrind load load-quick slow-clients slow-clients-valgrind numerics \
        soak soak-quick reliability reliability-quick san-daemon slowloris

san-daemon: ## build the ASan+UBSan daemon, build/san/nnlabd
	@$(MAKE) --no-print-directory SAN=1 daemon

# The walks that bound image decoding are tested against zlib itself (the reference inflater).
$(BUILD)/tests/test_image_walk: PKG_LIBS += -lz

# Strict: fails on the files that reproduce open bugs too (their "known_issue" in make.py).
bad-images: san-daemon ## POST every known-bad image to the sanitizer daemon
	$(REL_PY) tests/reliability/bad_images.py --daemon $(SAN_NNLABD) $(BAD_IMAGES_FLAGS)

# The same files against the release daemon under valgrind memcheck (uninitialised reads).
bad-images-valgrind: daemon ## the known-bad images against the release daemon under valgrind
	$(REL_PY) tests/reliability/bad_images.py --daemon $(NNLABD) --valgrind $(BAD_IMAGES_FLAGS)

load: daemon ## wrk on a request mix, LOAD_SECONDS (60) s at LOAD_CONNECTIONS (64)
	@mkdir -p $(REL_OUT)
	$(REL_PY) tests/reliability/load.py --daemon $(NNLABD) --seconds $(LOAD_SECONDS) \
	  --connections $(LOAD_CONNECTIONS) --json $(REL_OUT)/results.jsonl

load-quick: daemon ## the load suite for 10 s
	$(REL_PY) tests/reliability/load.py --daemon $(NNLABD) --seconds 10 --connections 64

slow-clients: san-daemon ## slow, stalled, vanishing and malformed clients (sanitizer daemon)
	$(REL_PY) tests/reliability/slow_clients.py --daemon $(SAN_NNLABD)

slow-clients-valgrind: daemon ## the slow clients under valgrind --leak-check=full
	$(REL_PY) tests/reliability/slow_clients.py --daemon $(NNLABD) --valgrind

slowloris: daemon ## 300 and 3000 slowloris connections from one and many addresses (release daemon)
	@mkdir -p $(REL_OUT)
	$(REL_PY) tests/reliability/slowloris.py --daemon $(NNLABD) --json $(REL_OUT)/results.jsonl

numerics: san-daemon ## huge / tiny values and diverging trainings (sanitizer daemon)
	$(REL_PY) tests/reliability/numerics.py --daemon $(SAN_NNLABD)

# Leaks and errors on the sanitizer build (LSan at exit); flat RSS on the release build (ASan's
# allocator holds freed memory and finished threads' records, so its RSS is not a leak signal).
soak: san-daemon daemon ## mixed load, SOAK_SECONDS (600) s sanitizer + SOAK_RELEASE_SECONDS (300) s release
	@mkdir -p $(REL_OUT)
	$(REL_PY) tests/reliability/soak.py --daemon $(SAN_NNLABD) --seconds $(SOAK_SECONDS) \
	  --no-rss-check --json $(REL_OUT)/results.jsonl
	$(REL_PY) tests/reliability/soak.py --daemon $(NNLABD) --seconds $(SOAK_RELEASE_SECONDS) \
	  --json $(REL_OUT)/results.jsonl

soak-quick: san-daemon daemon ## the soak for 30 s + 20 s
	$(REL_PY) tests/reliability/soak.py --daemon $(SAN_NNLABD) --seconds 30 --no-rss-check
	$(REL_PY) tests/reliability/soak.py --daemon $(NNLABD) --seconds 20

RELIABILITY_LONG := fuzz bad-images bad-images-valgrind load slow-clients slow-clients-valgrind slowloris \
                    numerics soak
reliability: $(RELIABILITY_LONG) ## every long reliability run, fuzzing included

# The quick versions, all run even if one fails (a summary names the failures). In `make test`
# the known-bad-image files that reproduce open, reported bugs print XFAIL instead of failing.
RELIABILITY_QUICK := fuzz-quick bad-images load-quick slow-clients numerics soak-quick
reliability-quick: ## every quick reliability suite, all run even if one fails (in make test)
	@failed=""; for t in $(RELIABILITY_QUICK); do echo "== reliability: $$t"; \
	  $(MAKE) --no-print-directory $$t BAD_IMAGES_FLAGS=--known-ok || failed="$$failed $$t"; \
	done; if [ -n "$$failed" ]; then echo "reliability-quick: FAILED:$$failed"; exit 1; fi; \
	echo "reliability-quick: all passed"

TEST_TARGETS += reliability-quick
