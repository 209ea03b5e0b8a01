"""Daily loads processed one day at a time give exactly the warehouse one build from scratch gives.

The delivery is the demo's two years as daily loads (`arrears.daily_loads`): every invoice, payment and
collection action in the load of its own date, plus corrections (an invoice re-delivered up to 60 days later
with a new amount) and voids (a payment re-delivered up to 30 days later with `status = void`). The warehouse
is built from scratch up to the day before the window, then each of the last `ARREARS_DAILY_LOAD_DAYS` (30)
days' loads is added and processed by an incremental run, as the daily schedule does. The result must equal,
table for table and row for row, one build from scratch on every load at the last day (the contract's rule).

If this fails, a daily run drifts from the truth: typically a correction or void of an old document that the
incremental history does not restate (it did not before the fingerprints of int_customer_fingerprints: the
history kept the old amounts of corrected invoices and counted voided payments as paid).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from arrears import daily_loads, loads
from arrears.compare_builds import compare_builds
from arrears.contract import TABLES
from arrears.demo import DemoConfig, generate

from helpers import query, run_dbt

WINDOW_DAYS = int(os.environ.get("ARREARS_DAILY_LOAD_DAYS", "30"))
# the window ends this many load days before the last one (the demo's last day is a month end): mid-month, so
# that the month-end models' last runs restate only the customers whose documents dated up to the latest month
# end changed, not everyone; the window still crosses a month end
WINDOW_END_BEFORE_LAST = 6
# a log of the runs themselves (what each run judged on its day), not a function of the data: a build from
# scratch cannot know what earlier runs said (docs/decisions.md); the monthly mart reads its type counts from it
RUN_LOG_TABLES = {"fct_overdue_type_snapshots", "fct_strategy_assignments",
                  # read the assignment log: what was issued on each earlier run
                  "int_strategy_assignment_spells", "int_strategy_outcomes", "mart_strategy_effectiveness",
                  "mart_strategy_tests"}
# the extract's generation is a random id per consolidation folder (arrears/loads.py), not a function of the data
RUN_LOG_COLUMNS = frozenset({"temporary_customers", "chronic_customers", "stubborn_customers", "load_generation"})
STAGED_INCREMENTALLY = ("invoices", "payments", "collection_actions")


def _run_state(table: str) -> bool:
    """Tables that only an incremental run writes: what incremental staging restated (macros/staging_delta.sql)
    and which customers the per-customer models recomputed and the rows they wrote (macros/restated.sql), with
    the history's candidates and new dates (macros/history_restated.sql), and the dbt invocations the history,
    the monitoring and the month-end models were built by (`__run`, `__history_run`, `__upstream_run`)."""
    return table.endswith(("__delta", "__restated", "__written", "__candidates", "__candidate_states", "__new_dates",
                           "__run", "__history_run", "__upstream_run", "__invoices_run"))
MODELS_AND_SEEDS = ["build", "--exclude", "resource_type:test", "resource_type:unit_test"]


def _process(delivery: Path, work: Path, db: Path, day: dt.date, command: str | list[str]) -> None:
    """What the daily schedule does with a delivery of loads: consolidate, then dbt, for the day after `day`."""
    consolidated = work / "consolidated"
    loads.consolidate(delivery, consolidated)
    run_dbt(command, db=db, raw_dir=consolidated, run_date=day + dt.timedelta(days=1))


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("daily_loads")
    generate(work / "full", DemoConfig(customers=150, seed=11))
    everything = work / "loads"
    daily_loads.split(work / "full", everything, seed=5, correction_permille=150, void_permille=80,
                      fx_correction_permille=100)
    days = daily_loads.load_days(everything)
    window = days[-WINDOW_DAYS - WINDOW_END_BEFORE_LAST:-WINDOW_END_BEFORE_LAST]
    delivery, db = work / "delivery", work / "daily.duckdb"
    before = days[days.index(window[0]) - 1]
    daily_loads.copy_until(everything, delivery, before)
    _process(delivery, work, db, before, "build")
    for day in window:
        added = daily_loads.copy_until(everything, delivery, day)
        assert added > 0
        # models only on the days between (the data tests run on the first and the last day)
        _process(delivery, work, db, day, "build" if day == window[-1] else "run")
    # the build from scratch gets the delivery as it stood on the last day, not the later loads' corrections
    scratch, scratch_delivery = work / "scratch.duckdb", work / "scratch_delivery"
    daily_loads.copy_until(everything, scratch_delivery, window[-1])
    _process(scratch_delivery, work / "scratch", scratch, window[-1], "build")
    return {"work": work, "everything": everything, "window": window, "daily": db, "scratch": scratch}


def test_the_window_holds_corrections_and_voids_of_older_documents(daily: dict) -> None:
    """The check below is not vacuous: the window's loads re-deliver documents dated before the window, and,
    after the window's month end passed, documents dated up to it (what the month-end models' last runs must
    restate without restating everyone), and the window ends mid-month."""
    window = daily["window"]
    first, last = window[0].isoformat(), window[-1].isoformat()
    month_end = (window[-1].replace(day=1) - dt.timedelta(days=1)).isoformat()
    assert window[0].isoformat() <= month_end and (window[-1] + dt.timedelta(days=1)).day != 1
    folder = daily["everything"]
    in_window = "regexp_extract(filename, '([0-9-]+)\\.csv$', 1)"
    with duckdb.connect() as con:
        def count(table: str, where: str) -> int:
            return con.execute(f"""
                select count(*) from read_csv('{folder}/{table}/*.csv', header = true, all_varchar = true, filename = true)
                where {in_window} >= '{first}' and {in_window} <= '{last}' and {where}""").fetchone()[0]
        corrections = count("invoices", f"invoice_date < '{first}'")
        voids = count("payments", "status = 'void'")
        rates = count("fx_rates", f"rate_date < '{first}'")
        after_month_end = (count("invoices", f"{in_window} > '{month_end}' and invoice_date <= '{month_end}'")
                           + count("payments", f"{in_window} > '{month_end}' and payment_date <= '{month_end}'"))
    assert corrections >= 5 and voids >= 3 and rates >= 2 and after_month_end >= 3, \
        (corrections, voids, rates, after_month_end)


def test_loads_one_day_at_a_time_equal_one_build_from_scratch(daily: dict) -> None:
    diff = compare_builds(daily["scratch"], daily["daily"], ["marts", "intermediate", "staging"],
                          ignore_columns=RUN_LOG_COLUMNS)
    tables = {t.table for t in diff.tables}
    assert {"fct_customer_aging_history", "mart_overdue_customers", "fct_invoices", "stg_quarantine"} <= tables
    different = [t for t in diff.tables
                 if not t.identical and t.table not in RUN_LOG_TABLES and not _run_state(t.table)]
    assert not different, json.dumps([vars(t) for t in different], indent=1, default=str)
    # the run log itself holds one row set per run: the first build and every day of the window
    for log in ("fct_overdue_type_snapshots", "fct_strategy_assignments"):
        logged = query(daily["daily"], f"select count(distinct as_of_date) from marts.{log}")[0][0]
        assert logged == len(daily["window"]) + 1, log
    # a customer listed on consecutive days under the same strategy is one assignment, not one per day
    days_listed, assignments = query(daily["daily"], """
        select (select count(*) from marts.fct_strategy_assignments),
               (select count(*) from intermediate.int_strategy_outcomes)""")[0]
    assert 0 < assignments < days_listed / 2


def test_daily_runs_took_the_incremental_branch(daily: dict) -> None:
    """The equality above is about incremental runs: the last run compiled the restating branch of each
    per-customer model, and each stored the fingerprints and as-of date it was built from; staging checked
    only the rows of the day's load."""
    compiled = daily["work"] / "daily_dbt" / "target" / "compiled" / "arrears" / "models"
    customers = query(daily["daily"], "select count(*) from intermediate.int_customer_fingerprints")[0][0]
    def latest_month_end(day: dt.date) -> dt.date:
        return day if (day + dt.timedelta(days=1)).day == 1 else day.replace(day=1) - dt.timedelta(days=1)

    month_end_passed = latest_month_end(daily["window"][-1]) != latest_month_end(daily["window"][-2])
    for path in ("marts/overdue/fct_customer_aging_history.sql", "intermediate/int_payment_allocation.sql",
                 "intermediate/int_linked_payments.sql", "intermediate/int_invoice_settlement.sql",
                 "marts/risk/intermediate/int_customer_monthly.sql", "marts/risk/mart_risk_features.sql"):
        model = Path(path).stem
        assert f"{model}__restated" in (compiled / path).read_text(), path
        # what the pre-hooks found to recompute: the day's customers and those whose documents or rates
        # changed (a few, daily FX loads included); in a month-end model everyone when a month end passed, else
        # only those whose documents up to the latest month end changed (none, some days)
        restated = query(daily["daily"], f"select count(*) from intermediate.{model}__restated")[0][0]
        if "risk" in path and month_end_passed:
            assert restated == customers, (model, restated, customers)
        elif "risk" in path:
            assert restated < customers / 2, (model, restated, customers)
        else:
            assert 0 < restated < customers / 2, (model, restated, customers)
    # the models downstream read their restated customers' rows of their parent from the copy of the rows the
    # parent wrote in this run (macros/restated.sql, rows_of_customers)
    for path, parent in (("intermediate/int_payment_allocation.sql", "int_linked_payments"),
                         ("intermediate/int_invoice_settlement.sql", "int_payment_allocation"),
                         ("marts/risk/mart_risk_features.sql", "int_customer_monthly")):
        assert f"{parent}__written" in (compiled / path).read_text(), path
    # the monitoring built on the history's record of the same run: new check pairs, restated customers
    assert "fct_customer_aging_history__restated" in (compiled / "marts/overdue/fct_overdue_monitoring.sql").read_text()
    # staging read only the day's new loads: the last run restated the keys of one load per table (plus rows
    # whose references changed), a small share of the table, and recorded that load
    last_load = f"{daily['window'][-1].isoformat()}.csv"
    for table in STAGED_INCREMENTALLY:
        model = f"stg_{table}_checked"
        assert "__delta" in (compiled / "staging" / f"{model}.sql").read_text(), model
        restated, loads_new, stored = query(daily["daily"], f"""
            select count(restated_key), string_agg(new_load, ','),
                   (select count(*) from staging.{model}) from staging.{model}__delta""")[0]
        delivered = (daily["everything"] / table / last_load).exists()
        assert loads_new == (last_load if delivered else None), (model, loads_new)
        assert restated < stored / 10 and (restated > 0 or not delivered), (model, restated, stored)
    current = query(daily["daily"], "select count(*) from intermediate.int_customer_fingerprints")[0][0]
    for model in ("fct_customer_aging_history", "int_payment_allocation", "int_linked_payments",
                  "int_invoice_settlement", "int_customer_monthly", "mart_risk_features"):
        stored = query(daily["daily"], f"select count(*), min(built_as_of), max(built_as_of) "
                                       f"from intermediate.{model}__fingerprints")[0]
        assert stored == (current, daily["window"][-1], daily["window"][-1]), (model, stored)


