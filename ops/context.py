"""Where the operator's view reads from: one environment's state machines and tables.

The same boto3 calls work against AWS (region, profile) and the local stack (endpoint URL).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config

from tasks.execution_index import ExecutionIndex


class OpsError(Exception):
    """Something the operator must fix (a wrong name, a missing resource); a sentence."""


@dataclass
class OpsContext:
    environment: str = "dev"
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    @cached_property
    def session(self) -> boto3.session.Session:
        return boto3.session.Session(profile_name=self.profile, region_name=self.region)

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)

    @cached_property
    def sfn(self) -> Any:
        return self.client("stepfunctions")

    @cached_property
    def dynamodb(self) -> Any:
        return self.session.resource("dynamodb", endpoint_url=self.endpoint_url)

    @cached_property
    def machines(self) -> dict[str, str]:
        """`booking` and `cancellation` state machine ARNs, found by their template names."""
        wanted = {
            f"scheduler-booking-{self.environment}": "booking",
            f"scheduler-cancellation-{self.environment}": "cancellation",
        }
        found: dict[str, str] = {}
        for page in self.sfn.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                if machine["name"] in wanted:
                    found[wanted[machine["name"]]] = machine["stateMachineArn"]
        missing = sorted(set(wanted.values()) - set(found))
        if missing:
            raise OpsError(
                f"No {' or '.join(missing)} state machine for environment "
                f"{self.environment!r} here; check --environment, --region or --endpoint-url."
            )
        return found

    @cached_property
    def index(self) -> ExecutionIndex:
        return ExecutionIndex(self.dynamodb.Table(f"scheduler-executions-{self.environment}"))

    @cached_property
    def audit_table(self) -> Any:
        return self.dynamodb.Table(f"scheduler-ops-audit-{self.environment}")

    @cached_property
    def caller_identity(self) -> str:
        """Whose AWS credentials act (STS GetCallerIdentity), for the replay audit."""
        try:
            sts = self.session.client(
                "sts",
                endpoint_url=self.endpoint_url,
                config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2}),
            )
            return str(sts.get_caller_identity()["Arn"])
        except Exception as error:  # the audit must still be written; say why it is unknown
            return f"unknown ({type(error).__name__})"

    def arn_for(self, name_or_arn: str) -> str:
        """An execution ARN from an ARN or a bare execution name (booking machine first)."""
        text = name_or_arn.strip()
        if text.startswith("arn:"):
            return text
        for machine_arn in (self.machines["booking"], self.machines["cancellation"]):
            arn = machine_arn.replace(":stateMachine:", ":execution:") + f":{text}"
            try:
                self.sfn.describe_execution(executionArn=arn)
            except self.sfn.exceptions.ExecutionDoesNotExist:
                continue
            return arn
        raise OpsError(f"No execution named {text!r} in environment {self.environment!r}.")
