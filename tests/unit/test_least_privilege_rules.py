"""The least-privilege check itself: allowed calls pass, a removed grant fails."""

from __future__ import annotations

import copy

from infra.iam_policy import lint
from infra.local.template_loader import read_template
from tests.least_privilege import violations

# Calls as the recorder writes them (seen in the suite's runs).
CALLS = [
    {
        "function": "scheduler-book-dev",
        "action": "dynamodb:UpdateItem",
        "resource": "arn:aws:dynamodb:us-east-1:123456789012:table/scheduler-flows-dev",
    },
    {
        "function": "scheduler-book-dev",
        "action": "secretsmanager:GetSecretValue",
        "resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:pf360/service-tokens/dev",
    },
    {
        "function": "scheduling-actions-dev",
        "action": "states:SendTaskSuccess",
        "resource": "*",
    },
    {
        "function": "scheduling-actions-dev",
        "action": "states:DescribeExecution",
        "resource": "arn:aws:states:us-east-1:123456789012:execution:scheduler-booking-dev:x-1",
    },
]


def test_the_calls_the_code_makes_are_allowed() -> None:
    assert violations(CALLS) == []


def test_a_removed_grant_fails() -> None:
    template = copy.deepcopy(read_template())
    policies = template["Resources"]["BookFunction"]["Properties"]["Policies"]
    statements = policies[0]["Statement"]
    policies[0]["Statement"] = [s for s in statements if s.get("Sid") != "FlowCheckpoints"]
    assert violations(CALLS, template) == [
        "BookFunction: dynamodb:UpdateItem on "
        "arn:aws:dynamodb:us-east-1:123456789012:table/scheduler-flows-dev "
        "is not allowed by its role"
    ]


def test_resources_are_checked_not_only_actions() -> None:
    other_table = dict(CALLS[0], resource=CALLS[0]["resource"].replace("flows", "notes"))
    other_machine = dict(CALLS[3], resource=CALLS[3]["resource"].replace("booking", "x"))
    assert len(violations([other_table, other_machine])) == 2


def test_unknown_call_shapes_and_functions_fail() -> None:
    found = violations(
        [
            {"function": "scheduler-book-dev", "action": "sqs:SendMessage", "resource": "?"},
            {"function": "someone-else", "action": "s3:GetObject", "resource": "*"},
        ]
    )
    assert len(found) == 2


def test_template_policy_rules_hold_and_catch_a_wildcard() -> None:
    assert lint() == []
    text = '      Resource: "*"\n'
    assert lint(text, cfn={"Resources": {}}) == [
        'template.yaml:1: Resource "*" without a comment why'
    ]
