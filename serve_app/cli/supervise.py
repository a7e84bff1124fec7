"""``tollgate run CONFIG``: ``serve run`` under a supervisor that stops everything it started.

``serve run`` starts a local Ray cluster and Serve's replicas; the local tier's replica starts vLLM's engine
process, and HAProxy fronts the ingress. On Ctrl-C, Serve shuts its replicas down gracefully, but the rest
(raylet, the GCS, workers, vLLM's engine with the model in memory, HAProxy holding the HTTP port) can outlive
``serve run`` by 30 s or more, and a second Ctrl-C or ``ray stop`` in that window has left HAProxy holding
port 8000. The supervisor starts ``serve run`` in a session of its own (every process it starts inherits it),
and on Ctrl-C or SIGTERM:

1. passes SIGINT to ``serve run``, which drains and shuts down the replicas (the audit writer commits what it
   holds) and Ray;
2. after ``grace_s``, or at once on a second Ctrl-C, sends SIGTERM to every process left in the session,
   then SIGKILL to those still there a moment later;

and exits when no process of the session is left. The same clean-up runs if ``serve run`` exits on its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

__all__ = ["session_processes", "supervise"]

# Serve's drain, then SIGTERM and SIGKILL a couple of seconds apart: all within 15 s of the first Ctrl-C.
DEFAULT_GRACE_S = 8.0
_TERM_WAIT_S = 2.0
_LOCAL_DRAIN_S = 2
_POLL_S = 0.1


def session_processes(sid: int) -> list[psutil.Process]:
    """Every live process in session ``sid`` (zombies are gone once reaped and hold no port)."""
    found = []
    for proc in psutil.process_iter(["status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and os.getsid(proc.pid) == sid:
                found.append(proc)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return found


def _signal_all(processes: list[psutil.Process], signum: int) -> None:
    for proc in processes:
        try:
            proc.send_signal(signum)
        except psutil.Error:
            continue


def _say(message: str) -> None:
    print(f"tollgate: {message}", file=sys.stderr, flush=True)


def _serve_command(config: str) -> list[str]:
    serve = Path(sys.executable).with_name("serve")
    return [str(serve) if serve.exists() else "serve", "run", config]


def _default_signals() -> None:
    # A shell starts background jobs with SIGINT ignored, and the child would inherit that; serve run must see it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def supervise(config: str, grace_s: float = DEFAULT_GRACE_S, command: list[str] | None = None) -> int:
    """Run ``serve run CONFIG`` (or ``command``) until it ends or is stopped; returns its exit status."""
    env = dict(os.environ)
    # With HAProxy in front (RAY_SERVE_ENABLE_HA_PROXY), an ingress replica drains for at least 30 s so that a
    # cluster's load balancer stops sending it requests; on one machine nothing else routes to it.
    env.setdefault("RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S", str(_LOCAL_DRAIN_S))
    child = subprocess.Popen(command or _serve_command(config), start_new_session=True, env=env,
                             preexec_fn=_default_signals)  # noqa: PLW1509 - runs before exec, no threads yet
    sid = child.pid
    requests: list[float] = []  # when each stop request arrived

    def on_signal(signum: int, frame: object) -> None:
        requests.append(time.monotonic())
        if len(requests) == 1:
            _say(f"stopping (Serve drains for up to {grace_s:g} s; Ctrl-C again to stop at once)")
            try:
                child.send_signal(signal.SIGINT)
            except ProcessLookupError:
                pass
        else:
            _say("stopping now")

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while child.poll() is None:
            if requests and (len(requests) > 1 or time.monotonic() - requests[0] > grace_s):
                break
            time.sleep(_POLL_S)
        if requests:
            _say(f"serve run {'exited' if child.poll() is not None else 'is still draining'} after "
                 f"{time.monotonic() - requests[0]:.1f} s")
        _stop_session(sid, hurry=len(requests) > 1)
        status = child.wait()
        if requests:
            _say(f"stopped: no process left, {time.monotonic() - requests[0]:.1f} s after the first stop request")
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0 if requests else status


def _stop_session(sid: int, *, hurry: bool) -> None:
    """SIGTERM to every process left in the session, SIGKILL to what remains after a moment; waits until none is
    left."""
    left = session_processes(sid)
    if left and not hurry:
        # Serve's own shutdown is under way: a moment for Ray's processes to exit by themselves.
        deadline = time.monotonic() + _TERM_WAIT_S
        while left and time.monotonic() < deadline:
            time.sleep(_POLL_S)
            left = session_processes(sid)
    if left:
        _signal_all(left, signal.SIGTERM)
        _, left = psutil.wait_procs(left, timeout=_TERM_WAIT_S)
    if left:
        _say(f"{len(left)} processes did not stop on SIGTERM; killing them")
        _signal_all(left, signal.SIGKILL)
        psutil.wait_procs(left, timeout=_TERM_WAIT_S)
    stragglers = session_processes(sid)
    if stragglers:
        _signal_all(stragglers, signal.SIGKILL)
        psutil.wait_procs(stragglers, timeout=_TERM_WAIT_S)
