"""The checked-in OpenAPI schemas are what the resolvers generate, and Bedrock can use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_bridge import schemas

EXPECTED_PATHS = {
    "scheduling": {
        "/list_projects",
        "/get_available_dates",
        "/get_time_slots",
        "/confirm_appointment",
        "/cancel_appointment",
        "/get_business_hours",
    },
    "information": {
        "/get_project_details",
        "/get_project_status",
        "/get_technician_info",
        "/list_all_projects",
    },
    "notes": {"/add_note", "/get_notes"},
}
# The action-group contract's parameter names (DESIGN.md); anything else is a mistake.
CONTRACT_PARAMETERS = {"session_id", "customer_id", "project_id", "date", "time", "note_text"}
GROUPS = {group.name: group for group in schemas.ACTION_GROUPS}


def checked_in(name: str) -> dict:
    return json.loads(GROUPS[name].schema_path.read_text())


def test_checked_in_schemas_equal_freshly_generated_ones() -> None:
    stale = [path.name for path in schemas.drifted_schemas()]
    assert stale == [], f"{stale} drifted from the resolvers; run `make schemas`"


@pytest.mark.parametrize("name", sorted(EXPECTED_PATHS))
def test_each_schema_has_the_expected_operations(name: str) -> None:
    schema = checked_in(name)
    assert schema["openapi"].startswith("3.0."), "Bedrock accepts OpenAPI 3.0 only"
    assert set(schema["paths"]) == EXPECTED_PATHS[name]
    for path, item in schema["paths"].items():
        assert set(item) == {"post"}, f"{path}: Bedrock action groups call POST"


@pytest.mark.parametrize("name", sorted(EXPECTED_PATHS))
def test_each_operation_is_described_and_takes_the_session_id(name: str) -> None:
    for path, item in checked_in(name)["paths"].items():
        operation = item["post"]
        assert len(operation.get("description", "").strip()) >= 20, f"{path}: no description"
        assert len(operation["description"]) <= 200, f"{path}: description too long"
        names = [parameter["name"] for parameter in operation["parameters"]]
        assert "session_id" in names, path
        assert set(names) <= CONTRACT_PARAMETERS, path
        for parameter in operation["parameters"]:
            assert parameter.get("description"), f"{path}: {parameter['name']} undescribed"


def test_check_mode_passes_now_and_fails_naming_a_drifted_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert schemas.main(["--check"]) == 0
    for group in schemas.ACTION_GROUPS:
        (tmp_path / group.schema_path.name).write_text(group.schema_path.read_text())
    edited = tmp_path / "notes-actions.json"
    edited.write_text(edited.read_text().replace("Add the customer's note", "Add a note"))
    monkeypatch.setattr(schemas, "SCHEMA_DIR", tmp_path)
    capsys.readouterr()
    assert schemas.main(["--check"]) == 1
    assert "drifted:" in capsys.readouterr().out
    assert [path.name for path in schemas.drifted_schemas()] == ["notes-actions.json"]
    assert edited.read_text() != schemas.render(GROUPS["notes"]), "--check must not write"
