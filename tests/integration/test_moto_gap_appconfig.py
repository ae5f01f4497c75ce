"""The AppConfig section of infra/local/moto_gaps.py, through boto3 on the local endpoint.

moto 5.2.5 has no AppConfig environments, deployment strategies, deployments or Data API:
without `install_appconfig_gaps` every call below fails (404 / not implemented), and so
would every runtime flag read. These tests also pin the strictness our code relies on.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra.local.stack import LocalStack

pytestmark = pytest.mark.integration


def new_profile(local_stack: LocalStack) -> dict[str, Any]:
    """A fresh application, environment and hosted profile with two versions."""
    appconfig = local_stack.client("appconfig")
    app = appconfig.create_application(Name=f"gap-{uuid.uuid4().hex[:8]}")["Id"]
    env = appconfig.create_environment(ApplicationId=app, Name="qa")["Id"]
    profile = appconfig.create_configuration_profile(
        ApplicationId=app, Name="flags", LocationUri="hosted", Type="AWS.Freeform"
    )["Id"]
    versions = [
        appconfig.create_hosted_configuration_version(
            ApplicationId=app,
            ConfigurationProfileId=profile,
            Content=json.dumps({"use_real_api": {"default": value}}).encode(),
            ContentType="application/json",
        )["VersionNumber"]
        for value in (True, False)
    ]
    strategy = appconfig.create_deployment_strategy(
        Name=f"now-{uuid.uuid4().hex[:6]}",
        DeploymentDurationInMinutes=0,
        FinalBakeTimeInMinutes=0,
        GrowthFactor=100,
        ReplicateTo="NONE",
    )["Id"]
    return {"app": app, "env": env, "profile": profile, "versions": versions, "now": strategy}


def deploy(local_stack: LocalStack, ids: dict[str, Any], version: int, strategy: str) -> int:
    answer = local_stack.client("appconfig").start_deployment(
        ApplicationId=ids["app"],
        EnvironmentId=ids["env"],
        DeploymentStrategyId=strategy,
        ConfigurationProfileId=ids["profile"],
        ConfigurationVersion=str(version),
    )
    return int(answer["DeploymentNumber"])


def read(local_stack: LocalStack, ids: dict[str, Any]) -> tuple[Any, str]:
    """One poll of a new session by names: (parsed content, next token)."""
    data = local_stack.client("appconfigdata")
    token = data.start_configuration_session(
        ApplicationIdentifier=ids["app"],
        EnvironmentIdentifier="qa",  # names work as well as ids
        ConfigurationProfileIdentifier="flags",
    )["InitialConfigurationToken"]
    answer = data.get_latest_configuration(ConfigurationToken=token)
    return json.loads(answer["Configuration"].read()), answer["NextPollConfigurationToken"]


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_a_deployed_version_is_served_and_an_unchanged_one_comes_back_empty(
    local_stack: LocalStack,
) -> None:
    ids = new_profile(local_stack)
    deploy(local_stack, ids, ids["versions"][0], ids["now"])
    content, token = read(local_stack, ids)
    assert content == {"use_real_api": {"default": True}}
    data = local_stack.client("appconfigdata")
    unchanged = data.get_latest_configuration(ConfigurationToken=token)
    assert unchanged["Configuration"].read() == b""  # the client keeps what it has

    deploy(local_stack, ids, ids["versions"][1], ids["now"])
    changed = data.get_latest_configuration(
        ConfigurationToken=unchanged["NextPollConfigurationToken"]
    )
    assert json.loads(changed["Configuration"].read()) == {"use_real_api": {"default": False}}


def test_a_poll_token_works_once(local_stack: LocalStack) -> None:
    ids = new_profile(local_stack)
    deploy(local_stack, ids, ids["versions"][0], ids["now"])
    _, token = read(local_stack, ids)
    data = local_stack.client("appconfigdata")
    data.get_latest_configuration(ConfigurationToken=token)
    with pytest.raises(ClientError) as reused:
        data.get_latest_configuration(ConfigurationToken=token)
    assert error_code(reused) == "BadRequestException"


def test_nothing_deployed_and_unknown_names_are_not_found(local_stack: LocalStack) -> None:
    ids = new_profile(local_stack)
    with pytest.raises(ClientError) as undeployed:
        read(local_stack, ids)
    assert error_code(undeployed) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as unknown:
        local_stack.client("appconfigdata").start_configuration_session(
            ApplicationIdentifier=ids["app"],
            EnvironmentIdentifier="prod",
            ConfigurationProfileIdentifier="flags",
        )
    assert error_code(unknown) == "ResourceNotFoundException"


def test_one_deployment_at_a_time_and_a_stopped_one_is_rolled_back(
    local_stack: LocalStack,
) -> None:
    """AllAtOnce bakes for 10 minutes: a second deployment meanwhile is a conflict (as on
    AWS); stopping it serves the previous version again; after the bake it is COMPLETE."""
    ids = new_profile(local_stack)
    appconfig = local_stack.client("appconfig")
    deploy(local_stack, ids, ids["versions"][0], ids["now"])
    baking = deploy(local_stack, ids, ids["versions"][1], "AppConfig.AllAtOnce")
    state = appconfig.get_deployment(
        ApplicationId=ids["app"], EnvironmentId=ids["env"], DeploymentNumber=baking
    )["State"]
    assert state == "BAKING"
    assert read(local_stack, ids)[0] == {"use_real_api": {"default": False}}
    with pytest.raises(ClientError) as conflict:
        deploy(local_stack, ids, ids["versions"][0], ids["now"])
    assert error_code(conflict) == "ConflictException"

    appconfig.stop_deployment(
        ApplicationId=ids["app"], EnvironmentId=ids["env"], DeploymentNumber=baking
    )
    assert read(local_stack, ids)[0] == {"use_real_api": {"default": True}}

    again = deploy(local_stack, ids, ids["versions"][1], "AppConfig.AllAtOnce")
    local_stack.clock.advance(601)
    done = appconfig.get_deployment(
        ApplicationId=ids["app"], EnvironmentId=ids["env"], DeploymentNumber=again
    )
    assert done["State"] == "COMPLETE"
    listed = appconfig.list_deployments(ApplicationId=ids["app"], EnvironmentId=ids["env"])
    assert [d["State"] for d in listed["Items"]] == ["COMPLETE", "ROLLED_BACK", "COMPLETE"]


def test_a_missing_version_or_strategy_is_refused(local_stack: LocalStack) -> None:
    ids = new_profile(local_stack)
    with pytest.raises(ClientError) as missing_version:
        deploy(local_stack, ids, 99, ids["now"])
    assert error_code(missing_version) == "BadRequestException"
    with pytest.raises(ClientError) as missing_strategy:
        deploy(local_stack, ids, ids["versions"][0], "no-such-strategy")
    assert error_code(missing_strategy) == "ResourceNotFoundException"


def test_the_lookups_flagctl_uses(local_stack: LocalStack) -> None:
    ids = new_profile(local_stack)
    appconfig = local_stack.client("appconfig")
    assert ids["app"] in [a["Id"] for a in appconfig.list_applications()["Items"]]
    assert [e["Name"] for e in appconfig.list_environments(ApplicationId=ids["app"])["Items"]] == [
        "qa"
    ]
    assert ids["now"] in [s["Id"] for s in appconfig.list_deployment_strategies()["Items"]]
    versions = appconfig.list_hosted_configuration_versions(
        ApplicationId=ids["app"], ConfigurationProfileId=ids["profile"]
    )["Items"]
    assert [v["VersionNumber"] for v in versions] == [2, 1]
