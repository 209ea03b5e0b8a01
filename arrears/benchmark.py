"""Scale benchmark: generation, full build, daily incremental run, validation and export at several scales,
against two anchors measured in the same run (the scan bound and a plain pandas script).

Every figure is a whole-process wall time; peak memory is the largest sum of RSS over the process and its
children, sampled every 50 ms. Cheap timings are repeated and the median reported.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import psutil

from arrears import daily_loads, run_summary
from arrears.contract import TABLE_NAMES
from arrears.paths import ROOT, dbt_executable
from arrears.pipeline import WITHOUT_UNIT_TESTS
from arrears.sql import literal

DEMO_END = dt.date(2026, 10, 31)
ANALYSIS = ROOT / "bench" / "analysis.md"
TABLES = TABLE_NAMES


@dataclass
class Measurement:
    seconds: float
    peak_rss_mb: float
    runs: list[float] = field(default_factory=list)


@dataclass
class ScaleResult:
    customers: int
    rows: dict[str, int]
    invoice_and_payment_rows: int
    raw_bytes: int
    db_bytes: int = 0
    timings: dict[str, Measurement] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    dbt_threads: int = 0


def run_measured(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Measurement:
    """Run a command, return its wall time and the peak RSS of it and all its children; raise on failure."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            total = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    try:
                        total += p.memory_info().rss
                    except psutil.NoSuchProcess:
                        pass
            except psutil.NoSuchProcess:
                break
            peak = max(peak, total / 2**20)
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    stop.set()
    sampler.join()
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... exited {proc.returncode}:\n{output[-3000:]}")
    return Measurement(seconds=elapsed, peak_rss_mb=round(peak, 1), runs=[elapsed])


def repeat(measure: Callable[[], Measurement], times: int) -> Measurement:
    runs = [measure() for _ in range(max(1, times))]
    return Measurement(seconds=statistics.median(r.seconds for r in runs),
                       peak_rss_mb=max(r.peak_rss_mb for r in runs), runs=[round(r.seconds, 3) for r in runs])


def raw_files(raw: Path) -> dict[str, Path]:
    found = {}
    for table in TABLES:
        for ext in ("parquet", "csv"):
            if (raw / f"{table}.{ext}").exists():
                found[table] = raw / f"{table}.{ext}"
                break
    return found


def reader(path: Path) -> str:
    if path.suffix == ".parquet":
        return f"read_parquet({literal(str(path))})"
    return f"read_csv({literal(str(path))}, header = true, all_varchar = true)"


def scan_bound_sql(raw: Path) -> str:
    """One query that reads every raw file once and sums amounts per customer: the least any pipeline does."""
    files = raw_files(raw)
    amount = "try_cast(amount as decimal(18, 2))"
    parts = [f"select customer_id, {amount} as amount from {reader(files[t])}" for t in ("invoices", "payments")]
    parts.append(f"select customer_id, 0 as amount from {reader(files['customers'])}")
    if "collection_actions" in files:
        parts.append(f"select customer_id, try_cast(promised_amount as decimal(18, 2)) as amount "
                     f"from {reader(files['collection_actions'])}")
    return ("copy (select customer_id, sum(amount) as total from (" + " union all ".join(parts)
            + ") group by customer_id) to '/dev/null' (format csv)")


def auto_threads(invoice_and_payment_rows: int) -> int:
    """dbt threads for a scale: models run side by side while they are small; one at a time once they are big.

    DuckDB already spreads one query over every core; two large models at once share the memory limit and both
    spill (measured at 1,000,000 customers, same code: stg_invoices_checked 63 s with 2 threads, 39 s with 1;
    stg_payments_checked 65 s and 42 s). At 100,000 customers 2 threads are a little faster (92 s against 99 s).
    A daily run at 1,000,000 customers gains nothing from a second thread either: 226.1 s with 1, 229.5 s with 2
    (the same day from the same saved warehouse, bench/analysis.md "Stop 44"): its queries already use both
    cores."""
    return 1 if invoice_and_payment_rows > 20_000_000 else 2