def test_a_daily_runs_staging_tests_read_the_rows_it_restated(daily: dict, tmp_path: Path) -> None:
    """After a daily run whose staging restated only what changed, the generic tests of a staged table read the
    rows that run wrote, from the copy it kept (`<checked model>__written`, strategy staged_append in
    macros/staging_delta.sql; macros/tests/scoped_tests.sql, staged_scope): the copy is exactly the rows of the
    keys in `__delta` and of the new loads; a key the run restated that is in the table twice fails the key's
    test; a key it kept is not looked at again unless `full_tests` is set; without the copy (a run by a version
    that kept none) the rows of the `__delta` keys are selected from the table; without the record (a run that
    restated the whole table) every row is tested. Would fail if the daily tests read the whole table, or
    skipped the rows the run wrote, or if the copy missed or added rows."""
    source, raw = daily["daily"], daily["work"] / "consolidated"
    run_date = daily["window"][-1] + dt.timedelta(days=1)
    for table in STAGED_INCREMENTALLY:
        model, (key,) = f"staging.stg_{table}_checked", TABLES[table].key
        copy = query(source, f"select * from {model}__written order by all")
        assert copy == query(source, f"""
            select * from {model}
            where {key} in (select restated_key from {model}__delta)
               or source_load in (select new_load from {model}__delta) order by all"""), table
        assert copy or table == "collection_actions", table
    restated = {r[0] for r in query(source, "select restated_key from staging.stg_invoices_checked__delta "
                                            "where restated_key is not null")}
    valid = {r[0] for r in query(source, "select invoice_id from staging.stg_invoices")}
    assert restated & valid and valid - restated

    def twice(key: str, name: str, written: bool = False) -> Path:
        """A copy of the warehouse with the staged row of `key` twice (as a faulty staging would write it): in the
        table, and also in the rows the run wrote when `written`."""
        copy = tmp_path / name / source.name
        copy.parent.mkdir()
        shutil.copyfile(source, copy)
        with duckdb.connect(str(copy)) as con:
            con.execute("create temp table row_twice as select * from staging.stg_invoices_checked "
                        f"where invoice_id = '{key}'")
            con.execute("insert into staging.stg_invoices_checked select * from row_twice")
            if written:
                con.execute("insert into staging.stg_invoices_checked__written select * from row_twice")
        return copy

    def key_test(db: Path, **extra_vars: object) -> tuple[int, str]:
        """The return code of the key's test, and which record of the last run its statement read."""
        result = run_dbt("test", db=db, raw_dir=raw, run_date=run_date, extra_vars=extra_vars, check=False,
                         select="test_name:unique,stg_invoices")
        compiled = next((db.parent / f"{db.stem}_dbt" / "target" / "compiled").rglob("unique_stg_invoices_invoice_id.sql"))
        read = [record for record in ("__written", "__delta") if f"stg_invoices_checked{record}" in compiled.read_text()]
        return result.returncode, ",".join(read)

    kept = twice(sorted(valid - restated)[0], "kept")
    assert key_test(kept) == (0, "__written"), "a key the run did not restate is not tested again"
    assert key_test(kept, full_tests=True) == (1, ""), "full_tests checks every row"
    assert key_test(twice(sorted(restated & valid)[0], "restated", written=True)) == (1, "__written"), \
        "a key the run restated is tested"
    without_copy = twice(sorted(restated & valid)[0], "without_copy")
    with duckdb.connect(str(without_copy)) as con:
        con.execute("drop table staging.stg_invoices_checked__written")
    assert key_test(without_copy) == (1, "__delta"), "without the copy, the keys of the record are read"
    # a run that restates the whole table (here a full refresh) drops the record and keeps no copy: every row is
    # tested after it
    run_dbt(["run", "--full-refresh"], db=kept, raw_dir=raw, run_date=run_date, select="stg_invoices_checked")
    assert query(kept, "select count(*) from information_schema.tables "
                       "where table_name in ('stg_invoices_checked__delta', 'stg_invoices_checked__written')")[0][0] == 0
    with duckdb.connect(str(kept)) as con:
        con.execute("insert into staging.stg_invoices_checked select * from staging.stg_invoices_checked "
                    f"where invoice_id = '{sorted(valid - restated)[0]}'")
    assert key_test(kept) == (1, ""), "without the record every row is tested"


