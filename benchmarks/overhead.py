"""Gateway overhead: Tollgate next to LiteLLM's proxy, both in front of one zero-latency fake upstream.

Run from the repository root: ``.venv/bin/python benchmarks/overhead.py [--skip-litellm] [--compare-ref REF]``.
``--compare-ref`` also measures the code of a git commit (checked out into a temporary worktree and put first on
``PYTHONPATH``) right after the working tree's, in the same run, so a change is judged by a ratio.
Every server runs in its own session and is stopped at the end, also on Ctrl-C or an error.
Only one gateway runs at a time; the fake upstream runs throughout. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from serve_app.cli.main import KNOWN_DEPLOYMENTS

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
LITELLM_VENV = ROOT / ".venv-litellm"
# The newest 1.108 whose [proxy] extra resolves on PyPI here; never 1.107.0 (a compromised release).
LITELLM_SPEC = os.environ.get("BENCH_LITELLM_SPEC", "litellm[proxy]==1.108.6")
MASTER_KEY = "sk-bench-master-key"
UPSTREAM_KEY = "sk-bench-upstream"
CHAT_PATH = "/v1/chat/completions"
LL1, LL2 = "LiteLLM, 1 worker", "LiteLLM, 2 workers"
FIXED_PROMPT = "Summarize our refund policy in one line."
# A new question each time (printf-style, so wrk's Lua writes the same ones): the run, a counter, and an order
# number derived from the counter.
UNIQUE_PROMPT = "Case %s-%d: summarize the note on order %d in one line."
ORDER_STEP, ORDER_MODULUS = 7919, 100003
_SLOT = "\x00"  # where the question goes in a body template
# A streamed answer is about 200 tokens: the fake echoes the prompt, and a "token" is a word there.
STREAM_FILLER = ("Please restate the following customer note word for word so our records stay complete: "
                 + " ".join(f"item{i}" for i in range(1, 171)))
STREAM_MAX_TOKENS = 256
WRK_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
local mode, run = "%(mode)s", "%(run)s"
local fixed = [[%(body)s]]
local head, tail = [[%(head)s]], [[%(tail)s]]
counter, hits, answers = 0, 0, 0
threads = {}
setup = function(thread) table.insert(threads, thread) end
request = function()
  counter = counter + 1
  if mode == "fixed" or (mode == "half" and counter %% 2 == 0) then
    return wrk.format(nil, nil, nil, fixed)
  end
  local text = string.format("%(unique)s", run, counter, (counter * %(step)d) %% %(modulus)d)
  return wrk.format(nil, nil, nil, head .. text .. tail)
end
response = function(status, headers, body)
  answers = answers + 1
  if headers["x-tollgate-cache"] == "hit" then hits = hits + 1 end
end
done = function(s, latency, requests)
  local h, a = 0, 0
  for _, t in ipairs(threads) do h = h + t:get("hits"); a = a + t:get("answers") end
  io.write(string.format('BENCH {"requests":%%d,"us":%%d,"status":%%d,"socket":%%d,"hits":%%d,"answers":%%d}\\n',
    s.requests, s.duration, s.errors.status, s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout,
    h, a))
end
"""

@dataclass
class Target:
    """An OpenAI-compatible endpoint on 127.0.0.1 to measure.

    ``workload`` is what the client asks: ``fixed`` (the same question every time), ``unique`` (a new question
    each time: every request misses the response cache) or ``half`` (every other request is the fixed question: half
    are exact-cache hits once it is stored).
    """

    name: str
    port: int
    model: str
    key: str
    workload: str = "fixed"
    temperature: float = 0.0  # Tollgate's response cache answers (and stores) temperature-0 requests only
    sent: int = 0
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def prompt(self) -> str:
        self.sent += 1
        if self.workload == "fixed" or (self.workload == "half" and self.sent % 2 == 0):
            return FIXED_PROMPT
        return UNIQUE_PROMPT % (self.run, self.sent, self.sent * ORDER_STEP % ORDER_MODULUS)

    def chat(self, content: str, stream: bool = False) -> bytes:
        """A chat completion request asking ``content``: 64 tokens at most, or a stream of up to 256."""
        req = {"model": self.model, "messages": [{"role": "user", "content": content}],
               "max_tokens": STREAM_MAX_TOKENS if stream else 64, "temperature": self.temperature}
        return json.dumps({**req, "stream": True} if stream else req).encode()

    def fixed_body(self) -> bytes:
        """The request ``wrk`` repeats (``fixed``), or sends every other time (``half``)."""
        return self.body() if self.workload == "fixed" else self.chat(FIXED_PROMPT)

    def body(self, stream: bool = False) -> bytes:
        """A small chat completion request, or a streamed one whose answer is about 200 tokens."""
        return self.chat(f"{self.prompt()} {STREAM_FILLER}" if stream else self.prompt(), stream)


