"""`make test`'s Chromium step: found, installed with apt as root, or one sentence and stop.

The script runs with a PATH holding only stand-ins for `id`, `apt-get` and `chromium`, so
each branch is exercised without touching this machine's packages.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "infra" / "local" / "ensure_chromium.sh"


def tool(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def run(bin_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", str(SCRIPT)],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_found_chromium_is_enough(tmp_path: Path) -> None:
    tool(tmp_path, "id", "echo 1000")
    tool(tmp_path, "chromium", "exit 0")
    done = run(tmp_path)
    assert done.returncode == 0
    assert done.stdout == done.stderr == ""


def test_root_with_apt_installs_debians_chromium(tmp_path: Path) -> None:
    log = tmp_path / "apt.log"
    tool(tmp_path, "id", "echo 0")
    tool(
        tmp_path,
        "apt-get",
        f'echo "$@" >> {log}\n'
        f'case "$*" in *install*chromium*) printf "#!/bin/sh\\n" > {tmp_path}/chromium;'
        f" /bin/chmod 755 {tmp_path}/chromium;; esac",
    )
    done = run(tmp_path)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    assert calls[0].startswith("update")
    assert "install" in calls[1] and "chromium" in calls[1].split()


def test_without_root_it_stops_at_once_saying_what_to_install(tmp_path: Path) -> None:
    log = tmp_path / "apt.log"
    tool(tmp_path, "id", "echo 1000")
    tool(tmp_path, "apt-get", f'echo "$@" >> {log}')
    done = run(tmp_path)
    assert done.returncode == 1
    assert not log.exists(), "apt-get must not run without root"
    assert done.stderr.count("\n") == 1
    assert "install Debian's chromium package (sudo apt-get install chromium)" in done.stderr


def test_root_without_apt_stops_with_the_same_sentence(tmp_path: Path) -> None:
    tool(tmp_path, "id", "echo 0")
    done = run(tmp_path)
    assert done.returncode == 1
    assert "sudo apt-get install chromium" in done.stderr
