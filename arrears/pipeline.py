"""The end-to-end pipeline: raw validation -> delivery guards -> dbt build -> risk-model training -> decision marts -> mart
validation -> export -> publish -> report.

Every step runs as its own process (the same commands the Airflow DAG runs), so a step's memory and its
DuckDB lock end with it. The first failing step stops the run with a message naming it and a non-zero exit.

The steps up to export work on a build file beside the published one (`arrears.publish`): `--db` is the
file users and BI open, and it changes only at the publish step, in one atomic replace. Steps can be run
one per invocation (`--steps build`, then `--steps validate_marts`, ...) as the Airflow DAG does.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from arrears import guards, loads, publish, run_summary
from arrears.atomic import write_json
from arrears.contract import TABLE_NAMES
from arrears.paths import ROOT, dbt_executable, default_db, default_out_dir, default_raw_dir, spill_root_of

STEPS = ("validate_raw", "check_delivery", "build", "train_risk", "build_decisions", "validate_marts", "export",
         "publish", "report")
# Steps that read or write the build file: they run under its lock (`report` reads the published file).
BUILD_STEPS = {"validate_raw", "check_delivery", "build", "train_risk", "build_decisions", "validate_marts", "export", "publish"}
# dbt's unit tests check the models' logic on fixed fixtures, not the day's data: the same result every day, so
# the scheduled build leaves them out (as dbt's docs advise for production). They run where the logic changes:
# `make test` (the test suite's demo build runs them), `dbt build` / `dbt test` by hand.
WITHOUT_UNIT_TESTS = ("--exclude-resource-type", "unit_test")
# The tool (module with a main) behind a step, run as `python -m <module>` by the same interpreter.
STEP_TOOLS = {"validate_raw": "arrears.validation.cli", "validate_marts": "arrears.validation.cli",
              "export": "arrears.export", "report": "arrears.report", "train_risk": "arrears.risk.cli"}


def has_tool(step: str) -> bool:
    """Whether the step's tool is installed (the risk model, for one, needs its own dependencies)."""
    import importlib.util

    return step not in STEP_TOOLS or importlib.util.find_spec(STEP_TOOLS[step]) is not None


class PipelineError(RuntimeError):
    """A step failed; the message names it."""

    exit_code = 1


class DeliveryStopped(PipelineError):
    """A delivery guard fired (arrears.guards): nothing was built or published."""

    exit_code = 4


@dataclass(frozen=True)
class RunConfig:
    raw_dir: Path
    db: Path
    out: Path
    as_of: dt.date | None
    full_refresh: bool = False
    full_tests: bool = False              # data tests on every row, not only the customers the run recomputed
    steps: tuple[str, ...] = STEPS
    threads: int | None = None
    run_date: dt.date | None = None       # the day the run stands in; None = today
    accept_guards: tuple[str, ...] = ()   # delivery guards acknowledged for this run (guard or guard:table)
    replay_month_ends: int = 0            # issue the strategy lists of up to this many past month ends first
    guard_settings: guards.GuardSettings = guards.GuardSettings()

    def effective_run_date(self) -> dt.date:
        return self.run_date or dt.date.today()

    def dbt_vars(self) -> dict[str, str | bool]:
        # risk_scores_dir on every dbt call (not only build_decisions): the same vars keep dbt's partial parsing
        out: dict[str, str | bool] = {"raw_dir": str(self.raw_dir), "raw_format": raw_format(self.raw_dir),
                               "risk_scores_dir": str(risk_dir(self.db))}
        if self.as_of is not None:
            out["as_of_date"] = self.as_of.isoformat()
        if self.full_tests:
            out["full_tests"] = True
        # the run date is not a var but ARREARS_RUN_DATE in dbt_env(): a var that changes daily re-parses the
        # whole project every day (macros/dates.sql)
        return out


CONTRACT_TABLES = TABLE_NAMES


def raw_format(raw_dir: Path) -> str:
    """'csv' or 'parquet': the format of the contract files in the folder (one format per folder)."""
    found = {ext for table in CONTRACT_TABLES for ext in ("csv", "parquet") if (raw_dir / f"{table}.{ext}").exists()}
    if len(found) > 1:
        raise PipelineError(f"{raw_dir} mixes CSV and Parquet contract files; use one format per folder")
    return found.pop() if found else "csv"


