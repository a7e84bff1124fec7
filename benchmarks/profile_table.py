"""Where a profiled replica spends its CPU: the top functions of py-spy's collapsed stacks, as a markdown table.

``benchmarks/overhead.py --profile DIR`` writes one file of collapsed stacks per Serve replica
(``frame;frame;…;leaf COUNT`` per line, the input of any flame-graph tool: speedscope.app or flamegraph.pl draw
them; gzipped copies are read as well). This prints, per file, the functions with the most samples on the stack ("total", the inclusive time)
and at the top of it ("self"), as shares of all samples, and a coarser breakdown by package.

    .venv/bin/python benchmarks/profile_table.py DIR [--top 25]
"""

from __future__ import annotations

import argparse
import gzip
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
# Where a frame's file lives, most specific first: the package a sample is charged to.
# py-spy names files relative to the import path, so "ledger.py" is serve_app/governance/ledger.py.
_AREAS = (("tollgate: ", ("serve_app/", "deployments/", "tollgate_core/", "(ledger.py", "(enforcer.py",
                          "(directory.py", "(costing.py")),
          ("ray serve", ("ray/serve/",)), ("gRPC (Ray's calls to other deployments)", ("grpc/",)),
          ("ray core", ("ray/",)), ("torch / transformers", ("torch/", "transformers/", "sentence_transformers/")),
          ("http (starlette, uvicorn, httpx, h11)", ("starlette/", "uvicorn/", "httpx/", "httpcore/", "h11/",
                                                     "fastapi/")),
          ("asyncio", ("asyncio/",)), ("sqlite / json / stdlib", ("sqlite3/", "json/", "lib/python3")))


def frame_name(frame: str) -> str:
    """``func (path/to/file.py:123)`` -> ``func (file.py relative to site-packages or the repo)``."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "/work/main/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match['func']} ({path})"


def area(frame: str) -> str:
    for name, markers in _AREAS:
        if any(m in frame for m in markers):
            if name.startswith("tollgate"):
                where = frame.split("(", 1)[1]
                return name + (where.split("/", 1)[0] if "/" in where else "serve_app")
            return name
    if frame.startswith("Thread.run (threading.py"):
        # The replica's event loop runs in a thread; time at the top of Thread.run is the loop's C code (uvloop:
        # polling, sockets, callbacks' dispatch).
        return "event loop's C code (uvloop)"
    return "other"


def read(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    for line in text.splitlines():
        head, _, count = line.rpartition(" ")
        if head and count.isdigit():
            stacks.append(([f for f in head.split(";") if f], int(count)))
    return stacks


def tables(stacks: list[tuple[list[str], int]], top: int) -> str:
    total_samples = sum(n for _, n in stacks) or 1
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    for frames, n in stacks:
        names = [frame_name(f) for f in frames]
        for name in set(names):
            inclusive[name] += n
        if names:
            own[names[-1]] += n
            # A sample is charged to the innermost frame that is not the standard library or asyncio.
            where = [area(f) for f in frames]
            charged = next((a for a in reversed(where) if a not in ("asyncio", "sqlite / json / stdlib", "other")),
                           where[-1])
            areas[charged] += n
    lines = [f"{total_samples} samples\n", "| area | share |", "|---|---|"]
    lines += [f"| {name} | {n / total_samples:.1%} |" for name, n in areas.most_common()]
    lines += ["", "| function | total | self |", "|---|---|---|"]
    lines += [f"| `{name}` | {n / total_samples:.1%} | {own[name] / total_samples:.1%} |"
              for name, n in inclusive.most_common(top)]
    lines += ["", "| function (self) | self |", "|---|---|"]
    lines += [f"| `{name}` | {n / total_samples:.1%} |" for name, n in own.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for path in sorted([*args.folder.glob("*.txt"), *args.folder.glob("*.txt.gz")]):
        print(f"## {path.name.split('.')[0]}\n\n{tables(read(path), args.top)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
