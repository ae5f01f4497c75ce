"""Each workaround in infra/local/moto_gaps.py has a test here that fails without it.

`make moto-gaps-proof` runs this module (and the mock-config and local-stack modules) once per
workaround with that workaround switched off (tests/moto_gap_switch.py) and checks that at
least one test fails each time; docs/outcomes.md lists which.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from infra.local import moto_gaps
from infra.local.stack import LocalStack
from infra.local.template_loader import DeployedStack
from tests.integration.workflow_helpers import history as events_of
from tests.integration.workflow_helpers import wait_for_end

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::123456789012:role/pf360-scheduler-local-states"


def entered(sfn: Any, execution_arn: str) -> list[str]:
    return [
        e["stateEnteredEventDetails"]["name"]
        for e in events_of(sfn, execution_arn)
        if e["type"].endswith("StateEntered")
    ]


def run_machine(local_stack: LocalStack, definition: dict[str, Any], given: Any = None) -> str:
    sfn = local_stack.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"gap-{uuid.uuid4().hex[:10]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps(given or {}))
    return str(started["executionArn"])


def self_check_arn(local_stack: LocalStack) -> str:
    assert local_stack.deployed is not None
    name = local_stack.deployed.functions["SelfCheckFunction"]
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


def callback_machine(local_stack: LocalStack, timeout: int = 1800) -> dict[str, Any]:
    return {
        "StartAt": "AwaitAnswer",
        "States": {
            "AwaitAnswer": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": self_check_arn(local_stack),
                    "Payload": {"echo.$": "$$.Task.Token"},
                },
                "TimeoutSeconds": timeout,
                "End": True,
            }
        },
    }


def parked_token(sfn: Any, execution_arn: str) -> str:
    """The task token of the parked task (its Payload echoes it), once the task is parked
    (its Lambda returned), plus a moment for the engine to start waiting."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        events = events_of(sfn, execution_arn)
        if any(e["type"] == "TaskSubmitted" for e in events):
            scheduled = next(e for e in events if e["type"] == "TaskScheduled")
            parameters = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
            time.sleep(0.2)
            return str(parameters["Payload"]["echo"])
        time.sleep(0.05)
    raise AssertionError("the task never parked")


# --------------------------------------------------------------------------- Lambda runtime


def test_a_deployed_function_runs_our_handler_without_docker(local_stack: LocalStack) -> None:
    """Without the in-process runtime, moto would try to start a Docker container."""
    response = local_stack.client("lambda").invoke(
        FunctionName=self_check_arn(local_stack), Payload=json.dumps({"echo": "gap"})
    )
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read())["echo"] == "gap"


