"""Overdue types on data a company may not have, and optional fields left empty (issue 14).

- The type quality (macro-F1 against the generator's truth) holds with all data, without the contact log and
  without income and debt, on a generator seed the rules were not tuned on (targets of issue 14).
- A demo folder where 5% of customers have every optional field empty (customers, and their invoices,
  payments and contacts) runs the whole pipeline with exit 0, and no flag of any intermediate or mart model is null.
- derive_scenario() takes away exactly the data of its scenario, for CSV and Parquet folders.
"""
from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from arrears.demo import DemoConfig, generate
from arrears.evaluation import (
    TYPE_F1_TARGETS,
    WATCH_TARGETS,
    derive_scenario,
    evaluate,
    evaluate_watchlist,
)

from helpers import ROOT, log_measured, query, run_dbt

PYTHON = Path(sys.executable)
SEED = 11            # not the seed the rules were tuned on (42) nor the demo fixture's (7)
CUSTOMERS = 600
REQUIRED = {
    "customers": {"customer_id", "customer_name"},
    "invoices": {"invoice_id", "customer_id", "invoice_date", "due_date", "amount"},
    "payments": {"payment_id", "customer_id", "payment_date", "amount"},
    "collection_actions": {"action_id", "customer_id", "action_date", "channel", "outcome"},
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("types")
    result = generate(work / "raw", DemoConfig(customers=CUSTOMERS, seed=SEED), force=True)
    return result.out_dir, result.truth_path


def null_flags(db: Path, schemas: tuple[str, ...] = ("intermediate", "marts")) -> list[str]:
    """`table.column: n null` for every boolean column of `schemas` holding a null."""
    in_list = ", ".join(f"'{s}'" for s in schemas)
    columns = query(db, f"""
        select table_schema, table_name, column_name from information_schema.columns
        where table_schema in ({in_list}) and data_type = 'BOOLEAN' order by 1, 2, 3""")
    assert columns, "no boolean column found: the information_schema query is wrong"
    found = []
    for schema, table, column in columns:
        n = query(db, f'select count(*) from {schema}."{table}" where "{column}" is null')[0][0]
        if n:
            found.append(f"{schema}.{table}.{column}: {n} null")
    return found


@pytest.mark.parametrize("scenario", ["no_contact_log", "no_income_debt"])
def test_types_hold_without_optional_data(scenario: str, generated, tmp_path: Path) -> None:
    raw, truth = generated
    scenario_raw = derive_scenario(raw, scenario, tmp_path / f"raw_{scenario}")
    db = tmp_path / f"{scenario}.duckdb"
    run_dbt("build", db=db, raw_dir=scenario_raw, select="+mart_overdue_customers",
            exclude=["resource_type:test", "resource_type:unit_test"])
    ev = evaluate(db, truth)
    log_measured(f"{scenario}: macro-F1 {ev.macro_f1:.3f} "
                 + ", ".join(f"{t} F1 {m['f1']:.3f}" for t, m in ev.per_type.items()))
    assert ev.macro_f1 >= TYPE_F1_TARGETS[scenario], (scenario, ev.per_type, ev.confusion)
    assert ev.coverage == 1.0, ev.confusion


def test_types_and_watch_list_hold_with_all_data(generated, tmp_path: Path) -> None:
    # Would fail if the watch list went back to listing every customer with one weak signal (issue 14: 753 on
    # the list for 150 true pattern changes), or if it missed the weekly payers turned monthly and late.
    raw, truth = generated
    db = tmp_path / "all.duckdb"
    run_dbt("build", db=db, raw_dir=raw, select=["+mart_overdue_customers", "+mart_watchlist"],
            exclude=["resource_type:test", "resource_type:unit_test"])
    ev = evaluate(db, truth)
    assert ev.macro_f1 >= TYPE_F1_TARGETS["all_data"], (ev.per_type, ev.confusion)
    watch = evaluate_watchlist(db, truth)
    log_measured(f"watch list (seed {SEED}, {CUSTOMERS} customers): {watch.to_dict()}")
    for name, target in WATCH_TARGETS.items():
        assert getattr(watch, name) >= target, (name, watch.to_dict())
    # good payers who are late now and then (the generator's noise) stay off the list
    with open(truth, newline="", encoding="utf-8") as handle:
        good = {r["customer_id"] for r in csv.DictReader(handle) if r["true_type"] == "good"}
    listed = {r[0] for r in query(db, "select customer_id from marts.mart_watchlist")}
    assert len(good & listed) <= 0.02 * len(good), sorted(good & listed)


def _blank_optional(raw: Path, share: float, seed: int = 5) -> set[str]:
    """Empty every optional field of `share` of the customers and of their rows in every table; return their ids."""
    with open(raw / "customers.csv", newline="", encoding="utf-8") as handle:
        ids = [row["customer_id"] for row in csv.DictReader(handle)]
    chosen = set(random.Random(seed).sample(ids, max(1, int(len(ids) * share))))
    for table, required in REQUIRED.items():
        path = raw / f"{table}.csv"
        if not path.exists():
            continue
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header, rows = list(reader.fieldnames or []), list(reader)
        for row in rows:
            if row["customer_id"] in chosen:
                for column in header:
                    if column not in required:
                        row[column] = ""
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
    return chosen


def test_five_percent_with_every_optional_field_empty_runs_end_to_end(generated, tmp_path: Path) -> None:
    raw, _ = generated
    folder = tmp_path / "raw"
    derive_scenario(raw, "no_contact_log", folder)    # a copy; the contact log comes back below
    for f in raw.glob("collection_actions*"):
        (folder / f.name).write_bytes(f.read_bytes())
    blanked = _blank_optional(folder, 0.05)
    assert len(blanked) == CUSTOMERS // 20
    db, out = tmp_path / "arrears.duckdb", tmp_path / "out"
    cmd = [str(PYTHON), str(ROOT / "scripts" / "run_pipeline.py"), "--raw-dir", str(folder), "--db", str(db),
           "--out", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, DO_NOT_TRACK="1"),
                            timeout=1500)
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    assert not null_flags(db)
    # the blanked customers are all there, none set aside for the empty fields
    staged = {r[0] for r in query(db, "select customer_id from staging.stg_customers")}
    assert blanked <= staged
    with_type = query(db, "select count(*) from marts.dim_customers where customer_type is null")[0][0]
    assert with_type >= len(blanked)