def dbt_env(db: Path, run_date: dt.date | None = None) -> dict[str, str]:
    """dbt's environment for the database file `db`; `run_date` (always passed by the pipeline) is the day the
    run stands in: rows dated after it are set aside (future_date) and never move the as-of date."""
    env = dict(os.environ)
    env.update({"DO_NOT_TRACK": "1", "ARREARS_DB": str(db), "ARREARS_HOME": str(ROOT)})
    if run_date is not None:
        env["ARREARS_RUN_DATE"] = run_date.isoformat()
    env["ARREARS_DUCKDB_TEMP_DIR"] = str(spill_root_of(db))
    return env


def dbt_artifacts(db: Path) -> Path:
    """dbt's target and log folders for the database file `db` (beside it)."""
    return db.parent / f"{db.stem}_dbt"


def dbt_command(command: str, cfg: RunConfig, *extra: str) -> list[str]:
    """A dbt invocation against this project, with its artifacts kept beside the database file."""
    artifacts = dbt_artifacts(cfg.db)
    cmd = [
        dbt_executable(), command,
        "--project-dir", str(ROOT), "--profiles-dir", str(ROOT),
        "--target-path", str(artifacts / "target"), "--log-path", str(artifacts / "logs"),
        "--vars", json.dumps(cfg.dbt_vars()),
    ]
    if cfg.full_refresh and command in {"build", "run"}:
        cmd.append("--full-refresh")
    if cfg.threads:
        cmd += ["--threads", str(cfg.threads)]
    return cmd + list(extra)


def _tool(step: str) -> list[str]:
    return [sys.executable, "-m", STEP_TOOLS[step]]


def step_commands(step: str, cfg: RunConfig, as_of: dt.date | None,
                  lists_out: Path | None = None) -> list[str] | None:
    """The command of one step; None when the step's tool is not part of this checkout (or, for publish,
    when the step runs inside this process)."""
    if step == "build":
        return dbt_command("build", cfg, "--exclude", RISK_DECISIONS, *WITHOUT_UNIT_TESTS)
    if step in RISK_STEPS:
        return risk_step_command(step, cfg)
    if step == "validate_raw":
        return _tool(step) + ["--db", str(cfg.db), "--raw-dir", str(cfg.raw_dir), "--stage", "raw",
                                         "--docs-dir", str(cfg.out / "data_docs")]
    if step == "validate_marts":
        # staging holds the quarantine-share and conservation checks; marts the reconciliations
        return _tool(step) + ["--db", str(cfg.db), "--stage", "staging,marts",
                                         "--docs-dir", str(cfg.out / "data_docs")]
    if step == "export":
        assert as_of is not None
        return _tool(step) + [
            "--db", str(cfg.db), "--as-of", as_of.isoformat(), "--out", str(lists_out or cfg.out / "lists"),
            "--force"]
    if step == "publish":
        return None
    if step == "report":
        assert as_of is not None
        return _tool(step) + [
            "--db", str(cfg.db), "--out", str(cfg.out / "report" / f"overdue_report_{as_of.isoformat()}.html")]
    raise ValueError(f"unknown step {step!r}")


