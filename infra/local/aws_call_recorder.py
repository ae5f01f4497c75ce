"""Record every AWS call a Lambda handler makes on the local stack: function, action, ARN.

Installed in the process where handlers run (`install_from_environment()`; the local
stack calls it, and a worker process per function should call it at start-up too), it
wraps botocore's one entry point for API calls. A call is attributed to the function
whose environment is current (`AWS_LAMBDA_FUNCTION_NAME`, through
`tasks.config.current_environ()`, so in-process threads and worker processes both work);
calls made by tests or the engine themselves carry no function name and are not recorded.
Each call is one JSON line appended to the file named by PF360_AWS_CALL_LOG (appends of
short lines are atomic, so several processes can share it).
tests/integration/test_least_privilege.py checks the lines against the template's roles.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from botocore.client import BaseClient

from tasks.config import current_environ

CALL_LOG_ENV = "PF360_AWS_CALL_LOG"
ACCOUNT_ID = "123456789012"
_lock = threading.Lock()
_installed: dict[str, Any] = {}

# Step Functions task-token calls name no resource: IAM has no resource-level permission.
_NO_RESOURCE = {"SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat", "GetCallerIdentity"}
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


# AppConfig Data poll token -> the configuration ARN its session was started for.
_appconfig_sessions: dict[str, str] = {}


def appconfig_configuration_arn(region: str, params: Mapping[str, Any]) -> str:
    app = params.get("ApplicationIdentifier")
    env = params.get("EnvironmentIdentifier")
    profile = params.get("ConfigurationProfileIdentifier")
    return (
        f"arn:aws:appconfig:{region}:{ACCOUNT_ID}:application/{app}"
        f"/environment/{env}/configuration/{profile}"
    )


def _follow_appconfig_tokens(operation: str, params: Mapping[str, Any], answer: Any) -> None:
    """Carry the configuration ARN from each poll token to the next one."""
    if operation == "StartConfigurationSession":
        region = str(params.get("_region", ""))
        arn = appconfig_configuration_arn(region, params)
        _appconfig_sessions[str(answer.get("InitialConfigurationToken"))] = arn
    elif operation == "GetLatestConfiguration":
        arn = _appconfig_sessions.pop(str(params.get("ConfigurationToken")), "?")
        _appconfig_sessions[str(answer.get("NextPollConfigurationToken"))] = arn


def _table_arn(region: str, table: str, index: str | None = None) -> str:
    if table.startswith("arn:"):
        base = table
    else:
        base = f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{table}"
    return f"{base}/index/{index}" if index else base


def resources_of(
    service: str, operation: str, params: Mapping[str, Any], region: str
) -> Iterator[tuple[str, str]]:
    """(IAM action, resource ARN) pairs one API call needs; '*' where IAM has none."""
    if operation in _NO_RESOURCE:
        yield f"{service}:{operation}", "*"
        return
    if service == "dynamodb":
        if operation in ("TransactWriteItems", "TransactGetItems"):
            for item in params.get("TransactItems", []):
                for kind, body in item.items():
                    action = _TRANSACT_ACTIONS.get(kind, kind)
                    yield f"dynamodb:{action}", _table_arn(region, body["TableName"])
            return
        if operation in ("BatchWriteItem", "BatchGetItem"):
            for table in params.get("RequestItems", {}):
                yield f"dynamodb:{operation}", _table_arn(region, table)
            return
        table = params.get("TableName")
        if table:
            yield f"dynamodb:{operation}", _table_arn(region, table, params.get("IndexName"))
            return
    if service == "states":
        for key in ("stateMachineArn", "executionArn"):
            if key in params:
                yield f"states:{operation}", str(params[key])
                return
    if service == "secretsmanager" and "SecretId" in params:
        secret = str(params["SecretId"])
        if not secret.startswith("arn:"):
            secret = f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:{secret}"
        yield f"secretsmanager:{operation}", secret
        return
    if service == "lambda" and "FunctionName" in params:
        name = str(params["FunctionName"])
        if not name.startswith("arn:"):
            name = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"
        yield f"lambda:{operation}", name
        return
    if service == "bedrock" and "agentAliasId" in params:
        alias = f"agent-alias/{params.get('agentId')}/{params['agentAliasId']}"
        yield "bedrock:InvokeAgent", f"arn:aws:bedrock:{region}:{ACCOUNT_ID}:{alias}"
        return
    if service == "appconfig" and operation == "StartConfigurationSession":
        yield f"appconfig:{operation}", appconfig_configuration_arn(region, params)
        return
    if service == "appconfig" and operation == "GetLatestConfiguration":
        # The token stands for the session's configuration (remembered by install()).
        token = str(params.get("ConfigurationToken", ""))
        yield f"appconfig:{operation}", _appconfig_sessions.get(token, "?")
        return
    # Unknown shape: recorded as such, so the check reports it instead of passing it.
    yield f"{service}:{operation}", "?"


def _record(path: str, line: dict[str, Any]) -> None:
    data = json.dumps(line, sort_keys=True) + "\n"
    with _lock, open(path, "a", encoding="utf-8") as log:
        log.write(data)


def install(path: str) -> None:
    """Wrap BaseClient._make_api_call once per process; calls go to `path`."""
    with _lock:
        _installed["path"] = path
        if "original" in _installed:
            return
        original = BaseClient._make_api_call
        _installed["original"] = original

    def _make_api_call(self: BaseClient, operation_name: str, api_params: Any) -> Any:
        function = current_environ().get("AWS_LAMBDA_FUNCTION_NAME")
        if function:
            service = self.meta.service_model.signing_name or self.meta.service_model.service_name
            region = self.meta.region_name or "us-east-1"
            for action, resource in resources_of(
                str(service), operation_name, api_params or {}, region
            ):
                _record(
                    _installed["path"],
                    {"function": function, "action": action, "resource": resource},
                )
        answer = original(self, operation_name, api_params)
        if operation_name in ("StartConfigurationSession", "GetLatestConfiguration"):
            region = self.meta.region_name or "us-east-1"
            _follow_appconfig_tokens(
                operation_name, {**(api_params or {}), "_region": region}, answer
            )
        return answer

    BaseClient._make_api_call = _make_api_call


def install_from_environment(environ: Mapping[str, str] | None = None) -> bool:
    """Install when PF360_AWS_CALL_LOG names a file; True when recording."""
    path = (os.environ if environ is None else environ).get(CALL_LOG_ENV)
    if not path:
        return False
    install(path)
    return True


def read_calls(path: str) -> list[dict[str, str]]:
    """The recorded calls, without repeats."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as log:
        unique = {line.strip() for line in log if line.strip()}
    return [json.loads(line) for line in sorted(unique)]
