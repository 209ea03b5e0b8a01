"""What works: the strategy assignment log, outcomes, effectiveness and champion/challenger tests (issue 16).

One warehouse per module: a seeded demo (400 customers) run by the pipeline with `--replay-month-ends 5`, so the
assignment log holds five past month ends and the as-of date, and outcomes up to 150 days have had time to
happen. Every figure of the marts is recomputed here independently, from the published facts (invoices,
payments) in Python, and the statistics are checked against published values (Newcombe 1998 for Wilson).
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from arrears import publish
from arrears.demo import DemoConfig, generate
from arrears.experiments import arm, stable_unit_interval, two_proportion_p_value, wilson_interval

from helpers import DBT, ROOT, query, query_dicts

PIPELINE = ROOT / "scripts" / "run_pipeline.py"
REPLAYED = 5


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("strategy_outcomes")
    raw = work / "raw"
    generate(raw, DemoConfig(customers=400, seed=21))
    db, out = work / "warehouse.duckdb", work / "out"
    done = subprocess.run([sys.executable, str(PIPELINE), "--raw-dir", str(raw), "--db", str(db), "--out", str(out),
                           "--steps", "build", "--replay-month-ends", str(REPLAYED)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    build_db = publish.Layout(db=db, out=out).build_db
    as_of = query(build_db, "select as_of_date from intermediate.int_as_of_date")[0][0]
    return {"db": build_db, "as_of": as_of, "stdout": done.stdout, "work": work, "raw": raw}


def _month_ends_before(day: dt.date, count: int) -> list[dt.date]:
    ends = []
    while len(ends) < count:
        day = day.replace(day=1) - dt.timedelta(days=1)
        ends.append(day)
    return sorted(ends)


def test_replay_issued_the_lists_of_past_month_ends(replayed: dict) -> None:
    logged = [r[0] for r in query(replayed["db"],
                                  "select distinct as_of_date from marts.fct_strategy_assignments order by 1")]
    assert logged == _month_ends_before(replayed["as_of"], REPLAYED) + [replayed["as_of"]]
    assert replayed["stdout"].count("[pipeline] replay ") >= REPLAYED
    # the type log gained the same days (portfolio type counts for past months)
    typed = {r[0] for r in query(replayed["db"], "select distinct as_of_date from marts.fct_overdue_type_snapshots")}
    assert set(logged) <= typed


def test_arms_are_the_stable_hash_and_never_change(replayed: dict) -> None:
    rows = query_dicts(replayed["db"], """
        select a.customer_id, a.as_of_date, a.test_id, a.variant, t.challenger_share
        from marts.fct_strategy_assignments as a
        inner join reference.strategy_tests as t using (test_id)""")
    assert len(rows) > 100, "too few customers under test in the demo to check the arms"
    arms: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in rows:
        assert r["variant"] == arm(r["test_id"], r["customer_id"], float(r["challenger_share"])), r
        arms[(r["test_id"], r["customer_id"])].add(r["variant"])
    assert all(len(v) == 1 for v in arms.values())
    # both arms are used, near their shares (binomial, 4 standard deviations)
    for test_id, share in query(replayed["db"], "select test_id, challenger_share from reference.strategy_tests"):
        members = [v for (t, _), v in arms.items() if t == test_id]
        n = len(members)
        if n < 30:
            continue
        challengers = sum("challenger" in v for v in members)
        assert abs(challengers - n * share) <= 4 * (n * share * (1 - share)) ** 0.5 + 1, (test_id, challengers, n)
    # customers without a test are champions with no test id
    assert query(replayed["db"], """select count(*) from marts.fct_strategy_assignments
                                    where test_id is null and variant <> 'champion'""")[0][0] == 0


def test_lists_carry_the_arm_and_the_challengers_ladder(replayed: dict) -> None:
    """A challenger of the SMS-first test starts with the reminder, a champion of TMP_CARE with the care call."""
    rows = query_dicts(replayed["db"], """
        select variant, next_step_number, next_action_code, next_action_due_date, as_of_date
        from marts.mart_collection_strategy where test_id = 'T01_TMP_CARE_SMS_FIRST'""")
    firsts = {(r["variant"], r["next_action_code"]) for r in rows if r["next_step_number"] == 1}
    assert firsts <= {("champion", "care_call"), ("challenger", "payment_reminder")}
    for r in rows:
        sla = 1 if r["variant"] == "challenger" else 3
        assert r["next_action_due_date"] == r["as_of_date"] + dt.timedelta(days=sla)


def _past_due_on(invoices: list[dict], day: dt.date) -> int:
    """A customer's days past due on `day` from its invoices' due and settled dates (0 when nothing is)."""
    late = [(day - i["due_date"]).days for i in invoices
            if i["invoice_date"] <= day and i["due_date"] < day and (i["settled_date"] is None or i["settled_date"] > day)]
    return max(late, default=0)


def test_outcomes_match_an_independent_computation(replayed: dict) -> None:
    db, as_of = replayed["db"], replayed["as_of"]
    outcomes = query_dicts(db, "select * from intermediate.int_strategy_outcomes")
    invoices: dict[str, list[dict]] = defaultdict(list)
    for r in query_dicts(db, "select customer_id, invoice_date, due_date, settled_date from marts.fct_invoices"):
        invoices[r["customer_id"]].append(r)
    payments: dict[str, list[tuple[dt.date, float]]] = defaultdict(list)
    for c, d, a in query(db, "select customer_id, payment_date, amount_base from staging.stg_payments where not is_void"):
        payments[c].append((d, float(a)))
    checked = {"cure": 0, "roll": 0, "money": 0}
    for o in outcomes:
        a, own = o["assigned_date"], invoices[o["customer_id"]]
        assert o["days_observed"] == (as_of - a).days
        if o["was_past_due"]:
            assert _past_due_on(own, a) > 0
            first_clear = next((a + dt.timedelta(days=k) for k in range(1, (as_of - a).days + 1)
                                if _past_due_on(own, a + dt.timedelta(days=k)) == 0), None)
            expected_days = None if first_clear is None else (first_clear - a).days
            assert o["days_to_cure"] == expected_days, o
            for window in (30, 60, 90):
                observed = o["days_observed"] >= window
                assert o[f"is_cure_observed_{window}"] == observed, (window, o)
                assert o[f"is_cured_{window}"] == (observed and expected_days is not None and expected_days <= window), \
                    (window, o)
            checked["cure"] += o["is_cure_observed_30"]
        else:
            assert not o["is_cure_observed_30"] and not o["is_cured_30"] and o["days_to_cure"] is None
        if o["days_observed"] >= 30:
            later = a + dt.timedelta(days=30)
            assert o["days_past_due_30"] == _past_due_on(own, later), o
            received = sum(x for d, x in payments[o["customer_id"]] if a < d <= later)
            assert abs(float(o["recovered_30_base"]) - received) < 0.005, o
            checked["roll"] += 1
            checked["money"] += received > 0
        else:
            assert o["days_past_due_30"] is None and o["recovered_30_base"] is None and not o["is_rolled_forward_30"]
    assert checked["cure"] >= 50 and checked["roll"] >= 100 and checked["money"] >= 20, checked


def test_assignments_are_runs_of_the_same_strategy(replayed: dict) -> None:
    """An assignment starts when a customer enters the lists or changes strategy or arm between two runs."""
    db = replayed["db"]
    runs = [r[0] for r in query(db, "select distinct as_of_date from marts.fct_strategy_assignments order by 1")]
    log: dict[str, dict[dt.date, tuple]] = defaultdict(dict)
    for c, d, s, t, v in query(db, "select customer_id, as_of_date, strategy_code, test_id, variant "
                                   "from marts.fct_strategy_assignments"):
        log[c][d] = (s, t, v)
    expected = set()
    for customer, days in log.items():
        for i, day in enumerate(runs):
            if day in days and (i == 0 or days.get(runs[i - 1]) != days[day]):
                expected.add((customer, day))
    found = {(r[0], r[1]) for r in query(db, "select customer_id, assigned_date from intermediate.int_strategy_outcomes")}
    assert found == expected


def _cells(db: Path) -> dict[tuple, list[dict]]:
    cells: dict[tuple, list[dict]] = defaultdict(list)
    for o in query_dicts(db, "select * from intermediate.int_strategy_outcomes"):
        key = (o["assigned_date"].replace(day=1), o["strategy_code"], o["test_id"], o["variant"], o["segment"],
               o["first_action_code"])
        cells[key].append(o)
    return cells


def test_effectiveness_counts_rates_and_wilson_intervals(replayed: dict) -> None:
    db = replayed["db"]
    cells = _cells(db)
    mart = query_dicts(db, "select * from marts.mart_strategy_effectiveness")
    assert len(mart) == len(cells)
    observed_any = 0
    for row in mart:
        rows = cells[(row["assignment_month"], row["strategy_code"], row["test_id"], row["variant"], row["segment"],
                      row["first_action_code"])]
        assert row["assignments"] == len(rows)
        for window in (30, 60, 90):
            observed = [o for o in rows if o[f"is_cure_observed_{window}"]]
            cured = sum(bool(o[f"is_cured_{window}"]) for o in observed)
            assert (row[f"cure_{window}_observed"], row[f"cured_{window}"]) == (len(observed), cured)
            interval = wilson_interval(cured, len(observed))
            if interval is None:
                assert row[f"cure_rate_{window}"] is None and row[f"cure_rate_{window}_low"] is None
                continue
            observed_any += 1
            assert row[f"cure_rate_{window}"] == pytest.approx(round(cured / len(observed), 4), abs=1e-9)
            assert row[f"cure_rate_{window}_low"] == pytest.approx(interval[0], abs=5.1e-5)
            assert row[f"cure_rate_{window}_high"] == pytest.approx(interval[1], abs=5.1e-5)
        rolled = [o for o in rows if o["days_observed"] >= 30]
        assert row["roll_forward_observed"] == len(rolled)
        assert row["rolled_forward"] == sum(bool(o["is_rolled_forward_30"]) for o in rolled)
        assert row["promises_kept"] == sum(o["promises_kept"] for o in rows)
        assert row["is_small_cell"] == (row["cure_30_observed"] < 30)
    assert observed_any >= 10


def test_wilson_intervals_equal_published_values() -> None:
    """Newcombe (1998), Statistics in Medicine 17:857-872, table I, method 3 (score interval without correction)."""
    published = {(81, 263): (0.2553, 0.3662), (15, 148): (0.0624, 0.1605), (0, 20): (0.0, 0.1611),
                 (1, 29): (0.0061, 0.1718)}
    for (s, n), (low, high) in published.items():
        got = wilson_interval(s, n)
        assert got is not None and round(got[0], 4) == low and round(got[1], 4) == high


def test_sql_statistics_macros_equal_python(replayed: dict) -> None:
    """The macros compiled by dbt and run by DuckDB: Wilson against the published values, the normal CDF
    against math.erf, the stable hash against Python's md5, and the Poisson weights' mean and variance."""
    import math

    import duckdb

    inline = """
        select
            {{ wilson_bound(81, 263, 'lower') }} as w1l, {{ wilson_bound(81, 263, 'upper') }} as w1h,
            {{ wilson_bound(0, 20, 'lower') }} as w2l, {{ wilson_bound(0, 20, 'upper') }} as w2h,
            {{ wilson_bound(0, 0, 'upper') }} as w3h,
            {% for x in [-3.1, -1.96, -0.5, 0, 0.7, 1.644854, 2.5] %}{{ normal_cdf(x) }} as cdf{{ loop.index }},{% endfor %}
            {{ stable_unit_interval("'T01|C000123'") }} as u1,
            {{ stable_unit_interval("'日本|客户'") }} as u2,
            (select avg(w) from (select {{ poisson_bootstrap_weight("'k' || cast(i as varchar)", 7) }} as w
                                 from range(20000) as t(i))) as poisson_mean,
            (select var_samp(w) from (select {{ poisson_bootstrap_weight("'k' || cast(i as varchar)", 7) }} as w
                                      from range(20000) as t(i))) as poisson_var,
            (select [{{ quantile_of('m', 0.025) }}, {{ quantile_of('m', 0.975) }}] from (
                select sum(w * v) / sum(w) as m from (
                    select replicate, v, {{ poisson_bootstrap_weight("cast(i as varchar)", 'replicate') }} as w
                    from (select i, cast((i * 7919) % 1000 as double) / 10 as v from range(200) as t(i)) as sample
                    cross join ({{ replicate_numbers(200) }}) as replicates
                ) as weighted group by replicate
            ) as resampled) as bootstrap_interval
    """
    work = replayed["work"] / "inline_dbt"
    db_copy = replayed["work"] / "inline.duckdb"
    duckdb.connect(str(db_copy)).close()
    env = {"DO_NOT_TRACK": "1", "ARREARS_DB": str(db_copy), "ARREARS_HOME": str(ROOT), "ARREARS_TARGET": "duckdb",
           "PATH": str(Path(sys.executable).parent)}
    done = subprocess.run([str(DBT), "compile", "--quiet", "--inline", inline, "--project-dir", str(ROOT),
                           "--profiles-dir", str(ROOT), "--target-path", str(work / "target"),
                           "--log-path", str(work / "logs"), "--vars", json.dumps({"raw_dir": str(ROOT)})],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    sql = done.stdout.strip()
    row = dict(zip([d[0] for d in duckdb.connect().execute(sql).description], duckdb.connect().execute(sql).fetchone()))
    assert (row["w1l"], row["w1h"], row["w2l"], row["w2h"]) == (0.2553, 0.3662, 0.0, 0.1611)
    assert row["w3h"] is None
    for i, x in enumerate([-3.1, -1.96, -0.5, 0, 0.7, 1.644854, 2.5], start=1):
        assert row[f"cdf{i}"] == pytest.approx(0.5 * (1 + math.erf(x / math.sqrt(2))), abs=1e-7)
    assert row["u1"] == pytest.approx(stable_unit_interval("T01|C000123"), abs=1e-15)
    assert row["u2"] == pytest.approx(stable_unit_interval("日本|客户"), abs=1e-15)
    assert row["poisson_mean"] == pytest.approx(1.0, abs=0.03) and row["poisson_var"] == pytest.approx(1.0, abs=0.05)
    # the Poisson bootstrap of a mean (200 replicates, as the mart) against a classic one (20,000 replicates)
    values = np.array([(i * 7919) % 1000 / 10 for i in range(200)])
    means = values[np.random.default_rng(5).integers(0, 200, size=(20000, 200))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    got_low, got_high = row["bootstrap_interval"]
    assert abs(got_low - low) <= 0.1 * (high - low) and abs(got_high - high) <= 0.1 * (high - low), \
        (got_low, got_high, low, high)


def test_bootstrap_intervals_hold_the_cell_means(replayed: dict) -> None:
    """Every cell's interval holds its mean, which is the mean of its assignments' money received."""
    db = replayed["db"]
    cells = _cells(db)
    compared = 0
    for row in query_dicts(db, "select * from marts.mart_strategy_effectiveness where recovered_30_observed >= 3"):
        values = [float(o["recovered_30_base"]) for o in cells[(
            row["assignment_month"], row["strategy_code"], row["test_id"], row["variant"], row["segment"],
            row["first_action_code"])] if o["recovered_30_base"] is not None]
        assert row["mean_recovered_30_base"] == pytest.approx(sum(values) / len(values), abs=0.006)
        assert row["mean_recovered_30_low"] <= row["mean_recovered_30_base"] + 0.01
        assert row["mean_recovered_30_base"] <= row["mean_recovered_30_high"] + 0.01
        compared += 1
    assert compared >= 10


def test_strategy_tests_compare_the_arms(replayed: dict) -> None:
    db = replayed["db"]
    rows = query_dicts(db, "select * from marts.mart_strategy_tests")
    assert {r["test_id"] for r in rows} == {r[0] for r in query(db, "select distinct test_id from reference.strategy_tests")}
    for r in rows:
        n1, s1, n2, s2 = r["champion_n"], r["champion_successes"], r["challenger_n"], r["challenger_successes"]
        if not n1 or not n2:
            assert r["status"] == "no data"
            continue
        assert r["difference"] == pytest.approx(round(s2 / n2 - s1 / n1, 4), abs=1.1e-4)
        assert r["p_value"] == pytest.approx(two_proportion_p_value(s1, n1, s2, n2), abs=2e-4)
        p1, p2 = s1 / n1, s2 / n2
        if p1 != p2:
            needed = (1.959964 + 0.841621) ** 2 * (p1 * (1 - p1) + p2 * (1 - p2)) / (p2 - p1) ** 2
            assert r["sample_needed_per_arm"] == pytest.approx(needed, abs=1.0)
        enough = r["sample_needed_per_arm"] is not None and min(n1, n2) >= r["sample_needed_per_arm"]
        if not enough:
            assert r["status"] == "collecting"
        elif r["p_value"] >= 0.05:
            assert r["status"] == "no difference"
        else:
            assert r["status"] in {"challenger better", "champion better"}
    # the A/A test's challenger is the champion: no winner may be called
    aa = [r for r in rows if r["test_id"] == "T02_CHR_RESTRUCTURE_AA"]
    assert aa and all(r["status"] not in {"challenger better", "champion better"} for r in aa)


@pytest.mark.fast
def test_an_aa_test_calls_a_difference_at_the_stated_rate() -> None:
    """A/A tests on simulated outcomes with the product's arms (stable hash) and p-value: at alpha 0.05 about 5%
    of 400 tests find a difference (binomial 99.9% bound: at most 36)."""
    rng = np.random.default_rng(16)
    customers = [f"C{i:06d}" for i in range(2000)]
    false_alarms = 0
    for t in range(400):
        cured = rng.random(len(customers)) < 0.35
        arms = [arm(f"AA{t}", c, 0.5) for c in customers]
        champion = [x for x, a in zip(cured, arms) if a == "champion"]
        challenger = [x for x, a in zip(cured, arms) if a == "challenger"]
        p = two_proportion_p_value(sum(champion), len(champion), sum(challenger), len(challenger))
        false_alarms += p < 0.05
    assert 4 <= false_alarms <= 36, false_alarms


def test_report_shows_what_works(replayed: dict, tmp_path: Path) -> None:
    """The report's "What works" section carries the marts' figures, and headless Chromium draws its chart."""
    from test_report import _pixels_like, chromium_screenshot

    from arrears import report

    db = replayed["db"]
    page = tmp_path / "report.html"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "report.py"), "--db", str(db), "--out", str(page)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    text = page.read_text(encoding="utf-8")
    assert 'id="what-works"' in text and 'id="strategy-tests"' in text
    shown = 0
    for observed, cured in query(db, """select sum(cure_30_observed), sum(cured_30)
                                        from marts.mart_strategy_effectiveness
                                        group by strategy_code, variant, segment"""):
        if observed:
            low, high = wilson_interval(int(cured), int(observed))
            assert (f"{cured / observed * 100:.1f}% ({low * 100:.1f}–{high * 100:.1f}%) n={int(observed):,}"
                    in text)
            shown += 1
    assert shown >= 3
    for status, difference in query(db, "select status, difference from marts.mart_strategy_tests"):
        assert f"<td>{status}</td>" in text
        if difference is not None:
            assert f"{difference * 100:+.1f} pp" in text
    image = chromium_screenshot(page, tmp_path, height=6000)
    drawn = _pixels_like(image, report.WORKS_CHART_COLORS["works"])
    assert drawn >= 400, f"pixels in the what-works chart's colour: {drawn}"


def test_backtest_of_the_current_settings_equals_the_log(replayed: dict, tmp_path: Path) -> None:
    """Replaying month ends with today's settings gives the lists the log holds for them (the log was written
    by replays going forward from an empty warehouse; the backtest goes back from the finished one), and a
    higher overdue threshold lists only customers past it."""
    import pyarrow.parquet as pq

    db = replayed["db"]
    days = _month_ends_before(replayed["as_of"], 2)
    out = tmp_path / "backtest"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "backtest.py"), "--db", str(db), "--raw-dir",
                           str(replayed["raw"]), "--from", days[0].isoformat(), "--to", days[-1].isoformat(),
                           "--vars", json.dumps({"overdue_threshold_days": 45}), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    keys = ("customer_id", "list_type", "segment", "risk_band", "strategy_code", "variant")
    lists = pq.read_table(out / "backtest_lists.parquet").to_pylist()
    for day in days:
        replayed_rows = sorted(tuple(r[k] for k in keys) for r in lists
                               if r["setting"] == "baseline" and r["as_of_date"] == day)
        logged = sorted(tuple(r) for r in query(db, f"select {', '.join(keys)} from marts.fct_strategy_assignments "
                                                    "where as_of_date = ?", [day]))
        assert replayed_rows == logged, day
        assert logged, day
        higher = [r for r in lists if r["setting"] == "alternative" and r["as_of_date"] == day
                  and r["list_type"] == "overdue"]
        assert all(r["days_past_due"] > 45 for r in higher)
        assert len(higher) <= sum(1 for r in replayed_rows if r[1] == "overdue")
    monthly = pq.read_table(out / "backtest_monthly.parquet").to_pylist()
    for m in monthly:
        assert m["overdue_customers"] == sum(1 for r in lists if r["setting"] == m["setting"]
                                             and r["as_of_date"] == m["month_end"] and r["list_type"] == "overdue")
    summary = {r["setting"]: r for r in pq.read_table(out / "backtest_summary.parquet").to_pylist()}
    assert set(summary) == {"baseline", "alternative"}
    assert summary["alternative"]["mean_overdue_customers"] <= summary["baseline"]["mean_overdue_customers"]
    # the report shows it
    page = tmp_path / "report.html"
    shown = subprocess.run([sys.executable, str(ROOT / "scripts" / "report.py"), "--db", str(db), "--out", str(page),
                            "--backtest", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    text = page.read_text(encoding="utf-8")
    assert 'id="backtest"' in text and 'data-chart="backtest"' in text
    assert f"{summary['baseline']['mean_overdue_customers']:,.1f}" in text


@pytest.mark.fast
def test_backtest_arguments() -> None:
    from arrears.backtest import BacktestError, month_ends, parse_settings

    assert month_ends(dt.date(2025, 1, 15), dt.date(2025, 3, 31)) == [
        dt.date(2025, 1, 31), dt.date(2025, 2, 28), dt.date(2025, 3, 31)]
    assert parse_settings('{"overdue_threshold_days": 45}', ["floor=" + '{"materiality_floor": 100}']) == {
        "baseline": {}, "alternative": {"overdue_threshold_days": 45}, "floor": {"materiality_floor": 100}}
    for bad in (("[1]", []), ("{}", []), ('{"as_of_date": "2025-01-31"}', []), (None, ["nojson"]),
                (None, ["baseline={\"x\": 1}"])):
        with pytest.raises(BacktestError):
            parse_settings(*bad)