def test_the_engine_parses_a_definition_once_and_reuses_its_lambda_client(
    local_stack: LocalStack,
) -> None:
    """Without the engine caches, moto parses the ASL at every StartExecution and makes a
    new boto3 Lambda client for every Task state (most of a chat turn's overhead)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    _, first = AmazonStateLanguageParser.parse(definition)
    _, second = AmazonStateLanguageParser.parse(definition)
    assert first is second
    region = local_stack.region
    assert lambda_eval_utils.boto_client_for(region, "lambda") is (
        lambda_eval_utils.boto_client_for(region, "lambda")
    )


def function_arn(local_stack: LocalStack, logical_id: str) -> str:
    assert local_stack.deployed is not None
    name = local_stack.deployed.functions[logical_id]
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


def test_the_engine_invokes_its_task_functions_without_an_http_round_trip(
    local_stack: LocalStack,
) -> None:
    """moto's engine called Lambda over HTTP to its own process for every Task state (1.8 ms
    a booking turn before the function started); it now calls moto's Lambda backend
    directly, and the task still runs in its own execution environment."""
    assert local_stack.moto is not None
    served = local_stack.moto.app
    invokes: list[str] = []

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").endswith("/invocations"):
            invokes.append(environ["PATH_INFO"])
        return served(environ, start_response)

    local_stack.moto.app = counting
    try:
        sfn = local_stack.client("stepfunctions")
        before = local_stack.lambda_runtime.invocations
        execution = run_machine(
            local_stack,
            {
                "StartAt": "Check",
                "States": {
                    "Check": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {
                            "FunctionName": self_check_arn(local_stack),
                            "Payload": {"echo": "in process"},
                        },
                        "End": True,
                    }
                },
            },
        )
        ended = wait_for_end(sfn, execution)
    finally:
        local_stack.moto.app = served
    assert ended["status"] == "SUCCEEDED"
    assert json.loads(ended["output"])["Payload"]["echo"] == "in process"
    assert local_stack.lambda_runtime.invocations == before + 1 and invokes == []


def test_an_in_process_invoke_answers_as_the_http_invoke_does(local_stack: LocalStack) -> None:
    """The same answer both ways: a result, a function error, and moto's own errors (an
    unknown function) as the ClientError the engine turns into `Lambda.<code>`."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    client = lambda_eval_utils.boto_client_for(local_stack.region, "lambda")
    assert isinstance(client, moto_gaps.InProcessLambdaClient)
    over_http = client._client
    calls = [
        {"FunctionName": self_check_arn(local_stack), "Payload": b'{"echo": "same"}'},
        {"FunctionName": function_arn(local_stack, "FetchDatesFunction"), "Payload": b"{}"},
    ]
    for call in calls:
        direct, http = client.invoke(**call), over_http.invoke(**call)
        assert (direct["StatusCode"], direct.get("FunctionError")) == (
            http["StatusCode"],
            http.get("FunctionError"),
        )
        assert json.loads(direct["Payload"].read()).keys() == (
            json.loads(http["Payload"].read()).keys()
        )
    assert calls and direct.get("FunctionError")  # the second one failed, both ways
    missing = {
        "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:no-such-function",
        "Payload": b"{}",
    }
    errors = []
    for invoke in (client.invoke, over_http.invoke):
        with pytest.raises(ClientError) as refused:
            invoke(**missing)
        errors.append(refused.value.response)
    assert errors[0]["Error"] == errors[1]["Error"]
    assert (
        errors[0]["ResponseMetadata"]["HTTPStatusCode"]
        == errors[1]["ResponseMetadata"]["HTTPStatusCode"]
    )


def test_the_executions_of_a_definition_share_one_program_made_safe_to_share(
    local_stack: LocalStack,
) -> None:
    """Without the engine caches, each execution builds its program (moto's Preprocessor
    over the parse tree, ~20 ms holding the GIL) on its own thread before its first state.
    Now one program per definition is shared, and every component's heap key (its slot in
    an execution's own heap, e.g. a Retry's attempt count; otherwise made lazily, so two
    executions could make it at once) is made before any execution runs."""
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    definition = json.dumps(
        {
            "Comment": uuid.uuid4().hex,
            "StartAt": "Try",
            "States": {"Try": {"Type": "Pass", "Next": "Done"}, "Done": {"Type": "Succeed"}},
        }
    )
    first, tree = AmazonStateLanguageParser.parse(definition)
    second, same_tree = AmazonStateLanguageParser.parse(definition)
    assert same_tree is tree and second is first
    assert moto_gaps.shared_program(definition) is first
    components: list[EvalComponent] = []
    pending: list[object] = [first]
    seen: set[int] = set()
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, EvalComponent):
            components.append(node)
        if isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, (list, tuple)):
            pending.extend(node)
        elif type(node).__module__.startswith("moto.stepfunctions.parser.asl"):
            pending.extend(getattr(node, "__dict__", {}).values())
    assert len(components) > 5
    assert all(vars(c).get("_EvalComponent__heap_key") for c in components)


def test_concurrent_executions_of_a_shared_program_keep_their_own_retry_counts(
    local_stack: LocalStack,
) -> None:
    """Two executions of one definition at once, each retrying a failing task: each gets
    exactly its own attempts (MaxAttempts 2: 3 TaskScheduled), none lost to the other."""
    sfn = local_stack.client("stepfunctions")
    definition = json.dumps(
        {
            "StartAt": "Fail",
            "States": {
                "Fail": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "no-such-function-" + uuid.uuid4().hex[:8]},
                    "Retry": [
                        {"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1}
                    ],
                    "End": True,
                }
            },
        }
    )
    machine = sfn.create_state_machine(
        name="shared-" + uuid.uuid4().hex[:8],
        definition=definition,
        roleArn="arn:aws:iam::123456789012:role/local-sfn",
    )["stateMachineArn"]
    arns = [
        sfn.start_execution(stateMachineArn=machine)["executionArn"],
        sfn.start_execution(stateMachineArn=machine)["executionArn"],
    ]
    for arn in arns:
        assert wait_for_end(sfn, arn)["status"] == "FAILED"
        events = events_of(sfn, arn)
        assert sum(1 for e in events if e["type"] == "TaskScheduled") == 3