def built_as_of(db: Path) -> dt.date:
    """The as-of date the build used (dbt resolves the default from the data)."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("select as_of_date from intermediate.int_as_of_date").fetchone()
    if row is None or row[0] is None:
        raise PipelineError(f"{db} holds no as-of date: the build did not finish")
    return row[0]


def run(cfg: RunConfig) -> dt.date:
    cfg.db.parent.mkdir(parents=True, exist_ok=True)
    layout = publish.Layout(db=cfg.db, out=cfg.out)
    locked = BUILD_STEPS.intersection(cfg.steps)
    with publish.build_lock(layout) if locked else contextlib.nullcontext():
        if locked:
            publish.recover(layout)
            cfg = consolidate_loads(cfg, layout)
        return _run_steps(cfg, layout)


DELIVERY: dict = {}   # what check_delivery found in this process (for the run summary)
LOADS: dict = {}      # what consolidate_loads did in this process (for the run summary)


class DeliveryShapeError(PipelineError):
    """The delivery is ambiguous (a table both as a file and a folder of loads, mixed formats)."""

    exit_code = 2


def consolidate_loads(cfg: RunConfig, layout: publish.Layout) -> RunConfig:
    """Tables delivered as folders of loads (contract v2) become one Parquet extract each (arrears.loads), in
    the build's work folder, kept between runs: each run reads only the loads it has not processed yet. Every
    later step reads that folder. A delivery of full extracts is used as it is."""
    LOADS.clear()
    if not loads.has_loads(cfg.raw_dir):
        return cfg
    target = layout.work_dir / "raw_from_loads"
    started = time.monotonic()
    try:
        report = loads.consolidate(cfg.raw_dir, target, spill_root=spill_root_of(cfg.db))
    except loads.LoadsError as exc:
        raise DeliveryShapeError(f"the delivery in {cfg.raw_dir} cannot be read: {exc}") from exc
    LOADS.update(report.to_dict())
    cfg.out.mkdir(parents=True, exist_ok=True)
    write_json(cfg.out / "loads.json", LOADS)
    for table in report.tables:
        read = "all read (rebuilt)" if table.rebuilt else f"{len(table.loads_read)} new read"
        print(f"[pipeline] loads: {table.table}: {len(table.loads)} loads ({read}), {table.rows_read} rows, "
              f"{table.superseded} superseded by later versions", flush=True)
    print(f"[pipeline] loads: one extract per table in {target} ({time.monotonic() - started:.1f}s)", flush=True)
    return dataclasses.replace(cfg, raw_dir=target)


def check_delivery(cfg: RunConfig) -> guards.DeliveryCheck:
    """The delivery guards (arrears.guards) against the last published run; raises DeliveryStopped."""
    check = guards.measure(cfg.raw_dir, cfg.guard_settings)
    try:
        guards.evaluate(check, guards.load_previous(cfg.db), cfg.guard_settings, cfg.accept_guards)
    except guards.GuardError as exc:
        raise PipelineError(str(exc)) from exc
    DELIVERY.clear()
    DELIVERY.update(check.to_json())
    for finding in check.findings:
        state = "acknowledged for this run (--accept-guard)" if finding.accepted else "STOP"
        print(f"[pipeline] check_delivery: {finding.key}: {finding.message} - {state}", flush=True)
    for note in check.notes:
        print(f"[pipeline] check_delivery: note: {note}", flush=True)
    if check.blocking:
        keys = " ".join(f"--accept-guard {f.key}" for f in check.blocking)
        raise DeliveryStopped(
            "step 'check_delivery' stopped the run before the build: "
            + "; ".join(f.message for f in check.blocking)
            + f". Nothing was built or published. If this delivery is right (a one-off), run again with {keys}")
    return check


def _run_steps(cfg: RunConfig, layout: publish.Layout) -> dt.date:
    build_cfg = dataclasses.replace(cfg, db=layout.build_db)  # every step but report works on the build file
    env = dbt_env(layout.build_db, cfg.effective_run_date())
    as_of = cfg.as_of
    for step in STEPS:
        if step not in cfg.steps:
            continue
        if step == "check_delivery":
            started = time.monotonic()
            print("[pipeline] check_delivery: row counts against the last published run", flush=True)
            check_delivery(cfg)
            print(f"[pipeline] check_delivery: ok in {time.monotonic() - started:.1f}s", flush=True)
            continue
        if step == "build":
            publish.prepare_build(layout, full_refresh=cfg.full_refresh)
            if cfg.replay_month_ends:
                replay_month_ends(build_cfg, env)
        if step in {"export", "report"} and as_of is None:
            as_of = built_as_of(layout.build_db if step == "export" else cfg.db)
        if step == "publish":
            started = time.monotonic()
            print("[pipeline] publish: build file -> " + str(cfg.db), flush=True)
            publish.publish(layout, require_validated=has_tool("validate_marts"), require_exported=has_tool("export"))
            # the counts the next run's delivery guards compare with (this delivery is now the published one)
            guards.record(cfg.db, guards.measure(cfg.raw_dir, cfg.guard_settings), as_of or _try_built_as_of(cfg.db))
            print(f"[pipeline] publish: ok in {time.monotonic() - started:.1f}s", flush=True)
            continue
        if step in RISK_STEPS:
            publish.current_build(layout)  # fails early when no build is waiting (or it changed since)
        lists_out = None
        if step in {"validate_marts", "export"} and has_tool(step):
            build_id = publish.current_build(layout)["build_id"]  # fails early when no build is waiting
            lists_out = layout.lists_staging_dir(build_id)
        cmd = step_commands(step, cfg if step == "report" else build_cfg, as_of, lists_out=lists_out)
        if cmd is None:
            print(f"[pipeline] {step}: skipped (tool not present in this checkout)", flush=True)
            continue
        print(f"[pipeline] {step}: {' '.join(cmd[1:3]) if step in ('build', *STEP_TOOLS) else Path(cmd[1]).name}",
              flush=True)
        started = time.monotonic()
        result = subprocess.run(cmd, env=env if step != "report" else dbt_env(cfg.db, cfg.effective_run_date()),
                                cwd=ROOT)
        if step == "build":  # the tests that warned, for the run summary (also when the build failed)
            run_summary.save_build_warnings(cfg.out, dbt_artifacts(layout.build_db) / "target" / "run_results.json")
        if result.returncode != 0:
            raise PipelineError(f"step '{step}' failed (exit {result.returncode}); later steps were not run")
        if step == "build":
            publish.mark_built(layout, cfg.as_of or _try_built_as_of(layout.build_db))
        elif step == "build_decisions":
            mark_rebuilt(layout, cfg.as_of or _try_built_as_of(layout.build_db))
        elif step == "train_risk":
            print(f"[pipeline] train_risk: {training_outcome(cfg.out)}", flush=True)
        elif step == "validate_marts":
            publish.mark_checked(layout, "validated")
        elif step == "export":
            publish.mark_checked(layout, "exported")
        print(f"[pipeline] {step}: ok in {time.monotonic() - started:.1f}s", flush=True)
    if as_of is None and "build" in cfg.steps:
        as_of = built_as_of(layout.build_db)
    return as_of  # type: ignore[return-value]


# the run logs a replayed month end writes (each with every model upstream of it)
REPLAYED_LOGS = ("+fct_strategy_assignments", "+fct_overdue_type_snapshots")


def month_ends_before(as_of: dt.date, count: int) -> list[dt.date]:
    """The last `count` month ends strictly before `as_of`, oldest first."""
    ends: list[dt.date] = []
    day = as_of.replace(day=1) - dt.timedelta(days=1)
    while len(ends) < count:
        ends.append(day)
        day = day.replace(day=1) - dt.timedelta(days=1)
    return ends[::-1]


def logged_assignment_dates(db: Path) -> set[dt.date]:
    """The as-of dates fct_strategy_assignments already holds (none in a new warehouse)."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        exists = con.execute("select count(*) from information_schema.tables where table_schema = 'marts' "
                             "and table_name = 'fct_strategy_assignments'").fetchone()[0]
        if not exists:
            return set()
        return {r[0] for r in con.execute("select distinct as_of_date from marts.fct_strategy_assignments").fetchall()}


