"""Build the Lambda artifacts of infra/template.yaml: one code tree per function, one layer.

    python -m infra.package            # `make package`: arm64 / Python 3.12, for AWS
    python -m infra.package --host     # this machine's Python, for the import test

Each function's code tree (build/lambda/functions/<LogicalId>/) holds only the modules its
Handler imports, found by following `import` statements through our own packages
(agent_bridge, tasks, ops, workflows), plus the data files beside them (instructions,
schemas, HTML): never tests, docs, .ci, infra/local or the dev secrets. The layer
(build/lambda/layer/python/) holds the pinned packages of requirements-lambda.txt; boto3
comes from the Lambda runtime. The template's CodeUri and ContentUri point at these
directories, so `sam deploy` (or `sam package`) uploads exactly what was built here.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "infra" / "template.yaml"
REQUIREMENTS = ROOT / "requirements-lambda.txt"
BUILD = ROOT / "build" / "lambda"
HOST_BUILD = ROOT / "build" / "lambda-host"
OWN_PACKAGES = ("agent_bridge", "tasks", "ops", "workflows")
# Never shipped even when a module of ours mentions them: the local harness and dev tools.
NEVER_SHIPPED = ("infra", "tests")
DATA_SUFFIXES = {".json", ".md", ".html", ".css", ".js", ".txt"}
# The python3.12 arm64 Lambda runtime (Amazon Linux 2023, glibc 2.34).
LAMBDA_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
LAMBDA_PYTHON = "3.12"
# What the Lambda runtime itself provides; the import test puts only this beside the
# artifact and the layer. Same versions as pyproject.toml.
RUNTIME_PROVIDED = ("boto3==1.44.8", "botocore==1.44.8")


class PackagingError(RuntimeError):
    """A handler imports something that cannot be shipped (or does not exist)."""


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    handler: str
    code_uri: str


def template_functions(template_path: Path = TEMPLATE) -> list[FunctionSpec]:
    """Every AWS::Serverless::Function of the template with its Handler and CodeUri."""
    from infra.local.template_loader import read_template  # dev-time tool, never shipped

    template = read_template(template_path)
    globals_fn = template.get("Globals", {}).get("Function", {})
    specs = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = {**globals_fn, **resource.get("Properties", {})}
        specs.append(FunctionSpec(logical_id, str(props["Handler"]), str(props["CodeUri"])))
    return specs


def _module_file(module: str) -> Path | None:
    """The source of one of our modules (package -> its __init__.py), or None."""
    parts = module.split(".")
    base = ROOT.joinpath(*parts)
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _imports_of(path: Path, module: str) -> Iterable[str]:
    """Absolute names imported by a module (relative imports resolved), at any depth."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            yield base
            for alias in node.names:
                yield f"{base}.{alias.name}"


def module_closure(handler_module: str) -> set[str]:
    """Our modules that importing `handler_module` can load (with their parent packages)."""
    seen: set[str] = set()
    pending = [handler_module]
    while pending:
        name = pending.pop()
        top = name.split(".")[0]
        if name in seen or top not in OWN_PACKAGES + NEVER_SHIPPED:
            continue
        path = _module_file(name)
        if path is None:
            continue  # `from pkg import function` names a function, not a module
        if top in NEVER_SHIPPED:
            raise PackagingError(
                f"{handler_module} reaches {name}: production code must not import the "
                "local harness or tests"
            )
        seen.add(name)
        parts = name.split(".")
        pending.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        pending.extend(_imports_of(path, name))
    return seen


def stage_function(spec: FunctionSpec, destination: Path) -> list[str]:
    """Write the function's code tree; returns the modules it holds."""
    module = spec.handler.rpartition(".")[0]
    if _module_file(module) is None:
        raise PackagingError(f"{spec.logical_id}: handler module {module} does not exist")
    modules = sorted(module_closure(module))
    if destination.exists():
        shutil.rmtree(destination)
    data_dirs: set[Path] = set()
    for name in modules:
        source = _module_file(name)
        assert source is not None
        relative = source.relative_to(ROOT)
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        if source.name == "__init__.py":
            data_dirs.add(source.parent)
    for package_dir in data_dirs:
        for path in _data_files(package_dir):
            target = destination / path.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return modules