def test_the_server_keeps_a_connection_open_between_calls(local_stack: LocalStack) -> None:
    """moto's own server (werkzeug's development server) answers every call with
    `Connection: close`: each AWS call opened a new connection and a new server thread.
    Two calls now go over one connection."""
    host, port = local_stack.endpoint_url.split("//")[1].rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    headers = {
        "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": (
            "AWS4-HMAC-SHA256 Credential=local/20261130/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=local"
        ),
    }
    sockets = []
    try:
        for _ in range(2):
            connection.request("POST", "/", body=b"{}", headers=headers)
            response = connection.getresponse()
            assert response.status == 200 and "TableNames" in json.loads(response.read())
            assert (response.getheader("Connection") or "").lower() != "close"
            sockets.append(connection.sock)
    finally:
        connection.close()
    assert sockets[0] is not None and sockets[0] is sockets[1]


def test_the_server_loop_does_not_spin_while_requests_are_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """waitress's loop polled a channel for POLLOUT while its task was still sending its own
    response, came straight back and polled again: 70-odd loop turns per request with a few
    in-process clients, holding the GIL the answering thread needed. A request now costs
    the loop a couple of turns (read it, then wake for the next)."""
    from waitress import wasyncore

    turns = [0]
    poll = wasyncore.poll2

    def counted(*args: Any, **kwargs: Any) -> Any:
        turns[0] += 1
        return poll(*args, **kwargs)

    monkeypatch.setattr(wasyncore, "poll2", counted)  # before the loop binds it
    server = moto_gaps.KeepAliveMotoServer()
    server.start()
    try:
        host, port = server.get_host_and_port()

        def dynamodb() -> Any:
            return boto3.client(
                "dynamodb",
                endpoint_url=f"http://{host}:{port}",
                region_name="us-east-1",
                aws_access_key_id="local",
                aws_secret_access_key="local",
            )

        table = f"spin-{uuid.uuid4().hex[:8]}"
        dynamodb().create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb().put_item(TableName=table, Item={"k": {"S": "x"}, "v": {"S": "y" * 200}})
        clients, calls = 4, 100
        errors: list[BaseException] = []

        def read() -> None:
            client = dynamodb()
            try:
                for _ in range(calls):
                    assert client.get_item(TableName=table, Key={"k": {"S": "x"}})["Item"]
            except BaseException as error:  # the thread reports it to the test
                errors.append(error)

        turns[0] = 0
        threads = [threading.Thread(target=read) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors
        per_request = turns[0] / (clients * calls)
        assert per_request < 10, f"{per_request:.1f} loop turns per request"
    finally:
        server.stop()


def test_moto_draws_a_request_id_in_one_call_of_its_generator(local_stack: LocalStack) -> None:
    """52 `choice` calls per response became one `choices` call: the same alphabet and
    length, from moto's own (seedable) generator."""
    from moto.moto_api._internal import mock_random

    draws: list[int] = []
    choice = mock_random.choice

    def counted(sequence: Any) -> Any:
        draws.append(1)
        return choice(sequence)

    mock_random.choice = counted  # type: ignore[method-assign]
    try:
        ids = [mock_random.get_random_string(length=52) for _ in range(50)]
    finally:
        del mock_random.choice
    assert draws == []
    assert all(len(i) == 52 and i.isalnum() and i.isascii() for i in ids)
    assert len(set(ids)) == 50 and any(c.isdigit() for i in ids for c in i)
    mock_random.seed(7)
    first = mock_random.get_random_string(length=20, include_digits=False, lower_case=True)
    mock_random.seed(7)
    assert mock_random.get_random_string(length=20, include_digits=False, lower_case=True) == first
    assert first.isalpha() and first.islower()


def test_the_engine_parses_each_jsonpath_once(local_stack: LocalStack) -> None:
    """Without the engine caches, jsonpath_ng builds its parser tables for every path a
    state evaluates; a path's expression is now parsed once, and still finds the same."""
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    assert json_path.parse("$.flow.offer[0]") is json_path.parse("$.flow.offer[0]")
    assert result_path.parse("$.answer") is result_path.parse("$.answer")
    assert json_path.extract_json("$.flow.offer[0]", {"flow": {"offer": ["a", "b"]}}) == "a"
    with pytest.raises(json_path.NoSuchJsonPathError):
        json_path.extract_json("$.missing", {"flow": {}})


def test_the_server_resolves_a_service_once_per_host(local_stack: LocalStack) -> None:
    """Without the dispatch cache, moto's server lists its own package directory and tries
    every service's URL patterns for each request; now once per host name."""
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    listed = []
    original = backends.list_of_moto_modules

    def counting() -> Any:
        listed.append(1)
        return original()

    backends.list_of_moto_modules = counting
    try:
        dispatcher = DomainDispatcherApplication(lambda service: service)
        host = f"dynamodb.{local_stack.region}.amazonaws.com"
        assert dispatcher.get_backend_for_host(host) == "dynamodb"
        before = len(listed)
        assert dispatcher.get_backend_for_host(host) == "dynamodb"
        assert len(listed) == before
        tables = local_stack.client("dynamodb").list_tables()["TableNames"]
        assert tables  # requests still reach DynamoDB through the cache
    finally:
        backends.list_of_moto_modules = original


def test_the_server_lists_a_response_class_methods_once(local_stack: LocalStack) -> None:
    """Without the dispatch cache, moto lists the response class's methods (inspect over
    ~200 attributes) for every call; now once per class, again if the class changes."""
    import inspect

    from moto.core import responses
    from moto.dynamodb.responses import DynamoHandler

    dynamodb = local_stack.client("dynamodb")
    dynamodb.list_tables()
    calls = []
    original = inspect.getmembers

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return original(*args, **kwargs)

    inspect.getmembers = counting
    try:
        dynamodb.list_tables()
        dynamodb.list_tables()
        assert DynamoHandler not in calls
        DynamoHandler.local_probe = lambda self: None  # type: ignore[attr-defined]
        try:
            assert "local_probe" in responses.method_names_from_class(DynamoHandler)
        finally:
            del DynamoHandler.local_probe  # type: ignore[attr-defined]
        assert "local_probe" not in responses.method_names_from_class(DynamoHandler)
    finally:
        inspect.getmembers = original


def test_two_conditional_writes_of_one_item_cannot_both_pass(local_stack: LocalStack) -> None:
    """moto keeps no lock per item: two conditional writes in flight at once could both
    pass `attribute_not_exists(owner)` before either wrote (here the window between the
    check and the write is widened to 0.3 s). DynamoDB isolates them: one wins, the other
    is refused."""
    import threading

    from moto.dynamodb import models

    dynamodb = local_stack.client("dynamodb")
    table = "isolation-" + uuid.uuid4().hex[:8]
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    marker = "owner_" + uuid.uuid4().hex[:8]  # a shape seen only here: moto's own path
    original = models.create_condition_expression_parser

    def slow_parser(expression: Any, *args: Any) -> Any:
        parser = original(expression, *args)
        if not expression or marker not in expression:
            return parser

        class SlowCheck:
            def parse(self) -> Any:
                op = parser.parse()

                class Op:
                    def expr(self, item: Any) -> bool:
                        passed = bool(op.expr(item))
                        time.sleep(0.3)  # between the check and the write
                        return passed

                return Op()

        return SlowCheck()

    outcomes: list[str] = []

    def claim(who: str) -> None:
        try:
            dynamodb.update_item(
                TableName=table,
                Key={"pk": {"S": "item"}},
                UpdateExpression=f"SET {marker} = :who",
                ConditionExpression=f"attribute_not_exists({marker})",
                ExpressionAttributeValues={":who": {"S": who}},
            )
            outcomes.append("won")
        except dynamodb.exceptions.ConditionalCheckFailedException:
            outcomes.append("refused")

    models.create_condition_expression_parser = slow_parser
    try:
        threads = [threading.Thread(target=claim, args=(who,)) for who in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    finally:
        models.create_condition_expression_parser = original
    assert sorted(outcomes) == ["refused", "won"]


RICH_ITEM: dict[str, Any] = {
    "pk": {"S": "rich"},
    "empty": {"S": ""},
    "unicode": {"S": "Zoë — 日本"},
    "n": {"N": "-12.50"},
    "yes": {"BOOL": True},
    "no": {"BOOL": False},
    "nothing": {"NULL": True},
    "names": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2.5"]},
    "blob": {"B": b"\x00\x01binary"},
    "blobs": {"BS": [b"\x02", b"\x03"]},
    "flow": {
        "M": {
            "offer": {"L": [{"S": "2026-12-01"}, {"N": "3"}, {"M": {}}, {"L": []}]},
            "inner": {"M": {"b": {"B": b"\xff"}, "ok": {"BOOL": True}}},
            "empty": {"M": {}},
        }
    },
}


def test_dynamodb_items_read_back_the_same_with_and_without_the_fast_serializer(
    local_stack: LocalStack,
) -> None:
    """The fast path writes the same JSON as moto's serializer, for every attribute type
    (binary values, which it leaves to moto, included)."""
    from moto.core.serialize import BaseJSONSerializer

    dynamodb = local_stack.client("dynamodb")
    assert local_stack.deployed is not None
    table = local_stack.deployed.tables["FlowsTable"]
    item = {**RICH_ITEM, "session_id": {"S": f"gap-{uuid.uuid4().hex}"}}
    key = {"session_id": item["session_id"]}
    dynamodb.put_item(TableName=table, Item=item)

    def read_and_update() -> tuple[Any, Any]:
        got = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
        updated = dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET n = :n",
            ReturnValues="ALL_NEW",
            ExpressionAttributeValues={":n": {"N": "7"}},
        )["Attributes"]
        dynamodb.put_item(TableName=table, Item=item)
        return got, updated

    fast, updated_fast = read_and_update()
    patched = BaseJSONSerializer._serialize_type_structure
    BaseJSONSerializer._serialize_type_structure = patched._original  # type: ignore[attr-defined]
    try:
        slow, updated_slow = read_and_update()
    finally:
        BaseJSONSerializer._serialize_type_structure = patched  # type: ignore[method-assign]
    dynamodb.delete_item(TableName=table, Key=key)
    assert fast == slow == item
    assert updated_fast == updated_slow == {**item, "n": {"N": "7"}}


def test_dynamodb_items_are_serialized_without_picking_each_member(
    local_stack: LocalStack,
) -> None:
    """Without the fast path, moto's serializer tries attribute-name aliases for each of the
    ten members of every AttributeValue (over half of a GetItem's server time)."""
    from moto.core import serialize

    dynamodb = local_stack.client("dynamodb")
    assert local_stack.deployed is not None
    table = local_stack.deployed.tables["FlowsTable"]
    values = {f"a{i}": {"S": str(i)} for i in range(30)}
    item = {"session_id": {"S": f"gap-{uuid.uuid4().hex}"}, "flow": {"M": values}}
    dynamodb.put_item(TableName=table, Item=item)
    picked = []
    original = serialize.XFormedAttributePicker.__call__

    def counting(self: Any, context: Any) -> Any:
        picked.append(context.key)
        return original(self, context)

    serialize.XFormedAttributePicker.__call__ = counting  # type: ignore[method-assign]
    try:
        got = dynamodb.get_item(
            TableName=table, Key={"session_id": item["session_id"]}, ConsistentRead=True
        )["Item"]
    finally:
        serialize.XFormedAttributePicker.__call__ = original  # type: ignore[method-assign]
    assert got == item
    assert len(picked) < 10, picked


# --------------------------------------------------------------------------- SendTaskFailure


def test_send_task_failure_keeps_its_cause(local_stack: LocalStack) -> None:
    sfn = local_stack.client("stepfunctions")
    execution = run_machine(local_stack, callback_machine(local_stack))
    token = parked_token(sfn, execution)
    sfn.send_task_failure(taskToken=token, error="Superseded", cause="a newer booking started")
    ended = wait_for_end(sfn, execution)
    assert (ended["status"], ended["error"]) == ("FAILED", "Superseded")
    assert ended.get("cause") == "a newer booking started"
    failed = [e for e in events_of(sfn, execution) if e["type"] == "TaskFailed"]
    assert failed[0]["taskFailedEventDetails"]["cause"] == "a newer booking started"


def test_a_task_token_is_answered_while_another_execution_is_being_started(
    local_stack: LocalStack,
) -> None:
    """moto lists a new execution before starting it (status and worker still None): a
    SendTaskSuccess arriving in that window scanned it and failed with a 500. It is now
    passed over, and the token is answered; the starting execution reads as RUNNING."""
    import copy

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    sfn = local_stack.client("stepfunctions", config=Config(retries={"max_attempts": 1}))
    execution = run_machine(local_stack, callback_machine(local_stack))
    token = parked_token(sfn, execution)
    backend = stepfunctions_parser_backends[DEFAULT_ACCOUNT_ID][local_stack.region]
    state_machine, parked = next(
        (m, e) for m in backend.state_machines for e in m.executions if e.exec_arn == execution
    )
    starting = copy.copy(parked)  # as StartExecution lists it, before `start()`
    starting.exec_status, starting.exec_worker = None, None
    state_machine.executions.insert(0, starting)
    try:
        assert starting.status == "RUNNING"
        sfn.send_task_success(taskToken=token, output="{}")
        with pytest.raises(sfn.exceptions.ClientError) as refused:
            sfn.send_task_failure(taskToken="no-such-token", error="E", cause="c")
        assert refused.value.response["Error"]["Code"] == "InvalidToken"
    finally:
        state_machine.executions.remove(starting)
    assert wait_for_end(sfn, execution)["status"] == "SUCCEEDED"


# --------------------------------------------------------------------------- clock


def test_a_callback_wait_times_out_on_the_virtual_clock_and_its_token_is_spent(
    local_stack: LocalStack,
) -> None:
    """Both halves: the state's own timeout, and the parked callback wait inside it."""
    sfn = local_stack.client("stepfunctions")
    execution = run_machine(local_stack, callback_machine(local_stack, timeout=1800))
    token = parked_token(sfn, execution)
    local_stack.clock.advance(1801)
    ended = wait_for_end(sfn, execution, deadline_seconds=5)
    assert (ended["status"], ended["error"]) == ("FAILED", "States.Timeout")
    with pytest.raises(sfn.exceptions.ClientError) as refused:
        sfn.send_task_success(taskToken=token, output="{}")
    assert refused.value.response["Error"]["Code"] in ("TaskTimedOut", "InvalidToken")


def test_a_task_timeout_is_measured_on_the_virtual_clock(local_stack: LocalStack) -> None:
    """A (non-callback) task's TimeoutSeconds: the state-level half of the clock."""
    name = f"slow-{uuid.uuid4().hex[:8]}"
    local_stack.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::123456789012:role/pf360-scheduler-local-lambda",
        Handler="tests.integration.handlers_for_tests.sleep_handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Timeout=60,
    )
    sfn = local_stack.client("stepfunctions")
    execution = run_machine(
        local_stack,
        {
            "StartAt": "Slow",
            "States": {
                "Slow": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": name, "Payload": 8},
                    "TimeoutSeconds": 600,
                    "End": True,
                }
            },
        },
    )
    time.sleep(0.5)
    local_stack.clock.advance(601)
    ended = wait_for_end(sfn, execution, deadline_seconds=5)
    assert (ended["status"], ended["error"]) == ("FAILED", "States.Timeout")