def replay_month_ends(cfg: RunConfig, env: dict[str, str]) -> list[dt.date]:
    """Issue the strategy lists of the last `cfg.replay_month_ends` month ends before the as-of date that the
    log (fct_strategy_assignments) does not hold yet, each by a `dbt build` (no tests) of the models the run
    logs need at that as-of date (the lists, and the overdue types of fct_overdue_type_snapshots), oldest first; the build that follows brings every model back to the as-of date. A warehouse
    thus measures its strategies (mart_strategy_effectiveness) from its first run: each replay is what the
    product would have issued that day from the data it had then, less corrections delivered since. Returns
    the month ends replayed."""
    # models and seeds only (`build` less tests: `run` would skip the seeds a new warehouse lacks); the build
    # that follows tests everything
    untested = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
    if cfg.as_of is None:  # the as-of date the build will use: the staging models and int_as_of_date first
        _run_dbt_step("replay", dbt_command("build", dataclasses.replace(cfg, full_refresh=False),
                                            "--select", "+int_as_of_date", *untested), env)
    as_of = cfg.as_of or built_as_of(cfg.db)
    done = logged_assignment_dates(cfg.db)
    todo = [d for d in month_ends_before(as_of, cfg.replay_month_ends) if d not in done]
    for day in todo:
        replay_cfg = dataclasses.replace(cfg, as_of=day, full_refresh=False)
        _run_dbt_step(f"replay {day.isoformat()}",
                      dbt_command("build", replay_cfg, "--select", *REPLAYED_LOGS,
                                  "--exclude", RISK_DECISIONS, *untested), env)
    return todo


