"""``tollgate audit``: the handlers, called through a parser built the way ``tollgate`` builds its own."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import time
from pathlib import Path

import pytest
import yaml

from serve_app.audit.chain import canonical_json
from serve_app.audit.cli import add_audit_commands
from serve_app.audit.export import read_csv, read_jsonl
from serve_app.audit.writer import AuditWriter
from tests.unit.audit.conftest import KEY, make_record
from tollgate_core.store import open_database

NOW = time.time()


def tollgate(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="tollgate")
    add_audit_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return int(args.func(args))


def fill(url: str, count: int = 6) -> list[dict[str, object]]:
    """``count`` records, one batch each, record i ``10 - i`` days old."""
    records = [make_record(i, time=NOW - (10 - i) * 86400.0) for i in range(1, count + 1)]

    async def append() -> list[int]:
        db = await open_database(url)
        writer = AuditWriter(db, hmac_key=KEY, flush_interval_s=0.001)
        try:
            return [await writer.append(r) for r in records]
        finally:
            await writer.close()
            await db.close()

    seqs = asyncio.run(append())
    return [{"seq": seq, **r.to_json_dict()} for seq, r in zip(seqs, records)]


def run_sql(url: str, sql: str, *args: object) -> None:
    async def go() -> None:
        db = await open_database(url)
        try:
            async with db.transaction() as tx:
                await tx.execute(sql, *args)
        finally:
            await db.close()

    asyncio.run(go())


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOLLGATE_AUDIT_HMAC_KEY", KEY.decode())
    monkeypatch.setenv("TOLLGATE_DATA_DIR", str(tmp_path / "data"))


def test_verify_exits_0_when_the_chain_holds(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    fill(store_url)
    assert tollgate("audit", "verify", "--store", store_url) == 0
    assert capsys.readouterr().out.startswith("OK: 6 records (seq 1–6), 6 checkpoints")


def test_verify_exits_1_naming_the_edited_record(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    records = fill(store_url)
    edited = {k: v for k, v in records[2].items() if k != "seq"} | {"completion_tokens": 0}
    run_sql(store_url, "UPDATE audit_log SET record = $1 WHERE seq = 3", canonical_json(edited))
    assert tollgate("audit", "verify", "--store", store_url) == 1
    err = capsys.readouterr().err
    assert "record 3 (request tgr-0003) was edited: its contents do not match its hash" in err


def test_verify_with_another_key_fails_at_a_checkpoint(store_url: str, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    fill(store_url, 2)
    monkeypatch.setenv("OTHER_KEY", "not-the-key")
    assert tollgate("audit", "verify", "--store", store_url, "--hmac-key-env", "OTHER_KEY") == 1
    assert "checkpoint 1 has a bad signature" in capsys.readouterr().err


def test_export_csv_to_a_file_with_filters(store_url: str, tmp_path: Path) -> None:
    records = fill(store_url)
    out = tmp_path / "audit.csv"
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW - 7.5 * 86400))
    rc = tollgate("audit", "export", "--store", store_url, "--since", since, "--until", str(NOW - 4.5 * 86400),
                  "--team", "team-1", "--format", "csv", "--out", str(out))
    assert rc == 0
    with out.open(encoding="utf-8", newline="") as fh:
        exported = list(read_csv(fh))
    assert exported == [r for r in records if r["seq"] in (4,)]  # records 3, 4 and 5 are in the window; 4 is team-1's


def test_export_jsonl_to_stdout(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    records = fill(store_url, 3)
    assert tollgate("audit", "export", "--store", store_url) == 0
    assert list(read_jsonl(io.StringIO(capsys.readouterr().out))) == records


def test_tail_prints_the_latest_records(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    fill(store_url, 5)
    assert tollgate("audit", "tail", "--store", store_url, "-n", "2") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [4, 5]


def test_prune_then_verify(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    fill(store_url)  # 9, 8, 7, 6, 5 and 4 days old
    assert tollgate("audit", "prune", "--store", store_url, "--older-than-days", "5") == 0
    assert capsys.readouterr().out.startswith("pruned 5 audit records from before ")
    assert tollgate("audit", "verify", "--store", store_url) == 0
    assert "OK: 1 record (seq 6–6), 2 checkpoints; records before 6 were pruned" in capsys.readouterr().out


def test_prune_needs_an_age(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    fill(store_url, 1)
    assert tollgate("audit", "prune", "--store", store_url) == 1
    assert "--older-than-days" in capsys.readouterr().err


def test_the_local_profile_reads_the_generated_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TOLLGATE_AUDIT_HMAC_KEY")
    monkeypatch.delenv("TOLLGATE_DATA_DIR")
    data_dir = tmp_path / "gateway-data"
    data_dir.mkdir()
    (data_dir / "audit_hmac_key").write_text(KEY.decode() + "\n", encoding="utf-8")
    config = tmp_path / "local.yaml"
    config.write_text(yaml.safe_dump({"applications": [{
        "name": "tollgate", "import_path": "serve_app.app:build_app",
        "args": {"profile": "local", "server": {"data_dir": str(data_dir)}, "models": {"m": {"targets": [
            {"provider": "openai", "model": "x", "api_key_env": "K"}]}}},
    }]}), encoding="utf-8")
    fill(f"sqlite:///{data_dir / 'state.db'}", 2)
    assert tollgate("audit", "verify", "--config", str(config)) == 0
    assert capsys.readouterr().out.startswith("OK: 2 records")
    (data_dir / "audit_hmac_key").unlink()
    assert tollgate("audit", "verify", "--config", str(config)) == 2
    assert "TOLLGATE_AUDIT_HMAC_KEY is not set" in capsys.readouterr().err


def test_a_missing_store_is_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere' / 'state.db'}"
    assert tollgate("audit", "verify", "--store", url) == 2
    assert "there is no state store" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-01-01T00:00:00Z", 1_767_225_600.0),
    ("2026-01-01T01:00:00+01:00", 1_767_225_600.0),
    ("2026-01-01", 1_767_225_600.0),
    ("1767225600.5", 1_767_225_600.5),
], ids=["utc", "offset", "date", "unix"])
def test_times_are_iso_8601_or_unix(text: str, expected: float) -> None:
    parser = argparse.ArgumentParser()
    add_audit_commands(parser.add_subparsers(dest="command"))
    assert parser.parse_args(["audit", "export", "--since", text]).since == expected


def test_a_bad_time_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        tollgate("audit", "export", "--since", "last tuesday")
    assert "neither ISO 8601" in capsys.readouterr().err