def test_retry_intervals_are_scaled(local_stack: LocalStack) -> None:
    sfn = local_stack.client("stepfunctions")
    execution = run_machine(
        local_stack,
        {
            "StartAt": "Flaky",
            "States": {
                "Flaky": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "no-such-function", "Payload": {}},
                    "Retry": [
                        {
                            "ErrorEquals": ["States.ALL"],
                            "IntervalSeconds": 100,
                            "MaxAttempts": 2,
                            "BackoffRate": 1.0,
                        }
                    ],
                    "End": True,
                }
            },
        },
    )
    ended = wait_for_end(sfn, execution, deadline_seconds=8)  # 200 s declared
    assert ended["status"] == "FAILED"


# --------------------------------------------------------------------------- TTL


def test_the_stack_sweeps_expired_items_in_the_background(local_stack: LocalStack) -> None:
    """The stack's sweeper thread (not just the sweep function) deletes expired items."""
    dynamodb = local_stack.client("dynamodb")
    table = f"ttl-test-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    now = int(local_stack.clock.now())
    dynamodb.put_item(TableName=table, Item={"id": {"S": "old"}, "ttl": {"N": str(now - 5)}})
    dynamodb.put_item(TableName=table, Item={"id": {"S": "new"}, "ttl": {"N": str(now + 600)}})
    sweeper = LocalStack(ttl_sweep_seconds=0.05)
    sweeper.moto = local_stack.moto
    sweeper.deployed = DeployedStack(
        region=local_stack.region, parameters={}, ttl_attributes={table: "ttl"}
    )
    sweeper._start_ttl_sweeper()
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if "Item" not in dynamodb.get_item(TableName=table, Key={"id": {"S": "old"}}):
                break
            time.sleep(0.05)
        assert "Item" not in dynamodb.get_item(TableName=table, Key={"id": {"S": "old"}})
        assert "Item" in dynamodb.get_item(TableName=table, Key={"id": {"S": "new"}})
    finally:
        sweeper._stop_sweeper.set()