def test_a_daily_runs_linking_test_reads_the_customers_it_restated(daily: dict, tmp_path: Path) -> None:
    """After a daily run whose int_linked_payments restated some customers, the test that every valid payment
    reached int_linked_payments (tests/dbt/assert_payments_reach_the_linking.sql) reads those customers' payments
    and the rows the run wrote (restated_test_scope): a payment of a restated customer dropped from what the run
    wrote fails it; one of a customer the run kept is not looked at again unless `full_tests` is set; without
    the record (a full refresh) every payment is checked. Would fail if the daily test read everything, or
    skipped what the run wrote."""
    import duckdb

    source, raw = daily["daily"], daily["work"] / "consolidated"
    run_date = daily["window"][-1] + dt.timedelta(days=1)
    test = "assert_payments_reach_the_linking"
    restated = {r[0] for r in query(source, "select customer_id from intermediate.int_linked_payments__restated")}
    linked = dict(query(source, "select payment_id, customer_id from intermediate.int_linked_payments"))
    assert {c for c in linked.values() if c in restated} and {c for c in linked.values() if c not in restated}

    def without(payment_id: str, name: str, *tables: str) -> Path:
        """A copy of the warehouse whose linking lost `payment_id` (from `tables` of the intermediate schema)."""
        copy = tmp_path / name / source.name
        copy.parent.mkdir()
        shutil.copyfile(source, copy)
        with duckdb.connect(str(copy)) as con:
            for table in tables:
                con.execute(f"delete from intermediate.{table} where payment_id = '{payment_id}'")
        return copy

    def linking_test(db: Path, **extra_vars: object) -> int:
        result = run_dbt("test", db=db, raw_dir=raw, run_date=run_date, extra_vars=extra_vars, check=False,
                         select=test)
        compiled = next((db.parent / f"{db.stem}_dbt" / "target" / "compiled").rglob(f"{test}.sql")).read_text()
        assert ("int_linked_payments__written" in compiled) == (
            not extra_vars and query(db, "select count(*) from information_schema.tables "
                                         "where table_name = 'int_linked_payments__written'")[0][0] == 1)
        return result.returncode

    kept_payment = sorted(p for p, c in linked.items() if c not in restated)[0]
    restated_payment = sorted(p for p, c in linked.items() if c in restated)[0]
    assert linking_test(source) == 0
    kept = without(kept_payment, "kept", "int_linked_payments")
    assert linking_test(kept) == 0, "a customer the run did not restate is not checked again"
    assert linking_test(kept, full_tests=True) != 0, "full_tests checks every payment"
    assert linking_test(without(restated_payment, "restated", "int_linked_payments",
                                "int_linked_payments__written")) != 0, "a restated customer's payments are checked"
    # a full refresh of the linking writes no record: every payment is checked after it
    run_dbt(["run", "--full-refresh"], db=kept, raw_dir=raw, run_date=run_date, select="int_linked_payments")
    with duckdb.connect(str(kept)) as con:
        con.execute(f"delete from intermediate.int_linked_payments where payment_id = '{kept_payment}'")
    assert linking_test(kept) != 0, "without the record every payment is checked"


