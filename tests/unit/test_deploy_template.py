"""What infra/template.yaml promises on AWS, checked on the template as the SAM translator
expands it: the chat API behind its JWT authorizer, logs with retention, tracing, alarms,
the funnel dashboard, and Retain on everything that holds data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.iam_policy import role_of_function, role_statements, translate
from infra.local.template_loader import read_template


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return read_template()


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return translate()


def of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_the_chat_api_checks_issuer_and_audience_at_the_edge(cfn: dict[str, Any]) -> None:
    (api,) = of_type(cfn, "AWS::ApiGatewayV2::Api").values()
    body = api["Properties"]["Body"]
    jwt = body["components"]["securitySchemes"]["CustomerJwt"]["x-amazon-apigateway-authorizer"]
    assert jwt["type"] == "jwt"
    assert jwt["jwtConfiguration"] == {
        "issuer": {"Ref": "JwtIssuer"},
        "audience": [{"Ref": "JwtAudience"}],
    }
    security = {path: ops[next(iter(ops))]["security"] for path, ops in body["paths"].items()}
    assert security["/api/chat/simple"] == [{"CustomerJwt": []}]
    for public in ("/", "/static/{name+}", "/healthz"):
        assert security[public] == [{"NONE": []}]
    assert "ChatUrl" in cfn["Outputs"]


def test_the_chat_function_may_use_sessions_and_the_supervisor_only(cfn: dict[str, Any]) -> None:
    statements = role_statements(cfn, role_of_function(cfn, "ChatFunction"))
    granted = {
        (action, json.dumps(statement["Resource"], sort_keys=True))
        for statement in statements
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    sessions = json.dumps({"Fn::GetAtt": ["SessionsTable", "Arn"]})
    supervisor = json.dumps({"Fn::GetAtt": ["SupervisorAgentAlias", "AgentAliasArn"]})
    assert granted == {
        ("dynamodb:GetItem", sessions),
        ("dynamodb:PutItem", sessions),
        ("dynamodb:UpdateItem", sessions),
        ("bedrock:InvokeAgent", supervisor),
    }
    env = cfn["Resources"]["ChatFunction"]["Properties"]["Environment"]["Variables"]
    assert env["AUTH_MODE"] == "jwks"  # the function validates the token again itself


def test_every_function_and_state_machine_logs_with_retention_and_traces(
    sam: dict[str, Any], cfn: dict[str, Any]
) -> None:
    groups = of_type(sam, "AWS::Logs::LogGroup")
    assert all(
        g["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"} for g in groups.values()
    )
    for logical_id, function in of_type(cfn, "AWS::Lambda::Function").items():
        props = function["Properties"]
        assert props["LoggingConfig"]["LogGroup"]["Ref"] in groups, logical_id
        assert props["TracingConfig"] == {"Mode": "Active"}, logical_id
        assert props["Layers"] == [{"Ref": next(iter(of_type(cfn, "AWS::Lambda::LayerVersion")))}]
    for logical_id, machine in of_type(cfn, "AWS::StepFunctions::StateMachine").items():
        props = machine["Properties"]
        logging = props["LoggingConfiguration"]
        assert (logging["Level"], logging["IncludeExecutionData"]) == ("ERROR", False), logical_id
        (destination,) = logging["Destinations"]
        assert destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0] in groups
        assert props["TracingConfiguration"] == {"Enabled": True}, logical_id


def test_data_survives_a_stack_delete_or_replacement(sam: dict[str, Any]) -> None:
    stateful = {
        **of_type(sam, "AWS::DynamoDB::Table"),
        **of_type(sam, "AWS::SecretsManager::Secret"),
    }
    assert len(stateful) == 7
    for logical_id, resource in stateful.items():
        assert resource.get("DeletionPolicy") == "Retain", logical_id
        assert resource.get("UpdateReplacePolicy") == "Retain", logical_id


def test_alarms_and_the_funnel_dashboard(sam: dict[str, Any]) -> None:
    alarms = of_type(sam, "AWS::CloudWatch::Alarm")
    watched = set()
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        if "MetricName" in props:
            watched.add(props["MetricName"])
        for metric in props.get("Metrics", []):
            if "MetricStat" in metric:
                watched.add(metric["MetricStat"]["Metric"]["MetricName"])
    assert {"ExecutionsFailed", "FlowExpired", "Errors", "Throttles", "5xx"} <= watched
    (dashboard,) = of_type(sam, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    for stage in ("Started", "Date chosen", "Time chosen", "Booked", "Expired", "Failed"):
        assert f'"label": "{stage}"' in body