def dbt_env(db: Path, memory_limit: str, threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DO_NOT_TRACK": "1", "ARREARS_DB": str(db), "ARREARS_HOME": str(ROOT),
                "ARREARS_DUCKDB_MEMORY_LIMIT": memory_limit, "ARREARS_THREADS": str(threads),
                "ARREARS_DUCKDB_TEMP_DIR": str(db.parent / "duckdb_tmp")})
    return env


def dbt_build(db: Path, raw: Path, as_of: dt.date | None, extra: list[str], env: dict[str, str]) -> list[str]:
    """`as_of` None: the project's default (the latest document on or before the run date), as the daily
    schedule runs; the vars then stay the same from day to day and dbt keeps its partial parsing."""
    fmt = "parquet" if raw_files(raw)["invoices"].suffix == ".parquet" else "csv"
    artifacts = db.parent / f"{db.stem}_dbt"
    dbt_vars = {"raw_dir": str(raw), "raw_format": fmt} | ({"as_of_date": as_of.isoformat()} if as_of else {})
    return [dbt_executable(), "build", "--project-dir", str(ROOT), "--profiles-dir", str(ROOT),
            "--target-path", str(artifacts / "target"), "--log-path", str(artifacts / "logs"),
            "--exclude", "tag:risk_decisions", *WITHOUT_UNIT_TESTS, "--vars", json.dumps(dbt_vars), *extra]


def combined(*parts: Measurement) -> Measurement:
    """Steps run one after the other as one job: times add up, the peak is the largest."""
    return Measurement(seconds=sum(p.seconds for p in parts), peak_rss_mb=max(p.peak_rss_mb for p in parts),
                       runs=[round(sum(p.seconds for p in parts), 3)])


