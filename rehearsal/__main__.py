"""``python -m rehearsal`` (``make prod-cpu``): configs/prod.yaml's graph on this machine, exercised end to end.

Prints the deployments and their replicas, the traffic and which deployments answered it, every Grafana
dashboard query evaluated in Prometheus, ``serve status``, the Ray dashboard's Serve page, and the replica counts
seen while autoscaling acts. Exits 1 if any of it did not hold. Everything it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import sys

from rehearsal.run import Report, rehearse


def _print(report: Report) -> int:
    problems = []
    print(f"\nDeployed in {report.deploy_s} s. Replicas: " +
          ", ".join(f"{n} {c}" for n, c in sorted(report.replicas_at_start.items())))
    print("\n| request | through | status | answered by |\n|---|---|---|---|")
    for x in report.traffic:
        print(f"| {x.what} | {x.path} | {x.status} | {x.answered_by} |")
    print("\n| dashboard panel | series | one of them |\n|---|---|---|")
    for q in report.queries:
        print(f"| {q.panel} | {q.series} | {q.sample[:110]} |")
        if not q.series:
            problems.append(f"no data: {q.panel}: {q.expr}")
    quiet = [q.panel for q in report.queries if q.series and not q.shows_a_number()]
    if quiet:
        print(f"(only zeros or NaN so far, a rate over too few reports: {', '.join(quiet)})")
    for command, (code, output) in report.operator.items():
        print(f"\n$ RAY_AUTH_MODE=token {command}   (exit {code})\n{output[:1200]}" +
              ("\n..." if len(output) > 1200 else ""))
        if code != 0:
            problems.append(f"{command} exited {code}")
    print("\nRay dashboard, Serve page (headless Chromium):", " ".join(report.dashboard_text.split())[:300])
    if report.scaling is not None:
        scaling = report.scaling
        print(f"\nAutoscaling: running replicas at the burst's peak {scaling.peak()}, when quiet {scaling.last()}; "
              f"burst answers by status: {scaling.statuses}")
        if not (scaling.scaled_up() and scaling.scaled_back()):
            problems.append(f"autoscaling: peak {scaling.peak()}, back to {scaling.last()}")
    for p in problems:
        print(f"PROBLEM: {p}")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m rehearsal", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-scaling", action="store_true", help="skip the autoscaling burst (saves ~3 minutes)")
    args = parser.parse_args()
    try:
        report = rehearse(scaling=not args.no_scaling)
    except KeyboardInterrupt:
        return 130
    return _print(report)


if __name__ == "__main__":
    sys.exit(main())