MONTH_END_CASES = [
    # (previous as-of, this as-of, months of mart_risk_features' window or None, must everyone be recomputed?)
    ("2026-10-29", "2026-10-30", None, False),   # mid-month: the same month ends
    ("2026-10-30", "2026-10-31", None, True),    # a month end passes
    ("2026-10-31", "2026-11-01", None, False),
    ("2026-11-02", "2026-10-31", None, False),   # back within the month: still the same month ends
    ("2026-11-02", "2026-10-30", None, True),    # back past a month end
    ("2024-02-28", "2024-02-29", None, True),    # leap day is the month end
    ("2025-02-27", "2025-02-28", None, True),
    ("2026-10-29", "2026-10-30", 18, False),     # 2025-04-30 leaves the 18-month window: deleted, not recomputed
    ("2026-10-30", "2026-10-29", 18, True),      # ... and comes back when the as-of date moves back: recomputed
    ("2026-10-30", "2026-10-31", 18, True),      # a month end passes
    ("2026-05-29", "2026-05-30", 13, False),
    ("2026-05-30", "2026-05-29", 13, True),
    ("2026-05-28", "2026-05-29", 13, False),
]


def test_month_end_models_restate_everyone_exactly_when_their_month_ends_change(tmp_path: Path) -> None:
    """The rule behind the incremental month-end models (macro month_ends_changed): every customer is
    recomputed when a month end passes or the as-of date moves back past one, and in mart_risk_features also
    when its window's oldest month end moves back (a deleted observation date returns); only the changed
    customers otherwise (an observation date that leaves the window is deleted)."""
    def case_sql(i: int, before: str, after: str, months: int | None) -> str:
        window = "none" if months is None else str(months)
        return (f"select {i} as case_no, {{{{ month_ends_changed(\"cast('{before}' as date)\", "
                f"\"cast('{after}' as date)\", {window}) }}}} as changed")
    sql = " union all ".join(case_sql(i, *case[:3]) for i, case in enumerate(MONTH_END_CASES))
    shown = run_dbt(["show", "--inline", sql, "--output", "json", "--limit", "100"], db=tmp_path / "show.duckdb",
                    raw_dir=tmp_path)
    rows = json.loads(shown.stdout[shown.stdout.index("{"):shown.stdout.rindex("}") + 1])["show"]
    got = {row["case_no"]: row["changed"] for row in rows}
    assert got == {i: case[3] for i, case in enumerate(MONTH_END_CASES)}, got


