"""`make microbench`: what one AWS call costs through the local stack, against bare moto.

Round-trip time (ms, p50 / p95 / mean over N calls) of one DynamoDB GetItem and UpdateItem
(arithmetic, and one shaped like a checkpoint write, which the stack applies by plan), one
Lambda Invoke of a trivial function, one StartExecution and one SendTaskSuccess, and
the engine's own costs (StartExecution until SUCCEEDED of a one-Pass machine and of a
one-Lambda-task machine; SendTaskSuccess until SUCCEEDED), measured:

- `stack`: against the local stack (`LocalStack`, every moto_gaps workaround installed,
  Lambda in worker processes), from this process (as `make bench` calls it) and from
  inside an execution environment (`tests.bench.microbench_handler.measure`);
- `bare`: against a bare `moto.server.ThreadedMotoServer` in a fresh interpreter (no
  workaround; Lambda is moto's no-Docker stub that runs nothing, so its Invoke is
  moto's request handling alone).

Each target runs in its own interpreter (the workarounds patch moto's classes). Prints
figures and writes build/microbench.json; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bench import microbench_handler

OUTPUT = Path("build/microbench.json")
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}
EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18
PASS_MACHINE = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def chain_machine(states: int) -> dict[str, Any]:
    """A machine as large as the booking one (the engine builds a program per execution)."""
    names = [f"S{i}" for i in range(states)]
    body: dict[str, Any] = {}
    for index, name in enumerate(names):
        body[name] = {
            "Type": "Pass",
            "Parameters": {"step": index, "seen.$": "$.a", "context": {"id.$": "$$.Execution.Id"}},
            "ResultPath": f"$.s{index % 4}",
        }
        if index + 1 < len(names):
            body[name]["Next"] = names[index + 1]
        else:
            body[name]["End"] = True
    return {"StartAt": names[0], "States": body}


def lambda_machine(function_arn: str) -> dict[str, Any]:
    return {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function_arn, "Payload": {"x.$": "$"}},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }


def token_machine(queue_url: str) -> dict[str, Any]:
    return {
        "StartAt": "W",
        "States": {
            "W": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
                "TimeoutSeconds": 60,
                "End": True,
            }
        },
    }


class Endings:
    """Execution ARN -> event set when the engine ends it (moto's own end-of-program hook),
    so the engine's cost is timed without polling DescribeExecution."""

    def __init__(self) -> None:
        from moto.stepfunctions.parser.backend.execution import (
            BaseExecutionWorkerCommunication,
        )

        self.events: dict[str, threading.Event] = {}
        original = BaseExecutionWorkerCommunication.terminated
        endings = self

        def terminated(comm: Any) -> None:
            original(comm)
            endings.event(comm.execution.exec_arn).set()

        BaseExecutionWorkerCommunication.terminated = terminated  # type: ignore[method-assign]

    def event(self, arn: str) -> threading.Event:
        return self.events.setdefault(arn, threading.Event())


def timed(n: int, call: Callable[[], Any], setup: Callable[[], Any] | None = None) -> list[float]:
    times = []
    for _ in range(n):
        arg = setup() if setup else None
        started = time.perf_counter()
        call() if setup is None else call(arg)  # type: ignore[call-arg]
        times.append((time.perf_counter() - started) * 1000)
    return times


def figures(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "p50": round(ordered[len(ordered) // 2], 2),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "mean": round(statistics.mean(ordered), 2),
        "n": len(ordered),
    }


def run_target(target: str, n: int) -> dict[str, Any]:
    """Every measurement against one target, in this interpreter."""
    import boto3

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }
    )
    stop: Callable[[], None]
    if target == "stack":
        from infra.local.lambda_runtime import ProcessRuntime
        from infra.local.stack import LocalStack

        stack = LocalStack(with_sandbox=False, ttl_sweep_seconds=0).start()
        if isinstance(stack.lambda_runtime, ProcessRuntime):
            stack.lambda_runtime.echo_logs = False
        endpoint = stack.endpoint_url
        stop = stack.stop
    else:
        from moto.core.config import default_user_config
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
        default_user_config.setdefault("lambda", {})["use_docker"] = False
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        os.environ["MOTO_PORT"] = str(port)
        stop = server.stop
    endings = Endings()

    def client(service: str) -> Any:
        return boto3.client(service, region_name="us-east-1", endpoint_url=endpoint)

    dynamodb, lambdas, sfn, sqs = (
        client("dynamodb"),
        client("lambda"),
        client("stepfunctions"),
        client("sqs"),
    )
    results: dict[str, Any] = {}
    try:
        role = client("iam").create_role(
            RoleName=f"microbench-{uuid.uuid4().hex[:6]}",
            AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
        )["Role"]["Arn"]
        table = f"microbench-{uuid.uuid4().hex[:6]}"
        dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        function = lambdas.create_function(
            FunctionName="microbench-noop",
            Runtime="python3.12",
            Role=role,
            Handler="tests.bench.microbench_handler.noop",
            Code={"ZipFile": EMPTY_ZIP},
            Timeout=30,
            MemorySize=256,
        )["FunctionArn"]
        lambdas.create_function(
            FunctionName="microbench-measure",
            Runtime="python3.12",
            Role=role,
            Handler="tests.bench.microbench_handler.measure",
            Code={"ZipFile": EMPTY_ZIP},
            Timeout=300,
            MemorySize=512,
        )
        queue_url = sqs.create_queue(QueueName=f"microbench-{uuid.uuid4().hex[:6]}")["QueueUrl"]

        def machine(name: str, definition: dict[str, Any]) -> str:
            arn: str = sfn.create_state_machine(
                name=f"microbench-{name}", definition=json.dumps(definition), roleArn=role
            )["stateMachineArn"]
            return arn

        pass_arn = machine("pass", PASS_MACHINE)
        chain_arn = machine("chain", chain_machine(30))
        lambda_arn = machine("lambda", lambda_machine(function))
        token_arn = machine("token", token_machine(queue_url))

        key = {"pk": {"S": "bench"}}
        dynamodb.put_item(TableName=table, Item={**key, "n": {"N": "0"}, "flow_id": {"S": "f"}})

        def get_item() -> None:
            dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)

        def update_item() -> None:
            dynamodb.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET #n = #n + :one",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#n": "n"},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

        def checkpoint_write() -> None:
            dynamodb.update_item(TableName=table, Key=key, **microbench_handler.checkpoint_write())

        big_key = {"pk": {"S": "flow"}}
        offer = {"L": [{"S": f"2026-12-{day:02d}"} for day in range(1, 15)]}
        times = {"L": [{"S": f"{hour:02d}:00"} for hour in range(8, 18)]}
        flow = {"M": {"offer": offer, "times": times, "step": {"S": "await_date"}}}
        dynamodb.put_item(TableName=table, Item={**big_key, "seq": {"N": "0"}, "flow": flow})

        def get_big_item() -> None:
            dynamodb.get_item(TableName=table, Key=big_key, ConsistentRead=True)

        def update_big_item() -> None:
            dynamodb.update_item(
                TableName=table,
                Key=big_key,
                UpdateExpression="SET #s = #s + :one",
                ExpressionAttributeNames={"#s": "seq"},
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="ALL_NEW",
            )

        def invoke() -> None:
            lambdas.invoke(FunctionName="microbench-noop", Payload=b'{"x": 1}')["Payload"].read()

        def start(arn: str) -> str:
            out: str = sfn.start_execution(
                stateMachineArn=arn, name=uuid.uuid4().hex, input='{"a": 1}'
            )["executionArn"]
            return out

        def start_and_end(arn: str) -> None:
            execution = start(arn)
            if not endings.event(execution).wait(30):
                raise RuntimeError(f"{execution} did not end")

        def parked() -> tuple[str, str]:
            """A token-waiting execution and its token (outside the timed part)."""
            execution = start(token_arn)
            while True:
                messages = sqs.receive_message(
                    QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1
                ).get("Messages", [])
                for message in messages:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                    return execution, json.loads(message["Body"])["token"]

        def send_task_success(arg: tuple[str, str]) -> None:
            sfn.send_task_success(taskToken=arg[1], output='{"ok": true}')

        def resume_until_end(arg: tuple[str, str]) -> None:
            sfn.send_task_success(taskToken=arg[1], output='{"ok": true}')
            if not endings.event(arg[0]).wait(30):
                raise RuntimeError(f"{arg[0]} did not end")

        for warm in (
            get_item,
            update_item,
            checkpoint_write,
            invoke,
            lambda: start_and_end(lambda_arn),
        ):
            for _ in range(3):
                warm()
        measured: dict[str, list[float]] = {
            "GetItem": timed(n, get_item),
            "UpdateItem": timed(n, update_item),
            microbench_handler.CHECKPOINT_WRITE: timed(n, checkpoint_write),
            "GetItem (flow-sized item, 27 values)": timed(n, get_big_item),
            "UpdateItem ALL_NEW (flow-sized item)": timed(n, update_big_item),
            "Invoke (trivial function)": timed(n, invoke),
            "StartExecution (call only)": timed(n, lambda: start(pass_arn)),
            "SendTaskSuccess (call only)": timed(n, send_task_success, parked),  # type: ignore[arg-type]
            "engine: Pass machine, start to end": timed(n, lambda: start_and_end(pass_arn)),
            "engine: 30 Pass states, start to end": timed(n, lambda: start_and_end(chain_arn)),
            "engine: one lambda:invoke task, start to end": timed(
                n, lambda: start_and_end(lambda_arn)
            ),
            "engine: SendTaskSuccess to end": timed(n, resume_until_end, parked),  # type: ignore[arg-type]
        }
        results["from_caller"] = {name: figures(times) for name, times in measured.items()}
        if target == "stack":
            answer = lambdas.invoke(
                FunctionName="microbench-measure",
                Payload=json.dumps({"table": table, "function": "microbench-noop", "n": n}),
            )
            inside = json.loads(answer["Payload"].read())
            results["from_worker"] = {name: figures(times) for name, times in inside.items()}
    finally:
        stop()
    return results


