"""A daily incremental run must give exactly the tables a full refresh gives, and must not rebuild history.

If these fail, the scheduled daily run drifts from what `dbt build --full-refresh` would say: history rows
missing, duplicated or stale after the as-of date moves.
"""
from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from arrears.demo import DemoConfig, generate

from helpers import query, run_dbt, write_contract_folder

FIRST_AS_OF = "2026-09-24"
SECOND_AS_OF = "2026-10-31"

# Tables that are a log of the runs themselves, not a function of the data and the as-of date: a full refresh
# cannot know what earlier runs judged (see docs/decisions.md).
RUN_LOG_TABLES = {"fct_overdue_type_snapshots", "fct_strategy_assignments",
                  # read the assignment log: what was issued on each earlier run
                  "int_strategy_assignment_spells", "int_strategy_outcomes", "mart_strategy_effectiveness",
                  "mart_strategy_tests"}
RUN_LOG_COLUMNS = {"mart_portfolio_monthly": {"temporary_customers", "chronic_customers", "stubborn_customers"}}


def _tables(db: Path) -> list[tuple[str, str]]:
    """The tables of both schemas, less `<model>__restated` and `<model>__written` (which customers the last
    incremental run recomputed, and the rows it wrote), the
    history's `__candidates`, `__candidate_states` and `__new_dates` (what it considered and the dates it
    added), and the dbt invocations the history, the monitoring and the month-end models were built by (`__run`,
    `__history_run`, `__upstream_run`):
    records of the runs, which a full refresh does not write or writes with its own invocation. The history's
    `__state` stays: kept up to date for the changed customers only, it must equal the one a full refresh
    computes for everyone."""
    return [tuple(r) for r in query(db, """
        select table_schema, table_name from information_schema.tables
        where table_schema in ('intermediate', 'marts')
          and not regexp_matches(table_name, '__(restated|written|candidates|candidate_states|new_dates|run|history_run|upstream_run)$')
        order by 1, 2""")]


def _columns(db: Path, schema: str, table: str) -> list[str]:
    return [r[0] for r in query(db, f"""
        select column_name from information_schema.columns
        where table_schema = '{schema}' and table_name = '{table}' order by ordinal_position""")]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    work = tmp_path_factory.mktemp("incremental")
    raw = work / "raw"
    generate(raw, DemoConfig(customers=250, seed=11))
    daily = work / "daily.duckdb"
    run_dbt("build", db=daily, raw_dir=raw, as_of=FIRST_AS_OF)
    second = run_dbt("build", db=daily, raw_dir=raw, as_of=SECOND_AS_OF)
    results = json.loads((work / "daily_dbt" / "target" / "run_results.json").read_text())
    full = work / "full.duckdb"
    run_dbt(["build", "--full-refresh"], db=full, raw_dir=raw, as_of=SECOND_AS_OF)
    assert second.returncode == 0
    return daily, full, results


def test_incremental_equals_full_refresh(builds: tuple[Path, Path, dict]) -> None:
    daily, full, _ = builds
    tables = _tables(full)
    assert ("marts", "fct_customer_aging_history") in tables
    assert _tables(daily) == tables
    differences = []
    for schema, table in tables:
        if table in RUN_LOG_TABLES:
            continue
        columns = [c for c in _columns(full, schema, table) if c not in RUN_LOG_COLUMNS.get(table, set())]
        select = ", ".join(f'"{c}"' for c in columns)
        sql = f"select {select} from {schema}.{table} order by all"
        left, right = query(daily, sql), query(full, sql)
        if left != right:
            differences.append(f"{schema}.{table}: {len(left)} rows incremental vs {len(right)} full refresh")
    assert not differences, "\n".join(differences)


