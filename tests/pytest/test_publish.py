"""Safe publishing (arrears/publish.py): BI readers never block a build nor see a half-built state.

The first group drives the publishing API with hand-made build files (no dbt, fast). The second runs the real
pipeline (dbt on a tiny contract dataset) against a reader process and a build killed with SIGKILL.
Everything is written under pytest's temporary folders.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from arrears import pipeline, publish
from arrears.paths import ROOT

PYTHON = sys.executable
RUN_PIPELINE = ROOT / "scripts" / "run_pipeline.py"

# A reader as a BI tool would be one: its own process, read-only. It prints what it sees, then waits for a
# line on stdin before looking again through the same connection.
READER = textwrap.dedent("""
    import json, sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    def look():
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        marts = {t: sorted(map(repr, con.execute(f'select * from marts."{t}"').fetchall())) for t in tables}
        as_of = None
        if con.execute("select count(*) from information_schema.tables where table_schema = 'intermediate' "
                       "and table_name = 'int_as_of_date'").fetchone()[0]:
            as_of = str(con.execute("select as_of_date from intermediate.int_as_of_date").fetchone()[0])
        return {"as_of": as_of, "marts": marts}
    print(json.dumps(look()), flush=True)
    for _ in sys.stdin:
        print(json.dumps(look()), flush=True)
