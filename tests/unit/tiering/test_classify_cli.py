"""``tollgate route classify``: JSON lines in, ``{"tier", "score"}`` out, through the deployment's own service."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from deployments.tiering.classify_cli import run_classify
from serve_app.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
SIMPLE = "Which department should get this email: 'Please update my bank details for payroll.'"
HARD = "Write a C++ lock-free single-producer single-consumer ring buffer with tests and explain the memory ordering."


def _classify(lines: list[object], threshold: float = 0.5, explain: bool = False) -> tuple[int, list[dict]]:
    source = io.StringIO("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    out = io.StringIO()
    code = run_classify(source, out, threshold, explain=explain)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_ids_tiers_and_the_threshold_decide() -> None:
    code, rows = _classify([{"id": "a", "text": SIMPLE}, {"id": "b", "text": HARD}])
    assert code == 0
    assert [(r["id"], r["tier"]) for r in rows] == [("a", 1), ("b", 2)]
    assert rows[0]["score"] < 0.5 <= rows[1]["score"]
    # A plain text line is the request with one user message: both forms score the same.
    _, [as_request] = _classify([{"request": {"messages": [{"role": "user", "content": HARD}]}}])
    assert as_request["score"] == rows[1]["score"]
    # The threshold, not the score alone, decides: the same simple text goes to Tier 2 under a tiny one.
    _, [strict] = _classify([{"text": SIMPLE}], threshold=1e-12)
    assert strict["tier"] == 2 and strict["score"] == rows[0]["score"]


def test_a_whole_request_adds_its_features_and_explain_names_the_drivers() -> None:
    text = "Look up the status of order 1234."
    tools = [{"type": "function", "function": {"name": "get_order", "parameters": {"type": "object"}}}]
    _, [plain, rich] = _classify([
        {"text": text},
        {"request": {"messages": [{"role": "user", "content": text}], "tools": tools,
                     "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {}}}}},
    ], explain=True)
    assert rich["score"] > plain["score"]
    assert {"has_tools", "json_schema"} <= {name for name, _ in rich["drivers"]}


def test_bad_lines_get_an_error_line_and_a_nonzero_exit() -> None:
    code, rows = _classify(["not json", {"text": 3}, {"request": {"messages": "hi"}}, ["a"], {"text": SIMPLE}])
    assert code == 1
    assert [("error" in row) for row in rows] == [True, True, True, True, False]


def test_the_cli_uses_the_configs_policy_and_names_an_unknown_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = tmp_path / "in.jsonl"
    lines.write_text(json.dumps({"text": SIMPLE}) + "\n")
    config = str(ROOT / "configs" / "local.yaml")
    assert main(["route", "classify", "--config", config, "--file", str(lines)]) == 0
    assert json.loads(capsys.readouterr().out)["tier"] == 1
    assert main(["route", "classify", "--config", config, "--policy", "auto-nope", "--file", str(lines)]) == 1
    assert "no policy 'auto-nope'" in capsys.readouterr().err
    assert main(["route", "classify", "--config", config, "--file", str(tmp_path / "missing.jsonl")]) == 1
    assert "cannot read" in capsys.readouterr().err