@dataclass
class Result:
    """What was measured for one target (latencies in ms)."""

    name: str
    p50: float
    p99: float
    ttfb_p50: float
    rps: float
    errors: int
    other_cpu: float  # cores used meanwhile by processes this script did not start
    hits: float | None = None  # share of answers served from the response cache (x-tollgate-cache: hit)


class Processes:
    """Starts servers, each in a session of its own, and stops every process of those sessions."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.procs: list[subprocess.Popen[bytes]] = []
        self.names: dict[int, str] = {}

    def start(self, name: str, cmd: list[str], env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.Popen[bytes]:
        with open(self.logdir / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(cmd, cwd=cwd or ROOT, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.names[proc.pid], self.procs = name, [*self.procs, proc]
        return proc

    def log_tail(self, proc: subprocess.Popen[bytes], lines: int = 25) -> str:
        text = (self.logdir / f"{self.names[proc.pid]}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, proc: subprocess.Popen[bytes], grace_s: float = 20.0) -> None:
        """SIGINT the process group (``serve run`` then shuts Serve and Ray down), then SIGTERM, then SIGKILL
        every process left in the session: Ray's workers put themselves in process groups of their own.
        """
        for sig, wait_s in ((signal.SIGINT, grace_s), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            pids = _session(proc.pid)
            if not pids:
                break
            for pid in [-proc.pid] if sig == signal.SIGINT else pids:
                with suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline and _session(proc.pid):
                proc.poll()  # reap the leader
                time.sleep(0.2)
        proc.poll()
        self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc, grace_s=10.0)


def _proc_stats() -> Iterator[list[str]]:
    """For every process, the fields of /proc/PID/stat after the name (state, ppid, pgrp, session, ...), then PID."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            yield [*Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split(), pid]
        except OSError:
            continue


