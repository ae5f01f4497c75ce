"""The action groups' OpenAPI schemas, generated from the resolvers (the one source of truth).

    python -m agent_bridge.schemas           # write agent_bridge/schemas/*.json, sync the template
    python -m agent_bridge.schemas --check   # exit 1, naming each file that has drifted

Bedrock reads the schema to learn which actions exist and what their parameters mean, so a
schema that lags the code makes the agent call actions that no longer match. The template
embeds the same schemas and the agent instructions; `agent_bridge.agent_template` keeps
those copies equal to their sources.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from aws_lambda_powertools.event_handler import BedrockAgentResolver

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
SCHEMA_VERSION = "1.0.0"


@dataclass(frozen=True)
class ActionGroup:
    """One action-group Lambda: its resolver module and how its schema introduces it."""

    name: str
    module: str
    title: str
    description: str

    @property
    def schema_path(self) -> Path:
        return SCHEMA_DIR / f"{self.name}-actions.json"

    def resolver(self) -> BedrockAgentResolver:
        app = importlib.import_module(self.module).app
        assert isinstance(app, BedrockAgentResolver)
        return app


ACTION_GROUPS: tuple[ActionGroup, ...] = (
    ActionGroup(
        "scheduling",
        "agent_bridge.actions.scheduling",
        "PF360 scheduling actions",
        "List projects, offer dates and times, book and cancel appointments, business hours.",
    ),
    ActionGroup(
        "information",
        "agent_bridge.actions.information",
        "PF360 project information actions",
        "Project details, status, technician, and all projects with their details.",
    ),
    ActionGroup(
        "notes",
        "agent_bridge.actions.notes",
        "PF360 project notes actions",
        "Add a note to a project; show the notes added through this assistant.",
    ),
)


def render(group: ActionGroup) -> str:
    """The schema as checked in: OpenAPI 3.0 (what Bedrock accepts), two-space JSON.

    BedrockAgentResolver converts Pydantic's 3.1 output to 3.0 itself; asking for "3.0.0"
    explicitly only earns a warning that it builds 3.1 first.
    """
    raw = group.resolver().get_openapi_json_schema(
        title=group.title, version=SCHEMA_VERSION, description=group.description
    )
    return json.dumps(json.loads(raw), indent=2, ensure_ascii=False) + "\n"


def drifted_schemas() -> list[Path]:
    """Schema files whose content differs from a fresh render (or that are missing)."""
    stale = []
    for group in ACTION_GROUPS:
        path = group.schema_path
        if not path.exists() or path.read_text() != render(group):
            stale.append(path)
    return stale


def write_schemas() -> list[Path]:
    """Write every schema that changed; returns the files written."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    written = []
    for group in ACTION_GROUPS:
        text = render(group)
        if not group.schema_path.exists() or group.schema_path.read_text() != text:
            group.schema_path.write_text(text)
            written.append(group.schema_path)
    return written


def main(argv: list[str] | None = None) -> int:
    from agent_bridge import agent_template

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="report drift and exit 1 instead of writing"
    )
    args = parser.parse_args(argv)
    root = Path.cwd()

    def shown(path: Path) -> str:
        return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)

    if args.check:
        stale = drifted_schemas()
        if agent_template.drifted():
            stale.append(agent_template.TEMPLATE_PATH)
        for path in stale:
            print(f"drifted: {shown(path)} (run `make schemas`)")
        return 1 if stale else 0
    written = write_schemas()
    if agent_template.sync():
        written.append(agent_template.TEMPLATE_PATH)
    for path in written:
        print(f"wrote {shown(path)}")
    if not written:
        print("schemas and template are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
