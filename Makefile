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

# `make deploy` = package, then `sam deploy --guided` (asks for the stack name, region and
# parameters the first time and saves them in samconfig.toml). Needs AWS credentials.
deploy: package sam
	SAM_CLI_TELEMETRY=0 $(SAM) deploy -t infra/template.yaml --guided --capabilities CAPABILITY_IAM --resolve-s3