# ------------------------------------------------------------------------------------- random load sequences

EXAMPLES = int(os.environ.get("ARREARS_PROPERTY_EXAMPLES", "2"))


@st.composite
def load_sequences(draw: st.DrawFn) -> dict:
    """A delivery and the order its last days' loads arrive in: loads of several days at once, a day's load
    late (after a later day's), a run with no new load at all; corrections and voids at drawn rates."""
    days_back = draw(st.integers(4, 8))
    groups: list[list[int]] = []
    remaining = list(range(days_back))  # 0 = the oldest day of the window
    idle_run = False  # at most one run with no new load
    while remaining:
        size = draw(st.integers(0 if not idle_run else 1, min(3, len(remaining))))
        idle_run = idle_run or size == 0
        groups.append(remaining[:size])
        remaining = remaining[size:]
    if draw(st.booleans()) and len(groups) > 1 and groups[0] and groups[1]:
        groups[0], groups[1] = groups[0][:-1], groups[1] + groups[0][-1:]  # the first group's last day arrives late
    return {"seed": draw(st.integers(1, 10_000)), "corrections": draw(st.sampled_from([0, 50, 200])),
            "voids": draw(st.sampled_from([0, 30, 150])), "days_back": days_back, "groups": groups}


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=load_sequences())
def test_any_arrival_order_of_loads_gives_the_build_from_scratch(case: dict, tmp_path_factory) -> None:
    """Whatever groups the last loads arrive in (and in whatever order), processing them run by run ends with
    the warehouse one build from scratch gives on the same loads (contract v2)."""
    work = tmp_path_factory.mktemp("loads_prop")
    generate(work / "full", DemoConfig(customers=60, seed=case["seed"]))
    everything = work / "loads"
    daily_loads.split(work / "full", everything, seed=case["seed"], correction_permille=case["corrections"],
                      void_permille=case["voids"])
    days = daily_loads.load_days(everything)
    window = days[-case["days_back"]:]
    delivery, db = work / "delivery", work / "daily.duckdb"
    daily_loads.copy_until(everything, delivery, days[-case["days_back"] - 1])
    _process(delivery, work, db, days[-case["days_back"] - 1], MODELS_AND_SEEDS)
    arrived: set[int] = set()
    for group in case["groups"]:
        arrived |= set(group)
        for index in sorted(group):
            _copy_day(everything, delivery, window[index])
        # the run stands in for the day after the newest load that has arrived
        _process(delivery, work, db, window[max(arrived)] if arrived else days[-case["days_back"] - 1], "run")
    scratch = work / "scratch.duckdb"
    _process(everything, work / "scratch", scratch, window[-1], MODELS_AND_SEEDS)
    diff = compare_builds(scratch, db, ["marts", "intermediate"], ignore_columns=RUN_LOG_COLUMNS)
    different = [t.table for t in diff.tables
                 if not t.identical and t.table not in RUN_LOG_TABLES and not _run_state(t.table)]
    assert not different, (case, different)