def test_history_covers_both_runs_without_rebuilding(builds: tuple[Path, Path, dict]) -> None:
    daily, _, results = builds
    history = [r for r in results["results"] if r["unique_id"].endswith(".fct_customer_aging_history")]
    assert history and history[0]["status"] == "success"
    month_ends = query(daily, """select count(distinct snapshot_date) from marts.fct_customer_aging_history
                                 where is_month_end""")[0][0]
    assert month_ends >= 20  # two years of month ends, kept across the incremental run
    # the daily run took the incremental branch: new snapshot dates for everyone, full history only for the
    # customers with documents since the previous as-of date
    target = daily.parent / "daily_dbt" / "target" / "compiled" / "arrears" / "models" / "marts" / "overdue"
    sql = (target / "fct_customer_aging_history.sql").read_text()
    assert "inner join restated_customers" in sql and "dates_to_build.is_new_date" in sql
    assert query(daily, f"""select count(*) from marts.fct_customer_aging_history
                            where snapshot_date > date '{SECOND_AS_OF}'""")[0][0] == 0


def test_monitoring_builds_on_the_history_only_when_it_saw_every_history_run(
        builds: tuple[Path, Path, dict], tmp_path: Path) -> None:
    """fct_overdue_monitoring recomputes only new check pairs and the customers the history restated in the same
    dbt invocation (macros/monitoring.sql). When a history run went by without it (here a run of the history
    alone, on a re-delivery without some old payments), the customers restated then are not in the next record:
    it must recompute everything, and equal a full refresh; on the run after, with the chain whole again, it
    builds on the record. Would fail if the model trusted any `__restated` it found (the dropped payments'
    customers keep stale rows), or never built on it."""
    import duckdb

    daily, _, _ = builds
    db = tmp_path / daily.name  # the same file name: DuckDB names the catalog after it, and views use it
    shutil.copy(daily, db)
    raw = tmp_path / "raw"
    shutil.copytree(daily.parent / "raw", raw)
    with duckdb.connect() as con:
        src = f"read_csv('{daily.parent / 'raw'}/payments.csv', header = true, all_varchar = true)"
        con.execute(f"copy (select * from {src} where not (payment_date < '2026-06-01' and hash(payment_id) % 5 = 0)) "
                    f"to '{raw}/payments.csv' (format csv, header true)")
    compiled = tmp_path / f"{daily.stem}_dbt" / "target" / "compiled" / "arrears" / "models" / "marts" / "overdue"
    monitoring = "select * from marts.fct_overdue_monitoring order by all"
    run_dbt("build", db=db, raw_dir=raw, as_of="2026-11-01", select="+fct_customer_aging_history", exclude=MODELS_ONLY)
    for as_of, chained in (("2026-11-02", False), ("2026-11-03", True)):
        run_dbt("build", db=db, raw_dir=raw, as_of=as_of, select="+fct_overdue_monitoring", exclude=MODELS_ONLY)
        sql = (compiled / "fct_overdue_monitoring.sql").read_text()
        assert ("fct_customer_aging_history__restated" in sql) == chained, as_of
        assert "stored_pairs" in sql  # an incremental run both times
        fresh = tmp_path / f"fresh_{as_of}.duckdb"
        run_dbt(["build", "--full-refresh"], db=fresh, raw_dir=raw, as_of=as_of, select="+fct_overdue_monitoring",
                exclude=MODELS_ONLY)
        assert query(db, monitoring) == query(fresh, monitoring), as_of


