"""The MockConfigFile test cases (the ones `make sfn-local` runs) on the embedded engine."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from infra.local import mock_cases, moto_gaps
from infra.local.stack import LocalStack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def case_machines(local_stack: LocalStack) -> Iterator[dict[str, str]]:
    os.environ[moto_gaps.MOCK_CONFIG_ENV] = str(mock_cases.MOCK_CONFIG_PATH)
    sfn = local_stack.client("stepfunctions")
    assert local_stack.deployed is not None
    definitions = {
        name: sfn.describe_state_machine(
            stateMachineArn=local_stack.deployed.state_machines[logical_id]
        )["definition"]
        for name, logical_id in mock_cases.MACHINES.items()
    }
    yield mock_cases.install_case_machines(
        sfn, definitions, "arn:aws:iam::123456789012:role/pf360-scheduler-local-states"
    )


def test_every_case_in_the_file_has_an_expectation() -> None:
    assert set(mock_cases.case_names()) == set(mock_cases.EXPECTED)


@pytest.mark.parametrize(("machine", "case"), mock_cases.case_names())
def test_mock_config_case_runs_the_real_asl_with_mocked_tasks(
    local_stack: LocalStack, case_machines: dict[str, str], machine: str, case: str
) -> None:
    before = local_stack.lambda_runtime.invocations
    result = mock_cases.run_case(
        local_stack.client("stepfunctions"), case_machines[machine], machine, case
    )
    assert result.passed, result.problems
    # Every task of these cases is mocked: no Lambda ran.
    assert local_stack.lambda_runtime.invocations == before


def test_unknown_test_case_is_refused(
    local_stack: LocalStack, case_machines: dict[str, str]
) -> None:
    sfn = local_stack.client("stepfunctions")
    with pytest.raises(Exception, match="NoSuchCase"):
        sfn.start_execution(
            stateMachineArn=f"{case_machines['Booking']}#NoSuchCase",
            name="mock-unknown",
            input="{}",
        )


def test_loader_reads_ranges_and_throws(tmp_path: object) -> None:
    test_case = moto_gaps.load_mock_test_case(
        str(mock_cases.MOCK_CONFIG_PATH), "Booking", "RetryPath"
    )
    await_date = test_case.state_mocked_responses["AwaitDate"].mocked_responses
    assert [type(r).__name__ for r in await_date] == [
        "MockedResponseThrow",
        "MockedResponseThrow",
        "MockedResponseReturn",
    ]
    with pytest.raises(moto_gaps.MockConfigError, match="no test case 'Nope'"):
        moto_gaps.load_mock_test_case(str(mock_cases.MOCK_CONFIG_PATH), "Booking", "Nope")
