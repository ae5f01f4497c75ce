"""Change the runtime flags of one environment: rollout by rule, rollback, roll-forward.

Every change is one new hosted configuration version of the environment's AppConfig flag
profile plus one deployment with the template's immediate strategy; nothing else in the
stack changes (no function configuration, no redeploy). Functions see the change within
FLAGS_MAX_AGE_SECONDS (tasks/flags.py).

    python -m infra.flagctl --env prod show
    python -m infra.flagctl --env prod rule use_real_api on --client acme-corp --customer CUST001
    python -m infra.flagctl --env prod rollback          # real API off for everyone
    python -m infra.flagctl --env prod rollforward       # back to what it was before

`--endpoint-url` points it at the local stack (`make local-stack`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.utilities.feature_flags import SchemaValidator
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from tasks.flags import FLAGS

if TYPE_CHECKING:
    from infra.local.template_loader import DeployedStack

ENVS_DIR = Path(__file__).resolve().parent / "envs"
PROFILE_NAME = "flags"
ROLLBACK_FLAG = "use_real_api"
ROLLBACK_PREFIX = "rollback:"
ROLLFORWARD_PREFIX = "rollforward:"
DEPLOY_TIMEOUT_SECONDS = 50.0
SDK_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 3})
PARAMETER_OF_FLAG = {
    "use_real_api": "UseRealApi",
    "confirm_schedule": "ConfirmScheduleFlag",
    "cancel_schedule": "CancelScheduleFlag",
}


class FlagError(Exception):
    """A flag change that cannot be made; the message is the sentence to print."""


@dataclass
class Change:
    version: int
    deployment: int
    seconds: float
    description: str


def application_name(environment: str) -> str:
    return f"pf360-scheduler-{environment}"


def strategy_name(environment: str) -> str:
    return f"pf360-flags-immediate-{environment}"


def read_env_file(environment: str) -> dict[str, Any]:
    path = ENVS_DIR / f"{environment}.json"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in ENVS_DIR.glob("*.json")))
        raise FlagError(f"There is no environment {environment!r}; known: {known}.")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def variable_defaults(parameters: Mapping[str, str]) -> dict[str, bool]:
    """Each flag's value when the document does not name it: the deployed parameter."""
    return {
        flag: str(parameters.get(parameter, "")).lower() in ("true", "1")
        for flag, parameter in PARAMETER_OF_FLAG.items()
    }