def _run_dbt_step(label: str, cmd: list[str], env: dict[str, str]) -> None:
    print(f"[pipeline] {label}: dbt {cmd[1]}", flush=True)
    started = time.monotonic()
    result = subprocess.run(cmd, env=env, cwd=ROOT)
    if result.returncode != 0:
        raise PipelineError(f"step '{label}' failed (exit {result.returncode}); later steps were not run")
    print(f"[pipeline] {label}: ok in {time.monotonic() - started:.1f}s", flush=True)


def _try_built_as_of(db: Path) -> dt.date | None:
    try:
        return built_as_of(db)
    except Exception:
        return None


# ------------------------------------------------------------------------------------------ risk model
# build (everything but tag:risk_decisions) -> train_risk (reads marts.mart_risk_features read-only, writes the
# score Parquet files beside the build file) -> build_decisions (dbt builds tag:risk_decisions from those files).
# Too few labels to train is not a failure: train_risk writes no scores and says so; the decisions say no_score.
RISK_DECISIONS = "tag:risk_decisions"
RISK_STEPS = ("train_risk", "build_decisions")


def risk_dir(db: Path) -> Path:
    """Where train_risk writes scores and model for the database file `db` (dbt reads it as var risk_scores_dir)."""
    return db.parent / f"{db.stem}_risk"


def risk_report_path(out: Path) -> Path:
    return out / "risk" / "risk_model_report.json"


def risk_step_command(step: str, cfg: RunConfig) -> list[str]:
    if step == "build_decisions":
        return dbt_command("build", cfg, "--select", RISK_DECISIONS, *WITHOUT_UNIT_TESTS)
    cmd = _tool("train_risk") + [
        "--db", str(cfg.db), "--scores-out", str(risk_dir(cfg.db) / "risk_scores.parquet"),
        "--report", str(risk_report_path(cfg.out)), "--html", str(cfg.out / "risk" / "risk_report.html"),
        "--allow-untrainable"]
    applications = cfg.raw_dir / "applications.csv"  # optional input: reject inference (docs/risk.md)
    if applications.exists():
        cmd += ["--applications", str(applications),
                "--applications-scores", str(cfg.out / "risk" / "application_scores.csv")]
    return cmd