def _copy_day(everything: Path, delivery: Path, day: dt.date) -> None:
    for folder in everything.iterdir():
        load = folder / f"{day.isoformat()}.csv"
        if folder.is_dir() and load.exists():
            (delivery / folder.name).mkdir(exist_ok=True)
            shutil.copyfile(load, delivery / folder.name / load.name)


@pytest.mark.fast
@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_a_day_written_as_several_files_becomes_one_load(tmp_path: Path, file_format: str) -> None:
    """On large inputs DuckDB writes a partition as several files (one per thread): they become one load."""
    part = tmp_path / "load_day=2026-10-31"
    part.mkdir()
    options = "format parquet" if file_format == "parquet" else "format csv, header true"
    with duckdb.connect() as con:
        for i in range(2):
            con.execute(f"copy (select 'I{i}' as invoice_id, '1.00' as amount) to '{part}/data_{i}.{file_format}' "
                        f"({options})")
        target = tmp_path / f"2026-10-31.{file_format}"
        daily_loads.one_load(con, part, target, file_format)
        read = (f"read_parquet('{target}')" if file_format == "parquet"
                else f"read_csv('{target}', header = true, all_varchar = true)")
        assert con.execute(f"select invoice_id from {read} order by 1").fetchall() == [("I0",), ("I1",)]


