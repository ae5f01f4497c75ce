"""The five Bedrock agents in infra/template.yaml, and the instructions they carry.

The instructions (`agent_bridge/instructions/*.md`) and the generated schemas are the
sources; the template holds copies that `make schemas` rewrites. These tests fail when one
side is edited alone, and check the agents are wired as the design says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent_bridge import agent_template
from infra.local.template_loader import read_template

ROOT = Path(__file__).resolve().parents[2]
INSTRUCTIONS = ROOT / "agent_bridge" / "instructions"
AGENTS = ["supervisor", "scheduling", "information", "notes", "general"]
SPECIALISTS = AGENTS[1:]
ACTION_FUNCTIONS = {
    "scheduling": "SchedulingActionsFunction",
    "information": "InformationActionsFunction",
    "notes": "NotesActionsFunction",
}
MAX_INSTRUCTION_CHARS = 4000  # Bedrock's limit for an agent's instruction


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    template: dict[str, Any] = read_template()
    return template["Resources"]


def agent(resources: dict[str, Any], name: str) -> dict[str, Any]:
    properties: dict[str, Any] = resources[f"{name.capitalize()}Agent"]["Properties"]
    return properties


@pytest.mark.parametrize("name", AGENTS)
def test_instructions_are_short_and_pass_the_session_id(name: str) -> None:
    text = (INSTRUCTIONS / f"{name}.md").read_text()
    assert 40 <= len(text) <= MAX_INSTRUCTION_CHARS
    assert "session_id" in text
    assert all(line == line.rstrip() for line in text.splitlines()), "trailing whitespace"
    lowered = text.lower()
    assert "token" in lowered and "customer id" in lowered, "must say never to ask for them"


def test_scheduling_instructions_confirm_before_booking_and_never_invent_dates() -> None:
    text = (INSTRUCTIONS / "scheduling.md").read_text().lower()
    assert "confirm_appointment" in text and "clear yes" in text
    assert "never invent" in text
    assert "before cancel_appointment" in text
    assert "list_projects" in text


@pytest.mark.parametrize("name", AGENTS)
def test_template_instruction_is_the_markdown_file(resources: dict[str, Any], name: str) -> None:
    assert agent(resources, name)["Instruction"] == (INSTRUCTIONS / f"{name}.md").read_text()


@pytest.mark.parametrize("name", sorted(ACTION_FUNCTIONS))
def test_action_group_carries_the_generated_schema_and_calls_its_function(
    resources: dict[str, Any], name: str
) -> None:
    (group,) = agent(resources, name)["ActionGroups"]
    assert group["ActionGroupName"] == f"{name}-actions"
    assert group["ActionGroupExecutor"] == {  # the `live` alias: make rollback-code moves it
        "Lambda": {"Ref": f"{ACTION_FUNCTIONS[name]}.Alias"}
    }
    schema_file = ROOT / "agent_bridge" / "schemas" / f"{name}-actions.json"
    assert json.loads(group["ApiSchema"]["Payload"]) == json.loads(schema_file.read_text())


def test_general_and_supervisor_have_no_action_groups(resources: dict[str, Any]) -> None:
    assert "ActionGroups" not in agent(resources, "general")
    assert "ActionGroups" not in agent(resources, "supervisor")


def test_template_copies_are_in_sync_with_their_sources() -> None:
    assert not agent_template.drifted(), "infra/template.yaml drifted; run `make schemas`"
    assert sorted(agent_template.sources()) == sorted(
        [f"agent_bridge/instructions/{name}.md" for name in AGENTS]
        + [f"agent_bridge/schemas/{name}-actions.json" for name in ACTION_FUNCTIONS]
    )


def test_sync_rewrites_an_edited_copy_and_nothing_else(tmp_path: Path) -> None:
    original = agent_template.TEMPLATE_PATH.read_text()
    edited = original.replace("You are the general specialist", "You are a general helper", 1)
    assert edited != original
    copy = tmp_path / "template.yaml"
    copy.write_text(edited)
    assert agent_template.drifted(copy)
    assert agent_template.sync(copy)
    assert copy.read_text() == original
    assert not agent_template.sync(copy)


def test_supervisor_collaborates_with_the_four_specialists(resources: dict[str, Any]) -> None:
    supervisor = agent(resources, "supervisor")
    assert supervisor["AgentCollaboration"] == "SUPERVISOR"
    collaborators = {c["CollaboratorName"]: c for c in supervisor["AgentCollaborators"]}
    assert set(collaborators) == set(SPECIALISTS)
    for name, collaborator in collaborators.items():
        alias_id = f"{name.capitalize()}AgentAlias"
        assert collaborator["AgentDescriptor"]["AliasArn"] == {
            "Fn::GetAtt": [alias_id, "AgentAliasArn"]
        }
        assert collaborator["CollaborationInstruction"].strip()
        alias = resources[alias_id]
        assert alias["Type"] == "AWS::Bedrock::AgentAlias"
        assert alias["Properties"]["AgentId"] == {
            "Fn::GetAtt": [f"{name.capitalize()}Agent", "AgentId"]
        }
    assert resources["SupervisorAgentAlias"]["Properties"]["AgentId"] == {
        "Fn::GetAtt": ["SupervisorAgent", "AgentId"]
    }


@pytest.mark.parametrize("name", AGENTS)
def test_agents_use_the_shared_role_and_model(resources: dict[str, Any], name: str) -> None:
    properties = agent(resources, name)
    assert properties["AgentResourceRoleArn"] == {"Fn::GetAtt": ["BedrockAgentRole", "Arn"]}
    assert properties["FoundationModel"] == {"Ref": "FoundationModel"}
    assert properties["AutoPrepare"] is True


def test_the_agent_role_may_invoke_the_model(resources: dict[str, Any]) -> None:
    role = resources["BedrockAgentRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    model = next(s for s in statements if "bedrock:InvokeModel" in s["Action"])
    assert "${FoundationModel}" in model["Resource"]["Fn::Sub"]


@pytest.mark.parametrize("name", sorted(ACTION_FUNCTIONS))
def test_bedrock_may_invoke_each_action_function_from_its_agent_only(
    resources: dict[str, Any], name: str
) -> None:
    permissions = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Permission"
        and r["Properties"]["FunctionName"] == {"Ref": f"{ACTION_FUNCTIONS[name]}.Alias"}
    ]
    assert len(permissions) == 1
    (permission,) = permissions
    assert permission["Principal"] == "bedrock.amazonaws.com"
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["SourceArn"] == {"Fn::GetAtt": [f"{name.capitalize()}Agent", "AgentArn"]}
