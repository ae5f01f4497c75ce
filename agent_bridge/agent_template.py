"""Keep the Bedrock agents' texts in infra/template.yaml equal to their sources.

CloudFormation cannot read a local file into `Instruction` or `ApiSchema.Payload`, so the
template carries copies. Each copy is a YAML block scalar whose header names its source:

    Instruction: |  # generated from agent_bridge/instructions/supervisor.md

The instructions (`agent_bridge/instructions/*.md`) and the generated schemas
(`agent_bridge/schemas/*.json`) stay the one source; `sync()` rewrites the copies (run by
`make schemas`) and `drifted()` tells a test when someone edited one side only.
"""

from __future__ import annotations

import hashlib
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
    return with_alias_hashes("\n".join(out))


# ---------------------------------------------------------------- agent versions
# An alias without RoutingConfiguration makes Bedrock cut a new version from the prepared
# DRAFT whenever CloudFormation creates or updates the alias. CloudFormation updates the
# alias only when its properties change, so each `live` alias's Description ends with a
# hash of its agent's whole resource (instruction, schemas, collaborators, model): a
# changed agent changes the hash, the alias is updated, and `live` points to a new version.

_ALIAS_DESCRIPTION = re.compile(r"^(?P<head>      Description: .*?)(?: \[agent [0-9a-f]{12}\])?$")
_RESOURCE = re.compile(r"^  (?P<id>[A-Za-z0-9]+):$")
_AGENT_ID = re.compile(r"^      AgentId: !GetAtt (?P<agent>[A-Za-z0-9]+)\.AgentId\s*$")


def _resources(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Top-level resources: logical id -> (first line, one past the last line)."""
    starts = [(i, m["id"]) for i, line in enumerate(lines) if (m := _RESOURCE.match(line))]
    spans = {}
    for position, (start, logical_id) in enumerate(starts):
        end = starts[position + 1][0] if position + 1 < len(starts) else len(lines)
        for index in range(start + 1, end):
            if lines[index] and not lines[index].startswith(" "):
                end = index
                break
        spans[logical_id] = (start, end)
    return spans


def agent_hash(lines: list[str], agent: str) -> str:
    """A hash of the agent's resource text, as it will be deployed."""
    start, end = _resources(lines)[agent]
    body = "\n".join(line.rstrip() for line in lines[start:end]).strip()
    return hashlib.sha256(body.encode()).hexdigest()[:12]


def with_alias_hashes(template: str) -> str:
    """The template with each agent alias's Description ending in its agent's hash."""
    lines = template.split("\n")
    for _alias, (start, end) in _resources(lines).items():
        agent = next(
            (m["agent"] for i in range(start, end) if (m := _AGENT_ID.match(lines[i]))), None
        )
        if agent is None or "Type: AWS::Bedrock::AgentAlias" not in "\n".join(lines[start:end]):
            continue
        digest = agent_hash(lines, agent)
        for index in range(start, end):
            match = _ALIAS_DESCRIPTION.match(lines[index])
            if match:
                lines[index] = f"{match['head']} [agent {digest}]"
                break
    return "\n".join(lines)


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