def test_removed_and_corrected_old_documents_are_restated(builds: tuple[Path, Path, dict], tmp_path: Path) -> None:
    """A re-delivery that drops old payments and corrects an old invoice, at the same as-of date: the next
    incremental run restates exactly those customers (their fingerprints changed) and equals a full refresh.
    Before fingerprints this needed --full-refresh (the documents are dated long before the as-of date)."""
    import shutil

    import duckdb

    daily, _, _ = builds
    raw = daily.parent / "raw"
    changed = tmp_path / "raw"
    shutil.copytree(raw, changed)
    with duckdb.connect() as con:
        src = f"read_csv('{raw}/payments.csv', header = true, all_varchar = true)"
        dropped = con.execute(f"select count(*) from {src} where payment_date < '2026-03-01' "
                              "and hash(payment_id) % 10 = 0").fetchone()[0]
        con.execute(f"copy (select * from {src} where not (payment_date < '2026-03-01' and hash(payment_id) % 10 = 0)) "
                    f"to '{changed}/payments.csv' (format csv, header true)")
        src = f"read_csv('{raw}/invoices.csv', header = true, all_varchar = true)"
        con.execute(f"copy (select * replace (case when invoice_id = (select min(invoice_id) from {src}) "
                    f"then cast(cast(amount as decimal(18, 2)) + 100 as varchar) else amount end as amount) from {src}) "
                    f"to '{changed}/invoices.csv' (format csv, header true)")
    assert dropped > 5
    again = tmp_path / "next" / daily.name  # same file name: views inside name their catalog after it
    again.parent.mkdir()
    shutil.copyfile(daily, again)
    run_dbt("run", db=again, raw_dir=changed, as_of=SECOND_AS_OF)
    fresh = tmp_path / "fresh.duckdb"
    run_dbt(["build", "--full-refresh"], db=fresh, raw_dir=changed, as_of=SECOND_AS_OF,
            exclude=["resource_type:test", "resource_type:unit_test"])
    sql = "select * from marts.fct_customer_aging_history order by all"
    assert query(again, sql) == query(fresh, sql)
    assert query(again, sql) != query(daily, sql), "the change reached the history"
    sql = "select * from intermediate.int_payment_allocation order by all"
    assert query(again, sql) == query(fresh, sql)
    # a second run on the same as-of date replaced that date's rows of the run logs, deleting them with a
    # semi-join on the date (dbt-duckdb's `delete ... using` joined every stored row of the date to every new
    # one: minutes at 1,000,000 customers; macros/restated.sql run_log_config)
    run_sql = again.parent / f"{again.stem}_dbt" / "target" / "run" / "arrears" / "models" / "marts"
    for model, folder in (("fct_overdue_type_snapshots", "overdue"), ("fct_strategy_assignments", "strategy")):
        statement = " ".join((run_sql / folder / f"{model}.sql").read_text().lower().split())
        assert "delete from " in statement and "where ( as_of_date) in (" in statement, (model, statement[:400])
        assert " using " not in statement, model
    sql = f"select * from marts.fct_overdue_type_snapshots where as_of_date = '{SECOND_AS_OF}' order by all"
    assert query(again, sql) == query(fresh, sql)
    assert query(again, f"""select count(*) = count(distinct customer_id)
                              from marts.fct_strategy_assignments where as_of_date = '{SECOND_AS_OF}'""") == [(True,)]



