"""Import every Handler of the template from its built artifact, as the Lambda runtime does.

Each function is imported in a fresh interpreter (`python -I -S`: no site-packages, no
current directory, no PYTHON* variables) whose path holds only the function's code tree,
the dependency layer and boto3 (what the runtime provides), so a module or package that
is not shipped fails here instead of on AWS.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

from infra.package import build

_PROBE = """
import importlib, json, sys
sys.path[:0] = json.loads(sys.argv[1])
module_name, _, attribute = sys.argv[2].rpartition(".")
module = importlib.import_module(module_name)
handler = getattr(module, attribute)
assert callable(handler), sys.argv[2] + " is not callable"
own = sorted(
    name for name, m in sys.modules.items()
    if getattr(m, "__file__", None) and not any(
        str(m.__file__).startswith(p) for p in json.loads(sys.argv[1])
    ) and "site-packages" in str(m.__file__)
)
print(json.dumps({"leaked": own}))
"""

LAMBDA_LIKE_ENVIRONMENT = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "LANG": "C.UTF-8",
    "POWERTOOLS_SERVICE_NAME": "pf360-scheduler",
}


@dataclass(frozen=True)
class ImportResult:
    logical_id: str
    handler: str
    ok: bool
    detail: str


def check_imports(manifest: dict[str, object] | None = None) -> list[ImportResult]:
    """Build the host artifacts (cached) and import each handler in its own interpreter."""
    manifest = manifest or build(host=True)
    layer, runtime = str(manifest["layer"]), str(manifest["runtime"])
    functions = manifest["functions"]
    assert isinstance(functions, dict)
    results = []
    for logical_id, info in functions.items():
        path = [info["code"], layer, runtime]
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-I", "-S", "-c", _PROBE, json.dumps(path), info["handler"]],
            capture_output=True,
            text=True,
            env=LAMBDA_LIKE_ENVIRONMENT,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            results.append(ImportResult(logical_id, info["handler"], False, last))
            continue
        leaked = json.loads(done.stdout.strip().splitlines()[-1])["leaked"]
        detail = f"loaded from outside the artifact: {leaked}" if leaked else "imported"
        results.append(ImportResult(logical_id, info["handler"], not leaked, detail))
    return results


def main() -> int:
    results = check_imports()
    for result in results:
        mark = "ok  " if result.ok else "FAIL"
        print(f"{mark} {result.logical_id:30} {result.handler:45} {result.detail}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