def test_derive_scenario_csv_and_parquet(generated, tmp_path: Path) -> None:
    raw, _ = generated
    no_log = derive_scenario(raw, "no_contact_log", tmp_path / "no_log")
    assert not list(no_log.glob("collection_actions*")) and (no_log / "invoices.csv").exists()
    assert derive_scenario(raw, "all_data", tmp_path / "unused") == raw

    parquet = tmp_path / "pq"
    parquet.mkdir()
    with duckdb.connect() as con:
        for f in raw.glob("*.csv"):
            con.execute(f"copy (select * from read_csv('{f}')) to '{parquet / (f.stem + '.parquet')}' (format parquet)")
    for source in (raw, parquet):
        dest = derive_scenario(source, "no_income_debt", tmp_path / f"nofin_{source.name}")
        customers = next(dest.glob("customers.*"))
        reader = "read_csv" if customers.suffix == ".csv" else "read_parquet"
        n, income, debt, names = duckdb.sql(
            f"select count(*), count(annual_income), count(total_debt), count(customer_name) "
            f"from {reader}('{customers}')").fetchone()
        assert (n, income, debt, names) == (CUSTOMERS, 0, 0, CUSTOMERS), customers
    with pytest.raises(ValueError, match="unknown scenario"):
        derive_scenario(raw, "no_payments", tmp_path / "x")