def bench_daily_loads(result: ScaleResult, scale_dir: Path, raw: Path, file_format: str, memory_limit: str,
                      threads: int, log: Callable[[str], None]) -> None:
    """Delivery as daily loads (contract v2): the history up to the day before the last as loads (with
    corrections and voids, `arrears.daily_loads`), built from scratch; then the last day's loads added and
    processed by an incremental run. Each measured job is what the schedule runs: consolidate the loads
    (`arrears.loads`), then `dbt build` (models and tests)."""
    py = sys.executable
    everything, delivery = scale_dir / "loads", scale_dir / "delivery"
    consolidated, db = scale_dir / "consolidated", scale_dir / "loads.duckdb"
    daily_loads.split(raw, everything, file_format)
    all_days = daily_loads.load_days(everything)
    # the measured day is the last one that is not a month end: a month end passing restates every customer of
    # the month-end models (int_customer_monthly, mart_risk_features), once a month, not the daily cost
    last = max(i for i, day in enumerate(all_days) if (day + dt.timedelta(days=1)).day != 1)
    days = all_days[:last + 1]
    # a delivery and a warehouse left by an earlier run of the benchmark hold the measured day already (and the
    # run logs, which a full refresh keeps): start both again
    shutil.rmtree(delivery, ignore_errors=True)
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    daily_loads.copy_until(everything, delivery, days[-2])
    # as the schedule runs: the run date in the environment (the day after the loads), the as-of date by default
    env = dbt_env(db, memory_limit, threads) | {"ARREARS_RUN_DATE": (days[-2] + dt.timedelta(days=1)).isoformat()}
    consolidate = [py, "-m", "arrears.loads", "--raw-dir", str(delivery), "--out", str(consolidated)]
    log(f"[{result.customers:,}] daily loads: {len(days)} load days; full build up to {days[-2]}")
    result.timings["loads_build_full"] = combined(
        run_measured(consolidate, env=env), run_measured(dbt_build(db, consolidated, None, ["--full-refresh"], env), env=env))
    daily_loads.copy_until(everything, delivery, days[-1])
    with duckdb.connect() as con:
        def rows(folder: Path, day_filter: str) -> int:
            total = 0
            for table in daily_loads.LOADED_TABLES:
                pattern = folder / table / f"{day_filter}.{file_format}"
                total += con.execute(f"select count(*) from {reader(pattern)}").fetchone()[0]
            return total
        # the day's rows against every loaded row up to and including that day
        day_rows, all_rows = rows(delivery, days[-1].isoformat()), rows(delivery, "*")
    log(f"[{result.customers:,}] daily loads: incremental run for {days[-1]} ({day_rows:,} of {all_rows:,} rows)")
    env["ARREARS_RUN_DATE"] = (days[-1] + dt.timedelta(days=1)).isoformat()
    day_consolidate = run_measured(consolidate, env=env)
    day_dbt = run_measured(dbt_build(db, consolidated, None, [], env), env=env)
    result.timings["loads_build_day"] = combined(day_consolidate, day_dbt)
    split = run_time_split(db)
    result.notes.append(
        f"{result.customers:,} customers, daily run on one new day of loads: consolidating the loads "
        f"{day_consolidate.seconds:.1f} s, dbt build {day_dbt.seconds:.1f} s (dbt's own figures, summed over "
        f"threads: models {split['model']:.1f} s, data tests {split['test']:.1f} s, unit tests {split['unit_test']:.1f} s, "
        f"seeds {split['seed']:.1f} s; the rest is dbt's start, parse and compile)")
    recomputed = run_summary.warehouse_facts(db)["recomputed"]
    if recomputed:
        result.notes.append(
            f"{result.customers:,} customers, daily run: customers recomputed by the per-customer models (of "
            f"{recomputed['customers']:,}): " + ", ".join(f"{m} {n:,}" for m, n in recomputed["models"].items()))
    result.ratios["loads_day_over_full"] = round(
        result.timings["loads_build_day"].seconds / result.timings["loads_build_full"].seconds, 3)
    result.ratios["loads_day_share_of_rows"] = round(day_rows / all_rows, 5)
    result.slowest_daily = slowest_models(db)  # type: ignore[attr-defined]


def run_time_split(db: Path) -> dict[str, float]:
    """Seconds of the last dbt run on `db` by node type (dbt's run_results.json, summed over threads)."""
    results = db.parent / f"{db.stem}_dbt" / "target" / "run_results.json"
    split = {"model": 0.0, "test": 0.0, "unit_test": 0.0, "seed": 0.0}
    if results.exists():
        for r in json.loads(results.read_text())["results"]:
            kind = r["unique_id"].split(".")[0]
            if kind in split:
                split[kind] += r["execution_time"]
    return split


def slowest_models(db: Path, top: int = 8) -> list[dict]:
    results = db.parent / f"{db.stem}_dbt" / "target" / "run_results.json"
    if not results.exists():
        return []
    data = json.loads(results.read_text())
    rows = sorted(data["results"], key=lambda r: -r["execution_time"])[:top]
    return [{"node": r["unique_id"].split(".")[-1], "seconds": round(r["execution_time"], 2)} for r in rows]