""")


class Reader:
    """A read-only DuckDB connection held open in another process."""

    def __init__(self, db: Path) -> None:
        self.proc = subprocess.Popen([PYTHON, "-c", READER, str(db)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.first = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, f"the reader process died (exit {self.proc.wait()})"
        return json.loads(line)

    def look_again(self) -> dict:
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def look(db: Path) -> dict:
    """What a reader opening `db` now sees."""
    reader = Reader(db)
    reader.close()
    return reader.first


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------- API-level tests

def fake_build(layout: publish.Layout, value: int, as_of: str = "2026-10-31") -> str:
    """A build as the pipeline makes one, with a hand-made mart instead of dbt."""
    build_id = publish.prepare_build(layout)
    with duckdb.connect(str(layout.build_db)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.mart_probe as select range as id, ? as v from range(3)",
                    [value])
        con.execute("create or replace view marts.v_probe as select sum(v) as total from marts.mart_probe")
    publish.mark_built(layout, dt.date.fromisoformat(as_of))
    return build_id


def publish_fake(layout: publish.Layout, value: int, as_of: str = "2026-10-31") -> str:
    build_id = fake_build(layout, value, as_of)
    publish.mark_checked(layout, "validated")
    lists = layout.lists_staging_dir(build_id) / as_of  # the exporter writes <out>/<as-of>/
    lists.mkdir(parents=True)
    (lists / "calls.csv").write_text(f"value\n{value}\n")
    publish.mark_checked(layout, "exported")
    publish.publish(layout)
    return build_id


@pytest.fixture
def layout(tmp_path: Path) -> publish.Layout:
    return publish.Layout(db=tmp_path / "published" / "arrears.duckdb", out=tmp_path / "out")


def probe_values(look_result: dict) -> set[str]:
    return set(look_result["marts"].get("mart_probe", []))


def test_reader_holding_the_old_file_keeps_it_and_new_readers_get_the_new_one(layout):
    # Would fail if publishing wrote into the published file (the reader would block it or see new rows)
    # or if the swap were not visible to readers that open the file afterwards.
    publish_fake(layout, 1)
    reader = Reader(layout.db)
    try:
        assert probe_values(reader.first) == {"(0, 1)", "(1, 1)", "(2, 1)"}
        publish_fake(layout, 2)
        assert reader.look_again() == reader.first, "a reader saw the file change under it"
    finally:
        reader.close()
    assert probe_values(look(layout.db)) == {"(0, 2)", "(1, 2)", "(2, 2)"}


def test_parquet_lists_and_manifest_are_exactly_the_published_build(layout):
    # Would fail if an export could come from another build than the database beside it.
    first = publish_fake(layout, 1)
    second = publish_fake(layout, 2, as_of="2026-11-01")
    parquet = layout.out / "parquet"
    assert sorted(p.name for p in parquet.iterdir()) == ["mart_probe.parquet", "v_probe.parquet"]
    with duckdb.connect() as con:
        assert con.execute(f"select distinct v from '{parquet}/mart_probe.parquet'").fetchall() == [(2,)]
        assert con.execute(f"select total from '{parquet}/v_*.parquet'").fetchall() == [(6,)]  # globs work
    manifest = publish.published_manifest(layout.out)
    assert manifest["build_id"] == second and manifest["as_of"] == "2026-11-01"
    assert manifest["marts"] == {"mart_probe": 3, "v_probe": 1}
    # Lists of every published date stay; a date published again gets its new lists.
    assert (layout.out / "lists" / "2026-10-31" / "calls.csv").read_text() == "value\n1\n"
    assert (layout.out / "lists" / "2026-11-01" / "calls.csv").read_text() == "value\n2\n"
    # The previous Parquet version stays for readers still on it; nothing is left in staging.
    assert {p.name for p in layout.versions_root.iterdir()} == {first, second}
    assert not layout.staging_root.exists()
    publish_fake(layout, 3)
    assert first not in {p.name for p in layout.versions_root.iterdir()}, "old versions are never pruned"
    assert (layout.out / "lists" / "2026-10-31" / "calls.csv").read_text() == "value\n3\n"
    assert sorted(p.name for p in (layout.out / "lists").iterdir()) == ["2026-10-31", "2026-11-01"]


def test_publish_requires_validation_and_export_of_this_very_build(layout):
    # Would fail if an unvalidated build, or one changed after validation, could reach the readers.
    publish_fake(layout, 1)
    before = sha256(layout.db)
    fake_build(layout, 2)
    with pytest.raises(publish.PublishError, match="validate_marts"):
        publish.publish(layout)
    publish.mark_checked(layout, "validated")
    with pytest.raises(publish.PublishError, match="export"):
        publish.publish(layout)
    publish.mark_checked(layout, "exported")
    with duckdb.connect(str(layout.build_db)) as con:  # someone writes the build file after the checks
        con.execute("insert into marts.mart_probe values (99, 99)")
    with pytest.raises(publish.PublishError, match="changed after"):
        publish.publish(layout)
    assert sha256(layout.db) == before


def test_a_build_starts_from_what_is_published_never_from_a_killed_build(layout):
    # Would fail if a half-built file from a killed run were carried into the next build.
    publish_fake(layout, 1)
    inode = layout.build_db.stat().st_ino
    publish.prepare_build(layout)
    assert layout.build_db.stat().st_ino == inode, "an unchanged build file should be reused, not copied"
    with duckdb.connect(str(layout.build_db)) as con:  # the build is "killed" after writing this
        con.execute("update marts.mart_probe set v = 666")
    publish.recover(layout)
    publish.prepare_build(layout)
    with duckdb.connect(str(layout.build_db), read_only=True) as con:
        assert con.execute("select distinct v from marts.mart_probe").fetchall() == [(1,)]


def test_recovery_after_a_kill_during_publish(layout):
    # Would fail if a publish killed between its steps left exports that disagree with the database, or
    # left temporary files behind for ever.
    publish_fake(layout, 1)
    build_id = fake_build(layout, 2)
    publish.mark_checked(layout, "validated")
    (layout.lists_staging_dir(build_id) / "2026-10-31").mkdir(parents=True)
    (layout.lists_staging_dir(build_id) / "2026-10-31" / "calls.csv").write_text("value\n2\n")
    publish.mark_checked(layout, "exported")

    # Killed after the temporary copy was made, before the swap: the old version stays published.
    stale = layout.db.parent / f"{layout.tmp_db_prefix()}{build_id}"
    stale.write_bytes(b"half a copy")
    state = publish.read_state(layout)
    publish.write_state(layout, dict(state, status="publishing", publishing={"tmp_inode": stale.stat().st_ino}))
    publish.recover(layout)
    assert not stale.exists()
    assert publish.read_state(layout)["status"] == "built"
    assert probe_values(look(layout.db)) == {"(0, 1)", "(1, 1)", "(2, 1)"}

    # Killed after the swap, before the exports were switched: recovery finishes the publish.
    real_publish_switch = publish._switch_exports
    publish._switch_exports = lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt("killed"))
    try:
        with pytest.raises(KeyboardInterrupt):
            publish.publish(layout)
    finally:
        publish._switch_exports = real_publish_switch
    assert publish.read_state(layout)["status"] == "publishing"
    assert publish.published_manifest(layout.out)["build_id"] != build_id
    publish.recover(layout)
    assert publish.read_state(layout)["status"] == "published"
    assert publish.published_manifest(layout.out)["build_id"] == build_id
    assert (layout.out / "lists" / "2026-10-31" / "calls.csv").read_text() == "value\n2\n"


def test_a_second_build_fails_at_once_with_a_clear_message(layout, tmp_path):
    # Would fail if two builds could write the same build file at once.
    raw = tmp_path / "raw"
    raw.mkdir()
    with publish.build_lock(layout):
        result = subprocess.run(
            [PYTHON, str(RUN_PIPELINE), "--steps", "build", "--raw-dir", str(raw), "--db", str(layout.db),
             "--out", str(layout.out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 3, result.stderr
    assert "another build of" in result.stderr and f"pid {os.getpid()}" in result.stderr


# ------------------------------------------------------------------------- the real pipeline (dbt)

TINY_CONTRACT_DATA = {
    "customers.csv": """\
        customer_id,customer_name,customer_type,region,account_manager,credit_limit,annual_income,total_debt,is_key_account,created_date
        C001,Alpha Ltd,business,Shanghai,Zhang Wei,50000,2000000,100000,true,2024-01-15
        C002,Wang Wei,individual,Beijing,Li Na,10000,120000,5000,false,2025-03-01
        C003,Gamma Ltd,business,Shenzhen,Li Na,20000,800000,0,false,2025-06-01
        """,
    "invoices.csv": """\
        invoice_id,customer_id,invoice_date,due_date,amount,currency,document_type,status
        I001,C001,2026-07-01,2026-07-31,1000.00,CNY,invoice,posted
        I002,C001,2026-08-01,2026-08-31,1500.00,CNY,invoice,posted
        I003,C002,2026-06-10,2026-07-10,300.00,USD,invoice,posted
        I004,C003,2026-09-01,2026-10-01,800.00,CNY,invoice,posted
        I005,C002,2026-09-15,2026-10-15,200.00,CNY,invoice,posted
        I006,C003,2026-10-20,2026-10-25,400.00,CNY,invoice,posted
        """,
    "payments.csv": """\
        payment_id,customer_id,invoice_id,payment_date,amount,currency,method
        P001,C001,I001,2026-07-25,1000.00,CNY,bank_transfer
        P002,C002,I003,2026-08-20,100.00,USD,card
        P003,C003,,2026-10-20,300.00,CNY,cash
        P004,C001,I002,2026-10-28,500.00,CNY,bank_transfer
        """,
    "fx_rates.csv": """\
        currency,rate_date,rate_to_base
        USD,2026-01-01,7.10
        USD,2026-09-01,7.20
        """,
    "collection_actions.csv": """\
        action_id,customer_id,action_date,channel,outcome,hardship_reason,promised_amount,promised_date
        A001,C002,2026-08-15,call,promise_to_pay,,200.00,2026-08-30
        A002,C002,2026-09-20,sms,no_answer,,,
        A003,C001,2026-10-05,email,reached,,,
        """,
}
# Every build step from the dbt build to the publish (the slow raw validation and the report add nothing here).
STEPS = ",".join(s for s in pipeline.STEPS if s not in {"validate_raw", "report"})
PIPELINE_ENV = {**os.environ, "ARREARS_TARGET": "duckdb", "DO_NOT_TRACK": "1"}


def pipeline_cmd(raw: Path, db: Path, out: Path, as_of: str) -> list[str]:
    return [PYTHON, str(RUN_PIPELINE), "--steps", STEPS, "--raw-dir", str(raw), "--db", str(db),
            "--out", str(out), "--as-of", as_of]


def run_pipeline(raw: Path, db: Path, out: Path, as_of: str) -> subprocess.CompletedProcess:
    result = subprocess.run(pipeline_cmd(raw, db, out, as_of), capture_output=True, text=True, timeout=1800,
                            env=PIPELINE_ENV)
    assert result.returncode == 0, f"pipeline failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def _descendants(pid: int) -> list[str]:
    import psutil

    try:
        return [" ".join(p.cmdline()) for p in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def kill_build_midway(raw: Path, db: Path, out: Path, as_of: str) -> None:
    """Start a build and SIGKILL its whole process group once dbt has begun writing the build file."""
    wal = publish.Layout(db=db, out=out).build_db.with_name(db.name + ".wal")
    proc = subprocess.Popen(pipeline_cmd(raw, db, out, as_of), start_new_session=True, env=PIPELINE_ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 600
    dbt_seen = False
    while time.monotonic() < deadline and proc.poll() is None:
        dbt_seen = dbt_seen or any("dbt" in c and " build " in c for c in _descendants(proc.pid))
        if dbt_seen and wal.exists():  # dbt is running and has written to the build file
            break
        time.sleep(0.02)
    assert proc.poll() is None, f"the build ended before it could be killed:\n{proc.stdout.read()[-3000:]}"
    assert dbt_seen, "dbt never started"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close()


@pytest.fixture
def raw_dir(tmp_path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, text in TINY_CONTRACT_DATA.items():
        (raw / name).write_text(textwrap.dedent(text))
    return raw


def test_real_pipeline_with_a_reader_open_and_a_build_killed_midway(raw_dir, tmp_path):
    """The real pipeline (dbt, validation, export, publish) while a BI-like reader holds the published file.

    Would fail if the build wrote the published file (the reader's lock would make dbt fail, or the reader
    would see the change), if a killed build changed or damaged the published marts, or if the next run
    tripped over (or trusted) what the killed one left behind. Two full builds and one killed build.
    """
    db, out = tmp_path / "published" / "arrears.duckdb", tmp_path / "out"
    layout = publish.Layout(db=db, out=out)
    run_pipeline(raw_dir, db, out, "2026-10-15")  # the version BI has open below

    reader = Reader(db)
    try:
        before, before_bytes = reader.first, sha256(db)
        assert before["as_of"] == "2026-10-15" and before["marts"], "the first publish has no marts"

        kill_build_midway(raw_dir, db, out, "2026-10-31")
        assert sha256(db) == before_bytes, "a killed build changed the published file"
        assert look(db) == before, "after a killed build a new reader does not see the published marts"
        assert reader.look_again() == before
        assert publish.read_state(layout)["status"] == "building"

        run_pipeline(raw_dir, db, out, "2026-10-31")  # recovers, builds, publishes: the reader is still open
        assert reader.look_again() == before, "the open reader saw the new build"
    finally:
        reader.close()

    after = look(db)
    assert after["as_of"] == "2026-10-31"
    assert publish.read_state(layout)["status"] == "published"
    manifest = publish.published_manifest(out)
    assert manifest["as_of"] == "2026-10-31"
    assert manifest["marts"] == {t: len(rows) for t, rows in after["marts"].items()}
    assert not [p.name for p in db.parent.iterdir() if p.name.startswith(layout.tmp_db_prefix())]
