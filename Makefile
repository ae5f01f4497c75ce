# Every target depends on `setup`, so a fresh clone needs nothing but `make demo` or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup test lint demo run token sandbox local-stack sfn-local bench-workflow clean chromium ops-demo

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

test: setup chromium
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The browser tests' Chromium: found, installed with apt as root, or one sentence saying what to install.
chromium:
	@sh infra/local/ensure_chromium.sh

lint: setup sam
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint -c I -- infra/template.yaml
	$(BIN)/python -m infra.iam_policy
	SAM_CLI_TELEMETRY=0 $(SAM) validate --lint --region us-east-1 -t infra/template.yaml

demo: setup
	$(BIN)/python -m infra.local.demo

sandbox: setup
	@$(BIN)/python -m infra.local.ports --sandbox $${SANDBOX_PORT:-8360}
	$(BIN)/python -m infra.local.pf360_sandbox --port $${SANDBOX_PORT:-8360}

local-stack: setup
	@$(BIN)/python -m infra.local.ports --aws $${AWS_PORT:-5005} --sandbox $${SANDBOX_PORT:-8360}
	$(BIN)/python -m infra.local.stack --port $${AWS_PORT:-5005} --sandbox-port $${SANDBOX_PORT:-8360}

sfn-local: setup
	$(BIN)/python -m infra.local.sfn_local

# Each workaround in infra/local/moto_gaps.py switched off in turn: a test must fail each time.
.PHONY: moto-gaps-proof
moto-gaps-proof: setup
	$(BIN)/python -m tests.moto_gaps_proof

# The workflow path against the seed's direct design, alternately, at PF360 latency 100 and
# 0 ms; prints per turn kind and writes build/bench.json (not part of `make test`).
.PHONY: bench
bench: setup
	$(BIN)/python -m tests.bench.bench $${CONVERSATIONS:+--conversations $$CONVERSATIONS}

# locust (headless, pinned) against the chat API with the local agent at 10, 50 and 100
# users; writes build/load.json (not part of `make test`). SECONDS per level (default 60);
# CHAT_THREADS: turns the chat API serves at once; CHAT_IN_PROCESS=1: the old one-process setup.
.PHONY: load
load: setup
	$(BIN)/pip install --quiet -e ".[load]"
	$(BIN)/python -m tests.load.run_load $${SECONDS_PER_LEVEL:+--seconds $$SECONDS_PER_LEVEL} $${USERS:+--users $$USERS} \
		$${CHAT_THREADS:+--chat-threads $$CHAT_THREADS} $${CHAT_IN_PROCESS:+--chat-in-process}

bench-workflow: setup
	$(BIN)/python -m tests.bench.bench_workflow $${FLOWS:+--flows $$FLOWS}

# The action groups' OpenAPI schemas from the resolvers, and their copies (with the agent
# instructions) in infra/template.yaml; `--check` reports drift instead of writing.
.PHONY: schemas
schemas: setup
	$(BIN)/python -m agent_bridge.schemas

run: setup
	@$(BIN)/python -m infra.local.ports --chat $${CHAT_PORT:-8080} --aws $${AWS_PORT:-5005} --sandbox $${SANDBOX_PORT:-8360}
	$(BIN)/python -m infra.local.chat_server --port $${CHAT_PORT:-8080} --aws-port $${AWS_PORT:-5005} --sandbox-port $${SANDBOX_PORT:-8360}

# The local stack with failed, waiting and replayed bookings made through the chat API, and
# the ops console open on them (docs/local-stack.md).
ops-demo: setup
	@$(BIN)/python -m infra.local.ports --chat $${CHAT_PORT:-8080} --aws $${AWS_PORT:-5005} --sandbox $${SANDBOX_PORT:-8360}
	$(BIN)/python -m infra.local.ops_demo --port $${CHAT_PORT:-8080} --aws-port $${AWS_PORT:-5005} --sandbox-port $${SANDBOX_PORT:-8360}

token: setup
	@test -n "$(CUSTOMER)" -a -n "$(CLIENT)" || { echo "usage: make token CUSTOMER=CUST001 CLIENT=acme-corp" >&2; exit 2; }
	@$(BIN)/python -m infra.local.dev_tokens --customer "$(CUSTOMER)" --client "$(CLIENT)"

clean:
	rm -rf $(VENV) $(SAM_VENV) build .pytest_cache .mypy_cache .ruff_cache

# AWS SAM CLI in its own venv (its pins differ from ours); `sam validate --lint` is offline.
SAM_VENV  := .venv-sam
SAM       := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
SAM_CLI_VERSION := 1.170.0

.PHONY: sam package deploy
sam: $(SAM_STAMP)

$(SAM_STAMP):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet "aws-sam-cli==$(SAM_CLI_VERSION)"
	touch $(SAM_STAMP)

# The Lambda artifacts: build/lambda/functions/<Id>/ (each function's own modules) and
# build/lambda/layer/ (requirements-lambda.txt for python3.12 on arm64). See docs/deploy.md.
package: setup
	$(BIN)/python -m infra.package

# Environments, runtime flags and rollback (docs/environments.md). ENV is dev, qa, staging
# or prod (infra/envs/<ENV>.json); ENDPOINT points the flag and code commands at a local
# stack (`make local-stack`, then e.g. ENDPOINT=http://127.0.0.1:5005 ENV=dev).
ENV ?= dev
ENDPOINT ?=
FLAGCTL = $(BIN)/python -m infra.flagctl --env $(ENV) $(if $(ENDPOINT),--endpoint-url $(ENDPOINT))

.PHONY: deploy rollback rollforward rollout flags rollback-code bench-rollback
# `make deploy ENV=qa`: credentials and infra/envs/qa.json checked first (without
# credentials it stops at once), then package, then `sam deploy` with that file (no prompts).
deploy: setup
	$(BIN)/python -m infra.deploy --env $(ENV) check
	$(MAKE) package sam
	$(BIN)/python -m infra.deploy --env $(ENV) deploy

rollback: setup
	$(FLAGCTL) rollback

rollforward: setup
	$(FLAGCTL) rollforward

# make rollout ENV=prod CLIENT=acme-corp [CUSTOMER=CUST001] [FLAG=use_real_api] [VALUE=on]
rollout: setup
	@test -n "$(CLIENT)" || { echo "usage: make rollout ENV=prod CLIENT=acme-corp [CUSTOMER=CUST001] [FLAG=use_real_api] [VALUE=on|off]" >&2; exit 2; }
	$(FLAGCTL) rule $(or $(FLAG),use_real_api) $(or $(VALUE),on) --client $(CLIENT) $(if $(CUSTOMER),--customer $(CUSTOMER))

# make flags ENV=prod [ARGS="history" | ARGS="set confirm_schedule off" | ARGS="reset use_real_api"]
flags: setup
	$(FLAGCTL) $(or $(ARGS),show)

rollback-code: setup
	$(BIN)/python -m infra.deploy --env $(ENV) rollback-code $(if $(ENDPOINT),--endpoint-url $(ENDPOINT))

bench-rollback: setup
	$(BIN)/python -m tests.bench.bench_rollback

# Randomized conversations under PF360 faults (tests/reliability), for SOAK_SECONDS (default
# 600): prints a line per batch and writes build/soak.json. `make test` runs a small budget.
.PHONY: soak
soak: setup
	RELIABILITY_PROFILE=soak SOAK_SECONDS=$${SOAK_SECONDS:-600} $(BIN)/python -m pytest \
		tests/reliability/test_conversations.py -q -s -p no:cacheprovider