def bench_scale(customers: int, work: Path, *, seed: int, file_format: str, repeats: int, repeat_max: int,
                pandas_max: int, memory_limit: str, threads: int, log: Callable[[str], None],
                skip: frozenset[str] = frozenset()) -> ScaleResult:
    scale_dir = work / f"c{customers}"
    if scale_dir.exists():
        shutil.rmtree(scale_dir)
    raw = scale_dir / "raw"
    reps = repeats if customers <= repeat_max else 1
    py = sys.executable

    log(f"[{customers:,}] generating ({file_format})")
    gen = run_measured([py, "-m", "arrears.demo", "--customers", str(customers),
                        "--seed", str(seed), "--out", str(raw), "--format", file_format, "--quiet"])
    files = raw_files(raw)
    with duckdb.connect() as con:
        rows = {t: con.execute(f"select count(*) from {reader(p)}").fetchone()[0] for t, p in files.items()}
    result = ScaleResult(customers=customers, rows=rows,
                         invoice_and_payment_rows=rows["invoices"] + rows["payments"],
                         raw_bytes=sum(p.stat().st_size for p in files.values()))
    result.timings["generate"] = gen
    log(f"[{customers:,}] rows: " + ", ".join(f"{t}={n:,}" for t, n in rows.items()))

    log(f"[{customers:,}] scan bound x{reps}")
    scan_sql = scan_bound_sql(raw)
    scan_cmd = [py, "-c", "import duckdb, sys; duckdb.connect().execute(sys.argv[1])", scan_sql]
    result.timings["scan_bound"] = repeat(lambda: run_measured(scan_cmd), reps)

    log(f"[{customers:,}] single-query anchor x{reps}")
    sql_cmd = [py, str(ROOT / "bench" / "sql_aging.py"), "--raw-dir", str(raw), "--as-of", DEMO_END.isoformat()]
    result.timings["sql_aging"] = repeat(lambda: run_measured(sql_cmd), reps)

    if customers <= pandas_max:
        log(f"[{customers:,}] pandas script x{reps}")
        pandas_cmd = [py, str(ROOT / "bench" / "pandas_aging.py"), "--raw-dir", str(raw),
                      "--as-of", DEMO_END.isoformat()]
        result.timings["pandas_aging"] = repeat(lambda: run_measured(pandas_cmd), reps)
    else:
        result.notes.append(f"pandas script not run above {pandas_max:,} customers (time budget)")

    if threads <= 0:
        threads = auto_threads(result.invoice_and_payment_rows)
    result.dbt_threads = threads
    log(f"[{customers:,}] dbt threads: {threads}")
    db = scale_dir / "bench.duckdb"
    env = dbt_env(db, memory_limit, threads)
    first_as_of = DEMO_END - dt.timedelta(days=1)

    def full_build() -> Measurement:
        for stale in scale_dir.glob("bench.duckdb*"):
            stale.unlink()
        return run_measured(dbt_build(db, raw, first_as_of, ["--full-refresh"], env), env=env)

    if customers <= pandas_max:
        # like for like with the pandas script: only the models (and seeds) fct_customer_aging needs, no tests
        aging_db = scale_dir / "aging_only.duckdb"
        aging_env = dbt_env(aging_db, memory_limit, threads)

        def aging_models() -> Measurement:
            for stale in scale_dir.glob("aging_only.duckdb*"):
                stale.unlink()
            return run_measured(dbt_build(aging_db, raw, DEMO_END, [
                "--full-refresh", "--select", "+fct_customer_aging", "--resource-type", "model",
                "--resource-type", "seed"], aging_env), env=aging_env)

        log(f"[{customers:,}] dbt models of fct_customer_aging only (like for like with pandas) x{reps}")
        result.timings["dbt_aging_models"] = repeat(aging_models, reps)
        for stale in scale_dir.glob("aging_only.duckdb*"):
            stale.unlink()

    log(f"[{customers:,}] full dbt build (models and tests) x{reps}")
    result.timings["dbt_build_full"] = repeat(full_build, reps)
    result.slowest = slowest_models(db)  # type: ignore[attr-defined]

    if "incremental" not in skip:
        log(f"[{customers:,}] daily incremental run (as-of + 1 day)")
        result.timings["dbt_build_incremental"] = run_measured(dbt_build(db, raw, DEMO_END, [], env), env=env)
    result.db_bytes = db.stat().st_size
    if "daily_loads" not in skip:
        bench_daily_loads(result, scale_dir, raw, file_format, memory_limit, threads, log)

    for step in sorted(skip):
        result.notes.append(f"{step} not measured at {customers:,} customers (--skip, time budget)")
    if "validate_marts" not in skip:
        log(f"[{customers:,}] mart validation")
        result.timings["validate_marts"] = run_measured(
            [py, "-m", "arrears.validation.cli", "--db", str(db), "--stage", "marts",
             "--docs-dir", str(scale_dir / "docs")])
    if "export" not in skip:
        log(f"[{customers:,}] export")
        result.timings["export"] = run_measured(
            [py, "-m", "arrears.export.cli", "--db", str(db), "--as-of",
             # the date the database holds: the incremental run moves it from first_as_of to DEMO_END
             (first_as_of if "incremental" in skip else DEMO_END).isoformat(),
             "--out", str(scale_dir / "lists"), "--format", "csv,parquet", "--force"])

    t = result.timings
    build = t["dbt_build_full"].seconds
    result.ratios["build_over_scan_bound"] = round(build / t["scan_bound"].seconds, 2)
    if "pandas_aging" in t:
        result.ratios["pandas_over_build"] = round(t["pandas_aging"].seconds / build, 2)
    if "pandas_aging" in t and "dbt_aging_models" in t:
        result.ratios["pandas_over_aging_models"] = round(t["pandas_aging"].seconds / t["dbt_aging_models"].seconds, 2)
    if "sql_aging" in t and "dbt_aging_models" in t:
        result.ratios["aging_models_over_sql_anchor"] = round(t["dbt_aging_models"].seconds / t["sql_aging"].seconds, 2)
    if "dbt_build_incremental" in t:
        result.ratios["incremental_over_full"] = round(t["dbt_build_incremental"].seconds / build, 3)
    return result


