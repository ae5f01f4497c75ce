"""Keep the Bedrock agents' texts in infra/template.yaml equal to their sources.

CloudFormation cannot read a local file into `Instruction` or `ApiSchema.Payload`, so the
template carries copies. Each copy is a YAML block scalar whose header names its source:

    Instruction: |  # generated from agent_bridge/instructions/supervisor.md

The instructions (`agent_bridge/instructions/*.md`) and the generated schemas
(`agent_bridge/schemas/*.json`) stay the one source; `sync()` rewrites the copies (run by
`make schemas`) and `drifted()` tells a test when someone edited one side only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PATH = ROOT / "infra" / "template.yaml"

_HEADER = re.compile(
    r"^(?P<indent> *)(?P<key>[A-Za-z]+): \|\s+# generated from (?P<source>\S+)\s*$"
)


@dataclass(frozen=True)
class GeneratedBlock:
    """One block scalar: the header line, and the content lines that follow it."""

    key: str
    source: str
    header: int  # line index of the header
    end: int  # line index one past the last content line
    indent: str


def blocks(lines: list[str]) -> list[GeneratedBlock]:
    """Every generated block of the template, in order."""
    found = []
    for index, line in enumerate(lines):
        match = _HEADER.match(line)
        if not match:
            continue
        inner = match["indent"] + "  "
        end = index + 1
        cursor = end
        while cursor < len(lines) and (
            not lines[cursor].strip() or lines[cursor].startswith(inner)
        ):
            if lines[cursor].strip():
                end = cursor + 1
            cursor += 1
        found.append(GeneratedBlock(match["key"], match["source"], index, end, inner))
    return found


def source_text(source: str) -> str:
    path = (ROOT / source).resolve()
    if not path.is_relative_to(ROOT) or not path.is_file():
        raise FileNotFoundError(f"{TEMPLATE_PATH.name}: generated block names {source!r}")
    return path.read_text()


def rendered(template: str) -> str:
    """The template with every generated block replaced by its source's current text."""
    lines = template.split("\n")
    out: list[str] = []
    cursor = 0
    for block in blocks(lines):
        out.extend(lines[cursor : block.header + 1])
        for line in source_text(block.source).rstrip("\n").split("\n"):
            out.append(f"{block.indent}{line}" if line.strip() else "")
        cursor = block.end
    out.extend(lines[cursor:])
    return "\n".join(out)


def sources() -> list[str]:
    """The sources the template embeds (for tests: every instruction and schema is there)."""
    return [block.source for block in blocks(TEMPLATE_PATH.read_text().split("\n"))]


def drifted(path: Path = TEMPLATE_PATH) -> bool:
    text = path.read_text()
    return rendered(text) != text


def sync(path: Path = TEMPLATE_PATH) -> bool:
    """Rewrite the generated blocks; True when the template changed."""
    text = path.read_text()
    new = rendered(text)
    if new == text:
        return False
    path.write_text(new)
    return True
