# Deployment (docker/, docs/deployment.md): lint and check what can be checked without a Docker
# engine or a cluster.
#
#   make deploy-lint   yamllint, a Dockerfile linter (dockerfile-utils, from npm), shellcheck,
#                      the static cross-checks of tests/deploy/check_deploy.py and their
#                      mutation test, `nginx -t` on nginx.conf
#   make deploy-test   runs the daemon exactly as the image's ENTRYPOINT does (user, flags,
#                      environment, tini, HEALTHCHECK) behind the real nginx.conf; see
#                      tests/deploy/entrypoint_test.py
#   make docker-build  docker build (needs a Docker engine; not part of `make test`)
#   make docker-up     docker compose up (idem)
DEPLOY_OUT := $(BUILD)/deploy
DEPLOY_NPM := $(DEPLOY_OUT)/npm
DOCKERFILE_UTILS := $(DEPLOY_NPM)/node_modules/.bin/dockerfile-utils
DOCKERFILE_UTILS_VERSION := 0.16.3
DEPLOY_PY := /usr/bin/python3
DOCKER_IMAGE ?= nnlab:latest

.PHONY: deploy-lint deploy-test docker-build docker-up

# Pinned, installed under $(BUILD) from the npm registry (no global install, no package.json).
$(DOCKERFILE_UTILS):
	@mkdir -p $(DEPLOY_NPM)
	cd $(DEPLOY_NPM) && npm install --no-save --no-audit --no-fund --loglevel=error --prefix . \
	  dockerfile-utils@$(DOCKERFILE_UTILS_VERSION) >/dev/null

deploy-lint: $(DOCKERFILE_UTILS) $(NNLABD) ## lint and cross-check docker/ (yamllint, dockerfile-utils, shellcheck, nginx -t)
	@mkdir -p $(DEPLOY_OUT)
	@echo "== yamllint docker/"
	yamllint --strict -c tests/deploy/yamllint.yaml docker/compose.yaml docker/k8s/
	@echo "== dockerfile-utils lint docker/Dockerfile"
	$(DOCKERFILE_UTILS) lint docker/Dockerfile
	@echo "== shellcheck"
	shellcheck docker/healthcheck.sh tests/deploy/mutation_test.sh
	@echo "== tests/deploy/check_deploy.py"
	$(DEPLOY_PY) tests/deploy/check_deploy.py --nnlabd $(NNLABD) --out $(DEPLOY_OUT)
	@echo "== tests/deploy/mutation_test.sh (the checks catch broken files)"
	tests/deploy/mutation_test.sh $(NNLABD)
	@echo "== nginx -t docker/nginx.conf"
	@t=$$(mktemp -d) && trap 'rm -rf "$$t"' EXIT && \
	  $(DEPLOY_PY) tests/deploy/check_deploy.py --render-nginx 127.0.0.1:1,127.0.0.1:2 18080 "$$t" \
	    > "$$t/nginx.conf" && nginx -t -q -p "$$t" -c "$$t/nginx.conf" && echo "nginx -t: ok"
	@if docker compose version >/dev/null 2>&1; then \
	  echo "== docker compose config"; docker compose -f docker/compose.yaml config -q; \
	else echo "== docker compose plugin absent: compose rendered by check_deploy.py into $(DEPLOY_OUT)"; fi

deploy-test: $(NNLABD) ## run the daemon as the image does, behind the real nginx.conf
	$(DEPLOY_PY) tests/deploy/entrypoint_test.py --nnlabd $(NNLABD)

docker-build: ## docker build the image (needs a Docker engine; not in make test)
	docker build -f docker/Dockerfile -t $(DOCKER_IMAGE) .

docker-up: ## docker compose up: replicas behind nginx (needs a Docker engine)
	docker compose -f docker/compose.yaml up -d --build

TEST_TARGETS += deploy-lint deploy-test

