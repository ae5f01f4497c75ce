"""Create the resources of infra/template.yaml on the local stack with plain boto3 calls.

moto's CloudFormation mishandles state machines (and SAM), so instead of deploying the
template we read it: tables with their keys, indexes and TTL; functions with their handler,
timeout and (Globals-merged) environment; state machines from `DefinitionUri` with
`DefinitionSubstitutions` resolved; secrets. One template is the truth for AWS and local.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

ACCOUNT_ID = "123456789012"
STACK_NAME = "pf360-scheduler-local"
LAMBDA_ROLE_NAME = "pf360-scheduler-local-lambda"
STATES_ROLE_NAME = "pf360-scheduler-local-states"
TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "template.yaml"

# No local engine (Bedrock, API Gateway's JWT authorizer, CloudWatch) or no local meaning
# (IAM: moto does not enforce policies, and tests/integration/test_least_privilege.py
# checks every recorded call against the roles instead; layers: locally the handlers run
# from this checkout; log groups, alarms, the dashboard, the alarm topic).
SKIPPED_LOCALLY = frozenset(
    {
        "AWS::Lambda::Permission",
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::Bedrock::Agent",
        "AWS::Bedrock::AgentAlias",
        "AWS::Serverless::LayerVersion",
        "AWS::Serverless::HttpApi",
        "AWS::Logs::LogGroup",
        "AWS::Logs::MetricFilter",
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::SNS::Topic",
        "AWS::SNS::Subscription",
    }
)

_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    "GetAtt": "Fn::GetAtt",
    "Sub": "Fn::Sub",
    "Join": "Fn::Join",
    "If": "Fn::If",
    "Equals": "Fn::Equals",
    "Not": "Fn::Not",
    "And": "Fn::And",
    "Or": "Fn::Or",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "FindInMap": "Fn::FindInMap",
    "Base64": "Fn::Base64",
}


class _TemplateLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short tags into their long form."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = _SHORT_TAGS.get(suffix)
    if name is None:
        raise yaml.constructor.ConstructorError(
            None, None, f"unknown tag !{suffix}", node.start_mark
        )
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _construct_tag)


def read_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain data, short tags expanded."""
    loaded: dict[str, Any] = yaml.load(path.read_text(), Loader=_TemplateLoader)  # noqa: S506
    return loaded


class TemplateError(ValueError):
    """The template uses something the local loader cannot create."""


@dataclass
class DeployedStack:
    """What the loader created, by logical id, for tests and the demo to find."""

    region: str
    parameters: dict[str, str]
    tables: dict[str, str] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    state_machines: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    ttl_attributes: dict[str, str] = field(default_factory=dict)
    appconfig: dict[str, str] = field(default_factory=dict)  # logical id -> AppConfig id

    def function_environment(self, logical_id: str) -> dict[str, str]:
        client = boto3.client("lambda", region_name=self.region)
        config = client.get_function_configuration(FunctionName=self.functions[logical_id])
        return dict(config.get("Environment", {}).get("Variables", {}))


class _Resolver:
    """Evaluates the intrinsic functions the template uses, against local physical ids."""

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str], region: str):
        self.template = template
        self.region = region
        self.parameters = dict(parameters)
        self.resources: Mapping[str, Any] = template.get("Resources", {})
        self.names: dict[str, str] = {}
        self.arns: dict[str, str] = {}

    def pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }.get(name)

    def ref(self, name: str) -> str:
        if name.endswith(".Alias") and name[: -len(".Alias")] in self.resources:
            # SAM's `!Ref Function.Alias` (AutoPublishAlias). Locally there are no published
            # versions: the handler runs from this checkout, so the function itself.
            return self.arns[name[: -len(".Alias")]]
        pseudo = self.pseudo(name)
        if pseudo is not None:
            return pseudo
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources:
            kind = self.resources[name]["Type"]
            if kind in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
                return self.arns[name]
            if kind == "AWS::SecretsManager::Secret":
                return self.arns[name]
            return self.names[name]
        raise TemplateError(f"!Ref {name}: no such parameter or resource")

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn":
            return self.arns[logical_id]
        if attribute == "Name":
            return self.names[logical_id]
        if attribute in APPCONFIG_ID_ATTRIBUTES.values():
            return self.names[logical_id]
        kind = self.resources.get(logical_id, {}).get("Type")
        if kind == "AWS::Bedrock::AgentAlias" and attribute == "AgentAliasArn":
            props = self.resources[logical_id].get("Properties", {})
            agent, alias = self.resolve(props["AgentId"]), self.get_att(logical_id, "AgentAliasId")
            return f"arn:aws:bedrock:{self.region}:{ACCOUNT_ID}:agent-alias/{agent}/{alias}"
        if kind in SKIPPED_LOCALLY:  # e.g. the supervisor's AgentId: a stand-in locally
            return f"local-{logical_id}-{attribute}"
        raise TemplateError(f"!GetAtt {logical_id}.{attribute} is not supported locally")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self.get_att(parts[0], parts[1])
            if key == "Fn::Sub":
                return self.sub(arg)
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(str(self.resolve(i)) for i in self.resolve(items))
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                separator, text = arg
                return str(self.resolve(text)).split(separator)
            if key == "Fn::If":
                condition, when_true, when_false = arg
                chosen = when_true if self.condition(condition) else when_false
                return self.resolve(chosen)
            if key.startswith("Fn::"):
                raise TemplateError(f"{key} is not supported by the local loader")
        return {k: self.resolve(v) for k, v in value.items()}

    def sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        variables = {k: self.resolve(v) for k, v in extra.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def condition(self, name: str) -> bool:
        expression = self.template.get("Conditions", {}).get(name)
        if expression is None:
            raise TemplateError(f"condition {name} is not defined")
        return self.evaluate(expression)

    def evaluate(self, expression: Any) -> bool:
        ((key, arg),) = expression.items()
        if key == "Fn::Equals":
            return bool(self.resolve(arg[0]) == self.resolve(arg[1]))
        if key == "Fn::Not":
            return not self.evaluate(arg[0])
        if key == "Fn::And":
            return all(self.evaluate(a) for a in arg)
        if key == "Fn::Or":
            return any(self.evaluate(a) for a in arg)
        if key == "Condition":
            return self.condition(arg)
        raise TemplateError(f"{key} is not supported in conditions")


def function_zip(logical_id: str, handler: str) -> bytes:
    """The function's code as `make package` ships it (only the modules its handler can
    import, never tests or the local harness), zipped: local environments run this."""
    from infra.package import FunctionSpec as PackagedFunction
    from infra.package import stage_function

    with tempfile.TemporaryDirectory(prefix="pf360-artifact-") as staging:
        root = Path(staging) / logical_id
        stage_function(PackagedFunction(logical_id, handler, ""), root)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(root).as_posix())
        return buffer.getvalue()


