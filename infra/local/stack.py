"""The embedded local stack: AWS (moto's server), our Lambdas in worker processes, the sandbox.

One process, loopback only, no Docker, no AWS account:

    python -m infra.local.stack --port 5005      # or: make local-stack

starts everything, creates the resources of infra/template.yaml, prints the endpoint and
stays in the foreground. Tests use the same class through a pytest fixture.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from moto.core.config import default_user_config

from infra.local import aws_call_recorder, moto_gaps, ports
from infra.local.template_loader import DeployedStack, deploy_template

if TYPE_CHECKING:
    from infra.local.pf360_sandbox import SandboxServer

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",  # not a secret: moto accepts any key
    "AWS_SESSION_TOKEN": "local",
}


@dataclass
class LocalStack:
    """Start/stop the whole local system; `start()` returns once resources exist."""

    port: int = 0
    host: str = "127.0.0.1"
    region: str = "us-east-1"
    with_sandbox: bool = True
    sandbox_port: int = 0
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    environment_overrides: Mapping[str, str] = field(default_factory=dict)
    retry_wait_scale: float = 1.0
    ttl_sweep_seconds: float = 5.0
    # "processes" (execution environments, the default) or "threads" (the old model, to
    # compare); None reads LOCAL_LAMBDA_RUNTIME. 0 = the runtime's default per-function limit.
    lambda_runtime_kind: str | None = None
    lambda_concurrency: int = 0

    moto: moto_gaps.KeepAliveMotoServer | None = None
    sandbox: SandboxServer | None = None
    deployed: DeployedStack | None = None
    _stop_sweeper: threading.Event = field(default_factory=threading.Event)

    @property
    def endpoint_url(self) -> str:
        if self.moto is None:
            raise RuntimeError("the local stack is not started")
        host, port = self.moto.get_host_and_port()
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        return f"http://{host}:{port}"

    @property
    def clock(self) -> moto_gaps.VirtualClock:
        """The engine's clock: `stack.clock.advance(1800)` expires a 30-minute wait now."""
        return moto_gaps.CLOCK

    @property
    def lambda_runtime(self) -> moto_gaps.LambdaRuntime:
        return moto_gaps.RUNTIME

    def start(self) -> LocalStack:
        moto_gaps.check_moto_version()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call is noise
        # moto's interpreter logs every caught task error at ERROR; the history has them all.
        logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").setLevel(
            logging.CRITICAL
        )
        os.environ.update(LOCAL_CREDENTIALS)
        aws_call_recorder.install_from_environment()  # PF360_AWS_CALL_LOG: least privilege
        os.environ["AWS_DEFAULT_REGION"] = self.region
        os.environ["AWS_REGION"] = self.region
        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
        clock = moto_gaps.install_virtual_clock()
        clock.retry_wait_scale = self.retry_wait_scale
        moto_gaps.install_send_task_failure_cause()
        moto_gaps.install_execution_scan_guard()
        moto_gaps.install_mock_config_loader()
        moto_gaps.install_appconfig_gaps()
        moto_gaps.install_strict_error_matching()
        moto_gaps.install_mocked_states_errors()
        moto_gaps.install_virtual_wait_states()
        moto_gaps.install_token_per_attempt()
        moto_gaps.install_engine_caches()
        moto_gaps.install_engine_invokes_in_process()
        moto_gaps.install_dispatch_cache()
        moto_gaps.install_fast_random_strings()
        moto_gaps.install_fast_attribute_values()
        moto_gaps.install_isolated_dynamodb_requests()
        moto_gaps.install_fast_update_item()
        moto_gaps.install_lambda_runtime(
            {"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region},
            kind=self.lambda_runtime_kind,
            concurrency_limit=self.lambda_concurrency,
        )

        self.moto = moto_gaps.KeepAliveMotoServer(ip_address=self.host, port=self.port)
        self.moto.start()
        _, bound_port = self.moto.get_host_and_port()
        # moto's Step Functions engine calls Lambda through this port; boto3 everywhere in
        # this process (tests, handlers) goes to the local endpoint.
        os.environ["MOTO_PORT"] = str(bound_port)
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint_url

        parameters = dict(self.parameter_overrides)
        if self.with_sandbox:
            from infra.local.pf360_sandbox import SandboxServer

            self.sandbox = SandboxServer(host="127.0.0.1", port=self.sandbox_port)
            self.sandbox.start()
            parameters.setdefault("CustomerSchedulerBaseApiUrl", self.sandbox.base_url)
            parameters.setdefault("UseRealApi", "true")
        self.deployed = deploy_template(
            parameters, region=self.region, environment_overrides=self.environment_overrides
        )
        self._store_service_tokens()
        self._publish_initial_flags()
        self._start_ttl_sweeper()
        freeze_startup_objects()
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        return self

    def _store_service_tokens(self) -> None:
        """Replays use per-client service tokens; locally they are dev tokens for the seed."""
        from infra.local.dev_tokens import mint_service_token
        from infra.local.pf360_sandbox import CLIENTS

        assert self.deployed is not None
        secret = self.deployed.secrets.get("ServiceTokensSecret")
        if secret is None:
            return
        tokens = {client_id: mint_service_token(client_id) for client_id in CLIENTS}
        self.client("secretsmanager").put_secret_value(
            SecretId=secret, SecretString=json.dumps(tokens)
        )

    def _publish_initial_flags(self) -> None:
        """What `make flags-init` does after a deploy: an empty document, the variables rule."""
        from infra import flagctl

        assert self.deployed is not None
        if "FlagsApplication" in self.deployed.appconfig:
            flagctl.FlagStore.from_stack(self.deployed, self.client("appconfig")).init({})

    def stop(self) -> None:
        self._stop_sweeper.set()
        moto_gaps.RUNTIME.shutdown()
        if self.moto is not None:
            self.moto.stop()
            self.moto = None
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None

    def client(self, service: str, **options: Any) -> Any:
        """A boto3 client for the local endpoint (`options`: e.g. config=...)."""
        return boto3.client(
            service, region_name=self.region, endpoint_url=self.endpoint_url, **options
        )

    def _start_ttl_sweeper(self) -> None:
        if self.ttl_sweep_seconds <= 0 or self.deployed is None:
            return
        ttl_tables = dict(self.deployed.ttl_attributes)
        endpoint = self.endpoint_url

        def sweep_forever() -> None:
            while not self._stop_sweeper.wait(self.ttl_sweep_seconds):
                for table, attribute in ttl_tables.items():
                    try:
                        moto_gaps.sweep_expired_items(
                            table, attribute, now=self.clock.now(), endpoint_url=endpoint
                        )
                    except Exception:  # noqa: S112 - a failed sweep is retried next tick
                        continue

        threading.Thread(target=sweep_forever, name="ttl-sweeper", daemon=True).start()


# This process runs CPU-bound threads (moto's handlers, the engine) next to threads that
# mostly wait on sockets (waitress's loop, which writes every response, and each call's
# caller). Python hands the GIL to a waiting thread only every switch interval (5 ms by
# default): a response ready to go could sit behind a busy handler for several of those.
# `make bench`, alternating both settings in one run: workflow booking turns p95 201 -> 190
# ms, direct 149 -> 147 ms. A local harness setting; nothing on AWS shares a process so.
GIL_SWITCH_SECONDS = 0.001


def freeze_startup_objects() -> None:
    """Move what start-up built (moto's backends and service models, the engine's parse
    trees: ~300k objects) out of the garbage collector's sight. Each full collection walked
    all of them, stopping every thread of this process (the server, the engine, the
    sandbox) for 100-250 ms at unpredictable moments; collections now walk only what was
    made since. Nothing frozen is ever freed, which is what start-up objects are for."""
    gc.collect()
    gc.freeze()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the embedded local stack in the foreground.")
    parser.add_argument("--port", type=int, default=5005, help="AWS endpoint port (0 = any)")
    parser.add_argument("--sandbox-port", type=int, default=8360, help="PF360 sandbox port")
    parser.add_argument("--no-sandbox", action="store_true", help="do not start the sandbox")
    args = parser.parse_args(argv)
    sandbox_port = [] if args.no_sandbox else [ports.sandbox(args.sandbox_port)]
    ports.check_free(ports.aws(args.port), *sandbox_port)

    stack = LocalStack(
        port=args.port, sandbox_port=args.sandbox_port, with_sandbox=not args.no_sandbox
    ).start()
    deployed = stack.deployed
    assert deployed is not None
    print(f"Local AWS endpoint : {stack.endpoint_url}  (region {stack.region})")
    if stack.sandbox is not None:
        print(f"PF360 sandbox      : {stack.sandbox.base_url}")
    print(f"Tables             : {', '.join(deployed.tables.values())}")
    print(f"Functions          : {', '.join(deployed.functions.values())}")
    print(f"State machines     : {', '.join(deployed.state_machines.values())}")
    print("Use it with boto3 or the AWS CLI:")
    print(
        f"  export AWS_ENDPOINT_URL={stack.endpoint_url} AWS_ACCESS_KEY_ID=local "
        f"AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION={stack.region}"
    )
    print("  aws stepfunctions list-state-machines")
    print("Ctrl-C stops it.", flush=True)

    run_in_foreground(stack.stop)
    return 0


def run_in_foreground(*stop: Callable[[], None]) -> None:
    """Block until Ctrl-C or SIGTERM, then run the stop callbacks in order."""
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for callback in stop:
            callback()


if __name__ == "__main__":
    raise SystemExit(main())
