"""A changed agent reaches its `live` alias: the alias changes, so Bedrock cuts a version."""

from __future__ import annotations

from agent_bridge.agent_template import TEMPLATE_PATH, with_alias_hashes
from infra.local.template_loader import read_template

ALIASES = {
    "SchedulingAgentAlias": "SchedulingAgent",
    "InformationAgentAlias": "InformationAgent",
    "NotesAgentAlias": "NotesAgent",
    "GeneralAgentAlias": "GeneralAgent",
    "SupervisorAgentAlias": "SupervisorAgent",
}


def alias_descriptions(text: str) -> dict[str, str]:
    path = TEMPLATE_PATH.parent / ".agent-versions-test.yaml"
    path.write_text(text)
    try:
        resources = read_template(path)["Resources"]
    finally:
        path.unlink()
    return {alias: resources[alias]["Properties"]["Description"] for alias in ALIASES}


def test_every_live_alias_lets_bedrock_cut_a_new_version() -> None:
    resources = read_template()["Resources"]
    for alias in ALIASES:
        props = resources[alias]["Properties"]
        # No RoutingConfiguration: each create/update of the alias makes a new version
        # from the prepared DRAFT (AutoPrepare) and points the alias to it.
        assert "RoutingConfiguration" not in props
        assert props["AgentAliasName"] == "live"
        assert resources[ALIASES[alias]]["Properties"]["AutoPrepare"] is True


def test_a_changed_instruction_changes_only_its_alias() -> None:
    text = TEMPLATE_PATH.read_text()
    assert with_alias_hashes(text) == text  # the committed template is current
    before = alias_descriptions(text)
    line = "        You are the scheduling specialist of the PF360 assistant."
    assert line in text
    changed = with_alias_hashes(text.replace(line, line + " Be brief.", 1))
    after = alias_descriptions(changed)
    assert after["SchedulingAgentAlias"] != before["SchedulingAgentAlias"]
    assert {k: v for k, v in after.items() if k != "SchedulingAgentAlias"} == {
        k: v for k, v in before.items() if k != "SchedulingAgentAlias"
    }


def test_a_changed_schema_or_collaborator_changes_the_alias() -> None:
    text = TEMPLATE_PATH.read_text()
    before = alias_descriptions(text)
    schema = text.replace('"title": "ResponseValidationError"', '"title": "ResponseError"', 1)
    assert (
        alias_descriptions(with_alias_hashes(schema))["SchedulingAgentAlias"]
        != (before["SchedulingAgentAlias"])
    )
    collaborators = text.replace(
        "RelayConversationHistory: TO_COLLABORATOR", "RelayConversationHistory: DISABLED", 1
    )
    assert (
        alias_descriptions(with_alias_hashes(collaborators))["SupervisorAgentAlias"]
        != (before["SupervisorAgentAlias"])
    )
