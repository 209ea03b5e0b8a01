"""Delivery in increments (contract v2): tables given as folders of loads.

If these fail, a delivery the contract allows (a table as a folder of daily loads, corrections as newer
versions, cancellations as `status = void`) would stop the run or be read wrongly: an old version winning
over its correction, a duplicate within one load hidden instead of set aside, a superseded row uncounted.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from arrears import loads
from arrears.compare_builds import compare_builds
from arrears.warehouse import is_run_record

from helpers import ROOT, query, run_dbt, write_contract_folder

HEADER = ["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "currency", "status", "updated_at"]


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _read(path: Path) -> list[dict]:
    with duckdb.connect() as con:
        cur = con.execute(f"select * exclude (load_generation) from read_parquet('{path}') "
                          "order by invoice_id nulls first, source_load, amount")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


@pytest.fixture()
def delivery(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    write_contract_folder(raw, {"customers": [{"customer_id": "C1", "customer_name": "A"}],
                                "payments": []})
    folder = raw / "invoices"
    _write_csv(folder / "2026-01-01.csv", HEADER, [
        ["I1", "C1", "2026-01-01", "2026-01-31", "100.00", "", "", ""],
        ["I2", "C1", "2026-01-01", "2026-01-31", "50.00", "", "", ""],
        ["I4", "C1", "2026-01-01", "2026-01-31", "10.00", "", "", "2026-01-05T09:00:00"],
    ])
    _write_csv(folder / "2026-01-02.csv", HEADER, [
        ["I1", "C1", "2026-01-01", "2026-01-31", "90.00", "", "", ""],          # a correction of I1
        ["I4", "C1", "2026-01-01", "2026-01-31", "11.00", "", "", "2026-01-01T09:00:00"],  # older updated_at
    ])
    _write_csv(folder / "2026-01-03.csv", HEADER, [
        [" I2 ", "C1", "2026-01-01", "2026-01-31", "50.00", "", "void", ""],   # I2 cancelled (key trimmed)
        ["I3", "C1", "2026-01-02", "2026-02-01", "5.00", "", "", ""],
        ["I3", "C1", "2026-01-02", "2026-02-01", "6.00", "", "", ""],           # a duplicate within one load
        ["", "C1", "2026-01-02", "2026-02-01", "7.00", "", "", ""],             # an empty key
    ])
    return raw


@pytest.mark.fast
def test_latest_version_wins_and_nothing_is_lost(delivery: Path, tmp_path: Path) -> None:
    report = loads.consolidate(delivery, tmp_path / "out")
    rows = _read(tmp_path / "out" / "invoices.parquet")
    by_key: dict = {}
    for row in rows:
        by_key.setdefault((row["invoice_id"] or "").strip(), []).append(row)
    assert [r["amount"] for r in by_key["I1"]] == ["90.00"], "the later load's correction wins"
    assert [r["status"] for r in by_key["I2"]] == ["void"], "the cancellation wins"
    assert [r["amount"] for r in by_key["I4"]] == ["10.00"], "the latest updated_at wins over the later file"
    assert sorted(r["amount"] for r in by_key["I3"]) == ["5.00", "6.00"], "both kept: staging sets them aside"
    assert [r["amount"] for r in by_key[""]] == ["7.00"], "an empty key is kept for staging to set aside"
    assert {r["source_load"] for r in by_key["I1"]} == {"2026-01-02.csv"}
    (table,) = report.tables
    assert (table.rows_read, table.rows_kept, table.superseded) == (9, 6, 3)
    assert table.superseded_by_load == {"2026-01-01.csv": 2, "2026-01-02.csv": 1}
    # a full extract of the same delivery is converted to Parquet, every value as delivered (text)
    with duckdb.connect() as con:
        delivered = con.execute(f"select * from read_csv('{delivery / 'customers.csv'}', header = true, "
                                "all_varchar = true)").fetchall()
        assert con.execute(f"select * from read_parquet('{tmp_path / 'out' / 'customers.parquet'}')").fetchall() \
            == delivered


@pytest.mark.fast
def test_ambiguous_deliveries_are_refused(delivery: Path, tmp_path: Path) -> None:
    (delivery / "invoices.csv").write_text("invoice_id\n")
    with pytest.raises(loads.LoadsError, match="both as invoices.csv and as the folder"):
        loads.consolidate(delivery, tmp_path / "out")
    (delivery / "invoices.csv").unlink()
    (delivery / "invoices" / "2026-01-04.parquet").write_bytes(b"")
    with pytest.raises(loads.LoadsError, match="mixes CSV and Parquet"):
        loads.consolidate(delivery, tmp_path / "out2")


def _split_into_loads(full: Path, loads_dir: Path) -> None:
    """The full extract as monthly loads of invoices and payments, with a wrong first version of a few
    invoices in an earlier load that a later load corrects: the final state equals the full extract."""
    loads_dir.mkdir(parents=True)
    for name in ("customers", "collection_actions", "fx_rates"):
        if (full / f"{name}.csv").exists():
            (loads_dir / f"{name}.csv").write_bytes((full / f"{name}.csv").read_bytes())
    with duckdb.connect() as con:
        for table, date_col in (("invoices", "invoice_date"), ("payments", "payment_date")):
            src = f"read_csv('{full / (table + '.csv')}', header = true, all_varchar = true)"
            (loads_dir / table).mkdir()
            months = [r[0] for r in con.execute(f"select distinct left({date_col}, 7) from {src} order by 1").fetchall()]
            for month in months:
                con.execute(f"copy (select * from {src} where left({date_col}, 7) = '{month}') "
                            f"to '{loads_dir / table / (month + '.csv')}' (format csv, header true)")
            if table == "invoices":
                # a wrong earlier version of five invoices, in the first load (corrected by their own load)
                con.execute(f"copy ((select * from {src} where left({date_col}, 7) = '{months[0]}') "
                            f"union all (select * replace (cast(cast(amount as decimal(38, 2)) + 1 as varchar) "
                            f"as amount) from {src} where left({date_col}, 7) > '{months[0]}' order by 1 limit 5)) "
                            f"to '{loads_dir / table / (months[0] + '.csv')}' (format csv, header true)")


def test_loads_give_the_warehouse_of_the_full_extract(tmp_path: Path) -> None:
    """Tables as monthly loads with corrections build exactly the warehouse of the equivalent full extract."""
    full = tmp_path / "full"
    subprocess.run([sys.executable, "-m", "arrears.demo", "--customers", "120", "--seed", "11", "--out", str(full),
                    "--truth", str(tmp_path / "truth.csv"), "--quiet"], check=True, cwd=ROOT)
    split = tmp_path / "loads"
    _split_into_loads(full, split)
    dbs = {}
    for name, raw in (("full", full), ("loads", split)):
        db = tmp_path / name / "arrears.duckdb"
        done = subprocess.run(
            [sys.executable, "-m", "arrears.pipeline", "--raw-dir", str(raw), "--db", str(db),
             "--out", str(tmp_path / name / "out"), "--as-of", "2026-10-31", "--run-date", "2026-11-01",
             "--steps", "validate_raw,check_delivery,build"],
            capture_output=True, text=True, cwd=ROOT, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        dbs[name] = db.parent / "arrears.duckdb.work" / "arrears.duckdb"  # built, not published (no publish step)
        if name == "loads":
            report = json.loads((tmp_path / name / "out" / "loads.json").read_text())
            superseded = {t["table"]: t["superseded"] for t in report["tables"]}
            assert superseded == {"invoices": 5, "payments": 0}, superseded
            assert "invoices: " in done.stdout and "5 superseded by later versions" in done.stdout
    # source_load names each row's load in the loads build (null for the full extract): the one expected difference
    # (and load_generation, the extract's generation)
    diff = compare_builds(dbs["full"], dbs["loads"], ["marts", "staging"],
                          ignore_columns=frozenset({"source_load", "load_generation"}))
    # stg_processed_loads lists the loads, which a full extract has none of: the other expected difference; and
    # the staging runs' records of the dbt invocation that built them (`__run`, `__invoices_run`,
    # macros/staging_delta.sql), which differ between any two builds (arrears.warehouse.is_run_record)
    different = [t for t in diff.tables if not t.identical and t.table != "stg_processed_loads"
                 and not is_run_record(t.table)]
    assert not different, different[:5]
    loads_listed = duckdb.connect(str(dbs["loads"]), read_only=True).execute(
        "select source_table, count(*) from staging.stg_processed_loads group by 1 order by 1").fetchall()
    assert [t for t, _ in loads_listed] == ["invoices", "payments"] and all(n > 1 for _, n in loads_listed), loads_listed
    unnamed = duckdb.connect(str(dbs["loads"]), read_only=True).execute(
        "select count(*) from staging.stg_invoices_checked where source_load is null").fetchone()[0]
    assert unnamed == 0, "every invoice of the loads build names its load"


@pytest.mark.fast
def test_pipeline_refuses_an_ambiguous_delivery_with_exit_2(delivery: Path, tmp_path: Path) -> None:
    """A table both as a file and as a folder of loads: the run stops before anything is built, and says why."""
    (delivery / "invoices.csv").write_text("invoice_id,customer_id,invoice_date,due_date,amount\n")
    done = subprocess.run([sys.executable, "-m", "arrears.pipeline", "--raw-dir", str(delivery),
                           "--db", str(tmp_path / "w.duckdb"), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "both as invoices.csv and as the folder invoices/" in done.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_a_row_set_aside_names_its_load(delivery: Path, tmp_path: Path) -> None:
    """A quarantined row of a delivery in loads says which load it came in (the contract asks for it)."""
    out = tmp_path / "consolidated"
    loads.consolidate(delivery, out)
    db = tmp_path / "q.duckdb"
    run_dbt("build", db=db, raw_dir=out, as_of="2026-01-31", select=["+stg_quarantine", "+stg_processed_loads"],
            exclude=["resource_type:test", "resource_type:unit_test"])
    rows = query(db, "select record_key, reason_code, source_load, raw_row from staging.stg_quarantine "
                     "where source_table = 'invoices' order by reason_code, record_key")
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("I3", "duplicate_key", "2026-01-03.csv"), ("I3", "duplicate_key", "2026-01-03.csv"),
        (None, "null_key", "2026-01-03.csv")], rows
    assert all(r[3].endswith("source_load=2026-01-03.csv") for r in rows), rows
    # the record of the loads processed, with the rows each left in staging and how many were set aside
    assert query(db, "select source_table, source_load, rows_in_staging, rows_set_aside from staging.stg_processed_loads "
                     "order by 1, 2") == [("invoices", "2026-01-01.csv", 1, 0), ("invoices", "2026-01-02.csv", 1, 0),
                                          ("invoices", "2026-01-03.csv", 4, 3)]
    # a full extract's raw row reads as before: no source_load field
    assert query(db, "select count(*) from staging.stg_customers_checked where source_load is not null")[0][0] == 0


@pytest.mark.fast
@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_an_empty_folder_of_loads_reads_as_an_empty_table(delivery: Path, tmp_path: Path, file_format: str) -> None:
    """A required table whose folder holds no load yet (the first day of a delivery) is an empty table, not a
    missing one: the extract is written with the contract's columns and no row (Parquet, whatever the
    delivery's format)."""
    (delivery / "payments.csv").unlink()
    (delivery / "payments").mkdir()
    if file_format == "parquet":  # the same delivery in Parquet: every file converted
        with duckdb.connect() as con:
            for path in list(delivery.rglob("*.csv")):
                con.execute(f"copy (select * from read_csv('{path}', header = true, all_varchar = true)) "
                            f"to '{path.with_suffix('.parquet')}' (format parquet)")
                path.unlink()
    out = tmp_path / "consolidated"
    report = loads.consolidate(delivery, out)
    assert {t.table: t.loads for t in report.tables}["payments"] == []
    written = out / "payments.parquet"
    with duckdb.connect() as con:
        reader = f"read_parquet('{written}')"
        columns = [r[0] for r in con.execute(f"describe select * from {reader}").fetchall()]
        assert con.execute(f"select count(*) from {reader}").fetchone()[0] == 0
    assert columns[:4] == ["payment_id", "customer_id", "payment_date", "amount"], columns


