"""End the waiting flow of a session that has expired, as soon as the bridge notices.

A parked booking would otherwise wait out its 30-minute timeout although nobody can answer
it any more (a new sign-in is a new session). A flow that is confirming an unknown outcome
keeps going: it must still find and record what PF360 did.
"""

from __future__ import annotations

import logging

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from agent_bridge.flow_driver import FlowDriver
from tasks.config import Settings

log = logging.getLogger(__name__)


def end_flows_of_expired_session(settings: Settings, session_id: str) -> bool:
    """True when a waiting flow was ended; never fails the caller's answer."""
    try:
        dynamodb = boto3.resource("dynamodb", region_name=settings.aws_region)
        driver = FlowDriver(
            flows_table=dynamodb.Table(settings.flows_table),
            booking_state_machine_arn=settings.booking_state_machine_arn,
            cancellation_state_machine_arn=settings.cancellation_state_machine_arn,
            sfn=boto3.client("stepfunctions", region_name=settings.aws_region),
        )
        return driver.end_for_expired_session(session_id)
    except (ClientError, BotoCoreError):
        log.exception("could not end the flow of an expired session")
        return False