def _data_files(package_dir: Path) -> Iterable[Path]:
    """Data files of a package: its own and those of sub-folders that are not packages."""
    for path in package_dir.iterdir():
        if path.is_file() and path.suffix in DATA_SUFFIXES:
            yield path
        elif path.is_dir() and not (path / "__init__.py").exists():
            if path.name.startswith((".", "__")):
                continue
            yield from (p for p in path.rglob("*") if p.is_file() and p.suffix in DATA_SUFFIXES)


def _inputs_digest(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
    return digest.hexdigest()


def _pip_install(target: Path, args: list[str], stamp_key: str) -> None:
    """pip install into `target` unless it already holds exactly these inputs."""
    stamp = target.parent / f".{target.name}.inputs"
    if target.exists() and stamp.exists() and stamp.read_text() == stamp_key:
        return
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        *args,
    ]
    subprocess.run(command, check=True)  # noqa: S603
    stamp.write_text(stamp_key)


def build_layer(destination: Path, *, host: bool) -> Path:
    """The dependency layer: `<destination>/python/...` as Lambda mounts it under /opt."""
    requirements = REQUIREMENTS.read_text()
    site = destination / "python"
    if host:
        args = ["--no-deps", "-r", str(REQUIREMENTS)]
        key = _inputs_digest(requirements, sys.version, "host")
    else:
        platforms = [arg for p in LAMBDA_PLATFORMS for arg in ("--platform", p)]
        args = [
            *platforms,
            "--implementation",
            "cp",
            "--python-version",
            LAMBDA_PYTHON,
            "--only-binary=:all:",
            "--no-deps",
            "-r",
            str(REQUIREMENTS),
        ]
        key = _inputs_digest(requirements, LAMBDA_PYTHON, *LAMBDA_PLATFORMS)
    _pip_install(site, args, key)
    return site


def build_runtime_stand_in(destination: Path) -> Path:
    """boto3 as the Lambda runtime provides it, for the import test (host Python only)."""
    site = destination / "runtime"
    _pip_install(site, list(RUNTIME_PROVIDED), _inputs_digest(*RUNTIME_PROVIDED, sys.version))
    return site


def build(*, host: bool = False, template_path: Path = TEMPLATE) -> dict[str, object]:
    """Stage every function and build the layer; returns a manifest (also written)."""
    root = HOST_BUILD if host else BUILD
    manifest: dict[str, object] = {"layer": str(build_layer(root / "layer", host=host))}
    functions: dict[str, object] = {}
    for spec in template_functions(template_path):
        destination = (template_path.parent / spec.code_uri).resolve()
        if host:
            destination = root / "functions" / spec.logical_id
        elif not destination.is_relative_to(BUILD):
            raise PackagingError(
                f"{spec.logical_id}: CodeUri {spec.code_uri} must point under build/lambda/"
            )
        modules = stage_function(spec, destination)
        functions[spec.logical_id] = {
            "handler": spec.handler,
            "code": str(destination),
            "modules": modules,
        }
    manifest["functions"] = functions
    if host:
        manifest["runtime"] = str(build_runtime_stand_in(root))
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", action="store_true", help="build for this machine's Python")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("pip") is None:
        print("pip is missing from this interpreter", file=sys.stderr)
        return 2
    manifest = build(host=args.host)
    functions = manifest["functions"]
    assert isinstance(functions, dict)
    for logical_id, info in functions.items():
        print(f"{logical_id:32} {len(info['modules']):3} modules  {info['code']}")
    print(f"{'layer':32}      {manifest['layer']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