def _extract(path: Path) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(f"select * exclude (load_generation) from read_parquet('{path}') order by all").fetchall()


def _generation(path: Path) -> set[str]:
    with duckdb.connect() as con:
        return {r[0] for r in con.execute(f"select distinct load_generation from read_parquet('{path}')").fetchall()}


def _daily_invoices(raw: Path, days: int, start: int = 1) -> None:
    """Loads 2026-01-<day>.csv with two new invoices each (I<2 day - 1>, I<2 day>)."""
    for day in range(start, start + days):
        _write_csv(raw / "invoices" / f"2026-01-{day:02d}.csv", HEADER, [
            [f"I{2 * day - 1}", "C1", f"2026-01-{day:02d}", "2026-02-28", f"{day}.00", "", "", ""],
            [f"I{2 * day}", "C1", f"2026-01-{day:02d}", "2026-02-28", f"{day}.50", "", "", ""]])


def _parts(out: Path, table: str = "invoices") -> dict[str, int]:
    """The extract's part files and their modification times."""
    return {p.name: p.stat().st_mtime_ns for p in (out / f"{table}.parquet").iterdir()}


@pytest.fixture()
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loads, "PART_ROWS", 2)


@pytest.mark.fast
def test_a_daily_merge_writes_the_parts_its_keys_are_in_not_the_table(tmp_path: Path, small_parts: None) -> None:
    """The extract is a folder of parts in load order (PART_ROWS rows each): a run writes the parts holding a key
    that arrives again (without it) and the winning versions, and leaves every other part as it was. Would fail
    if a run rewrote the table (every part new), or kept the superseded version in its old part."""
    raw = tmp_path / "raw"
    write_contract_folder(raw, {"customers": [{"customer_id": "C1", "customer_name": "A"}]})
    _daily_invoices(raw, 6)
    out = tmp_path / "out"
    loads.consolidate(raw, out)
    before = _parts(out)
    assert len(before) == 6  # two rows a load, two rows a part: one part per load, in load order
    _write_csv(raw / "invoices" / "2026-01-07.csv", HEADER, [
        ["I3", "C1", "2026-01-02", "2026-02-28", "99.00", "", "", ""],    # corrects a row of the second part
        ["I13", "C1", "2026-01-07", "2026-02-28", "7.00", "", "", ""]])
    report = {t.table: t for t in loads.consolidate(raw, out).tables}["invoices"]
    assert not report.rebuilt and report.rows_kept == 13
    after = _parts(out)
    kept = {name for name in before if after.get(name) == before[name]}
    assert len(kept) == 5 and len(after) == 7, (before, after)  # the second part replaced, one new part
    loads.consolidate(raw, tmp_path / "scratch")
    assert _extract(out / "invoices.parquet") == _extract(tmp_path / "scratch" / "invoices.parquet")
    amounts = {r["invoice_id"]: r["amount"] for r in _read(out / "invoices.parquet")}
    assert amounts["I3"] == "99.00" and len(amounts) == 13