def test_a_daily_runs_data_tests_read_the_rows_it_wrote(builds: tuple[Path, Path, dict], tmp_path: Path) -> None:
    """After an incremental run, a per-customer model keeps a copy of the rows the run wrote
    (`<model>__written`, strategy `restate` in macros/restated.sql), and its generic tests read that copy
    (macros/tests/scoped_tests.sql): the copy is exactly the model's rows of the restated customers (and, for the
    history, of its new dates); a broken row the run wrote fails the test; a broken row of a customer the run
    kept is not looked at, unless `full_tests` is set, and without the copy (a full refresh) every row is tested.
    Would fail if the copy missed or added rows, or if the tests read the model's table."""
    import shutil

    import duckdb

    daily, _, _ = builds
    for model in PER_CUSTOMER_MODELS:  # the second build of the fixture was incremental for each of them
        schema = "intermediate" if model.startswith("int_") else "marts"
        scope = f"customer_id in (select customer_id from intermediate.{model}__restated)"
        if model == "fct_customer_aging_history":
            scope += f" or snapshot_date in (select snapshot_date from intermediate.{model}__new_dates)"
        written = query(daily, f"select * from intermediate.{model}__written order by all")
        assert written == query(daily, f"select * from {schema}.{model} where {scope} order by all"), model
        assert written, model

    raw = daily.parent / "raw"
    # one day back from the second run: an incremental run that recomputes the customers with a document on
    # 2026-10-31 and keeps the others
    base = tmp_path / "base" / daily.name
    base.parent.mkdir()
    shutil.copyfile(daily, base)
    as_of = "2026-10-30"
    run_dbt("build", db=base, raw_dir=raw, as_of=as_of, select="+int_payment_allocation")
    results = json.loads((base.parent / f"{base.stem}_dbt" / "target" / "run_results.json").read_text())
    scoped = [r for r in results["results"] if r["unique_id"].startswith("test.arrears.unique_combination_int_pay")]
    assert scoped and "int_payment_allocation__written" in scoped[0]["compiled_code"]
    restated = {r[0] for r in query(base, "select customer_id from intermediate.int_payment_allocation__restated")}
    everyone = {r[0] for r in query(base, "select distinct customer_id from intermediate.int_payment_allocation")}
    assert restated and everyone - restated, "the run recomputed some customers, not all"

    def broken(customer: str, written: bool) -> Path:
        """A copy of the warehouse with one allocation piece of `customer` twice (the model's key broken): in
        the model's table, and also in the rows the run wrote when `written` (as a faulty model would have)."""
        copy = tmp_path / f"{customer}_{written}" / daily.name
        copy.parent.mkdir()
        shutil.copyfile(base, copy)
        piece = f"select * from intermediate.int_payment_allocation where customer_id = '{customer}' limit 1"
        with duckdb.connect(str(copy)) as con:
            con.execute(f"create temp table piece as {piece}")
            con.execute("insert into intermediate.int_payment_allocation select * from piece")
            if written:
                con.execute("insert into intermediate.int_payment_allocation__written select * from piece")
        return copy

    def key_test(db: Path, **extra_vars: object) -> int:
        return run_dbt("test", db=db, raw_dir=raw, as_of=as_of, extra_vars=extra_vars, check=False,
                       select="test_name:unique_combination,int_payment_allocation").returncode

    kept = broken(sorted(everyone - restated)[0], written=False)
    assert key_test(kept) == 0, "a customer the run did not recompute is not re-tested"
    assert key_test(kept, full_tests=True) != 0, "full_tests checks every row"
    assert key_test(broken(sorted(restated)[0], written=True)) != 0, "a broken row the run wrote fails the test"
    with duckdb.connect(str(kept)) as con:  # as after a full refresh: no copy of written rows
        con.execute("drop table intermediate.int_payment_allocation__written")
    assert key_test(kept) != 0, "without the rows of an incremental run, every row is tested"


def test_a_model_reads_the_customers_its_parent_kept_from_the_parents_table(builds: tuple[Path, Path, dict],
                                                                           tmp_path: Path) -> None:
    """A per-customer model reads its restated customers' rows of its parent from the parent's copy of what it
    wrote (`__written`) for the customers the parent restated too, and from the parent's table for the others
    (macros/restated.sql, rows_of_customers). Here the parent ran twice more than the child: its last run
    restated the customers with a document on 2026-10-30, the child's restates those of 10-30 and 10-31 (its
    previous as-of date). Would fail if the child read only the copy (the 10-31 customers would lose their
    allocation) or read a customer twice."""
    daily, _, _ = builds
    raw = daily.parent / "raw"
    db = tmp_path / "w" / daily.name
    db.parent.mkdir()
    shutil.copyfile(daily, db)
    parent = "+int_linked_payments"
    run_dbt("build", db=db, raw_dir=raw, as_of="2026-10-30", select=parent, exclude=MODELS_ONLY)
    run_dbt("build", db=db, raw_dir=raw, as_of="2026-10-29", select=parent, exclude=MODELS_ONLY)
    run_dbt("build", db=db, raw_dir=raw, as_of="2026-10-29", select="+int_invoice_settlement",
            exclude=[*MODELS_ONLY, "int_linked_payments"])
    restated = {m: {r[0] for r in query(db, f"select customer_id from intermediate.{m}__restated")}
                for m in ("int_linked_payments", "int_payment_allocation")}
    kept_by_parent = restated["int_payment_allocation"] - restated["int_linked_payments"]
    assert restated["int_linked_payments"] and kept_by_parent, restated
    compiled = (db.parent / f"{db.stem}_dbt" / "target" / "compiled" / "arrears" / "models" / "intermediate"
                / "int_payment_allocation.sql").read_text()
    assert "int_linked_payments__written" in compiled
    fresh = tmp_path / "fresh.duckdb"
    run_dbt(["build", "--full-refresh"], db=fresh, raw_dir=raw, as_of="2026-10-29",
            select="+int_invoice_settlement", exclude=MODELS_ONLY)
    for model in ("int_linked_payments", "int_payment_allocation", "int_invoice_settlement"):
        sql = f"select * from intermediate.{model} order by all"
        assert query(db, sql) == query(fresh, sql), model
    # the customers the parent kept do have rows, read from its table
    kept = "', '".join(sorted(kept_by_parent))
    assert query(db, f"select count(*) from intermediate.int_payment_allocation where customer_id in ('{kept}')")[0][0]