# --------------------------------------------------------------------------- strictness


def runtime_error_machine(local_stack: LocalStack) -> dict[str, Any]:
    """A task whose ResultSelector reads a field the result lacks: States.Runtime on AWS."""
    return {
        "StartAt": "Broken",
        "States": {
            "Broken": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": self_check_arn(local_stack), "Payload": {}},
                "ResultSelector": {"missing.$": "$.Payload.no_such_field"},
                "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }


def test_states_all_neither_retries_nor_catches_a_runtime_error(local_stack: LocalStack) -> None:
    sfn = local_stack.client("stepfunctions")
    execution = run_machine(local_stack, runtime_error_machine(local_stack))
    ended = wait_for_end(sfn, execution)
    assert (ended["status"], ended["error"]) == ("FAILED", "States.Runtime")
    assert entered(sfn, execution) == ["Broken"]
    scheduled = [e for e in events_of(sfn, execution) if e["type"] == "TaskScheduled"]
    assert len(scheduled) == 1


def test_what_retry_and_catch_match() -> None:
    assert moto_gaps.caught_by("PF360_TIMEOUT", ["States.ALL"])
    assert moto_gaps.caught_by("States.Timeout", ["States.ALL"])
    assert moto_gaps.caught_by("PF360_TIMEOUT", ["States.TaskFailed"])
    assert not moto_gaps.caught_by("States.Timeout", ["States.TaskFailed"])
    for terminal in ("States.Runtime", "States.DataLimitExceeded"):
        assert not moto_gaps.caught_by(terminal, ["States.ALL"])
        assert not moto_gaps.caught_by(terminal, ["States.TaskFailed"])
    assert moto_gaps.caught_by("States.DataLimitExceeded", ["States.DataLimitExceeded"])
    assert not moto_gaps.caught_by("States.Runtime", ["States.Runtime"])
    assert not moto_gaps.caught_by("Other", ["PF360_TIMEOUT"])


# --------------------------------------------------------------------------- Wait states


def test_a_wait_state_is_measured_on_the_virtual_clock(local_stack: LocalStack) -> None:
    sfn = local_stack.client("stepfunctions")
    execution = run_machine(
        local_stack,
        {
            "StartAt": "Later",
            "States": {"Later": {"Type": "Wait", "Seconds": 900, "End": True}},
        },
    )
    time.sleep(0.3)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    local_stack.clock.advance(901)
    assert wait_for_end(sfn, execution, deadline_seconds=5)["status"] == "SUCCEEDED"


def test_a_heartbeat_timeout_is_measured_on_the_virtual_clock(local_stack: LocalStack) -> None:
    """The callback half of the clock: the parked wait itself (heartbeats, callbacks)."""
    sfn = local_stack.client("stepfunctions")
    machine = callback_machine(local_stack, timeout=3600)
    machine["States"]["AwaitAnswer"]["HeartbeatSeconds"] = 600
    execution = run_machine(local_stack, machine)
    parked_token(sfn, execution)
    local_stack.clock.advance(601)
    ended = wait_for_end(sfn, execution, deadline_seconds=5)
    assert ended["status"] == "FAILED"
    # AWS names it States.HeartbeatTimeout, moto States.Timeout (our ASL uses no heartbeats).
    assert ended["error"] in ("States.HeartbeatTimeout", "States.Timeout")