def _ensure_role(iam: Any, name: str, service: str) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        return str(role["Role"]["Arn"])


def physical_ids(
    template: Mapping[str, Any], parameters: Mapping[str, str], region: str
) -> _Resolver:
    """Physical names and ARNs of every resource, so that any can refer to any other."""
    resolver = _Resolver(template, parameters, region)
    resources: Mapping[str, Any] = template.get("Resources", {})
    for logical_id, resource in resources.items():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::DynamoDB::Table":
            name = resolver.resolve(props.get("TableName", logical_id))
            resolver.names[logical_id] = name
            resolver.arns[logical_id] = f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{name}"
        elif kind == "AWS::Serverless::Function":
            name = resolver.resolve(props.get("FunctionName", logical_id))
            resolver.names[logical_id] = name
            resolver.arns[logical_id] = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"
        elif kind == "AWS::Serverless::StateMachine":
            name = resolver.resolve(props.get("Name", logical_id))
            resolver.names[logical_id] = name
            resolver.arns[logical_id] = f"arn:aws:states:{region}:{ACCOUNT_ID}:stateMachine:{name}"
        elif kind == "AWS::SecretsManager::Secret":
            resolver.names[logical_id] = resolver.resolve(props.get("Name", logical_id))
        elif kind in APPCONFIG_ID_ATTRIBUTES:
            # Its id once created (before any function); until then, for the policy check
            # (tests/least_privilege.py, which deploys nothing), any id.
            resolver.names[logical_id] = "*"
        elif kind in SKIPPED_LOCALLY:
            resolver.names[logical_id] = logical_id
            resolver.arns[logical_id] = f"arn:aws:local:{region}:{ACCOUNT_ID}:{logical_id}"
        else:
            raise TemplateError(f"{logical_id}: {kind} is not supported by the local loader")
    return resolver