def test_a_stored_table_without_a_documented_column_restates_everyone(builds: tuple[Path, Path, dict],
                                                                     tmp_path: Path) -> None:
    """A per-customer model whose stored table lacks a column its YAML documents (a warehouse built before an
    upgrade added it; here int_linked_payments.invoice_amount dropped) restates every customer, and the column
    comes back filled for all of them (macros/restated.sql, lacks_documented_columns). Would fail if the daily
    run restated only the day's customers: the others would keep a null invoice amount (and
    fct_payment_pattern_changes would lose their partial payments), or if the column were not added."""
    import duckdb

    daily, _, _ = builds
    raw = daily.parent / "raw"
    db = tmp_path / "w" / daily.name
    db.parent.mkdir()
    shutil.copyfile(daily, db)
    with duckdb.connect(str(db)) as con:
        con.execute("alter table intermediate.int_linked_payments drop column invoice_amount")
    run_dbt("build", db=db, raw_dir=raw, as_of="2026-11-01", select="+int_linked_payments", exclude=MODELS_ONLY)
    restated = query(db, "select count(*) from intermediate.int_linked_payments__restated")[0][0]
    assert restated == query(db, "select count(*) from intermediate.int_customer_fingerprints")[0][0]
    fresh = tmp_path / "fresh.duckdb"
    run_dbt(["build", "--full-refresh"], db=fresh, raw_dir=raw, as_of="2026-11-01", select="+int_linked_payments",
            exclude=MODELS_ONLY)
    columns = ", ".join(_columns(fresh, "intermediate", "int_linked_payments"))
    sql = f"select {columns} from intermediate.int_linked_payments order by all"
    assert query(db, sql) == query(fresh, sql)
    assert query(db, "select count(invoice_amount) from intermediate.int_linked_payments")[0][0] > 0


def test_every_column_a_per_customer_model_documents_is_in_its_table(builds: tuple[Path, Path, dict]) -> None:
    """A per-customer model restates everyone when its table lacks a documented column (the upgrade case above),
    so a column documented but never built would make every daily run recompute everyone. Would fail if a
    model's YAML named a column its SQL does not produce."""
    daily, _, _ = builds
    manifest = json.loads((daily.parent / "daily_dbt" / "target" / "manifest.json").read_text())
    for model in PER_CUSTOMER_MODELS:
        node = manifest["nodes"][f"model.arrears.{model}"]
        schema = "intermediate" if model.startswith("int_") else "marts"
        documented = {name.lower() for name in node["columns"]}
        assert documented and documented <= set(_columns(daily, schema, model)), model


MODELS_ONLY = ["resource_type:test", "resource_type:unit_test"]
PER_CUSTOMER_MODELS = ("int_linked_payments", "int_payment_allocation", "int_invoice_settlement",
                       "fct_customer_aging_history", "int_customer_monthly", "mart_risk_features")


