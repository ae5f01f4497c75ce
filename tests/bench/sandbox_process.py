"""The PF360 sandbox in its own process, for the benchmarks.

PF360 is another company's service: on AWS it never shares a CPU, let alone a Python
interpreter, with Step Functions and DynamoDB. In the local stack it runs as a thread of
the stack's process, where every PF360 request competes for one GIL with moto's server and
the engine. The benchmarks run it as `python -m infra.local.pf360_sandbox` instead (the
same sandbox, the same seed, reached over HTTP as before) so that neither design pays for
the other's PF360 calls inside the AWS side.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from infra.local.pf360_sandbox import SandboxControl

REPO_ROOT = Path(__file__).resolve().parents[2]


class SandboxProcess:
    """Start with `start()`, point clients at `base_url`, end with `stop()`."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def start(self, timeout: float = 60.0) -> SandboxProcess:
        with socket.socket() as probe:  # a free port; the sandbox binds it a moment later
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.pf360_sandbox", "--port", str(port), "--quiet"],
            cwd=str(REPO_ROOT),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        self.base_url = f"http://127.0.0.1:{port}"
        control = SandboxControl(self.base_url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the sandbox process exited ({self.process.returncode})")
            try:
                if control.health():
                    return self
            except Exception:  # not listening yet
                time.sleep(0.1)
                continue
        self.stop()
        raise RuntimeError(f"the sandbox did not answer at {self.base_url} within {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