def _write_load(delivery: Path, table: str, day: str, header: str, rows: list[str]) -> None:
    (delivery / table).mkdir(parents=True, exist_ok=True)
    (delivery / table / f"{day}.csv").write_text("\n".join([header, *rows]) + "\n")


def test_rows_whose_references_arrive_later_are_restated(tmp_path: Path) -> None:
    """A payment naming a customer or an invoice not delivered yet is set aside; when the reference arrives in
    a later load, the daily run restates the stored row although its own load is old (macros/staging_delta.sql,
    keys restated for their references), and staging equals a build from scratch on the same loads."""
    delivery, work, db = tmp_path / "delivery", tmp_path / "work", tmp_path / "daily.duckdb"
    customers = "customer_id,customer_name"
    invoices = "invoice_id,customer_id,invoice_date,due_date,amount"
    payments = "payment_id,customer_id,payment_date,amount,invoice_id"
    actions = "action_id,customer_id,action_date,channel,outcome"
    _write_load(delivery, "customers", "2026-01-01", customers, ["C1,One"])
    _write_load(delivery, "invoices", "2026-01-01", invoices, ["I1,C1,2026-01-01,2026-01-31,100.00"])
    _write_load(delivery, "payments", "2026-01-01", payments,
                ["P1,C2,2026-01-01,10.00,", "P2,C1,2026-01-01,20.00,I2", "P3,C1,2026-01-01,30.00,I1"])
    _write_load(delivery, "collection_actions", "2026-01-01", actions, ["A1,C2,2026-01-01,call,no_answer"])
    staging = ["build", "--select", "+staging", "--exclude", "resource_type:test", "resource_type:unit_test"]
    _process(delivery, work, db, dt.date(2026, 1, 1), staging)

    def reasons() -> dict[str, str | None]:
        return dict(query(db, "select payment_id, reason_code from staging.stg_payments_checked "
                              "union all select action_id, reason_code from staging.stg_collection_actions_checked"))

    assert reasons() == {"P1": "unknown_customer", "P2": "unknown_invoice", "P3": None, "A1": "unknown_customer"}
    # the next day brings the customer and the invoice only: no new payment or contact load
    _write_load(delivery, "customers", "2026-01-02", customers, ["C2,Two"])
    _write_load(delivery, "invoices", "2026-01-02", invoices, ["I2,C1,2026-01-02,2026-02-01,50.00"])
    _process(delivery, work, db, dt.date(2026, 1, 2), staging)
    assert reasons() == {"P1": None, "P2": None, "P3": None, "A1": None}
    for model, restated in (("stg_payments_checked", [("P1", "reference"), ("P2", "reference")]),
                            ("stg_collection_actions_checked", [("A1", "reference")]),
                            ("stg_invoices_checked", [("I2", "load")])):
        assert query(db, f"select restated_key, restated_for from staging.{model}__delta "
                         f"where restated_key is not null order by 1") == restated, model
    assert query(db, "select new_load from staging.stg_invoices_checked__delta where new_load is not null") \
        == [("2026-01-02.csv",)]
    # the invoices' staging ran just before in the same invocation, and the payments' previous run was built on
    # its previous run: the payments looked up only the invoices restaged (staging_invoices_chained)
    def last_run_log() -> str:
        log = (db.parent / f"{db.stem}_dbt" / "logs" / "dbt.log").read_text()
        return log[log.rindex("Running with dbt="):]

    assert "changed_invoices as (" in last_run_log()
    scratch = tmp_path / "scratch.duckdb"
    _process(delivery, tmp_path / "scratch", scratch, dt.date(2026, 1, 2), staging)
    diff = compare_builds(scratch, db, ["staging"], ignore_columns=RUN_LOG_COLUMNS)
    assert not [t.table for t in diff.tables if not t.identical and not _run_state(t.table)]
    # a payment naming an invoice staged by a run the payments' staging did not follow: the invoices alone on
    # day 4 (I3 arrives), then everything on day 5, whose invoices record holds no I3. The chain is broken, so
    # every stored payment's invoice is looked up again and P4 is restated; trusting the record would leave it
    # set aside
    _write_load(delivery, "payments", "2026-01-03", payments, ["P4,C1,2026-01-03,5.00,I3"])
    _process(delivery, work, db, dt.date(2026, 1, 3), staging)
    assert reasons()["P4"] == "unknown_invoice"
    _write_load(delivery, "invoices", "2026-01-04", invoices, ["I3,C1,2026-01-04,2026-02-03,5.00"])
    _process(delivery, work, db, dt.date(2026, 1, 4), ["run", "--select", "stg_invoices_checked"])
    assert reasons()["P4"] == "unknown_invoice"
    _process(delivery, work, db, dt.date(2026, 1, 5), staging)
    assert reasons()["P4"] is None
    assert "changed_invoices as (" not in last_run_log()
    assert query(db, "select restated_for from staging.stg_payments_checked__delta where restated_key = 'P4'") \
        == [("reference",)]
    # and the next day, the runs chained again, takes the short way
    _process(delivery, work, db, dt.date(2026, 1, 6), staging)
    assert "changed_invoices as (" in last_run_log()
    scratch = tmp_path / "scratch_5.duckdb"
    _process(delivery, tmp_path / "scratch_5", scratch, dt.date(2026, 1, 6), staging)
    diff = compare_builds(scratch, db, ["staging"], ignore_columns=RUN_LOG_COLUMNS)
    assert not [t.table for t in diff.tables if not t.identical and not _run_state(t.table)]