def deploy_template(
    parameter_overrides: Mapping[str, str] | None = None,
    *,
    template_path: Path = TEMPLATE_PATH,
    region: str = "us-east-1",
    environment_overrides: Mapping[str, str] | None = None,
) -> DeployedStack:
    """Create every resource of the template; `environment_overrides` is for local-only vars."""
    template = read_template(template_path)
    parameters = {
        name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()
    }
    for name, value in (parameter_overrides or {}).items():
        if name not in parameters:
            raise TemplateError(f"parameter {name} is not declared in {template_path.name}")
        allowed = template["Parameters"][name].get("AllowedValues")
        if allowed and value not in allowed:
            raise TemplateError(f"parameter {name}={value!r}; allowed: {', '.join(allowed)}")
        parameters[name] = value

    resolver = physical_ids(template, parameters, region)
    resources: dict[str, Any] = template.get("Resources", {})
    stack = DeployedStack(region=region, parameters=parameters)

    iam = boto3.client("iam", region_name=region)
    lambda_role = _ensure_role(iam, LAMBDA_ROLE_NAME, "lambda.amazonaws.com")
    states_role = _ensure_role(iam, STATES_ROLE_NAME, "states.amazonaws.com")
    dynamodb = boto3.client("dynamodb", region_name=region)
    secrets = boto3.client("secretsmanager", region_name=region)
    lambdas = boto3.client("lambda", region_name=region)
    sfn = boto3.client("stepfunctions", region_name=region)

    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::DynamoDB::Table":
            _create_table(dynamodb, resolver, logical_id, resource["Properties"], stack)
        elif resource["Type"] == "AWS::SecretsManager::Secret":
            props = resolver.resolve(resource.get("Properties", {}))
            created = secrets.create_secret(
                Name=resolver.names[logical_id],
                SecretString=props.get("SecretString", "{}"),
                Description=props.get("Description", ""),
            )
            resolver.arns[logical_id] = created["ARN"]
            stack.secrets[logical_id] = created["ARN"]

    _create_appconfig(resolver, resources, stack, region)

    globals_fn = template.get("Globals", {}).get("Function", {})
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = {**globals_fn, **resource.get("Properties", {})}
        variables = {
            **globals_fn.get("Environment", {}).get("Variables", {}),
            **resource.get("Properties", {}).get("Environment", {}).get("Variables", {}),
        }
        environment = {k: str(v) for k, v in resolver.resolve(variables).items()}
        environment.update(environment_overrides or {})
        lambdas.create_function(
            FunctionName=resolver.names[logical_id],
            Runtime=props.get("Runtime", "python3.12"),
            Role=lambda_role,
            Handler=props["Handler"],
            Code={"ZipFile": function_zip(logical_id, str(props["Handler"]))},
            Timeout=int(props.get("Timeout", 3)),
            MemorySize=int(props.get("MemorySize", 128)),
            Environment={"Variables": environment},
            Description=str(resolver.resolve(props.get("Description", ""))),
        )
        stack.functions[logical_id] = resolver.names[logical_id]

    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::StateMachine":
            continue
        props = resource["Properties"]
        definition = (template_path.parent / props["DefinitionUri"]).resolve().read_text()
        substitutions = resolver.resolve(props.get("DefinitionSubstitutions", {}))
        for key, value in substitutions.items():
            definition = definition.replace("${" + key + "}", str(value))
        leftover = re.findall(r"\$\{([A-Za-z0-9_]+)\}", definition)
        if leftover:
            raise TemplateError(f"{logical_id}: unresolved substitutions {sorted(set(leftover))}")
        json.loads(definition)  # a broken definition fails here, naming nothing AWS-side
        created = sfn.create_state_machine(
            name=resolver.names[logical_id],
            definition=definition,
            roleArn=states_role,
            type=props.get("Type", "STANDARD"),
        )
        stack.state_machines[logical_id] = created["stateMachineArn"]
    return stack


APPCONFIG_ID_ATTRIBUTES = {
    "AWS::AppConfig::Application": "ApplicationId",
    "AWS::AppConfig::Environment": "EnvironmentId",
    "AWS::AppConfig::ConfigurationProfile": "ConfigurationProfileId",
    "AWS::AppConfig::DeploymentStrategy": "Id",
}


def _create_appconfig(
    resolver: _Resolver, resources: Mapping[str, Any], stack: DeployedStack, region: str
) -> None:
    """The runtime flag store: application, environment, profile, deployment strategy."""
    appconfig = boto3.client("appconfig", region_name=region)
    for kind in APPCONFIG_ID_ATTRIBUTES:  # in dependency order
        for logical_id, resource in resources.items():
            if resource["Type"] != kind:
                continue
            props = resolver.resolve(resource.get("Properties", {}))
            if kind == "AWS::AppConfig::Application":
                created = appconfig.create_application(
                    Name=props["Name"], Description=props.get("Description", "")
                )
            elif kind == "AWS::AppConfig::Environment":
                created = appconfig.create_environment(
                    ApplicationId=props["ApplicationId"],
                    Name=props["Name"],
                    Description=props.get("Description", ""),
                )
            elif kind == "AWS::AppConfig::ConfigurationProfile":
                created = appconfig.create_configuration_profile(
                    ApplicationId=props["ApplicationId"],
                    Name=props["Name"],
                    Description=props.get("Description", ""),
                    LocationUri=props["LocationUri"],
                    Type=props.get("Type", "AWS.Freeform"),
                    Validators=props.get("Validators", []),
                )
            else:
                created = appconfig.create_deployment_strategy(
                    Name=props["Name"],
                    Description=props.get("Description", ""),
                    DeploymentDurationInMinutes=int(props["DeploymentDurationInMinutes"]),
                    FinalBakeTimeInMinutes=int(props.get("FinalBakeTimeInMinutes", 0)),
                    GrowthFactor=float(props["GrowthFactor"]),
                    GrowthType=props.get("GrowthType", "LINEAR"),
                    ReplicateTo=props["ReplicateTo"],
                )
            resolver.names[logical_id] = created["Id"]
            stack.appconfig[logical_id] = created["Id"]


def _create_table(
    dynamodb: Any,
    resolver: _Resolver,
    logical_id: str,
    raw_props: Mapping[str, Any],
    stack: DeployedStack,
) -> None:
    props = resolver.resolve(raw_props)
    request: dict[str, Any] = {
        "TableName": resolver.names[logical_id],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    dynamodb.create_table(**request)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=request["TableName"],
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
        stack.ttl_attributes[request["TableName"]] = ttl["AttributeName"]
    stack.tables[logical_id] = request["TableName"]
