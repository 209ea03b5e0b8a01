"""The end-to-end pipeline: raw validation -> dbt build -> mart validation -> export -> report.

Every step runs as its own process (the same commands the Airflow DAG runs), so a step's memory and its
DuckDB lock end with it. The first failing step stops the run with a message naming it and a non-zero exit.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from arrears.paths import ROOT, dbt_executable, default_db, default_out_dir, default_raw_dir

STEPS = ("validate_raw", "build", "validate_marts", "export", "report")


class PipelineError(RuntimeError):
    """A step failed; the message names it."""


@dataclass(frozen=True)
class RunConfig:
    raw_dir: Path
    db: Path
    out: Path
    as_of: dt.date | None
    full_refresh: bool = False
    steps: tuple[str, ...] = STEPS
    threads: int | None = None

    def dbt_vars(self) -> dict[str, str]:
        out: dict[str, str] = {"raw_dir": str(self.raw_dir)}
        if self.as_of is not None:
            out["as_of_date"] = self.as_of.isoformat()
        return out


def dbt_env(db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DO_NOT_TRACK": "1", "ARREARS_DB": str(db), "ARREARS_HOME": str(ROOT)})
    env.setdefault("ARREARS_DUCKDB_TEMP_DIR", str(db.parent / "duckdb_tmp"))
    return env


def dbt_command(command: str, cfg: RunConfig, *extra: str) -> list[str]:
    """A dbt invocation against this project, with its artifacts kept beside the database file."""
    artifacts = cfg.db.parent / f"{cfg.db.stem}_dbt"
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


def _script(name: str) -> list[str]:
    return [sys.executable, str(ROOT / "scripts" / name)]


def step_commands(step: str, cfg: RunConfig, as_of: dt.date | None) -> list[str] | None:
    """The command of one step; None when the step's tool is not part of this checkout."""
    if step == "build":
        return dbt_command("build", cfg)
    if step == "validate_raw":
        if not (ROOT / "scripts" / "validate.py").exists():
            return None
        return _script("validate.py") + ["--db", str(cfg.db), "--raw-dir", str(cfg.raw_dir), "--stage", "raw"]
    if step == "validate_marts":
        if not (ROOT / "scripts" / "validate.py").exists():
            return None
        return _script("validate.py") + ["--db", str(cfg.db), "--stage", "marts"]
    if step == "export":
        if not (ROOT / "scripts" / "export_strategy_lists.py").exists():
            return None
        assert as_of is not None
        return _script("export_strategy_lists.py") + [
            "--db", str(cfg.db), "--as-of", as_of.isoformat(), "--out", str(cfg.out / "lists"), "--force"]
    if step == "report":
        if not (ROOT / "scripts" / "report.py").exists():
            return None
        assert as_of is not None
        return _script("report.py") + [
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
    env = dbt_env(cfg.db)
    as_of = cfg.as_of
    for step in STEPS:
        if step not in cfg.steps:
            continue
        if step in {"export", "report"} and as_of is None:
            as_of = built_as_of(cfg.db)
        cmd = step_commands(step, cfg, as_of)
        if cmd is None:
            print(f"[pipeline] {step}: skipped (tool not present in this checkout)", flush=True)
            continue
        print(f"[pipeline] {step}: {' '.join(cmd[1:3]) if step == 'build' else Path(cmd[1]).name}", flush=True)
        started = time.monotonic()
        result = subprocess.run(cmd, env=env, cwd=ROOT)
        if result.returncode != 0:
            raise PipelineError(f"step '{step}' failed (exit {result.returncode}); later steps were not run")
        print(f"[pipeline] {step}: ok in {time.monotonic() - started:.1f}s", flush=True)
    if as_of is None and "build" in cfg.steps:
        as_of = built_as_of(cfg.db)
    return as_of  # type: ignore[return-value]


def parse_args(argv: Sequence[str] | None = None) -> RunConfig:
    parser = argparse.ArgumentParser(
        prog="run_pipeline.py",
        description="Run the overdue-customer warehouse end to end: raw validation, dbt build, "
        "mart validation, strategy-list export and the HTML report.",
    )
    parser.add_argument("--raw-dir", type=Path, default=default_raw_dir(),
                        help="folder of contract files (<table>.csv or .parquet); default: %(default)s")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="the day the analysis stands on; default: latest invoice or payment date in the data")
    parser.add_argument("--db", type=Path, default=default_db(),
                        help="DuckDB file users and BI tools open (env ARREARS_DB); default: %(default)s")
    parser.add_argument("--out", type=Path, default=default_out_dir(),
                        help="folder for strategy lists and the report; default: %(default)s")
    parser.add_argument("--steps", default=",".join(STEPS),
                        help="comma-separated subset of: " + ", ".join(STEPS) + " (default: all, in this order)")
    parser.add_argument("--full-refresh", action="store_true",
                        help="rebuild incremental history from scratch instead of adding the new day")
    parser.add_argument("--threads", type=int, default=None, help="dbt threads (default: profile, 2)")
    args = parser.parse_args(argv)
    steps = tuple(s.strip() for s in args.steps.split(",") if s.strip())
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        parser.error(f"unknown step(s): {', '.join(unknown)}")
    raw_dir = args.raw_dir.resolve()
    if not raw_dir.is_dir():
        parser.error(f"--raw-dir {raw_dir} does not exist")
    return RunConfig(raw_dir=raw_dir, db=args.db.resolve(), out=args.out.resolve(), as_of=args.as_of,
                     full_refresh=args.full_refresh, steps=steps, threads=args.threads)


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_args(argv)
    started = time.monotonic()
    try:
        as_of = run(cfg)
    except PipelineError as exc:
        print(f"[pipeline] FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"[pipeline] done in {time.monotonic() - started:.1f}s, as of {as_of}")
    print(f"[pipeline] DuckDB database: {cfg.db}")
    print(f"[pipeline] exports and report: {cfg.out}")
    return 0
