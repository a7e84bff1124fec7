"""Summarise a ``mutmut run`` per module: one line each, ``mutation: <module path>: <killed>/<total> killed``.

Run by ``make mutation`` after ``mutmut run`` (the modules and tests are ``[tool.mutmut]`` in
pyproject.toml). A mutant counts as killed when a test failed or timed out with it; one that no
test reached ("no tests") counts as a survivor, like one that every test passed with.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

# "    serve_app.audit.writer.xǁAuditWriterǁappend__mutmut_3: killed"
_LINE = re.compile(r"^\s*(?P<module>[\w.]+?)\.x(?:ǁ|_)[^:]*__mutmut_\d+: (?P<status>[\w ]+)$")
KILLED = {"killed", "timeout"}


def summarise(lines: list[str]) -> dict[str, Counter[str]]:
    per_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in lines:
        match = _LINE.match(line)
        if match:
            per_module[match["module"]][match["status"].strip()] += 1
    return per_module


def main() -> int:
    mutmut = Path(sys.executable).with_name("mutmut")
    done = subprocess.run([str(mutmut), "results", "--all", "true"], capture_output=True, text=True, check=False)
    per_module = summarise(done.stdout.splitlines())
    if not per_module:
        print("no mutants found: run `mutmut run` first", file=sys.stderr)
        return 1
    for module, statuses in sorted(per_module.items()):
        detail = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
        print(f"  {module}: {detail}")
    for module, statuses in sorted(per_module.items()):
        killed = sum(n for status, n in statuses.items() if status in KILLED)
        path = module.replace(".", "/") + ".py"
        print(f"mutation: {path}: {killed}/{sum(statuses.values())} killed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