def _fx_rates(last_day: str, corrected: dict[tuple[str, str], str] | None = None) -> list[dict]:
    """EUR and USD rates for each day from 2026-05-01 to `last_day`; `corrected` replaces some of them."""
    import datetime as dt

    rates, day = [], dt.date(2026, 5, 1)
    while day <= dt.date.fromisoformat(last_day):
        for currency, rate in (("EUR", "7.80000000"), ("USD", "7.10000000")):
            key = (currency, day.isoformat())
            rates.append({"currency": currency, "rate_date": key[1], "rate_to_base": (corrected or {}).get(key, rate)})
        day += dt.timedelta(days=1)
    return rates


def test_a_new_days_fx_rate_restates_nobody_and_a_corrected_one_only_its_currency(tmp_path: Path) -> None:
    """Per-customer models compare the daily FX rates they used (`<model>__fx_rates`) per currency and day.
    Would fail if FX were one fingerprint for all (it was: every daily FX load restated every customer), or if a
    corrected historical rate did not restate the customers with documents in its currency."""
    customers = [{"customer_id": c, "customer_name": f"Customer {c}", "customer_type": "business"}
                 for c in ("EUR1", "USD1", "CNY1")]
    invoices = [{"invoice_id": f"I-{c}", "customer_id": f"{c}1", "invoice_date": "2026-05-20", "due_date": "2026-05-27",
                 "amount": "1000.00", "currency": c} for c in ("EUR", "USD", "CNY")]
    payments = [{"payment_id": f"P-{c}", "customer_id": f"{c}1", "invoice_id": f"I-{c}", "payment_date": "2026-06-05",
                 "amount": "300.00", "currency": c} for c in ("EUR", "USD", "CNY")]

    def run(name: str, as_of: str, fx: list[dict], base: str = "CNY") -> None:
        raw = write_contract_folder(tmp_path / name, {"customers": customers, "invoices": invoices,
                                                      "payments": payments, "fx_rates": fx})
        run_dbt("build", db=tmp_path / "w.duckdb", raw_dir=raw, as_of=as_of, select="+mart_risk_features",
                exclude=MODELS_ONLY, extra_vars={"base_currency": base})

    def restated() -> dict[str, set[str]]:
        return {m: {r[0] for r in query(tmp_path / "w.duckdb", f"select customer_id from intermediate.{m}__restated")}
                for m in PER_CUSTOMER_MODELS}

    run("day1", "2026-06-20", _fx_rates("2026-06-20"))
    run("day2", "2026-06-21", _fx_rates("2026-06-21"))  # the new day's rates only: nothing of anyone's changed
    assert restated() == {m: set() for m in PER_CUSTOMER_MODELS}
    billed = "select customer_id, billed_base from intermediate.int_customer_monthly order by all"
    before = query(tmp_path / "w.duckdb", billed)
    run("day2_corrected", "2026-06-21", _fx_rates("2026-06-21", {("EUR", "2026-05-20"): "7.90000000"}))  # invoice day
    assert restated() == {m: {"EUR1"} for m in PER_CUSTOMER_MODELS}
    # the correction reached the restated customer's base amounts, and only that customer's
    after = query(tmp_path / "w.duckdb", billed)
    assert [r for r in after if r not in before] == [("EUR1", Decimal("7900.00"))], (before, after)
    fresh = tmp_path / "fresh.duckdb"
    run_dbt(["build", "--full-refresh"], db=fresh, raw_dir=tmp_path / "day2_corrected", as_of="2026-06-21",
            select="+mart_risk_features", exclude=MODELS_ONLY)
    for model in PER_CUSTOMER_MODELS:
        sql = f"select * from {'intermediate' if model.startswith('int_') else 'marts'}.{model} order by all"
        assert query(tmp_path / "w.duckdb", sql) == query(fresh, sql), model
    # another base currency changes every base amount: everyone is restated
    run("day2_corrected", "2026-06-21", _fx_rates("2026-06-21", {("EUR", "2026-05-20"): "7.90000000"}), base="HKD")
    assert restated() == {m: {"EUR1", "USD1", "CNY1"} for m in PER_CUSTOMER_MODELS}


