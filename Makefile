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

# Each workaround in infra/local/moto_gaps.py switched off in turn: a test must fail each time.
.PHONY: moto-gaps-proof
moto-gaps-proof: setup
	$(BIN)/python -m tests.moto_gaps_proof

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

# Randomized conversations under PF360 faults (tests/reliability), for SOAK_SECONDS (default
# 600): prints a line per batch and writes build/soak.json. `make test` runs a small budget.
.PHONY: soak
soak: setup
	RELIABILITY_PROFILE=soak SOAK_SECONDS=$${SOAK_SECONDS:-600} $(BIN)/python -m pytest \
		tests/reliability/test_conversations.py -q -s -p no:cacheprovider
