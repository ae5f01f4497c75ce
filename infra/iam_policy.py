"""The functions' roles as AWS will see them: the template through the SAM translator.

`translate()` expands infra/template.yaml offline with aws-sam-translator (the code that
runs inside CloudFormation's Serverless transform); `function_statements()` gives each
function's Allow statements with their resources resolved to the local stack's ARNs;
`allows()` evaluates one call against them (actions and resources, IAM wildcards).
`lint()` is the template policy rule that `make lint` runs: no `Resource: "*"` except
for actions without resource-level permissions, and each such line commented; no
DeleteItem/Scan grants except where the code deletes.

    python -m infra.iam_policy      # the translator check of `make lint`
"""

from __future__ import annotations

import copy
import fnmatch
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

TEMPLATE = Path(__file__).resolve().parent / "template.yaml"

# IAM offers no resource-level permission for these: "*" is the only possible Resource.
NO_RESOURCE_LEVEL = frozenset(
    {
        "states:SendTaskSuccess",
        "states:SendTaskFailure",
        "states:SendTaskHeartbeat",
        "sts:GetCallerIdentity",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
    }
)
# Deletes the code does make: Powertools' idempotency removes the record of a failed call.
DELETE_ALLOWED = {"NotesActionsFunctionRole": ("IdempotencyTable",)}
DESTRUCTIVE = ("dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:PartiQLDelete")


class _NoManagedPolicies(ManagedPolicyLoader):
    """Offline: the template names no managed policy by name, so none needs looking up."""

    def __init__(self) -> None:
        pass

    def load(self) -> dict[str, str]:
        return {}


def translate(
    template: Mapping[str, Any] | None = None, parameters: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The CloudFormation template the Serverless transform produces."""
    from infra.local.template_loader import read_template

    source = copy.deepcopy(dict(template) if template is not None else read_template(TEMPLATE))
    _as_packaged(source)
    values = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}
    values.update(parameters or {})
    # The translator asks boto3 for a region even when AWS::Region is given.
    os.environ.setdefault("AWS_DEFAULT_REGION", values["AWS::Region"])
    translated: dict[str, Any] = transform(source, values, _NoManagedPolicies())
    return translated


def _as_packaged(template: dict[str, Any]) -> None:
    """Local paths -> S3 URIs, as `sam package`/`sam deploy` rewrite them after uploading."""
    for logical_id, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "DefinitionUri", "ContentUri"):
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = f"s3://packaged-artifacts/{logical_id}/{key}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_of_function(cfn: Mapping[str, Any], function_logical_id: str) -> str:
    role = cfn["Resources"][function_logical_id]["Properties"]["Role"]
    return str(role["Fn::GetAtt"][0])


def role_statements(cfn: Mapping[str, Any], role_logical_id: str) -> list[dict[str, Any]]:
    """Inline statements of a role, and of the template's own policies attached to it
    (`AWS::IAM::Policy` / `ManagedPolicy` with `Roles: [!Ref <role>]`, e.g. the flag
    store's read policy); AWS managed policies named by ARN are listed separately."""
    props = cfn["Resources"][role_logical_id]["Properties"]
    statements: list[dict[str, Any]] = []
    for policy in props.get("Policies", []):
        statements.extend(_as_list(policy["PolicyDocument"]["Statement"]))
    for resource in cfn["Resources"].values():
        if resource["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        attached = resource.get("Properties", {}).get("Roles", [])
        if {"Ref": role_logical_id} in attached:
            statements.extend(_as_list(resource["Properties"]["PolicyDocument"]["Statement"]))
    return statements


def functions(cfn: Mapping[str, Any]) -> list[str]:
    return [k for k, v in cfn["Resources"].items() if v["Type"] == "AWS::Lambda::Function"]


@dataclass(frozen=True)
class Grant:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]


def resolved_grants(statements: Iterable[Mapping[str, Any]], resolver: Any) -> list[Grant]:
    grants = []
    for statement in statements:
        actions = tuple(str(a) for a in _as_list(statement.get("Action", [])))
        resources = tuple(str(resolver.resolve(r)) for r in _as_list(statement["Resource"]))
        grants.append(Grant(str(statement.get("Effect", "Allow")), actions, resources))
    return grants


def _matches(pattern: str, value: str, *, case: bool) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def allows(grants: Iterable[Grant], action: str, resource: str) -> bool:
    """Whether the grants allow `action` on `resource` (an explicit Deny wins)."""
    allowed = False
    for grant in grants:
        if not any(_matches(a, action, case=False) for a in grant.actions):
            continue
        if not any(_matches(r, resource, case=True) for r in grant.resources):
            continue
        if grant.effect == "Deny":
            return False
        allowed = True
    return allowed


def lint(template_text: str | None = None, cfn: Mapping[str, Any] | None = None) -> list[str]:
    """The template's policy rules; an empty list when it complies."""
    text = template_text if template_text is not None else TEMPLATE.read_text()
    problems = []
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if line.strip().startswith("Resource:") and '"*"' in line.split("#")[0]:
            previous = lines[number - 2].strip() if number > 1 else ""
            if "#" not in line and not previous.startswith("#"):
                problems.append(f'template.yaml:{number}: Resource "*" without a comment why')
    cfn = cfn if cfn is not None else translate()
    for logical_id, resource in cfn["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for statement in role_statements(cfn, logical_id):
            actions = [str(a) for a in _as_list(statement.get("Action", []))]
            if "*" in _as_list(statement.get("Resource")):
                loose = [a for a in actions if a not in NO_RESOURCE_LEVEL]
                if loose:
                    problems.append(f'{logical_id}: Resource "*" for {", ".join(loose)}')
            for action in actions:
                if any(_matches(action, d, case=False) for d in DESTRUCTIVE):
                    resources = " ".join(str(r) for r in _as_list(statement.get("Resource")))
                    allowed = DELETE_ALLOWED.get(logical_id, ())
                    if not any(table in resources for table in allowed):
                        problems.append(f"{logical_id}: {action} on {resources}")
    return problems


def main() -> int:
    cfn = translate()
    roles = [k for k, v in cfn["Resources"].items() if v["Type"] == "AWS::IAM::Role"]
    problems = lint(cfn=cfn)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(
        f"translator: {len(cfn['Resources'])} resources, {len(functions(cfn))} functions, "
        f"{len(roles)} roles; policy rules: {len(problems)} problem(s)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