def print_table(results: dict[str, Any]) -> None:
    targets = [t for t in ("stack", "bare") if t in results]
    header = f"{'call (ms: p50 / p95 / mean)':<46}" + "".join(f"{t:>24}" for t in targets)
    print(header)
    for place in ("from_caller", "from_worker"):
        names: list[str] = []
        for target in targets:
            for name in results[target].get(place, {}):
                if name not in names:
                    names.append(name)
        if not names:
            continue
        print(f"-- {place.replace('_', ' ')}")
        for name in names:
            row = f"{name:<46}"
            for target in targets:
                entry = results[target].get(place, {}).get(name)
                cell = "-"
                if entry:
                    cell = f"{entry['p50']:.1f} / {entry['p95']:.1f} / {entry['mean']:.1f}"
                row += f"{cell:>24}"
            print(row)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200, help="per call type")
    parser.add_argument("--targets", default="stack,bare")
    parser.add_argument("--output", default=str(OUTPUT))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # run one target, print JSON
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_target(args.one, args.calls)))
        return 0
    load_before = os.getloadavg()
    results: dict[str, Any] = {}
    for target in args.targets.split(","):
        module = [sys.executable, "-m", "tests.bench.microbench"]
        out = subprocess.run(
            [*module, "--one", target, "--calls", str(args.calls)],
            check=True,
            capture_output=True,
            text=True,
        )
        results[target] = json.loads(out.stdout.strip().splitlines()[-1])
    print_table(results)
    load_after = os.getloadavg()
    before, after = [round(x, 2) for x in load_before], [round(x, 2) for x in load_after]
    print(f"load average {before} -> {after}")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    results["machine"] = {
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"Wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