@pytest.mark.fast
@pytest.mark.parametrize("crash", ["before_journal", "after_journal"])
def test_an_interrupted_merge_leaves_the_extract_whole(tmp_path: Path, small_parts: None,
                                                       monkeypatch: pytest.MonkeyPatch, crash: str) -> None:
    """A run stopped while writing (the parts written aside, no journal yet) leaves the extract as it was, and the
    next run reads the load again; one stopped after its journal (parts half moved in) is completed by the next
    run before anything else. Either way the extract then equals a rebuild. Would fail if a half-written merge
    were read (a key twice, or lost) or if the next run skipped the load it had recorded nowhere."""
    raw = tmp_path / "raw"
    write_contract_folder(raw, {"customers": [{"customer_id": "C1", "customer_name": "A"}]})
    _daily_invoices(raw, 3)
    out = tmp_path / "out"
    loads.consolidate(raw, out)
    before = _extract(out / "invoices.parquet")
    _write_csv(raw / "invoices" / "2026-01-04.csv", HEADER, [
        ["I1", "C1", "2026-01-01", "2026-02-28", "77.00", "", "", ""], ["I9", "C1", "2026-01-04", "2026-02-28",
                                                                       "4.00", "", "", ""]])
    def stop(target: Path) -> None:
        if crash == "after_journal":  # the first part moved in, then the process dies
            journal = json.loads(loads._journal_path(target).read_text())
            pending = loads._pending_dir(target)
            name = journal["add"][0]
            (pending / name).replace(target / name)
        raise KeyboardInterrupt

    if crash == "before_journal":
        monkeypatch.setattr(loads, "write_json", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    else:
        monkeypatch.setattr(loads, "_complete_commit", stop)
    with pytest.raises(KeyboardInterrupt):
        loads.consolidate(raw, out)
    monkeypatch.undo()  # the process that runs next is a plain one, with the same part size
    monkeypatch.setattr(loads, "PART_ROWS", 2)
    if crash == "before_journal":
        assert _extract(out / "invoices.parquet") == before
        assert loads._pending_dir(out / "invoices.parquet").exists()
    report = {t.table: t for t in loads.consolidate(raw, out).tables}["invoices"]
    assert not report.rebuilt
    assert report.loads_read == (["2026-01-04.csv"] if crash == "before_journal" else [])
    assert not loads._journal_path(out / "invoices.parquet").exists()
    assert not loads._pending_dir(out / "invoices.parquet").exists()
    loads.consolidate(raw, tmp_path / "scratch")
    assert _extract(out / "invoices.parquet") == _extract(tmp_path / "scratch" / "invoices.parquet")


@pytest.mark.fast
def test_a_load_with_a_new_column_rebuilds_the_parts(tmp_path: Path, small_parts: None) -> None:
    """Parts are read as one table only when they agree on their columns: a load bringing a column the parts
    lack (here updated_at, absent from the first loads) rebuilds the table under a new generation, and every row
    reads with the column. Would fail if the new column were written into one part only (the folder would not
    read as one table, or the column would be lost)."""
    raw = tmp_path / "raw"
    write_contract_folder(raw, {"customers": [{"customer_id": "C1", "customer_name": "A"}]})
    for day in (1, 2):
        _write_csv(raw / "invoices" / f"2026-01-0{day}.csv", HEADER[:-1],
                   [[f"I{day}", "C1", f"2026-01-0{day}", "2026-02-28", "1.00", "", ""]])
    out = tmp_path / "out"
    first = {t.table: t for t in loads.consolidate(raw, out).tables}["invoices"]
    _write_csv(raw / "invoices" / "2026-01-03.csv", HEADER,
               [["I1", "C1", "2026-01-01", "2026-02-28", "2.00", "", "", "2026-01-03T10:00:00"]])
    second = {t.table: t for t in loads.consolidate(raw, out).tables}["invoices"]
    assert second.rebuilt and second.generation != first.generation
    rows = {r["invoice_id"]: (r["amount"], r["updated_at"]) for r in _read(out / "invoices.parquet")}
    assert rows == {"I1": ("2.00", "2026-01-03T10:00:00"), "I2": ("1.00", None)}


@pytest.mark.fast
def test_a_run_reads_only_the_new_loads_and_ends_where_a_rebuild_does(delivery: Path, tmp_path: Path) -> None:
    """The extract remembers the loads it holds (in its record beside the folder of parts): the next run reads only the
    loads that arrived since, and its extract and counts equal those of a rebuild from every load. A load
    already processed that changes (re-sent with other rows) rebuilds the table under a new generation,
    which tells incremental staging to restate the whole table."""
    folder = delivery / "invoices"
    later = {p.name: p.read_bytes() for p in sorted(folder.iterdir())[1:]}
    for name in later:
        (folder / name).unlink()
    out = tmp_path / "out"
    first = {t.table: t for t in loads.consolidate(delivery, out).tables}["invoices"]
    assert first.rebuilt and first.loads_read == ["2026-01-01.csv"]
    generation = _generation(out / "invoices.parquet")
    assert generation == {first.generation}
    for name, content in later.items():
        (folder / name).write_bytes(content)
    second = {t.table: t for t in loads.consolidate(delivery, out).tables}["invoices"]
    assert not second.rebuilt and second.loads_read == ["2026-01-02.csv", "2026-01-03.csv"]
    assert _generation(out / "invoices.parquet") == generation, "the same generation: staging stays incremental"
    rebuilt = {t.table: t for t in loads.consolidate(delivery, tmp_path / "scratch").tables}["invoices"]
    assert _extract(out / "invoices.parquet") == _extract(tmp_path / "scratch" / "invoices.parquet")
    assert (second.rows_read, second.rows_kept, second.superseded_by_load) == \
        (rebuilt.rows_read, rebuilt.rows_kept, rebuilt.superseded_by_load) == (9, 6, {"2026-01-01.csv": 2,
                                                                                     "2026-01-02.csv": 1})
    idle = {t.table: t for t in loads.consolidate(delivery, out).tables}["invoices"]
    assert not idle.rebuilt and idle.loads_read == [] and idle.rows_kept == 6
    # the first load re-sent with another amount: everything is read again, under a new generation
    first_load = folder / "2026-01-01.csv"
    first_load.write_text(first_load.read_text().replace("50.00", "55.00"))
    changed = {t.table: t for t in loads.consolidate(delivery, out).tables}["invoices"]
    assert changed.rebuilt and len(changed.loads_read) == 3
    assert _generation(out / "invoices.parquet") == {changed.generation} != generation
    amounts = {r["invoice_id"]: r["amount"] for r in _read(out / "invoices.parquet") if r["invoice_id"]}
    assert amounts["I4"] == "10.00" and amounts["I1"] == "90.00"
    # a table that stops being delivered is no longer in the extract folder
    (delivery / "payments.csv").unlink()
    loads.consolidate(delivery, out)
    assert not (out / "payments.parquet").exists()


@pytest.mark.fast
def test_the_extract_keys_a_row_as_staging_does() -> None:
    """arrears.loads trims keys of the same blanks as staging's clean_text (macros/text.sql): otherwise two
    spellings staging reads as one key could be two keys in the extract, and incremental staging, which selects
    the rows of a key by the extract's `source_key`, could miss one of them."""
    import re
    macro = (ROOT / "macros" / "text.sql").read_text()
    body = macro[macro.index("{% macro default__blank_chars() -%}"):]
    body = body[:body.index("{%- endmacro %}")]
    chars = {" "} | {chr(int(code)) for code in re.findall(r"chr\((\d+)\)", body)}
    assert chars == set(loads.KEY_BLANKS)
    with duckdb.connect() as con:
        spelled = con.execute(f"select nullif(trim(k, {loads.literal(loads.KEY_BLANKS)}), '') from (values "
                              "('I1'), (' I1' || chr(160)), (chr(12288) || 'I1' || chr(9)), (chr(13) || chr(10))) as t(k)"
                              ).fetchall()
    assert [r[0] for r in spelled] == ["I1", "I1", "I1", None]


class _SpillWatch:
    """A connection that records, after every statement, the bytes DuckDB holds in temporary (spill) files."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.spilled = con, 0

    def execute(self, sql: str) -> _Rows:
        result = self.con.execute(sql)
        rows = _Rows(result.fetchall() if result.description else [])
        spilled = self.con.execute("select coalesce(sum(size), 0) from duckdb_temporary_files()").fetchone()[0]
        self.spilled = max(self.spilled, spilled)
        return rows

    def close(self) -> None:
        self.con.close()


class _Rows:
    def __init__(self, rows: list[tuple]) -> None:
        self.rows = rows

    def fetchall(self) -> list[tuple]:
        return self.rows

    def fetchone(self) -> tuple | None:
        return self.rows[0] if self.rows else None


def test_a_long_history_of_loads_is_merged_within_the_memory_limit(tmp_path: Path, monkeypatch) -> None:
    """The merge runs under the dbt profile's memory limit (ARREARS_DUCKDB_MEMORY_LIMIT) and spills beyond it
    into a private folder it removes: unbounded, a rebuild from 759 loads at 1,000,000 customers held 17.7 GiB.
    Here 900,000 rows of loads under a 128 MB limit must spill, and give the extract an unbounded merge gives."""
    raw = tmp_path / "raw"
    (raw / "invoices").mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(f"copy (select 'C1' as customer_id, 'A' as customer_name) to '{raw / 'customers.parquet'}' "
                    "(format parquet)")
        for day in (1, 2, 3):
            con.execute(f"""
                copy (select 'I' || (i % 200000) as invoice_id, 'C' || (i % 1000) as customer_id,
                             '2026-01-01' as invoice_date, '2026-01-31' as due_date,
                             cast(i + {day} as varchar) || '.00' as amount, 'CNY' as currency,
                             case when i % 11 = 0 then 'void' else '' end as status,
                             case when i % 7 = 0 then '2026-01-0' || (1 + i % 3) || 'T09:00:00' end as updated_at,
                             repeat('x', 60) as note
                      from range(300000) as t(i))
                to '{raw / "invoices" / f"2026-01-0{day}.parquet"}' (format parquet)""")
    unbounded = loads.consolidate(raw, tmp_path / "unbounded")
    watched: list[_SpillWatch] = []
    connect = loads._connect

    def watching(spill_root: Path | None) -> tuple[_SpillWatch, str]:
        con, spill = connect(spill_root)
        watched.append(_SpillWatch(con))
        return watched[-1], spill

    monkeypatch.setattr(loads, "_connect", watching)
    monkeypatch.setenv("ARREARS_DUCKDB_MEMORY_LIMIT", "128MB")
    spill_root = tmp_path / "spill"
    bounded = loads.consolidate(raw, tmp_path / "bounded", spill_root=spill_root)
    assert watched[0].spilled > 0, "under 128 MB the merge of 900,000 rows should have spilled to disk"
    assert list(spill_root.iterdir()) == [], "the private spill folder is removed"

    def counts(report: loads.LoadsReport) -> list[tuple]:
        return [(t.table, t.rows_read, t.rows_kept, t.superseded_by_load) for t in report.tables]

    assert counts(bounded) == counts(unbounded) and counts(bounded)[0][2] > 200_000
    assert _extract(tmp_path / "bounded" / "invoices.parquet") == _extract(tmp_path / "unbounded" / "invoices.parquet")