def machine() -> dict:
    mem = psutil.virtual_memory().total / 2**30
    return {"cores": os.cpu_count(), "memory_gib": round(mem, 1), "platform": platform.platform(),
            "python": platform.python_version(), "duckdb": duckdb.__version__}


def growth(results: list[ScaleResult]) -> dict:
    by = {r.customers: r for r in results}
    out = {}
    if 100_000 in by and 1_000_000 in by:
        out["full_build_1m_over_100k"] = round(by[1_000_000].timings["dbt_build_full"].seconds
                                               / by[100_000].timings["dbt_build_full"].seconds, 2)
        out["scan_bound_1m_over_100k"] = round(by[1_000_000].timings["scan_bound"].seconds
                                               / by[100_000].timings["scan_bound"].seconds, 2)
    return out


def to_json(results: list[ScaleResult], settings: dict) -> dict:
    return {"measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "machine": machine(),
            "settings": settings, "growth": growth(results),
            "scales": [{**asdict(r), "slowest_models": getattr(r, "slowest", []),
                        "slowest_models_daily_loads": getattr(r, "slowest_daily", [])} for r in results]}


def table(results: list[ScaleResult]) -> str:
    steps = ["generate", "scan_bound", "sql_aging", "pandas_aging", "dbt_aging_models", "dbt_build_full", "dbt_build_incremental",
             "loads_build_full", "loads_build_day", "validate_marts", "export"]
    head = f"{'customers':>10} {'inv+pay rows':>13} " + " ".join(f"{s:>16}" for s in steps)
    head += f" {'peak build MiB':>15} {'db MiB':>8} {'build/scan':>11} {'pandas/build':>13} {'incr/full':>10}"
    lines = [head]
    for r in results:
        cells = [f"{r.timings[s].seconds:>15.1f}s" if s in r.timings else f"{'-':>16}" for s in steps]
        lines.append(
            f"{r.customers:>10,} {r.invoice_and_payment_rows:>13,} " + " ".join(cells)
            + f" {r.timings['dbt_build_full'].peak_rss_mb:>15,.0f} {r.db_bytes / 2**20:>8,.0f}"
            + f" {r.ratios.get('build_over_scan_bound', float('nan')):>11.2f}"
            + f" {r.ratios.get('pandas_over_build', float('nan')):>13.2f}"
            + f" {r.ratios.get('incremental_over_full', float('nan')):>10.3f}")
    return "\n".join(lines)


