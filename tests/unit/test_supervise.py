"""`tollgate run`'s supervisor without Ray: a stand-in for `serve run` whose processes ignore SIGINT and SIGTERM
(as Ray's workers outlive `serve run`) is stopped whole, within the grace and the kill steps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from serve_app.cli.supervise import session_processes

# Starts a grandchild, then both ignore SIGINT and SIGTERM and sleep: only SIGKILL stops them.
STUBBORN = textwrap.dedent("""
    import signal, subprocess, sys, time
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_IGN)
    subprocess.Popen([sys.executable, "-c",
                      "import signal, time; [signal.signal(s, signal.SIG_IGN) for s in (2, 15)]; time.sleep(600)"])
    print("started", flush=True)
    time.sleep(600)
""")


def supervisor(tmp_path: Path, grace_s: float) -> subprocess.Popen[str]:
    script = tmp_path / "stubborn.py"
    script.write_text(STUBBORN)
    code = (f"from serve_app.cli.supervise import supervise; raise SystemExit(supervise('unused', grace_s={grace_s}, "
            f"command=[{sys.executable!r}, {str(script)!r}]))")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, cwd=Path(__file__).resolve().parents[2])


def started_session(proc: subprocess.Popen[str]) -> list[psutil.Process]:
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        [child] = psutil.Process(proc.pid).children()
        members = session_processes(child.pid)
        if len(members) == 2:  # the stand-in and its grandchild
            return members
        time.sleep(0.05)
    raise AssertionError("the stand-in did not start its grandchild")


@pytest.mark.parametrize("second_ctrl_c", [False, True])
def test_ctrl_c_stops_every_process_of_the_session(tmp_path: Path, second_ctrl_c: bool) -> None:
    proc = supervisor(tmp_path, grace_s=1.0)
    try:
        members = started_session(proc)
        os.kill(proc.pid, signal.SIGINT)
        if second_ctrl_c:
            time.sleep(0.2)
            os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        _, alive = psutil.wait_procs(members, timeout=1)
        assert not alive, alive
        assert "killing them" in (proc.stdout.read() if proc.stdout else "")  # SIGTERM was not enough
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for member in session_processes(proc.pid):
            member.kill()


def test_a_stand_in_that_exits_by_itself_leaves_nothing_behind(tmp_path: Path) -> None:
    script = tmp_path / "quits.py"
    script.write_text("import subprocess, sys\n"
                      "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
                      "print(child.pid, flush=True)\n"
                      "raise SystemExit(3)\n")
    code = (f"from serve_app.cli.supervise import supervise; raise SystemExit(supervise('unused', grace_s=1, "
            f"command=[{sys.executable!r}, {str(script)!r}]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 3  # the stand-in's own status
    orphan = int(done.stdout.split()[0])
    assert not psutil.pid_exists(orphan) or psutil.Process(orphan).status() == psutil.STATUS_ZOMBIE
