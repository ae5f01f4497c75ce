# Every target depends on `setup`, so a fresh clone needs nothing but `make demo` or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup test lint demo run token sandbox local-stack sfn-local bench-workflow clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint infra/template.yaml

demo: setup
	$(BIN)/python -m infra.local.demo

sandbox: setup
	$(BIN)/python -m infra.local.pf360_sandbox --port $${PORT:-8360}

local-stack: setup
	$(BIN)/python -m infra.local.stack --port $${PORT:-5005}

sfn-local: setup
	$(BIN)/python -m infra.local.sfn_local

# The workflow path against the seed's direct design, alternately, at PF360 latency 100 and
# 0 ms; prints per turn kind and writes build/bench.json (not part of `make test`).
.PHONY: bench
bench: setup
	$(BIN)/python -m tests.bench.bench $${CONVERSATIONS:+--conversations $$CONVERSATIONS}

# locust (headless, pinned) against the chat API with the local agent at 10, 50 and 100
# users; writes build/load.json (not part of `make test`). SECONDS per level (default 60).
.PHONY: load
load: setup
	$(BIN)/pip install --quiet -e ".[load]"
	$(BIN)/python -m tests.load.run_load $${SECONDS_PER_LEVEL:+--seconds $$SECONDS_PER_LEVEL} $${USERS:+--users $$USERS}

bench-workflow: setup
	$(BIN)/python -m tests.bench.bench_workflow $${FLOWS:+--flows $$FLOWS}

# The action groups' OpenAPI schemas from the resolvers, and their copies (with the agent
# instructions) in infra/template.yaml; `--check` reports drift instead of writing.
.PHONY: schemas
schemas: setup
	$(BIN)/python -m agent_bridge.schemas

run: setup
	$(BIN)/python -m agent_bridge.chat.server

token: setup
	@test -n "$(CUSTOMER)" -a -n "$(CLIENT)" || { echo "usage: make token CUSTOMER=CUST001 CLIENT=acme-corp" >&2; exit 2; }
	@$(BIN)/python -m infra.local.dev_tokens --customer "$(CUSTOMER)" --client "$(CLIENT)"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
