"""What `make run` starts, Ctrl-C stops: the local profile as shipped (configs/local.yaml, the real local model on
vLLM, HAProxy on port 8000) under `tollgate run`, stopped as a terminal stops it, leaves no process and a free
port within 15 s, and so does a second Ctrl-C during the shutdown.

These run before the session's shared Ray cluster starts (tests/conftest.py orders `own_ray` tests first): each
start here is a cluster of its own, as a user's is.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from serve_app.cli.supervise import session_processes

pytestmark = [pytest.mark.integration, pytest.mark.own_ray]

REPO = Path(__file__).resolve().parents[2]
TOLLGATE = Path(sys.executable).with_name("tollgate")
PORT = 8000
STOP_WITHIN_S = 15.0
READY_WITHIN_S = 300.0
MASTER = "tg-clean-stop-master"


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory of its own, with the local model prepared once for the whole suite."""
    from deployments.local_llm.model_prep import prepare_smollm2
    from tests.integration.conftest import _local_model_dir

    model_dir = _local_model_dir()
    prepare_smollm2(model_dir)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "smollm2").symlink_to(model_dir)
    return tmp_path


class Gateway:
    """`tollgate run configs/local.yaml` in a process group of its own, as a terminal runs a foreground job."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_ADDRESS")}
        env.update(TOLLGATE_DATA_DIR=str(data_dir), TOLLGATE_MASTER_KEY=MASTER, HF_HUB_OFFLINE="1",
                   RAY_SERVE_THROUGHPUT_OPTIMIZED="1", RAY_SERVE_ENABLE_HA_PROXY="1")
        self._log = log.open("wb")
        self._session: int | None = None
        self.process = subprocess.Popen([str(TOLLGATE), "run", "configs/local.yaml"], cwd=REPO, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN_S
        while time.monotonic() < deadline:
            if self._session is None:
                with contextlib.suppress(ValueError, psutil.Error):
                    self._session = self.serve_run_pid()
            assert self.process.poll() is None, "tollgate run exited before the gateway was ready"
            try:
                if httpx.get(f"http://127.0.0.1:{PORT}/readyz", timeout=2).json().get("ready"):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(1)
        raise AssertionError(f"the gateway was not ready within {READY_WITHIN_S:g} s")

    def serve_run_pid(self) -> int:
        [serve_run] = [c for c in psutil.Process(self.process.pid).children() if "serve" in " ".join(c.cmdline())]
        return int(serve_run.pid)

    def everything(self) -> list[psutil.Process]:
        """The supervisor and every process `serve run` started (its session)."""
        return [psutil.Process(self.process.pid), *session_processes(self._session)]

    def ctrl_c(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)  # what the terminal sends to its foreground group

    def close(self) -> None:
        """Whatever the test left running is killed, so that a failure here does not hold port 8000 for the rest."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self._session is not None:
            left = session_processes(self._session)
            for proc in left:
                with contextlib.suppress(psutil.Error):
                    proc.kill()
            psutil.wait_procs(left, timeout=10)
        self._log.close()


@pytest.fixture
def gateway(data_dir: Path, tmp_path: Path) -> Iterator[Gateway]:
    assert port_is_free(PORT), f"port {PORT} is taken before the test; the local profile needs it"
    running = Gateway(data_dir, tmp_path / "tollgate-run.log")
    try:
        running.wait_ready()
        yield running
    finally:
        running.close()


def command_line(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:  # a short-lived worker that already exited
        return ""


def is_alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:  # it exited between the two questions
        return False


def stopped_within(processes: list[psutil.Process], seconds: float) -> float:
    """Seconds until every one of ``processes`` is gone and the port is free (fails past ``seconds``)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if not any(is_alive(p) for p in processes) and port_is_free(PORT):
            return time.monotonic() - started
        time.sleep(0.2)
    alive = [p.pid for p in processes if is_alive(p)]
    raise AssertionError(f"after {seconds:g} s: port {PORT} free: {port_is_free(PORT)}; still running: {alive}")


def test_ctrl_c_stops_everything_and_frees_the_port(gateway: Gateway) -> None:
    reply = httpx.post(f"http://127.0.0.1:{PORT}/v1/chat/completions", timeout=120,
                       headers={"Authorization": f"Bearer {MASTER}"},
                       json={"model": "llama-3-8b", "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]})
    assert reply.status_code == 200, reply.text  # the real local model answered
    processes = gateway.everything()
    names = " ".join(command_line(p) for p in processes)
    assert "haproxy" in names and "VLLM::EngineCore" in names  # what used to outlive serve run
    gateway.ctrl_c()
    stopped_within(processes, STOP_WITHIN_S)
    assert gateway.process.wait(timeout=5) == 0


def test_a_second_ctrl_c_during_the_shutdown_stops_everything_too(gateway: Gateway) -> None:
    processes = gateway.everything()
    gateway.ctrl_c()
    time.sleep(1)
    gateway.ctrl_c()
    stopped_within(processes, STOP_WITHIN_S)