def _session(sid: int) -> list[int]:
    """The processes of a session that are not zombies."""
    return [int(f[-1]) for f in _proc_stats() if f[3] == str(sid) and f[0] != "Z"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _busy_ticks() -> int:
    """CPU ticks the machine spent busy or stolen by its host (all cores), from /proc/stat."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(ticks) - ticks[3] - ticks[4]  # less idle and iowait; guest time is already in user


def _our_ticks(sids: set[int]) -> int:
    """CPU ticks of our servers' sessions, this process and its reaped children (wrk)."""
    total = sum(int(f[11]) + int(f[12]) for f in _proc_stats() if int(f[3]) in sids)
    own = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return total + round(sum(r.ru_utime + r.ru_stime for r in own) * os.sysconf("SC_CLK_TCK"))


@contextmanager
def foreign_cpu(procs: Processes, out: list[float]) -> Iterator[None]:
    """Appends to ``out`` the cores that processes not started here used meanwhile (other tests, say)."""
    sids, started = {p.pid for p in procs.procs}, time.monotonic()
    busy, ours = _busy_ticks(), _our_ticks(sids)
    yield
    ticks = (_busy_ticks() - busy) - (_our_ticks(sids) - ours)
    out.append(max(0.0, ticks / os.sysconf("SC_CLK_TCK") / (time.monotonic() - started)))


def call(target: Target, conn: http.client.HTTPConnection, stream: bool = False) -> tuple[int, float, bool]:
    """One request: (status, seconds to the whole body, or to the first SSE event when streaming, whether the
    response cache answered it).

    A stream that does not end with ``[DONE]`` counts as status 599.
    """
    body = target.body(stream)
    started = time.perf_counter()
    conn.request("POST", CHAT_PATH, body, {"Authorization": f"Bearer {target.key}",
                                           "Content-Type": "application/json"})
    resp = conn.getresponse()
    hit = resp.getheader("x-tollgate-cache") == "hit"
    if not stream or resp.status != 200:
        resp.read()
        return resp.status, time.perf_counter() - started, hit
    while (line := resp.readline()) and not line.startswith(b"data:"):
        pass
    first = time.perf_counter() - started
    return (200 if b"[DONE]" in line + resp.read() else 599), first, hit


def post_chat(conn: http.client.HTTPConnection, body: dict[str, Any], key: str) -> tuple[float, http.client.HTTPResponse]:
    """One chat completion on a kept-alive connection: (milliseconds to the whole body, the read response);
    a status other than 200 raises."""
    started = time.perf_counter()
    conn.request("POST", CHAT_PATH, json.dumps(body), {"Authorization": f"Bearer {key}",
                                                        "Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise RuntimeError(f"status {response.status}")
    return elapsed, response


def wait_ready(target: Target, procs: Processes, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Poll with real chat requests until one gets 200; fail early if the server process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{target.name} exited with {proc.returncode}:\n{procs.log_tail(proc)}")
        conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=5.0)
        with closing(conn), suppress(OSError, http.client.HTTPException):
            if call(target, conn)[0] == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{target.name} not ready after {timeout_s:.0f}s:\n{procs.log_tail(proc)}")


def sequential(target: Target, n: int, stream: bool) -> tuple[list[float], int, int]:
    """``n`` requests one after another on one kept-alive connection: milliseconds, failures and cache hits."""
    times: list[float] = []
    hits = 0
    conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30.0)
    for _ in range(n):
        try:
            status, seconds, hit = call(target, conn, stream)
        except (OSError, http.client.HTTPException):
            status, seconds, hit = 0, 0.0, False
            conn.close()  # reconnects on the next request
        if status == 200:
            times.append(seconds * 1000)
            hits += hit
    conn.close()
    return times, n - len(times), hits


def load(target: Target, concurrency: int, duration: float, workdir: Path) -> tuple[float, int, int, int]:
    """Successful requests/s at ``concurrency`` connections for ``duration`` seconds, failures, cache hits and
    answers.

    ``wrk`` (C, one thread) keeps the client's share of the cores small; it still shares them with the servers.
    """
    script = workdir / f"wrk-{target.port}.lua"
    head, tail = target.chat(_SLOT).decode().split(json.dumps(_SLOT)[1:-1])  # the body around the question
    script.write_text(WRK_LUA % {"body": target.fixed_body().decode(), "key": target.key, "head": head,
                                 "tail": tail, "mode": target.workload, "run": uuid.uuid4().hex[:8],
                                 "unique": UNIQUE_PROMPT, "step": ORDER_STEP, "modulus": ORDER_MODULUS})
    cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(duration))}s", "--timeout", "10s",
           "-s", str(script), f"http://127.0.0.1:{target.port}{CHAT_PATH}"]
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=duration + 60).stdout
    line = next((x for x in out.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"the load generator printed no summary:\n{out}")
    s = json.loads(line[6:])
    return (s["requests"] - s["status"]) / (s["us"] / 1e6), s["status"] + s["socket"], s["hits"], s["answers"]


def replica_pids() -> dict[str, int]:
    """The process of each Serve replica of the application, by deployment (Ray titles them
    ``ray::ServeReplica:tollgate:<Deployment>``)."""
    pids: dict[str, int] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with suppress(OSError):
            title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            if title.startswith("ray::ServeReplica:tollgate:"):
                pids.setdefault(title.rsplit(":", 1)[1].split()[0], int(pid))
    return pids


@contextmanager
def profiled(out: Path | None, seconds: float) -> Iterator[None]:
    """With ``out``, py-spy samples every replica of the application for ``seconds`` (100 Hz, without pausing it)
    and writes its stacks, collapsed (the flame graph format), to ``out/<Deployment>.txt``."""
    spies = []
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, pid in replica_pids().items():
            spies.append(subprocess.Popen(
                [str(BIN / "py-spy"), "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
                 "--rate", "100", "--nonblocking", "--format", "raw", "--output", str(out / f"{name}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        yield
    finally:
        for spy in spies:
            spy.wait(timeout=seconds + 60)


def measure(target: Target, args: argparse.Namespace, procs: Processes, workdir: Path,
            profile: Path | None = None) -> Result:
    """Warm up, then sequential latency, streaming time to first event, and throughput (during which, with
    ``profile``, the replicas are profiled)."""
    print(f"  measuring {target.name}", flush=True)
    sequential(target, 50, stream=False)
    load(target, args.concurrency, 2.0, workdir)
    other: list[float] = []
    with foreign_cpu(procs, other):
        lat, seq_err, seq_hits = sequential(target, args.requests, stream=False)
        ttfb, stream_err, _ = sequential(target, max(20, args.requests // 3), stream=True)
        with profiled(profile, args.duration):
            rps, load_err, load_hits, answers = load(target, args.concurrency, args.duration, workdir)
    p99 = statistics.quantiles(lat, n=100)[98] if len(lat) > 1 else float("nan")
    hits = (seq_hits + load_hits) / max(1, len(lat) + answers)
    result = Result(target.name, statistics.median(lat) if lat else float("nan"), p99,
                    statistics.median(ttfb) if ttfb else float("nan"), rps, seq_err + stream_err + load_err,
                    other[0], hits)
    print(f"    p50 {result.p50:.2f} ms, p99 {result.p99:.2f} ms, stream TTFB {result.ttfb_p50:.2f} ms, "
          f"{result.rps:.0f} RPS, {result.errors} errors, other CPU {result.other_cpu:.2f}, cache hits {hits:.0%}",
          flush=True)
    return result


def start_fake(procs: Processes) -> int:
    """The fake providers in their own process (no GIL shared with the client), without access logs."""
    port = free_port()
    code = ("import uvicorn; from fake_providers.server import create_app; "
            f"uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_level='warning', "
            "access_log=False, lifespan='off')")
    proc = procs.start("fake", [str(BIN / "python"), "-c", code])
    wait_ready(Target("fake", port, "gpt-4o-fake", UPSTREAM_KEY), procs, proc, 30)
    return port


def fake_target(fake_port: int, model: str = "gpt-4o-fake") -> dict[str, Any]:
    """A catalog target pointing at the fake's OpenAI API."""
    return {"provider": "openai", "model": model, "api_base": f"http://127.0.0.1:{fake_port}/v1",
            "api_key_env": "BENCH_OPENAI_KEY"}


# The passthrough row: authentication (the master key) and routing, nothing else a request can be given.
PASSTHROUGH: dict[str, Any] = {"guardrails": {"enabled": False}, "cache": {"enabled": False},
                               "audit": {"enabled": False}, "judges": {"enabled": False}}


def merge_args(args: dict[str, Any], override: dict[str, Any]) -> None:
    """Update ``args`` section by section: a section given as a mapping is merged into the one there."""
    for section, value in override.items():
        old = args.get(section)
        args[section] = {**old, **value} if isinstance(old, dict) and isinstance(value, dict) else value


def local_config(fake_port: int, port: int, data_dir: Path,
                 args_override: dict[str, Any] | None = None) -> dict[str, Any]:
    """configs/local.yaml as ``make run`` serves it, every feature it turns on included, with each chat model of
    its catalog (and ``bench``) at the fake upstream, priced so the ledger charges, and no local tier.

    ``--placements deployment`` moves the guardrail scan and the provider calls back to their deployments.
    ``args_override`` updates ``args`` as :func:`merge_args` does; its key ``deployments`` (``{name: options}``)
    updates those deployments' options instead.
    """
    from serve_app.app import deployment_names
    from tollgate_core.config import parse_gateway_config

    config: dict[str, Any] = yaml.safe_load((ROOT / "configs" / "local.yaml").read_text())
    config["http_options"] = {"host": "127.0.0.1", "port": port}
    app = config["applications"][0]
    args = app["args"]
    args.pop("local_llm", None)
    priced = {**fake_target(fake_port), "prices": {"input": 2.5, "output": 10.0}}
    chat = [name for name, model in args["models"].items() if model.get("type", "chat") == "chat"]
    args["models"] = {**{name: {"targets": [priced]} for name in ["bench", *chat]},
                      **{name: model for name, model in args["models"].items() if name not in chat}}
    args["server"]["data_dir"] = str(data_dir)
    if not PLACEMENTS:
        args["guardrails"]["placement"] = "deployment"
        args["routing"]["proxy_placement"] = "deployment"
    override = dict(args_override or {})
    options = override.pop("deployments", {})
    merge_args(args, override)
    names = deployment_names(parse_gateway_config(args))
    app["deployments"] = [{**d, **options.get(d["name"], {})} for d in app["deployments"] if d["name"] in names]
    return config


def virtual_key(port: int) -> str:
    """An org, a team and a key of it, each with hourly and daily budgets and rate limits that the run never
    reaches: every request reserves and settles on all three, as an application's key does."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30.0)
    budgets = {"hourly": {"hard": 10_000, "soft": 8_000}, "daily": {"hard": 100_000}}
    limits = {"rpm": 10_000_000, "tpm": 10_000_000_000, "max_concurrency": 10_000}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        conn.request("POST", path, json.dumps({**body, "budgets": budgets, "limits": limits}),
                     {"Authorization": f"Bearer {MASTER_KEY}", "Content-Type": "application/json"})
        response = conn.getresponse()
        data: dict[str, Any] = json.loads(response.read())
        if response.status != 201:
            raise RuntimeError(f"POST {path}: {response.status} {data}")
        return data

    with closing(conn):
        post("/admin/orgs", {"name": "bench"})
        post("/admin/teams", {"org": "bench", "name": "api"})
        return str(post("/admin/keys", {"team": "bench/api", "name": "bench-app"})["key"])


# Where configs/local.yaml (`make run`) scans requests and calls providers: in the Ingress, no hop
# (benchmarks/placement.py). ``--placements deployment`` measures the deployments instead (and a --compare-ref
# commit older than these settings needs it).
PLACEMENTS: dict[str, Any] = {"guardrails": {"placement": "ingress"}, "routing": {"proxy_placement": "ingress"}}


def tollgate_config(fake_port: int, port: int, models: dict[str, Any] | None = None,
                    args_override: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Serve config: by default one model with one OpenAI target; no local tier, one replica per deployment
    (``args_override`` updates ``args`` as :func:`merge_args` does, e.g. to turn features on)."""
    from serve_app.app import deployment_names
    from tollgate_core.config import parse_gateway_config

    args = {"profile": "local", "auth": {"master_key_env": "TOLLGATE_MASTER_KEY"},
            "models": models or {"bench": {"targets": [fake_target(fake_port)]}},
            **{section: dict(value) for section, value in PLACEMENTS.items()}}
    merge_args(args, args_override or {})
    sizes = {"Ingress": 512, "Guardrail": 512, "OpenAIProxy": 256, "Router": 1000}  # the Router is off the request path
    names = deployment_names(parse_gateway_config(args)) & KNOWN_DEPLOYMENTS
    deployments = [{"name": name, "num_replicas": 1, "max_ongoing_requests": sizes.get(name, 256),
                    "ray_actor_options": {"num_cpus": 0}} for name in sorted(names, key=list(sizes).__contains__,
                                                                                reverse=True)]
    return {"proxy_location": "HeadOnly", "http_options": {"host": "127.0.0.1", "port": port},
            "applications": [{"name": "tollgate", "route_prefix": "/", "import_path": "serve_app.app:build_app",
                              "args": args, "deployments": deployments}]}


@contextmanager
def serve_beside_fake(master_key: str, prefix: str) -> Iterator[tuple[int, int]]:
    """Ray (2 CPUs) and Serve on 127.0.0.1 in this process, beside the fake upstream, with a throw-away data
    directory: ``(fake_port, serve_port)``. Everything is stopped on exit."""
    import ray
    from ray import serve

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        procs = Processes(Path(tmp))
        try:
            fake_port = start_fake(procs)
            port = free_port()
            os.environ.update({"TOLLGATE_MASTER_KEY": master_key, "BENCH_OPENAI_KEY": UPSTREAM_KEY,
                               "TOLLGATE_DATA_DIR": str(Path(tmp) / "data"), "RAY_USAGE_STATS_ENABLED": "0"})
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            try:
                serve.start(http_options={"host": "127.0.0.1", "port": port})
                yield fake_port, port
            finally:
                serve.shutdown()
                ray.shutdown()
        finally:
            procs.stop_all()


def deploy_in_process(gateway_args: dict[str, Any]) -> None:
    """Run the Tollgate application with every deployment it creates at ``num_cpus: 0`` (two cores host the
    whole graph), as ``tollgate`` on 127.0.0.1 at ``/``."""
    from ray import serve

    from serve_app.app import build_app_with_options, deployment_names
    from tollgate_core.config import parse_gateway_config

    names = deployment_names(parse_gateway_config(gateway_args))
    app = build_app_with_options(gateway_args, {name: {"ray_actor_options": {"num_cpus": 0}} for name in names})
    serve.run(app, name="tollgate", route_prefix="/")


@contextmanager
def checkout(ref: str) -> Iterator[tuple[Path, str]]:
    """The repository at ``ref`` in a temporary git worktree, removed on exit: ``(folder, short hash)``."""
    short = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", ref], check=True, capture_output=True,
                           text=True).stdout.strip()
    folder = Path(tempfile.mkdtemp(prefix=f"tollgate-{short}-"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(folder), ref], check=True,
                   capture_output=True)
    try:
        yield folder, short
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)], check=False,
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _code_env(source: Path | None) -> dict[str, str]:
    """The environment that makes Python (and Ray's workers, which inherit it) import ``source``'s packages
    before the editable install's."""
    if source is None:
        return {}
    env = {"PYTHONPATH": str(source)}
    where = subprocess.run([str(BIN / "python"), "-c", "import serve_app; print(serve_app.__file__)"], check=True,
                           capture_output=True, text=True, env={**os.environ, **env}, cwd=source).stdout.strip()
    if not where.startswith(str(source)):
        raise RuntimeError(f"PYTHONPATH={source} still imports serve_app from {where}")
    return env


@contextmanager
def tollgate(procs: Processes, workdir: Path, fake_port: int, haproxy: bool,
             models: dict[str, Any] | None = None, model: str = "bench",
             source: tuple[Path, str] | None = None, args_override: dict[str, Any] | None = None,
             local: bool = False) -> Iterator[Target]:
    """``serve run`` on a generated config (or, with ``local``, on configs/local.yaml's: :func:`local_config`) in a
    new local Ray instance; Serve and Ray stopped on exit. With ``source`` (a checkout and its name), that
    checkout's code is served instead of the working tree's."""
    port = free_port()
    variant = ("haproxy" if haproxy else "default") + ("-local" if local else "") + (f"-{source[1]}" if source else "")
    cfg = workdir / f"tollgate-{variant}.yaml"
    data_dir = workdir / f"data-{variant}-{uuid.uuid4().hex[:6]}"  # every start begins with an empty store
    config = (local_config(fake_port, port, data_dir, args_override) if local
              else tollgate_config(fake_port, port, models, args_override))
    cfg.write_text(yaml.safe_dump(config, sort_keys=False))
    code = _code_env(source[0] if source else None)
    subprocess.run([str(BIN / "tollgate"), "config", "check", str(cfg)], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, **code}, cwd=source[0] if source else None)
    env = {"RAY_SERVE_THROUGHPUT_OPTIMIZED": "1", "TOLLGATE_MASTER_KEY": MASTER_KEY, "BENCH_OPENAI_KEY": UPSTREAM_KEY,
           "TOLLGATE_AUDIT_HMAC_KEY": "bench-audit-hmac-key",
           "TOLLGATE_DATA_DIR": str(data_dir), "RAY_USAGE_STATS_ENABLED": "0",
           "RAY_SERVE_ENABLE_HA_PROXY": "1" if haproxy else "0", **code}
    proc = procs.start(cfg.stem, [str(BIN / "serve"), "run", "--address", "local", str(cfg)], env,
                       cwd=source[0] if source else None)
    name = ("Tollgate + HAProxy" if haproxy else "Tollgate") + (f" @ {source[1]}" if source else "")
    try:
        wait_ready(target := Target(name, port, model, MASTER_KEY), procs, proc, 240)
        yield target
    finally:
        procs.stop(proc)


def ensure_litellm() -> Path:
    """The LiteLLM proxy's own venv (``.venv-litellm``), created on first use."""
    exe = LITELLM_VENV / "bin" / "litellm"
    if not exe.exists():
        print(f"  creating {LITELLM_VENV} and installing {LITELLM_SPEC} into it (first run only)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True)
        subprocess.run([str(LITELLM_VENV / "bin" / "pip"), "install", "-q", LITELLM_SPEC], check=True)
    return exe


@contextmanager
def litellm(procs: Processes, workdir: Path, fake_port: int, workers: int) -> Iterator[Target]:
    """LiteLLM's proxy with master-key auth and one model; nothing that calls the network."""
    port, cfg = free_port(), workdir / "litellm.yaml"
    params = {"model": "openai/gpt-4o-fake", "api_base": f"http://127.0.0.1:{fake_port}/v1", "api_key": UPSTREAM_KEY}
    cfg.write_text(yaml.safe_dump({"model_list": [{"model_name": "bench", "litellm_params": params}],
                                   "general_settings": {"master_key": MASTER_KEY}}))
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False", "DISABLE_SCHEMA_UPDATE": "True",
           "LITELLM_DONT_SHOW_FEEDBACK_BOX": "True", "LITELLM_MODE": "PRODUCTION", "HF_HUB_OFFLINE": "1"}
    cmd = [str(ensure_litellm()), "--config", str(cfg), "--host", "127.0.0.1", "--port", str(port),
           "--num_workers", str(workers)]
    proc = procs.start(f"litellm-{workers}w", cmd, env)
    try:
        wait_ready(target := Target(LL1 if workers == 1 else LL2, port, "bench", MASTER_KEY), procs, proc, 180)
        yield target
    finally:
        procs.stop(proc)


PASS = "Tollgate, passthrough (auth only)"
FULL = "Tollgate, every feature, cache miss"
# The rows of the server that runs configs/local.yaml: (name, model, workload, temperature). At temperature 0 the
# response cache looks each request up (exact, then semantic: the query is embedded) and stores its answer; at
# OpenAI's default temperature (1) it is not consulted.
WARM = "Tollgate, every feature, temperature 1 (cache not consulted)"
FULL_ROWS = ((FULL, "bench", "unique", 0.0), ("Tollgate, every feature, 50% exact-cache hits", "bench", "half", 0.0),
             ("Tollgate, every feature, model: auto", "auto", "unique", 0.0), (WARM, "bench", "unique", 1.0))
PROFILED = {FULL: "every-feature-cache-miss", WARM: "every-feature-temperature-1"}


def table(results: list[Result], concurrency: int) -> str:
    """One markdown table, with ratios to LiteLLM with 2 workers where it ran."""
    base = {r.name: r for r in results}.get(LL2)

    def ratio(a: float, b: float | None) -> str:
        return f"{a / b:.2f}×" if b else "—"

    head = ["target", "p50 ms", "p99 ms", "stream TTFB p50 ms", f"RPS@{concurrency}", "errors", "other CPU",
            "cache hits", "p50 ÷ LL-2w", "p99 ÷ LL-2w", "TTFB ÷ LL-2w", "RPS ÷ LL-2w"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [r.name, f"{r.p50:.2f}", f"{r.p99:.2f}", f"{r.ttfb_p50:.2f}", f"{r.rps:.0f}", str(r.errors),
                 f"{r.other_cpu:.2f}", "—" if r.hits is None else f"{r.hits:.0%}",
                 *(ratio(getattr(r, f), getattr(base, f) if base else None) for f in ("p50", "p99", "ttfb_p50", "rps"))]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def verdicts(results: list[Result]) -> Iterator[str]:
    """Issue 23's targets against LiteLLM with 2 workers: the full-feature row p50 ≤ 0.5×, p99 ≤ 1.0×,
    RPS ≥ 1.5×, stream TTFB ≤ 0.5×; the passthrough row p50 ≤ 0.35×."""
    by = {r.name: r for r in results}
    if (ll := by.get(LL2)) is None:
        return

    def check(label: str, ok: bool) -> str:
        return f"{label}: {'yes' if ok else 'NO'}"

    for name in (FULL, WARM):
        if full := by.get(name):
            yield f"{name}: " + "; ".join([
                check("p50 ≤ 0.5×", full.p50 <= 0.5 * ll.p50), check("p99 ≤ 1.0×", full.p99 <= ll.p99),
                check("RPS ≥ 1.5×", full.rps >= 1.5 * ll.rps),
                check("stream TTFB ≤ 0.5×", full.ttfb_p50 <= 0.5 * ll.ttfb_p50)])
    if bare := by.get(PASS):
        yield f"{PASS}: " + check("p50 ≤ 0.35×", bare.p50 <= 0.35 * ll.p50)


def medians(results: list[Result]) -> list[Result]:
    """One row per target: the median of each figure over the rounds it was measured in."""
    names = list(dict.fromkeys(r.name for r in results))
    rows = []
    for name in names:
        runs = [r for r in results if r.name == name]
        hits = [r.hits for r in runs if r.hits is not None]
        rows.append(Result(name, *(statistics.median(getattr(r, f) for r in runs) for f in
                                   ("p50", "p99", "ttfb_p50", "rps")), sum(r.errors for r in runs),
                           statistics.median(r.other_cpu for r in runs), statistics.median(hits) if hits else None))
    return rows


def against_ref(results: list[Result]) -> Iterator[str]:
    """The working tree's figures over the compared commit's, per row (``--compare-ref``)."""
    by = {r.name: r for r in results}
    for r in results:
        if " @ " in r.name and (now := by.get(r.name.split(" @ ")[0])):
            yield (f"{now.name} ÷ {r.name}: p50 {now.p50 / r.p50:.2f}×, p99 {now.p99 / r.p99:.2f}×, "
                   f"stream TTFB p50 {now.ttfb_p50 / r.ttfb_p50:.2f}×, RPS {now.rps / r.rps:.2f}×")


Step = Callable[[], list[Result]]


def tollgate_steps(args: argparse.Namespace, procs: Processes, workdir: Path, fake_port: int,
                   source: tuple[Path, str] | None) -> list[Step]:
    """The passthrough server and the configs/local.yaml server (three rows), of the working tree or ``source``."""
    at = f" @ {source[1]}" if source else ""

    def passthrough() -> list[Result]:
        print(f"starting Tollgate, passthrough{at}", flush=True)
        with tollgate(procs, workdir, fake_port, True, source=source, args_override=PASSTHROUGH) as t:
            return [measure(Target(PASS + at, t.port, "bench", t.key, "unique"), args, procs, workdir)]

    def every_feature() -> list[Result]:
        print(f"starting Tollgate on configs/local.yaml{at}", flush=True)
        with tollgate(procs, workdir, fake_port, True, source=source, local=True) as t:
            key = virtual_key(t.port)
            profile = None
            if not source:  # the working tree's, in the first round only
                profile, args.profile = args.profile, None
            return [measure(Target(name + at, t.port, model, key, workload, temperature), args, procs, workdir,
                            profile / PROFILED[name] if profile and name in PROFILED else None)
                    for name, model, workload, temperature in FULL_ROWS]

    return [passthrough, every_feature]


def litellm_step(args: argparse.Namespace, procs: Processes, workdir: Path, fake_port: int, workers: int) -> Step:
    def step() -> list[Result]:
        print(f"starting LiteLLM ({workers} worker{'s' if workers > 1 else ''})", flush=True)
        with litellm(procs, workdir, fake_port, workers) as t:
            return [measure(Target(t.name, t.port, t.model, t.key, "unique"), args, procs, workdir)]
    return step


def run(args: argparse.Namespace) -> list[Result]:
    """Start each server in turn, measure it, stop it; the fake upstream serves them all. Each round runs every
    server, in the reverse order of the round before, so none always meets a cold or a warm machine."""
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="tollgate-bench-") as tmp:
        workdir, procs = Path(tmp), Processes(Path(tmp))
        try:
            print("starting the fake upstream", flush=True)
            fake_port = start_fake(procs)
            results.append(measure(Target("direct to fake", fake_port, "gpt-4o-fake", UPSTREAM_KEY, "unique"),
                                   args, procs, workdir))
            with contextlib.ExitStack() as stack:
                ref = stack.enter_context(checkout(args.compare_ref)) if args.compare_ref else None
                steps = tollgate_steps(args, procs, workdir, fake_port, None)
                if ref:
                    steps += tollgate_steps(args, procs, workdir, fake_port, ref)
                if not args.skip_litellm:
                    steps += [litellm_step(args, procs, workdir, fake_port, w) for w in (1, 2)]
                for round_no in range(args.rounds):
                    for step in steps if round_no % 2 == 0 else reversed(steps):
                        results += step()
        finally:
            procs.stop_all()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="sequential requests per target (default 300)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per target (default 10)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections during the load (default 32)")
    parser.add_argument("--skip-litellm", action="store_true", help="measure only the fake and Tollgate")
    parser.add_argument("--compare-ref", metavar="REF",
                        help="also measure the code of this git commit (e.g. HEAD~1), beside the working tree's")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every server this many times, alternating the order (default 1)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="py-spy every replica during the first round's load on the every-feature cache-miss and "
                        "temperature-1 rows; collapsed stacks to DIR/<row>/<Deployment>.txt "
                        "(benchmarks/profile_table.py reads them)")
    parser.add_argument("--placements", choices=("ingress", "deployment"), default="ingress",
                        help="guardrail scan and provider calls in the Ingress as configs/local.yaml has them "
                        "(default), or in their deployments")
    args = parser.parse_args()
    if args.placements == "deployment":
        PLACEMENTS.clear()
    if not shutil.which("wrk"):
        parser.error("needs wrk, the HTTP load generator: apt-get install wrk")
    if args.profile and not (BIN / "py-spy").exists():
        parser.error("--profile needs py-spy: .venv/bin/pip install -e '.[bench]'")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the same cleanup as Ctrl-C
    started = time.monotonic()
    try:
        results = run(args)
    except KeyboardInterrupt:
        print("\ninterrupted; every process this script started has been stopped", file=sys.stderr)
        return 130
    print(f"\n{os.cpu_count()} cores; load: wrk -t1, {args.concurrency} connections, {args.duration:g} s; "
          f"{args.requests} sequential requests; took {time.monotonic() - started:.0f} s\n")
    if args.rounds > 1:
        print(f"every figure is the median of {args.rounds} rounds (errors: their sum)\n")
    results = medians(results)
    print(table(results, args.concurrency))
    print("\n" + "\n".join(verdicts(results)))
    print("\n".join(against_ref(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