def _items(page: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(page.get("Items", []))


def _one(items: list[dict[str, Any]], name: str, what: str) -> str:
    found = [item["Id"] for item in items if item.get("Name") == name]
    if len(found) != 1:
        state = "does not exist" if not found else "exists more than once"
        raise FlagError(f"The AppConfig {what} {name!r} {state}; was the stack deployed?")
    return str(found[0])


@dataclass
class FlagStore:
    """One environment's flag profile in AppConfig, with the calls that change it."""

    appconfig: Any
    environment: str
    application_id: str
    environment_id: str
    profile_id: str
    strategy_id: str
    defaults: dict[str, bool] = field(default_factory=dict)
    poll_seconds: float = 0.1

    @classmethod
    def find(cls, appconfig: Any, environment: str, defaults: dict[str, bool]) -> FlagStore:
        """Look the resources up by the names the template gives them."""
        app_id = _one(_items(appconfig.list_applications()), application_name(environment), "app")
        return cls(
            appconfig=appconfig,
            environment=environment,
            application_id=app_id,
            environment_id=_one(
                _items(appconfig.list_environments(ApplicationId=app_id)),
                environment,
                "environment",
            ),
            profile_id=_one(
                _items(appconfig.list_configuration_profiles(ApplicationId=app_id)),
                PROFILE_NAME,
                "configuration profile",
            ),
            strategy_id=_one(
                _items(appconfig.list_deployment_strategies()),
                strategy_name(environment),
                "deployment strategy",
            ),
            defaults=defaults,
        )

    @classmethod
    def from_stack(cls, deployed: DeployedStack, appconfig: Any) -> FlagStore:
        """The local stack's store, by the ids the template loader created."""
        ids = deployed.appconfig
        return cls(
            appconfig=appconfig,
            environment=deployed.parameters.get("Environment", "dev"),
            application_id=ids["FlagsApplication"],
            environment_id=ids["FlagsEnvironment"],
            profile_id=ids["FlagsProfile"],
            strategy_id=ids["FlagsDeploymentStrategy"],
            defaults=variable_defaults(deployed.parameters),
        )

    # ------------------------------------------------------------------ reading

    def deployed_version(self) -> int | None:
        """The version readers get now (newest deployment not rolled back), if any."""
        deployments = _items(
            self.appconfig.list_deployments(
                ApplicationId=self.application_id, EnvironmentId=self.environment_id
            )
        )
        for item in sorted(deployments, key=lambda d: int(d["DeploymentNumber"]), reverse=True):
            if item.get("State") not in ("ROLLED_BACK", "REVERTED"):
                return int(item["ConfigurationVersion"])
        return None

    def version(self, number: int) -> tuple[dict[str, Any], str]:
        """(document, description) of one hosted configuration version."""
        answer = self.appconfig.get_hosted_configuration_version(
            ApplicationId=self.application_id,
            ConfigurationProfileId=self.profile_id,
            VersionNumber=number,
        )
        document = json.loads(answer["Content"].read() or b"{}")
        return document, str(answer.get("Description") or "")

    def current(self) -> tuple[int | None, dict[str, Any]]:
        number = self.deployed_version()
        if number is None:
            return None, {}
        return number, self.version(number)[0]

    def effective(self, document: Mapping[str, Any]) -> dict[str, str]:
        """A line per flag: what everyone gets, and the rules that differ."""
        lines: dict[str, str] = {}
        for flag, variable in FLAGS.items():
            entry = document.get(flag)
            if entry is None:
                lines[flag] = (
                    f"{'on' if self.defaults.get(flag) else 'off'} for everyone "
                    f"(not in the document: the deployed {variable})"
                )
                continue
            text = f"{'on' if entry.get('default') else 'off'} for everyone"
            rules = entry.get("rules") or {}
            if rules:
                text += "; " + "; ".join(rules)
            lines[flag] = text
        return lines

    # ------------------------------------------------------------------ changing

    def publish(self, document: dict[str, Any], description: str) -> Change:
        """One new version and one deployment, waited for until readers get it."""
        if document:
            SchemaValidator(schema=document).validate()
        started = time.monotonic()
        created = self.appconfig.create_hosted_configuration_version(
            ApplicationId=self.application_id,
            ConfigurationProfileId=self.profile_id,
            Content=json.dumps(document, indent=1, sort_keys=True).encode(),
            ContentType="application/json",
            Description=description[:1024],
        )
        version = int(created["VersionNumber"])
        deployment = self._start_deployment(version, description, started)
        self._wait_complete(deployment, started)
        return Change(version, deployment, time.monotonic() - started, description)

    def _start_deployment(self, version: int, description: str, started: float) -> int:
        while True:
            try:
                answer = self.appconfig.start_deployment(
                    ApplicationId=self.application_id,
                    EnvironmentId=self.environment_id,
                    DeploymentStrategyId=self.strategy_id,
                    ConfigurationProfileId=self.profile_id,
                    ConfigurationVersion=str(version),
                    Description=description[:1024],
                )
                return int(answer["DeploymentNumber"])
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConflictException":
                    raise
                if time.monotonic() - started > DEPLOY_TIMEOUT_SECONDS:
                    raise FlagError(
                        "Another flag deployment is still in progress on this environment; "
                        "wait for it (`show`) and run the command again."
                    ) from error
                time.sleep(self.poll_seconds)

    def _wait_complete(self, deployment: int, started: float) -> None:
        while True:
            state = self.appconfig.get_deployment(
                ApplicationId=self.application_id,
                EnvironmentId=self.environment_id,
                DeploymentNumber=deployment,
            )["State"]
            if state == "COMPLETE":
                return
            if state in ("ROLLED_BACK", "REVERTED"):
                raise FlagError(f"Flag deployment {deployment} was rolled back by AppConfig.")
            if time.monotonic() - started > DEPLOY_TIMEOUT_SECONDS:
                raise FlagError(
                    f"Flag deployment {deployment} is still {state} after "
                    f"{DEPLOY_TIMEOUT_SECONDS:.0f} s; check the environment's deployment "
                    "strategy (it should be the template's immediate one)."
                )
            time.sleep(self.poll_seconds)

    def init(self, document: dict[str, Any]) -> Change | None:
        """Publish the first document, unless the environment already has one."""
        if self.deployed_version() is not None:
            return None
        return self.publish(document, "initial flags")

    def set_flag(self, flag: str, value: bool) -> Change:
        """`flag` on or off for everyone (its rules removed)."""
        _known(flag)
        number, document = self.current()
        document[flag] = {"default": value}
        word = "on" if value else "off"
        return self.publish(document, f"set: {flag} {word} for everyone (was version {number})")

    def reset_flag(self, flag: str) -> Change:
        """Remove `flag` from the document: it follows the deployed variable again."""
        _known(flag)
        number, document = self.current()
        document.pop(flag, None)
        return self.publish(document, f"reset: {flag} follows the variable (was version {number})")

    def add_rule(self, flag: str, value: bool, client_id: str, customer_id: str | None) -> Change:
        """`flag` on/off for one client, or one customer of a client."""
        _known(flag)
        number, document = self.current()
        entry = document.setdefault(flag, {"default": self.defaults.get(flag, False)})
        rules: dict[str, Any] = dict(entry.get("rules") or {})
        name = rule_name(flag, value, client_id, customer_id)
        for existing in [n for n in rules if n.endswith(_rule_target(client_id, customer_id))]:
            rules.pop(existing)
        conditions = [{"action": "EQUALS", "key": "client_id", "value": client_id}]
        if customer_id:
            conditions.append({"action": "EQUALS", "key": "customer_id", "value": customer_id})
        rules[name] = {"when_match": value, "conditions": conditions}
        # First match wins: rules for one customer before rules for a whole client.
        entry["rules"] = dict(sorted(rules.items(), key=lambda r: len(r[1]["conditions"]) == 1))
        return self.publish(document, f"rule: {name} (was version {number})")

    def remove_rule(self, flag: str, client_id: str, customer_id: str | None) -> Change:
        _known(flag)
        number, document = self.current()
        entry = document.get(flag) or {}
        rules = dict(entry.get("rules") or {})
        target = _rule_target(client_id, customer_id)
        kept = {n: r for n, r in rules.items() if not n.endswith(target)}
        if len(kept) == len(rules):
            raise FlagError(f"{flag} has no rule{target}.")
        entry["rules"] = kept
        return self.publish(document, f"unrule: {flag}{target} (was version {number})")

    def rollback(self) -> Change:
        """The real API off for everyone, every other flag as it is."""
        number, document = self.current()
        document[ROLLBACK_FLAG] = {"default": False}
        return self.publish(
            document,
            f"{ROLLBACK_PREFIX} {ROLLBACK_FLAG} off for everyone (was version {number})",
        )

    def rollforward(self) -> Change:
        """`use_real_api` back to what it was before the latest rollback."""
        number, document = self.current()
        before = self._before_last_rollback(number)
        previous = self.version(before)[0].get(ROLLBACK_FLAG) if before else None
        if previous is None:
            document.pop(ROLLBACK_FLAG, None)
        else:
            document[ROLLBACK_FLAG] = previous
        return self.publish(
            document, f"{ROLLFORWARD_PREFIX} {ROLLBACK_FLAG} as in version {before}"
        )

    def _before_last_rollback(self, number: int | None) -> int | None:
        for candidate in range(number or 0, 0, -1):
            try:
                description = self.version(candidate)[1]
            except ClientError:
                continue  # a deleted version
            if description.startswith(ROLLFORWARD_PREFIX):
                break
            if description.startswith(ROLLBACK_PREFIX):
                was = description.rsplit("was version ", 1)[-1].rstrip(")")
                return int(was) if was.isdigit() else None
        raise FlagError(
            "Nothing to roll forward: no rollback since the last roll-forward "
            f"(deployed version {number})."
        )


def rule_name(flag: str, value: bool, client_id: str, customer_id: str | None) -> str:
    return f"{flag} {'on' if value else 'off'}{_rule_target(client_id, customer_id)}"


def _rule_target(client_id: str, customer_id: str | None) -> str:
    return f" for {client_id}/{customer_id}" if customer_id else f" for {client_id}"


def _known(flag: str) -> None:
    if flag not in FLAGS:
        raise FlagError(f"Unknown flag {flag!r}; allowed: {', '.join(FLAGS)}.")


# ---------------------------------------------------------------------------- command line


def _on_off(text: str) -> bool:
    if text not in ("on", "off"):
        raise argparse.ArgumentTypeError("say on or off")
    return text == "on"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flagctl", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True, help="dev, qa, staging or prod")
    parser.add_argument("--endpoint-url", default=None, help="e.g. the local stack's endpoint")
    parser.add_argument("--region", default=None, help="default: the environment file's")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("show", help="the deployed document and what each flag does")
    commands.add_parser("history", help="every version of the document, newest first")
    commands.add_parser("init", help="publish the environment file's initial flags, once")
    commands.add_parser("rollback", help="the real API off for everyone")
    commands.add_parser("rollforward", help="undo the latest rollback")
    for name, text in (("set", "a flag for everyone"), ("rule", "a flag for a client/customer")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("flag", choices=list(FLAGS))
        sub.add_argument("value", type=_on_off, help="on or off")
        if name == "rule":
            sub.add_argument("--client", required=True)
            sub.add_argument("--customer", default=None)
    unrule = commands.add_parser("unrule", help="remove a client's or customer's rule")
    unrule.add_argument("flag", choices=list(FLAGS))
    unrule.add_argument("--client", required=True)
    unrule.add_argument("--customer", default=None)
    reset = commands.add_parser("reset", help="a flag follows its deployed variable again")
    reset.add_argument("flag", choices=list(FLAGS))
    return parser


def _deployed_defaults(
    env_file: Mapping[str, Any], lambdas: Any, environment: str
) -> dict[str, bool]:
    """The variables as deployed (the scheduling function's), else the environment file's."""
    try:
        config = lambdas.get_function_configuration(
            FunctionName=f"scheduling-actions-{environment}"
        )
        variables = config.get("Environment", {}).get("Variables", {})
        return {
            flag: variables.get(var, "").lower() in ("true", "1") for flag, var in FLAGS.items()
        }
    except (ClientError, BotoCoreError):
        return variable_defaults(env_file.get("parameters", {}))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        env_file = read_env_file(args.env)
        session = boto3.session.Session(region_name=args.region or env_file.get("region"))
        if session.get_credentials() is None:
            raise FlagError(
                "No AWS credentials found; sign in (e.g. `aws sso login`) or pass "
                "--endpoint-url for the local stack."
            )
        client_args = {"endpoint_url": args.endpoint_url, "config": SDK_CONFIG}
        appconfig = session.client("appconfig", **client_args)
        defaults = _deployed_defaults(env_file, session.client("lambda", **client_args), args.env)
        store = FlagStore.find(appconfig, args.env, defaults)
        return _run(store, args, env_file)
    except FlagError as error:
        print(str(error), file=sys.stderr)
        return 2
    except NoCredentialsError:
        print("No AWS credentials found; sign in (e.g. `aws sso login`).", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as error:
        print(f"AppConfig refused the change: {error}", file=sys.stderr)
        return 1


def _run(store: FlagStore, args: argparse.Namespace, env_file: Mapping[str, Any]) -> int:
    if args.command in ("show", "history"):
        number, document = store.current()
        if args.command == "history":
            listed = store.appconfig.list_hosted_configuration_versions(
                ApplicationId=store.application_id, ConfigurationProfileId=store.profile_id
            )
            for item in _items(listed):
                mark = "*" if item["VersionNumber"] == number else " "
                print(f"{mark} {item['VersionNumber']:>4}  {item.get('Description', '')}")
            return 0
        print(f"{args.env}: deployed flag version {number if number is not None else 'none'}")
        for flag, line in store.effective(document).items():
            print(f"  {flag:<17} {line}")
        return 0
    change: Change | None
    if args.command == "init":
        change = store.init(dict(env_file.get("initial_flags", {})))
        if change is None:
            print(f"{args.env}: flags already published; nothing changed.")
            return 0
    elif args.command == "rollback":
        change = store.rollback()
    elif args.command == "rollforward":
        change = store.rollforward()
    elif args.command == "set":
        change = store.set_flag(args.flag, args.value)
    elif args.command == "rule":
        change = store.add_rule(args.flag, args.value, args.client, args.customer)
    elif args.command == "unrule":
        change = store.remove_rule(args.flag, args.client, args.customer)
    else:
        change = store.reset_flag(args.flag)
    print(
        f"{args.env}: {change.description}\n"
        f"  version {change.version}, deployment {change.deployment}, "
        f"deployed in {change.seconds:.2f} s; functions read it within their "
        "FLAGS_MAX_AGE_SECONDS"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
