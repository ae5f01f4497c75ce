"""How long a rollout rule, a rollback and a roll-forward take on the local stack.

    make bench-rollback            # prints figures, writes build/bench/rollback.json

Starts the local stack with the PF360 sandbox and the template's flag cache
(FLAGS_MAX_AGE_SECONDS=5), then for each change measures
  - change: `flagctl`'s call (new hosted version + deployment, waited until COMPLETE), and
  - effective: from the start of the change until the next `list_projects` action (invoked
    as Bedrock does, every 100 ms) answers from the other backend.
The second figure includes the flag cache; on AWS add AppConfig's API latency (an
estimate is in docs/environments.md). Figures on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import boto3

REAL_PROJECT = "12345"  # CUST001's first project in the sandbox; the mock derives other ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="build/bench/rollback.json")
    args = parser.parse_args(argv)

    from agent_bridge.sessions import SessionStore
    from infra import flagctl
    from infra.local.dev_tokens import mint_customer_token
    from infra.local.stack import LocalStack
    from tests.integration.bedrock_events import bedrock_event

    stack = LocalStack(ttl_sweep_seconds=0).start()
    try:
        assert stack.deployed is not None
        lambdas = stack.client("lambda")
        store = flagctl.FlagStore.from_stack(stack.deployed, stack.client("appconfig"))
        table = boto3.resource(
            "dynamodb", region_name=stack.region, endpoint_url=stack.endpoint_url
        ).Table(stack.deployed.tables["SessionsTable"])
        session = SessionStore(table).create(
            customer_id="CUST001",
            client_id="acme-corp",
            client_name="acme-corp",
            environment="dev",
            auth_token=mint_customer_token("CUST001", "acme-corp"),
            session_id=f"sess-bench-{uuid.uuid4().hex}",
        )
        function = stack.deployed.functions["SchedulingActionsFunction"]
        max_age = stack.deployed.parameters["FlagsMaxAgeSeconds"]

        def backend() -> str:
            event = bedrock_event("/list_projects", session_id=session.session_id)
            raw = lambdas.invoke(FunctionName=function, Payload=json.dumps(event).encode())
            answer = json.loads(raw["Payload"].read())["response"]
            body = json.loads(answer["responseBody"]["application/json"]["body"])
            return "real" if body["projects"][0]["project_id"] == REAL_PROJECT else "mock"

        def measure(change: Any, expected: str) -> dict[str, float]:
            started = time.monotonic()
            result = change()
            changed = time.monotonic() - started
            while backend() != expected:
                time.sleep(0.1)
                if time.monotonic() - started > 60:
                    raise SystemExit(f"still not {expected} after 60 s")
            return {"change_s": changed, "effective_s": time.monotonic() - started} | (
                {"version": result.version} if result is not None else {}
            )

        print(f"Local stack up; flag cache FLAGS_MAX_AGE_SECONDS={max_age}", flush=True)
        store.set_flag("use_real_api", False)
        time.sleep(float(max_age) + 0.5)
        assert backend() == "mock"
        rounds: list[dict[str, dict[str, float]]] = []
        for index in range(args.rounds):
            rollout = measure(
                lambda: store.add_rule("use_real_api", True, "acme-corp", "CUST001"), "real"
            )
            rollback = measure(store.rollback, "mock")
            rollforward = measure(store.rollforward, "real")
            store.set_flag("use_real_api", False)
            time.sleep(float(max_age) + 0.5)
            rounds.append({"rollout": rollout, "rollback": rollback, "rollforward": rollforward})
            print(
                f"  round {index + 1}: "
                + ", ".join(
                    f"{name} {r['change_s']:.2f} s / {r['effective_s']:.2f} s"
                    for name, r in rounds[-1].items()
                ),
                flush=True,
            )
    finally:
        stack.stop()

    summary: dict[str, Any] = {"flags_max_age_seconds": int(max_age), "rounds": rounds}
    print(f"\n{'change':<12} {'change median s':>16} {'effective median s':>19} {'max s':>7}")
    for name in ("rollout", "rollback", "rollforward"):
        change = [r[name]["change_s"] for r in rounds]
        effective = [r[name]["effective_s"] for r in rounds]
        summary[name] = {
            "change_median_s": statistics.median(change),
            "effective_median_s": statistics.median(effective),
            "effective_max_s": max(effective),
        }
        print(
            f"{name:<12} {statistics.median(change):>16.2f} "
            f"{statistics.median(effective):>19.2f} {max(effective):>7.2f}"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
