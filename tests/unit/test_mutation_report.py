"""``make mutation``'s summary: mutmut's result lines counted per module."""

from __future__ import annotations

from tests.mutation_report import KILLED, summarise


def test_results_are_counted_per_module() -> None:
    lines = [
        "    serve_app.audit.writer.xǁAuditWriterǁappend__mutmut_1: killed",
        "    serve_app.audit.writer.xǁAuditWriterǁappend__mutmut_2: survived",
        "    serve_app.audit.writer.x_helper__mutmut_3: timeout",
        "    deployments.router.policy.x_rank__mutmut_7: no tests",
        "not a result line",
    ]
    counts = summarise(lines)
    assert counts == {"serve_app.audit.writer": {"killed": 1, "survived": 1, "timeout": 1},
                      "deployments.router.policy": {"no tests": 1}}
    assert sum(n for status, n in counts["serve_app.audit.writer"].items() if status in KILLED) == 2