def training_outcome(out: Path) -> str:
    """One line on what train_risk did, from its report."""
    try:
        report = json.loads(risk_report_path(out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "no report written"
    if report.get("status") == "not_trained":
        return f"NO MODEL TRAINED, NO SCORES: {report.get('reason')} (decisions will say no_score)"
    scores = report.get("scores", {})
    return (f"model {report.get('primary_model')}, out-of-time test ROC AUC {report.get('roc_auc', float('nan')):.4f}, "
            f"KS {report.get('ks', float('nan')):.4f}; {scores.get('rows', 0):,} scores "
            f"({scores.get('observation_dates', 0)} dates)")


def mark_rebuilt(layout: publish.Layout, as_of: dt.date | None) -> None:
    """build_decisions changed the build file after the build step recorded it: record it again, so that
    validation, export and publish check the file as it is now (and earlier checks no longer count)."""
    state = publish.read_state(layout)
    state["status"] = "building"
    publish.write_state(layout, state)
    publish.mark_built(layout, as_of)


def parse_args(argv: Sequence[str] | None = None) -> RunConfig:
    parser = argparse.ArgumentParser(
        prog="run_pipeline.py",
        description="Run the overdue-customer warehouse end to end: raw validation, dbt build, "
        "mart validation, strategy-list export, publishing and the HTML report.",
        epilog="The build works in <db>.work/ and replaces --db only at the publish step (atomically), so BI "
        "tools can keep --db open read-only. Exit status: 0 done, 1 a step failed, 2 bad arguments, "
        "3 another build of the same --db is running, 4 a delivery guard stopped the run (nothing built or "
        "published; --accept-guard to acknowledge a one-off).",
    )
    parser.add_argument("--raw-dir", type=Path, default=default_raw_dir(),
                        help="folder of contract files (<table>.csv or .parquet); default: %(default)s")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="the day the analysis stands on; default: the latest invoice or payment date on or "
                        "before the run date (a later date than the run date is a simulation)")
    parser.add_argument("--run-date", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="the day this run stands in (default: today); invoices, payments and contacts dated "
                        "after it are set aside as future_date instead of moving the as-of date")
    parser.add_argument("--db", type=Path, default=default_db(),
                        help="DuckDB file users and BI tools open (env ARREARS_DB); the build works beside it "
                        "and replaces it at the publish step; default: %(default)s")
    parser.add_argument("--out", type=Path, default=default_out_dir(),
                        help="folder for strategy lists and the report; default: %(default)s")
    parser.add_argument("--steps", default=",".join(STEPS),
                        help="comma-separated subset of: " + ", ".join(STEPS) + " (default: all, in this order)")
    parser.add_argument("--full-refresh", action="store_true",
                        help="rebuild incremental history from scratch instead of adding the new day")
    parser.add_argument("--full-tests", action="store_true",
                        help="an incremental run's data tests check every row, not only the customers it recomputed")
    parser.add_argument("--threads", type=int, default=None, help="dbt threads (default: profile, 2)")
    parser.add_argument("--replay-month-ends", type=int, default=0, metavar="N",
                        help="before the build, issue the strategy lists of the last N month ends that the "
                        "assignment log does not hold yet (so what-works figures start from the first run); "
                        "default 0")
    parser.add_argument("--accept-guard", action="append", default=[], metavar="GUARD[:TABLE]",
                        help="acknowledge a delivery guard for this run only (repeatable): "
                        + ", ".join(guards.GUARDS) + ", e.g. --accept-guard row_drop:payments; it is listed in "
                        "the run summary")
    parser.add_argument("--max-row-drop", type=float, default=guards.GuardSettings.max_drop_share, metavar="SHARE",
                        help="delivery guard: the largest share of a table's rows that may disappear against the "
                        "last published run (default %(default)s)")
    args = parser.parse_args(argv)
    steps = tuple(s.strip() for s in args.steps.split(",") if s.strip())
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        parser.error(f"unknown step(s): {', '.join(unknown)}")
    raw_dir = args.raw_dir.resolve()
    if not raw_dir.is_dir():
        parser.error(f"--raw-dir {raw_dir} does not exist")
    return RunConfig(raw_dir=raw_dir, db=args.db.resolve(), out=args.out.resolve(), as_of=args.as_of,
                     full_refresh=args.full_refresh, full_tests=args.full_tests, steps=steps, threads=args.threads,
                     run_date=args.run_date, accept_guards=tuple(args.accept_guard),
                     replay_month_ends=max(0, args.replay_month_ends),
                     guard_settings=dataclasses.replace(guards.GuardSettings(), max_drop_share=args.max_row_drop))


def _summarise(cfg: RunConfig, status: str, exit_code: int, message: str | None) -> None:
    """Print the run summary and write <out>/run_summary.json; a summary that cannot be written never hides
    the run's own outcome."""
    layout = publish.Layout(db=cfg.db, out=cfg.out)
    published_now = "publish" in cfg.steps and status == "ok"
    db = cfg.db if (published_now or not layout.build_db.exists()) else layout.build_db
    try:
        summary = run_summary.build_summary(
            status=status, exit_code=exit_code, db=db, out=cfg.out, run_date=cfg.effective_run_date(),
            requested_as_of=cfg.as_of, delivery=dict(DELIVERY) or None, message=message, steps=list(cfg.steps),
            loads=dict(LOADS) or None)
        path = run_summary.write(summary, cfg.out)
        print(run_summary.format_text(summary), flush=True)
        print(f"[summary] written to {path}", flush=True)
    except Exception as exc:
        print(f"[summary] could not be written: {exc}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_args(argv)
    started = time.monotonic()
    try:
        as_of = run(cfg)
    except publish.BuildLocked as exc:
        print(f"[pipeline] FAILED: {exc}", file=sys.stderr)
        return 3   # another run holds the lock: its summary is the one that counts
    except (PipelineError, publish.PublishError) as exc:
        print(f"[pipeline] FAILED: {exc}", file=sys.stderr)
        code = getattr(exc, "exit_code", 1)
        _summarise(cfg, "failed", code, str(exc))
        return code
    print(f"[pipeline] done in {time.monotonic() - started:.1f}s" + (f", as of {as_of}" if as_of else ""))
    print(f"[pipeline] DuckDB database: {cfg.db}")
    print(f"[pipeline] exports and report: {cfg.out}")
    _summarise(cfg, "ok", 0, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
