"""Check recorded AWS calls (infra/local/aws_call_recorder.py) against the template's roles.

Each call a function made on the local stack must be allowed by that function's role as
the SAM translator expands infra/template.yaml: the action, and the resource resolved to
the local stack's ARN (the same names as on AWS, account 123456789012).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from infra.iam_policy import allows, resolved_grants, role_of_function, role_statements, translate
from infra.local.template_loader import ACCOUNT_ID, physical_ids, read_template

REGION = "us-east-1"


def violations(
    calls: Iterable[Mapping[str, str]], template: Mapping[str, Any] | None = None
) -> list[str]:
    """One sentence per call that the caller's role does not allow."""
    sam = dict(template) if template is not None else read_template()
    parameters = {k: str(v.get("Default", "")) for k, v in sam.get("Parameters", {}).items()}
    resolver = physical_ids(sam, parameters, REGION)
    secrets = {}
    for logical_id, resource in sam["Resources"].items():
        if resource["Type"] == "AWS::SecretsManager::Secret":
            name = resolver.names[logical_id]
            resolver.arns[logical_id] = (
                f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{name}-AbCdEf"
            )
            secrets[name] = resolver.arns[logical_id]
    cfn = translate(sam)
    by_name = {
        resolver.names[k]: k
        for k, v in sam["Resources"].items()
        if v["Type"] == "AWS::Serverless::Function"
    }
    grants_of: dict[str, Any] = {}
    found = []
    for call in calls:
        function, action, resource = call["function"], call["action"], call["resource"]
        logical_id = by_name.get(function)
        if logical_id is None:
            found.append(f"{function}: not a function of the template")
            continue
        if logical_id not in grants_of:
            role = role_of_function(cfn, logical_id)
            grants_of[logical_id] = resolved_grants(role_statements(cfn, role), resolver)
        if resource == "?":
            found.append(f"{logical_id}: {action} has no known resource shape (recorder)")
            continue
        if action.startswith("secretsmanager:"):
            name = resource.split(":secret:", 1)[-1]
            if name not in secrets:
                name = re.sub(r"-[A-Za-z0-9]{6}$", "", name)
            resource = secrets.get(name, resource)
        if not allows(grants_of[logical_id], action, resource):
            found.append(f"{logical_id}: {action} on {resource} is not allowed by its role")
    return found