def chart_svg(results: list[ScaleResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    xs = [r.customers for r in results]
    for key, label in [("dbt_build_full", "full dbt build"), ("scan_bound", "scan bound"),
                       ("sql_aging", "single-query anchor"),
                       ("pandas_aging", "pandas script"), ("dbt_aging_models", "dbt models of fct_customer_aging only"),
                       ("dbt_build_incremental", "daily incremental run"),
                       ("loads_build_day", "daily loads: one new day")]:
        pts = [(r.customers, r.timings[key].seconds) for r in results if key in r.timings]
        if pts:
            ax.plot(*zip(*pts), marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("customers")
    ax.set_ylabel("wall time (s)")
    ax.set_title("Time against scale (log-log)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_xticks(xs)
    ax.set_xticklabels([f"{x:,}" for x in xs])
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="svg", metadata={"Date": None})
    plt.close(fig)


TARGETS = [
    ("full dbt build at 1,000,000 customers", "under 300 s"),
    ("peak memory of the build at 1,000,000 customers", "under 6 GiB"),
    ("full build / scan bound, 100,000 customers and above", "at most 8"),
    ("pandas script / full build at 100,000 customers", "at least 10"),
    ("daily run on one new day of loads / full build of the loads at 1,000,000 customers", "under 0.15"),
    ("full build time(1,000,000) / time(100,000)", "at most 12"),
]


def markdown(payload: dict, chart: str) -> str:
    """docs/benchmarks.md from a results payload: machine, commands, table, targets met or missed."""
    scales = payload["scales"]
    by = {s["customers"]: s for s in scales}
    m = payload["machine"]
    lines = [
        "# Benchmarks", "",
        f"Measured {payload['measured_at']} on {m['cores']} cores, {m['memory_gib']} GiB, {m['platform']}, "
        f"Python {m['python']}, DuckDB {m['duckdb']}. Raw files: {payload['settings']['format']}; DuckDB memory "
        f"limit {payload['settings']['memory_limit']}; dbt threads per scale: "
        + ", ".join(f"{s['customers']:,}: {s.get('dbt_threads') or payload['settings']['threads']}" for s in scales)
        + " (one at a time above 20 M invoice + payment rows, see `auto_threads`).", "",
        "Reproduce: `make benchmark` (or `.venv/bin/arrears-benchmark --customers "
        f"{','.join(str(s['customers']) for s in scales)} --out bench/results.json --markdown docs/benchmarks.md`).",
        "Every figure is a whole-process wall time (median of the repeats where repeated); memory is the peak RSS of",
        "the process and its children. Raw figures: `bench/results.json`.", "",
        "| customers | invoice + payment rows | generate | scan bound | single-query anchor | pandas script "
        "| dbt aging models only | full dbt build | daily incremental (full extract) | daily loads: full build "
        "| daily loads: one new day | mart validation | export | peak build RSS | database |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scales:
        t = s["timings"]
        cell = lambda k, t=t: f"{t[k]['seconds']:.1f} s" if k in t else "–"  # noqa: E731
        lines.append(
            f"| {s['customers']:,} | {s['invoice_and_payment_rows']:,} | {cell('generate')} | {cell('scan_bound')} "
            f"| {cell('sql_aging')} | {cell('pandas_aging')} | {cell('dbt_aging_models')} | {cell('dbt_build_full')} "
            f"| {cell('dbt_build_incremental')} | {cell('loads_build_full')} | {cell('loads_build_day')} "
            f"| {cell('validate_marts')} | {cell('export')} | {t['dbt_build_full']['peak_rss_mb'] / 1024:.2f} GiB "
            f"| {s['db_bytes'] / 2**20:,.0f} MiB |")
    lines += ["", f"![time against scale]({chart})", "", "## Targets", "",
              "| target | goal | measured | met |", "|---|---|---|---|"]

    def row(name: str, goal: str, value: float | None, ok: bool | None, fmt: str) -> None:
        shown = "not measured" if value is None else fmt.format(value)
        lines.append(f"| {name} | {goal} | {shown} | {'–' if ok is None else ('yes' if ok else '**no**')} |")

    big, mid = by.get(1_000_000), by.get(100_000)
    b = big["timings"]["dbt_build_full"] if big else None
    row(*TARGETS[0], b["seconds"] if b else None, (b["seconds"] < 300) if b else None, "{:.0f} s")
    row(*TARGETS[1], b["peak_rss_mb"] / 1024 if b else None, (b["peak_rss_mb"] < 6 * 1024) if b else None,
        "{:.2f} GiB")
    ratios = [s["ratios"]["build_over_scan_bound"] for s in scales if s["customers"] >= 100_000]
    worst = max(ratios) if ratios else None
    row(*TARGETS[2], worst, (worst <= 8) if worst is not None else None, "{:.1f}x (worst)")
    p = mid["ratios"].get("pandas_over_build") if mid else None
    row(*TARGETS[3], p, (p >= 10) if p is not None else None, "{:.1f}x")
    p = mid["ratios"].get("pandas_over_aging_models") if mid else None
    row("pandas script / dbt models of fct_customer_aging only (like for like), 100,000 customers", "at least 10", p,
        (p >= 10) if p is not None else None, "{:.1f}x")
    q = mid["ratios"].get("aging_models_over_sql_anchor") if mid else None
    row("dbt models of fct_customer_aging only / single-query anchor (bench/sql_aging.py), 100,000 customers",
        "at most 2", q, (q <= 2) if q is not None else None, "{:.1f}x")
    inc = big["ratios"].get("loads_day_over_full") if big else None
    row(*TARGETS[4], inc, (inc < 0.15) if inc is not None else None, "{:.3f}")
    day = big["timings"].get("loads_build_day") if big else None
    row("daily run on one new day of loads at 1,000,000 customers", "under 60 s", day["seconds"] if day else None,
        (day["seconds"] < 60) if day else None, "{:.0f} s")
    inc = big["ratios"].get("incremental_over_full") if big else None
    row("daily incremental run on a full extract (as-of + 1 day) / full build at 1,000,000 customers", "–", inc,
        None, "{:.3f}")
    g = payload["growth"].get("full_build_1m_over_100k")
    row(*TARGETS[5], g, (g <= 12) if g is not None else None, "{:.1f}")
    lines += ["", "## Slowest models (dbt run_results, largest scale)", ""]
    for entry in scales[-1].get("slowest_models", []):
        lines.append(f"- `{entry['node']}`: {entry['seconds']} s")
    if scales[-1].get("slowest_models_daily_loads"):
        share = scales[-1]["ratios"].get("loads_day_share_of_rows")
        lines += ["", "Daily run on one new day of loads" + (f" ({share:.2%} of the rows)" if share else "") + ":", ""]
        for entry in scales[-1]["slowest_models_daily_loads"]:
            lines.append(f"- `{entry['node']}`: {entry['seconds']} s")
    notes = [n for s in scales for n in s.get("notes", [])]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    if ANALYSIS.exists():
        # the reading of these figures, written by whoever ran them (kept beside results.json)
        lines += ["", ANALYSIS.read_text(encoding="utf-8").rstrip()]
    return "\n".join(lines) + "\n"


def scale_from_json(entry: dict) -> ScaleResult:
    """A ScaleResult back from results.json (for --append)."""
    result = ScaleResult(customers=entry["customers"], rows=entry["rows"],
                         invoice_and_payment_rows=entry["invoice_and_payment_rows"], raw_bytes=entry["raw_bytes"],
                         db_bytes=entry["db_bytes"], ratios=entry["ratios"], notes=entry.get("notes", []),
                         dbt_threads=entry.get("dbt_threads", 0))
    result.timings = {k: Measurement(**v) for k, v in entry["timings"].items()}
    result.slowest = entry.get("slowest_models", [])  # type: ignore[attr-defined]
    result.slowest_daily = entry.get("slowest_models_daily_loads", [])  # type: ignore[attr-defined]
    return result


BENCHMARK_HELP = """Scale benchmark of the warehouse: prints a table and writes JSON (and an SVG chart).

For each scale: data generation, the scan bound (one DuckDB query reading every raw file once), the plain
pandas script (bench/pandas_aging.py), the full `dbt build` (models and tests), a daily incremental run,
the daily-loads mode (the history as daily loads built from scratch, then one new day's loads processed
incrementally), mart validation and export; peak memory of the build and database size. Cheap timings are repeated
(--repeats) and the median reported. Targets are judged from the printed figures (docs/benchmarks.md).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=BENCHMARK_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", default="10000,100000,1000000",
                        help="comma-separated scales (default %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("bench/results.json"))
    parser.add_argument("--chart", type=Path, default=Path("docs/benchmark_scale.svg"))
    parser.add_argument("--markdown", type=Path, default=None, help="also write docs/benchmarks.md here")
    parser.add_argument("--work-dir", type=Path, default=None, help="data and databases (default: temp)")
    parser.add_argument("--format", choices=["csv", "parquet"], default="parquet", help="raw file format")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=3, help="repeats of cheap timings (median reported)")
    parser.add_argument("--repeat-max-customers", type=int, default=100_000,
                        help="repeat timings only up to this scale (default %(default)s)")
    parser.add_argument("--pandas-max-customers", type=int, default=100_000,
                        help="run the pandas anchor only up to this scale (default %(default)s)")
    parser.add_argument("--memory-limit", default="5GB", help="DuckDB memory_limit for the build")
    parser.add_argument("--threads", type=int, default=0,
                        help="dbt threads (models built side by side); 0 = auto: 2, or 1 above 20 M rows")
    parser.add_argument("--skip", default="",
                        help="steps not to measure: incremental, daily_loads, validate_marts, export")
    parser.add_argument("--append", action="store_true",
                        help="keep the scales already in --out (a scale measured again replaces its entry)")
    parser.add_argument("--render-only", action="store_true",
                        help="measure nothing: write --chart and --markdown again from the results in --out "
                             "(after editing bench/analysis.md)")
    args = parser.parse_args(argv)

    if args.render_only:
        payload = json.loads(args.out.read_text())
        chart_svg([scale_from_json(s) for s in payload["scales"]], args.chart)
        markdown_path = args.markdown or Path("docs/benchmarks.md")
        chart_ref = os.path.relpath(args.chart.resolve(), markdown_path.resolve().parent)
        markdown_path.write_text(markdown(payload, chart_ref), encoding="utf-8")
        print(f"wrote {markdown_path} and {args.chart} from {args.out}")
        return 0

    scales = [int(s) for s in args.customers.split(",") if s.strip()]
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="arrears_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    results = []
    if args.append and args.out.exists():
        results = [scale_from_json(s) for s in json.loads(args.out.read_text())["scales"] if s["customers"] not in scales]
    skip = frozenset(x.strip() for x in args.skip.split(",") if x.strip())
    for n in scales:
        results.append(bench_scale(n, work, seed=args.seed, file_format=args.format, repeats=args.repeats,
                                   repeat_max=args.repeat_max_customers, pandas_max=args.pandas_max_customers,
                                   memory_limit=args.memory_limit, threads=args.threads,
                                   log=lambda m: print(m, flush=True), skip=skip))
        results.sort(key=lambda r: r.customers)
        payload = to_json(results, settings)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print()
    print(table(results))
    print(json.dumps(payload["growth"]))
    chart_svg(results, args.chart)
    if args.markdown:
        chart_ref = os.path.relpath(args.chart.resolve(), args.markdown.resolve().parent)
        args.markdown.write_text(markdown(payload, chart_ref), encoding="utf-8")
    print(f"\nresults: {args.out}\nchart: {args.chart}\nwork folder: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
