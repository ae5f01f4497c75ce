"""The audit trail: one item per replay or stop an operator attempted, refused ones
included (a wrong ops token, a flow that was not running), keyed by the source execution's
name so the trail outlives the execution itself."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from ops.context import OpsContext

REPLAY = "replay"
STOP = "stop"


def record(
    ctx: OpsContext,
    *,
    action: str,
    source_name: str,
    operator: str,
    result: str,
    source_arn: str = "",
    new_execution: str = "",
    reason: str | None = None,
    channel: str = "cli",
) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    item: dict[str, Any] = {
        "source_execution": source_name,
        "recorded_at": f"{now}#{uuid.uuid4().hex[:8]}",
        "at": now,
        "action": action,
        "operator": operator,
        "aws_identity": ctx.caller_identity,  # whose AWS credentials acted (STS)
        "channel": channel,
        "source_arn": source_arn,
        "new_execution": new_execution,
        "result": result,
    }
    if reason:
        item["reason"] = reason
    ctx.audit_table.put_item(Item=item)
    return item


def audit_trail(ctx: OpsContext, source_name: str) -> list[dict[str, Any]]:
    """Newest first; items from before `action` existed were replays."""
    response = ctx.audit_table.query(
        KeyConditionExpression="source_execution = :name",
        ExpressionAttributeValues={":name": source_name},
        ScanIndexForward=False,
    )
    items = list(response.get("Items", []))
    for item in items:
        item.setdefault("action", REPLAY)
    return items
