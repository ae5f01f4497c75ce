"""UpdateItem by plan (`moto_gaps.install_fast_update_item`): what moto's own path gives.

Each step of the corpus runs twice from the same item: through moto's own UpdateItem and
through the local stack as it is (the plan, once moto has accepted the shape); answers (or
errors), the item after and its attribute order must be equal.
The corpus is our own writes (tasks/checkpoint.py, agent_bridge/sessions.py, called as they
are) and the error cases of the expressions' grammar; each step says whether it must have
taken the plan, so the corpus cannot pass by never reaching it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from agent_bridge.sessions import SessionStore
from infra.local import moto_gaps
from infra.local.stack import LocalStack
from tasks import checkpoint

pytestmark = pytest.mark.integration

# The limit moto enforces on an update (LimitedSizeDict): the item's size before a write plus
# the written attribute must not pass it.
MOTO_ITEM_LIMIT = 405000


@contextmanager
def moto_only() -> Iterator[None]:
    """UpdateItem as moto 5.2.5 does it, for the duration."""
    from moto.dynamodb.responses import DynamoHandler

    patched = DynamoHandler.update_item
    DynamoHandler.update_item = patched._original  # type: ignore[attr-defined]
    try:
        yield
    finally:
        DynamoHandler.update_item = patched  # type: ignore[method-assign]


def outcome(action: Callable[[], Any]) -> tuple[Any, ...]:
    """What a caller sees: the answer without its request metadata, or the error."""
    try:
        answer = action()
    except ClientError as error:
        response = error.response
        return (
            "error",
            response["ResponseMetadata"]["HTTPStatusCode"],
            response["Error"],
            response.get("Item"),
        )
    if isinstance(answer, dict):
        answer = {k: v for k, v in answer.items() if k != "ResponseMetadata"}
    return ("ok", answer)


class TwoPaths:
    """Runs a step through moto and through the plan from the same item, and compares.

    The plan's run is the second, so the table keeps the item as the plan left it: the next
    step starts from that (through moto's path first), and an item the plan built wrongly
    inside (e.g. one value object shared by two attributes) shows in a later answer."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table

    def item(self, key: str) -> dict[str, Any] | None:
        got = self.dynamodb.get_item(
            TableName=self.table, Key={"session_id": {"S": key}}, ConsistentRead=True
        )
        return got.get("Item")  # type: ignore[no-any-return]

    def put(self, key: str, item: dict[str, Any] | None) -> None:
        if item is None:
            self.dynamodb.delete_item(TableName=self.table, Key={"session_id": {"S": key}})
        else:
            self.dynamodb.put_item(TableName=self.table, Item=item)

    def step(self, key: str, action: Callable[[], Any], *, planned: bool | None) -> tuple[Any, ...]:
        before = self.item(key)
        with moto_only():
            slow = outcome(action)
        slow_item = self.item(key)
        self.put(key, before)
        count = moto_gaps.UPDATE_PLAN_STATS["planned"]
        fast = outcome(action)
        fast_item = self.item(key)
        took_plan = moto_gaps.UPDATE_PLAN_STATS["planned"] > count
        assert fast == slow, f"answers differ:\nplan: {fast}\nmoto: {slow}"
        assert fast_item == slow_item, f"items differ:\nplan: {fast_item}\nmoto: {slow_item}"
        assert list(fast_item or {}) == list(slow_item or {}), "attribute order differs"
        if planned is not None:
            assert took_plan == planned, f"expected planned={planned}, got {took_plan}: {fast}"
        return fast

    def update(self, key: str, *, planned: bool | None, **request: Any) -> tuple[Any, ...]:
        def call() -> Any:
            return self.dynamodb.update_item(
                TableName=self.table, Key={"session_id": {"S": key}}, **request
            )

        return self.step(key, call, planned=planned)


@pytest.fixture(scope="module")
def two_paths(local_stack: LocalStack) -> Iterator[TwoPaths]:
    """A scratch table shaped like the flows and sessions tables (key session_id), plus a
    global secondary index on `g` so that index-key rules are exercised."""
    dynamodb = local_stack.client("dynamodb")
    name = f"fast-update-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "session_id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "session_id", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        yield TwoPaths(dynamodb, name)
    finally:
        dynamodb.delete_table(TableName=name)


def our_writes(paths: TwoPaths, round_: int) -> None:
    """Every conditional write of tasks/checkpoint.py and agent_bridge/sessions.py, called
    as the code calls them, through both paths; in round 0 each shape is new (moto's path
    except where noted), in round 1 each takes its plan."""
    planned = round_ > 0
    step = paths.step
    table = boto3.resource("dynamodb").Table(paths.table)
    sessions = SessionStore(table)
    offer = {"dates": [f"2026-12-{d:02d}" for d in range(1, 11)], "project": {"id": "12345"}}
    sid = f"round-{round_}-{uuid.uuid4().hex[:6]}"
    flow = f"flow-{round_}"
    arn = f"arn:aws:states:us-east-1:123456789012:execution:booking:{flow}"
    state = {"flow_id": flow, "tenant": {"client_id": "acme-corp"}, "offer": offer}

    def claim(flow_id: str) -> int:
        return checkpoint.claim(table, sid, flow_id, "12345", arn)

    def park(flow_id: str, **more: Any) -> bool:
        return checkpoint.park(
            table,
            session_id=sid,
            flow_id=flow_id,
            execution_arn=arn,
            step=checkpoint.STEP_AWAIT_DATE,
            offer=offer,
            message="Pick a date",
            task_token="t" * 600,
            **more,
        )

    def finish(execution_arn: str | None) -> bool:
        return checkpoint.finish(
            table,
            session_id=sid,
            flow_id=flow,
            outcome=checkpoint.OUTCOME_BOOKED,
            message="Booked",
            result={"confirmation": "C-1", "when": ["2026-12-03", 9]},
            execution_arn=execution_arn,
        )

    answer = {"date": "2026-12-03"}
    assert step(sid, lambda: claim(flow), planned=planned) == ("ok", 1)
    assert step(sid, lambda: claim(flow), planned=True) == ("ok", 2)
    step(sid, lambda: checkpoint.set_execution(table, sid, flow, arn + "x"), planned=planned)
    assert step(sid, lambda: park(flow, flow=state), planned=planned) == ("ok", True)
    assert step(sid, lambda: park("another-flow"), planned=True) == ("ok", False)
    record = lambda: checkpoint.record_answer(table, sid, flow, 3, answer)  # noqa: E731
    assert step(sid, record, planned=planned) == ("ok", True)
    assert step(sid, record, planned=True) == ("ok", False)
    confirming = lambda: checkpoint.confirming(  # noqa: E731
        table,
        session_id=sid,
        flow_id=flow,
        execution_arn=arn,
        message="Checking",
        pending={"request_id": "r-1", "slot": None},
    )
    step(sid, confirming, planned=planned)
    assert step(sid, lambda: finish(arn), planned=planned) == ("ok", True)
    assert step(sid, lambda: finish(None), planned=planned) == ("ok", True)
    step(sid, lambda: claim("f2"), planned=True)
    superseded = step(
        sid, lambda: checkpoint.mark_superseded(table, sid, "f2", "newer"), planned=planned
    )
    assert superseded[0] == "ok" and superseded[1].flow_id == "f2"
    step(sid, lambda: claim("f3"), planned=True)
    step(sid, lambda: checkpoint.mark_stopped(table, sid, "f3", "stopped"), planned=planned)
    stopped_again = lambda: checkpoint.mark_stopped(table, sid, "f3", "again")  # noqa: E731
    assert step(sid, stopped_again, planned=True) == ("ok", None)

    session = f"sess-{round_}-{uuid.uuid4().hex[:6]}"
    sessions.create(
        customer_id="CUST001",
        client_id="acme-corp",
        client_name="Acme",
        environment="dev",
        auth_token="secret-token",
        session_id=session,
        now=1000,
    )
    assert step(session, lambda: sessions.touch(session, now=1001), planned=planned) == (
        "ok",
        True,
    )
    # `use` is `touch`'s request with ReturnValues=ALL_NEW: the same shape, planned.
    used = step(session, lambda: sessions.use(session, now=1002), planned=True)
    assert used[0] == "ok" and used[1].session_id == session
    refresh = lambda: sessions.refresh_token(session, "other", now=1003)  # noqa: E731
    assert step(session, refresh, planned=planned) == ("ok", True)
    assert step(session, lambda: sessions.touch(session, now=10**9), planned=True) == (
        "ok",
        False,
    )
    assert step(session, lambda: sessions.use(session, now=10**9), planned=True) == ("ok", None)


def test_our_checkpoint_and_session_writes_give_what_moto_gives(
    two_paths: TwoPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoint, "_now", lambda: 1_800_000_000)
    monkeypatch.setattr(checkpoint, "_now_ms", lambda: 1_800_000_000_123)
    our_writes(two_paths, 0)
    our_writes(two_paths, 1)


def test_error_cases_give_what_moto_gives(two_paths: TwoPaths) -> None:
    paths = two_paths
    key = f"errors-{uuid.uuid4().hex[:6]}"
    s = {"S": "value"}
    one = {"N": "1"}

    # ADD: to a missing attribute, decimals and negatives, then to a string (moto applies
    # the SETs before the ADD fails, and keeps them: both paths leave the same item).
    add = {"UpdateExpression": "SET a = :s ADD n :one", "ReturnValues": "UPDATED_NEW"}
    paths.update(key, planned=False, **add, ExpressionAttributeValues={":s": s, ":one": one})
    for number in ("1.5", "-2", "0.25", "10"):
        paths.update(
            key, planned=True, **add, ExpressionAttributeValues={":s": s, ":one": {"N": number}}
        )
    paths.put(key, {"session_id": {"S": key}, "n": {"S": "not a number"}, "a": {"N": "4"}})
    wrong_type = paths.update(
        key, planned=True, **add, ExpressionAttributeValues={":s": s, ":one": one}
    )
    assert wrong_type[0] == "error" and "incorrect data type" in wrong_type[2]["Message"]

    # The condition: met, failed, failed with the old item returned, on a missing item.
    conditional = {
        "UpdateExpression": "SET c = :v REMOVE a, #n",
        "ConditionExpression": "attribute_not_exists(c) OR c <> :v",
        "ExpressionAttributeNames": {"#n": "n"},
    }
    paths.update(key, planned=False, **conditional, ExpressionAttributeValues={":v": s})
    failed = paths.update(key, planned=True, **conditional, ExpressionAttributeValues={":v": s})
    assert failed[2]["Code"] == "ConditionalCheckFailedException" and failed[3] is None
    with_item = paths.update(
        key,
        planned=True,
        **conditional,
        ExpressionAttributeValues={":v": s},
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    assert with_item[3] == paths.item(key)
    # A condition that fails on a missing item (learned on one that has `c`).
    exists = {
        "UpdateExpression": "SET c = :v REMOVE a, #n",
        "ConditionExpression": "attribute_exists(c)",
        "ExpressionAttributeNames": {"#n": "n"},
        "ExpressionAttributeValues": {":v": s},
    }
    paths.update(key, planned=False, **exists)
    missing = f"missing-{uuid.uuid4().hex[:6]}"
    for on_failure in ("NONE", "ALL_OLD"):
        absent = paths.update(
            missing, planned=True, **exists, ReturnValuesOnConditionCheckFailure=on_failure
        )
        assert absent[2]["Code"] == "ConditionalCheckFailedException" and absent[3] is None
    assert paths.item(missing) is None

    # Every ReturnValues, on an item that exists and on one that does not yet.
    every_type = {
        ":s": {"S": ""},
        ":n": {"N": "-0.5"},
        ":b": {"BOOL": False},
        ":null": {"NULL": True},
        ":l": {"L": [{"S": "x"}, {"N": "2"}, {"M": {}}, {"L": []}]},
        ":m": {"M": {"inner": {"M": {"deep": {"SS": ["a", "b"]}}}, "n": {"N": "3"}}},
        ":ss": {"SS": ["x", "y"]},
        ":ns": {"NS": ["1", "2"]},
        ":bin": {"B": b"\x00\xff"},
    }
    typed = {
        "UpdateExpression": (
            "SET s = :s, n = :n, b = :b, nothing = :null, l = :l, m = :m, ss = :ss, ns = :ns, "
            "#bin = :bin REMOVE c"
        ),
        "ExpressionAttributeNames": {"#bin": "bin"},
        "ExpressionAttributeValues": every_type,
    }
    paths.update(key, planned=False, **typed)
    fresh = f"fresh-{uuid.uuid4().hex[:6]}"
    for return_values in ("NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"):
        paths.update(key, planned=True, **typed, ReturnValues=return_values)
        paths.update(fresh, planned=True, **typed, ReturnValues=return_values)
        paths.put(fresh, None)
    bogus = paths.update(key, planned=True, **typed, ReturnValues="EVERYTHING")
    assert bogus[0] == "error"

    # One placeholder written to two attributes: each gets its own value (a later nested
    # SET of one leaves the other alone).
    shared = {"UpdateExpression": "SET p = :m, q = :m", "ExpressionAttributeValues": {}}
    for planned, value in ((False, "1"), (True, "2")):
        shared["ExpressionAttributeValues"] = {":m": {"M": {"x": {"N": value}}}}
        paths.update(key, planned=planned, **shared)
    paths.update(
        key,
        planned=False,
        UpdateExpression="SET p.x = :v",
        ExpressionAttributeValues={":v": {"N": "9"}},
    )
    assert paths.item(key)["q"] == {"M": {"x": {"N": "2"}}}  # type: ignore[index]

    # Keys: a wrong key attribute, a key of the wrong type on a new item, an index key in
    # the Key, and writing a key attribute (refused every time, never planned).
    simple = {"UpdateExpression": "SET t = :v", "ExpressionAttributeValues": {":v": s}}
    paths.update(key, planned=False, **simple)
    for wrong_key in ({"nope": {"S": "x"}}, {"session_id": {"N": "1"}}, {"g": {"S": "x"}}):

        def call(wrong_key: dict[str, Any] = wrong_key) -> Any:
            return paths.dynamodb.update_item(TableName=paths.table, Key=wrong_key, **simple)

        refused = paths.step(key, call, planned=True)
        assert refused[0] == "error"
    for _ in range(2):
        own_key = paths.update(
            key,
            planned=False,
            UpdateExpression="SET session_id = :v",
            ExpressionAttributeValues={":v": s},
        )
        assert "part of the key" in own_key[2]["Message"]

    # An index key: planned while it is a non-empty string; an empty one goes to moto,
    # which refuses it; a number there is refused whatever the path.
    index = {"UpdateExpression": "SET g = :g"}
    paths.update(key, planned=False, **index, ExpressionAttributeValues={":g": s})
    paths.update(key, planned=True, **index, ExpressionAttributeValues={":g": {"S": "other"}})
    empty = paths.update(key, planned=False, **index, ExpressionAttributeValues={":g": {"S": ""}})
    assert empty[0] == "error"
    for _ in range(2):
        number = paths.update(key, planned=False, **index, ExpressionAttributeValues={":g": one})
        assert number[0] == "error"

    # Refused expressions are never planned: unused or undefined placeholders, duplicate
    # paths, reserved words.
    for refused_request in (
        {"UpdateExpression": "SET t = :v", "ExpressionAttributeValues": {":v": s, ":w": s}},
        {"UpdateExpression": "SET t = :v", "ExpressionAttributeValues": {":w": s}},
        {"UpdateExpression": "SET t = :v, t = :v", "ExpressionAttributeValues": {":v": s}},
        {"UpdateExpression": "SET #t = :v", "ExpressionAttributeValues": {":v": s}},
        {"UpdateExpression": "SET name = :v", "ExpressionAttributeValues": {":v": s}},
        {
            "UpdateExpression": "SET t = :v",
            "ConditionExpression": "t = :missing",
            "ExpressionAttributeValues": {":v": s},
        },
    ):
        for _ in range(2):
            assert paths.update(key, planned=False, **refused_request)[0] == "error"


ATTRIBUTES = ("a", "b", "n", "m", "#x", "#y")
CONDITIONS = (
    None,
    "attribute_exists(a)",
    "attribute_not_exists(n) OR n < :c",
    "a <> :c AND (attribute_not_exists(#x) OR size(#x) > :c)",
)


def random_value(rng: random.Random, kind: str) -> dict[str, Any]:
    if kind == "S":
        return {"S": rng.choice(["", "x", "Zoë", "y" * rng.randint(1, 40)])}
    if kind == "N":
        return {"N": rng.choice(["0", "1", "-3", "2.5", "1000000", "0.001"])}
    if kind == "BOOL":
        return {"BOOL": rng.random() < 0.5}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "SS":
        return {"SS": rng.sample(["p", "q", "r", "s"], rng.randint(1, 3))}
    if kind == "L":
        return {"L": [random_value(rng, rng.choice(["S", "N"])) for _ in range(rng.randint(0, 3))]}
    return {"M": {f"k{i}": random_value(rng, rng.choice(["S", "N", "BOOL"])) for i in range(3)}}


def random_item(rng: random.Random, key: str) -> dict[str, Any] | None:
    if rng.random() < 0.2:
        return None
    item = {"session_id": {"S": key}}
    for name in ("a", "b", "n", "m", "x", "y"):
        if rng.random() < 0.6:
            kind = "N" if name == "n" and rng.random() < 0.8 else rng.choice(["S", "N", "M", "L"])
            item[name] = random_value(rng, kind)
    return item


def test_random_updates_in_the_plan_s_grammar_give_what_moto_gives(two_paths: TwoPaths) -> None:
    """Seeded (deterministic): expressions of SET, ADD and REMOVE on top-level attributes in
    any clause order, with and without names, conditions and ReturnValues, each run on
    random items with values of the same types (so the later runs take the plan), ADDs of
    strings and to strings included."""
    rng = random.Random(20261130)
    key = f"random-{uuid.uuid4().hex[:6]}"
    count = moto_gaps.UPDATE_PLAN_STATS["planned"]
    steps = 0
    for _ in range(40):
        chosen = rng.sample(ATTRIBUTES, rng.randint(1, 4))
        clauses: dict[str, list[str]] = {"SET": [], "ADD": [], "REMOVE": []}
        types: dict[str, str] = {}
        for i, path in enumerate(chosen):
            action = rng.choice(["SET", "SET", "ADD", "REMOVE"])
            if action == "REMOVE":
                clauses["REMOVE"].append(path)
                continue
            placeholder = f":v{i}"
            if action == "ADD":
                types[placeholder] = "N" if rng.random() < 0.85 else "S"
                clauses["ADD"].append(f"{path} {placeholder}")
            else:
                types[placeholder] = rng.choice(["S", "N", "BOOL", "NULL", "SS", "L", "M"])
                clauses["SET"].append(f"{path} = {placeholder}")
        order = [c for c in ("SET", "ADD", "REMOVE") if clauses[c]]
        rng.shuffle(order)
        expression = " ".join(
            f"{c} " + (" , " if rng.random() < 0.3 else ", ").join(clauses[c]) for c in order
        )
        condition = rng.choice(CONDITIONS)
        if condition and ":c" in condition:
            types[":c"] = "N"
        names = {p: p[1:] for p in chosen if p.startswith("#")}
        if condition and "#x" in condition:
            names["#x"] = "x"
        request: dict[str, Any] = {"UpdateExpression": expression}
        if condition:
            request["ConditionExpression"] = condition
        if names:
            request["ExpressionAttributeNames"] = names
        for _ in range(3):
            two_paths.put(key, random_item(rng, key))
            if types:
                request["ExpressionAttributeValues"] = {
                    p: random_value(rng, kind) for p, kind in types.items()
                }
            if rng.random() < 0.5:
                request["ReturnValues"] = rng.choice(
                    ["NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"]
                )
            two_paths.update(key, planned=None, **request)
            steps += 1
    planned = moto_gaps.UPDATE_PLAN_STATS["planned"] - count
    assert planned >= steps // 3, f"only {planned} of {steps} random updates took a plan"


def test_the_item_size_limit_is_moto_s(two_paths: TwoPaths) -> None:
    """moto refuses a write when the item's size before it plus the written attribute passes
    405000 bytes (even when the write replaces a larger value); the plan keeps that sum
    instead of measuring the item at every write, to the byte."""
    paths = two_paths
    key = f"size-{uuid.uuid4().hex[:6]}"
    own = len("session_id") + len(key)
    big = {"UpdateExpression": "SET big = :big ADD n :one REMOVE gone"}

    def values(length: int) -> dict[str, Any]:
        return {":big": {"S": "x" * length}, ":one": {"N": "1"}}

    small = {"session_id": {"S": key}, "big": {"S": "x" * 10}}
    paths.update(key, planned=False, **big, ExpressionAttributeValues=values(10))
    paths.put(key, None)
    created = paths.update(key, planned=True, **big, ExpressionAttributeValues=values(10))
    assert created[0] == "ok" and paths.item(key) == {**small, "n": {"N": "1"}}
    # From {session_id, big: 10 x}: the SET of `big` counts the item as it is (the old
    # value included) plus the new `big`; the ADD of `n` after it fits whenever that does.
    fits = MOTO_ITEM_LIMIT - own - (len("big") + 10) - len("big")
    for length, allowed in ((fits, True), (fits + 1, False)):
        paths.put(key, small)
        written = paths.update(key, planned=True, **big, ExpressionAttributeValues=values(length))
        assert (written[0] == "ok") is allowed, (length, written)
    assert "Item size to update" in written[2]["Message"]
    paths.put(key, {"session_id": {"S": key}, "big": {"S": "x" * 300_000}, "gone": {"S": "y"}})
    smaller = paths.update(key, planned=True, **big, ExpressionAttributeValues=values(150_000))
    assert smaller[0] == "error"  # moto counts the value being replaced
    paths.put(key, None)


def test_a_table_with_a_stream_or_a_changed_schema_goes_through_moto(
    local_stack: LocalStack,
) -> None:
    dynamodb = local_stack.client("dynamodb")
    streamed = f"fast-update-stream-{uuid.uuid4().hex[:8]}"
    changed = f"fast-update-schema-{uuid.uuid4().hex[:8]}"
    for name, more in (
        (
            streamed,
            {
                "StreamSpecification": {
                    "StreamEnabled": True,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                }
            },
        ),
        (changed, {}),
    ):
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "session_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "session_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            **more,
        )
    h = {"UpdateExpression": "SET h = :h"}
    try:
        for _ in range(2):
            TwoPaths(dynamodb, streamed).update(
                "k", planned=False, **h, ExpressionAttributeValues={":h": {"S": "x"}}
            )

        # A plan learned before `h` became an index key no longer applies: moto refuses "".
        paths = TwoPaths(dynamodb, changed)
        paths.update("k", planned=False, **h, ExpressionAttributeValues={":h": {"S": "x"}})
        paths.update("k", planned=True, **h, ExpressionAttributeValues={":h": {"S": ""}})
        dynamodb.update_table(
            TableName=changed,
            AttributeDefinitions=[{"AttributeName": "h", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": "by_h",
                        "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                }
            ],
        )
        refused = paths.update(
            "new", planned=False, **h, ExpressionAttributeValues={":h": {"S": ""}}
        )
        assert refused[0] == "error" and "empty string" in refused[2]["Message"]
        paths.update("new", planned=False, **h, ExpressionAttributeValues={":h": {"S": "y"}})
        paths.update("new", planned=True, **h, ExpressionAttributeValues={":h": {"S": "z"}})
    finally:
        dynamodb.delete_table(TableName=streamed)
        dynamodb.delete_table(TableName=changed)


def test_the_plan_covers_top_level_set_add_and_remove_only() -> None:
    from moto.dynamodb.models.table import Table

    table = Table(
        "t",
        account_id="123456789012",
        region="us-east-1",
        schema=[{"AttributeName": "session_id", "KeyType": "HASH"}],
        attr=[{"AttributeName": "session_id", "AttributeType": "S"}],
    )
    values = {":v": {"S": "x"}, ":n": {"N": "1"}, ":set": {"SS": ["a"]}}

    def plan(expression: str) -> moto_gaps.UpdatePlan | None:
        return moto_gaps.compile_update_plan(expression, {"#f": "flow"}, values, table)

    compiled = plan("SET a = :v, #f = :v ADD seq :n REMOVE b, #f")
    assert compiled is not None
    assert compiled.actions == (
        ("SET", "a", ":v"),
        ("SET", "flow", ":v"),
        ("ADD", "seq", ":n"),
        ("REMOVE", "b", None),
        ("REMOVE", "flow", None),
    )
    for beyond in (
        "SET a.b = :v",
        "SET a[0] = :v",
        "SET a = :n + :n",
        "SET a = b",
        "SET a = if_not_exists(a, :v)",
        "SET a = list_append(a, :v)",
        "ADD tags :set",
        "DELETE tags :set",
        "REMOVE a.b",
    ):
        assert plan(beyond) is None, beyond


def validations_of(
    local_stack: LocalStack, requests: list[dict[str, Any]]
) -> tuple[int, dict[str, Any]]:
    """How many times moto validated an UpdateExpression while the flows table took
    `requests` (UpdateItem arguments) on one fresh item, and the item after them."""
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    dynamodb = local_stack.client("dynamodb")
    assert local_stack.deployed is not None
    table = local_stack.deployed.tables["FlowsTable"]
    key = {"session_id": {"S": f"gap-{uuid.uuid4().hex}"}}
    dynamodb.put_item(TableName=table, Item={**key, "flow_id": {"S": "f"}})
    validated = []
    original = UpdateExpressionValidator.validate

    def counting(self: Any) -> Any:
        validated.append(1)
        return original(self)

    UpdateExpressionValidator.validate = counting  # type: ignore[method-assign]
    try:
        for request in requests:
            dynamodb.update_item(TableName=table, Key=key, **request)
    finally:
        UpdateExpressionValidator.validate = original  # type: ignore[method-assign]
    item: dict[str, Any] = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    dynamodb.delete_item(TableName=table, Key=key)
    return len(validated), item


def test_moto_validates_an_update_expression_once_per_shape(local_stack: LocalStack) -> None:
    """Without the plan, moto parses and validates every UpdateItem's expression through ten
    tree walks (10-15 ms for a checkpoint write); with it, once per shape of request."""
    validated, item = validations_of(
        local_stack,
        [
            {
                "UpdateExpression": "SET step = :step, updated_ms = :ms ADD seq :one REMOVE answer",
                "ConditionExpression": "flow_id = :flow",
                "ExpressionAttributeValues": {
                    ":step": {"S": f"step-{i}"},
                    ":ms": {"N": str(i)},
                    ":one": {"N": "1"},
                    ":flow": {"S": "f"},
                },
            }
            for i in range(5)
        ],
    )
    assert item["seq"] == {"N": "5"} and item["step"] == {"S": "step-4"}
    assert validated <= 1, f"moto validated the same expression {validated} times"


def test_the_microbenchmarks_checkpoint_write_takes_the_plan(local_stack: LocalStack) -> None:
    """`microbench`'s "UpdateItem (checkpoint-shaped)" row times, on the local stack, a write
    applied by plan: after its first sighting, moto does not validate its expression again."""
    from tests.bench.microbench_handler import checkpoint_write

    validated, item = validations_of(local_stack, [checkpoint_write() for _ in range(4)])
    assert item["seq"] == {"N": "4"} and item["step"] == {"S": "await_slot"}
    assert validated <= 1, f"moto validated the same expression {validated} times"