def test_history_restates_only_customers_whose_past_moved(tmp_path: Path) -> None:
    """fct_customer_aging_history recomputes a changed customer's stored snapshots only when money applied on or
    before the previous as-of date moved (macros/history_restated.sql). Day 2 brings a new payment for both
    customers. MOVED's is linked to its older invoice, which the earlier unlinked payment had paid: that payment
    now goes to the other invoice, so the older one was open (and past due) at the earlier snapshots. STILL's is
    unlinked and only adds money after the previous as-of date. Would fail if the rule skipped MOVED (its
    stored past would differ from a full refresh) or recomputed STILL."""
    customers = [{"customer_id": c, "customer_name": f"Customer {c}", "customer_type": "business"}
                 for c in ("MOVED", "STILL")]
    invoices = [{"invoice_id": f"{c}-{n}", "customer_id": c, "invoice_date": "2026-05-01", "due_date": due,
                 "amount": "100.00", "currency": "CNY"}
                for c in ("MOVED", "STILL") for n, due in (("1", "2026-05-20"), ("2", "2026-06-10"))]
    payments = [{"payment_id": f"{c}-U", "customer_id": c, "invoice_id": "", "payment_date": "2026-05-25",
                 "amount": "100.00", "currency": "CNY"} for c in ("MOVED", "STILL")]
    day2 = payments + [
        {"payment_id": "MOVED-L", "customer_id": "MOVED", "invoice_id": "MOVED-1", "payment_date": "2026-06-21",
         "amount": "100.00", "currency": "CNY"},
        {"payment_id": "STILL-U2", "customer_id": "STILL", "invoice_id": "", "payment_date": "2026-06-21",
         "amount": "50.00", "currency": "CNY"}]
    db, fresh = tmp_path / "w.duckdb", tmp_path / "fresh.duckdb"

    def run(name: str, as_of: str, pays: list[dict], target: Path, extra: list[str] | None = None) -> None:
        raw = write_contract_folder(tmp_path / name, {"customers": customers, "invoices": invoices,
                                                      "payments": pays})
        run_dbt(["build", *(extra or [])], db=target, raw_dir=raw, as_of=as_of, select="+fct_customer_aging_history",
                exclude=MODELS_ONLY)

    run("day1", "2026-06-20", payments, db)
    history = "select * from marts.fct_customer_aging_history order by all"
    first = query(db, history)
    run("day2", "2026-06-21", day2, db)

    def ids(table: str) -> set[str]:
        return {r[0] for r in query(db, f"select customer_id from intermediate.fct_customer_aging_history__{table}")}

    assert ids("candidates") == {"MOVED", "STILL"}
    assert ids("restated") == {"MOVED"}
    # MOVED's past changed: its older invoice was paid only on day 2, so it was past due at the May month end
    may = "select customer_id, past_due_base from marts.fct_customer_aging_history where snapshot_date = '2026-05-31'"
    assert [r for r in first if r[0] == "MOVED" and str(r[1]) == "2026-05-31"], "day 1 had MOVED at the month end"
    assert dict(query(db, may))["MOVED"] == Decimal("100.00")
    assert all(r[5] == 0 for r in first if r[0] == "MOVED" and str(r[1]) == "2026-05-31")  # past due on day 1: none
    # STILL's stored snapshots stand as day 1 wrote them
    assert [r for r in query(db, history) if r[0] == "STILL" and str(r[1]) <= "2026-06-20"] == \
        [r for r in first if r[0] == "STILL"]
    run("day2", "2026-06-21", day2, fresh, ["--full-refresh"])
    assert query(db, history) == query(fresh, history)
    state = "select * from intermediate.fct_customer_aging_history__state order by all"
    assert query(db, state) == query(fresh, state)
