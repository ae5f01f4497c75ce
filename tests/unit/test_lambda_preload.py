"""A local cold start imports only our code: every third-party module the deployed
functions' handlers import is already in the zygote (`lambda_worker.PRELOAD`), which
forks it into each new execution environment. A handler that starts to import a library
the zygote lacks makes every cold start import it again (pydantic's and Powertools'
lazily loaded submodules were ~120 ms of CPU per action-function cold start, and `make
load` starts dozens at once): add it to PRELOAD."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The chat API's Lambda runs on AWS only; locally the chat API is waitress (chat_server).
NOT_RUN_LOCALLY = ("agent_bridge.chat.",)

PROBE = """
import importlib, json, os, sys, sysconfig
from infra.local import lambda_worker
for name in lambda_worker.PRELOAD:
    importlib.import_module(name)
lambda_worker._warm_boto3()
site = sysconfig.get_paths()["purelib"]
os.environ.setdefault("AWS_REGION", "us-east-1")
loaded = {}
for handler in sys.argv[1:]:
    before = set(sys.modules)
    lambda_worker.resolve_handler(handler)
    loaded[handler] = sorted(
        name for name in set(sys.modules) - before
        if (getattr(sys.modules[name], "__file__", None) or "").startswith(site)
    )
print(json.dumps(loaded))
"""


def template_handlers() -> list[str]:
    text = (ROOT / "infra" / "template.yaml").read_text()
    handlers = sorted(set(re.findall(r"^\s+Handler: (\S+)\s*$", text, re.MULTILINE)))
    return [h for h in handlers if not h.startswith(NOT_RUN_LOCALLY)]


def test_the_template_has_handlers_to_check() -> None:
    handlers = template_handlers()
    assert "agent_bridge.actions.scheduling.handler" in handlers
    assert "tasks.handlers.book.handler" in handlers


def test_a_cold_start_imports_no_third_party_module_the_zygote_lacks() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *template_handlers()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert {handler: modules for handler, modules in loaded.items() if modules} == {}
