"""Daily run of the overdue-customer warehouse (see orchestration/airflow/README.md).

    validate_raw -> check_delivery -> dbt_build -> train_risk -> build_decisions -> validate_marts -> export_lists -> publish -> report

Each task is one step of `scripts/run_pipeline.py` (the same steps, in the same order), run by the project's own virtual environment (`.venv`,
which holds dbt and DuckDB; Airflow lives in `.venv-airflow` and never imports them). The tasks share the
build file `<ARREARS_DB>.work/build.duckdb`; only `publish` replaces the file BI tools read (`ARREARS_DB`),
atomically, after validation and export succeeded on exactly that build; `report` then reads the published file.

The as-of date of a run is its logical date (`{{ ds }}`): the run for day D starts once D is over (00:00 UTC
of D+1) and counts the facts dated on or before D. `catchup=True` back-fills every day since the start date,
one run at a time and in date order (`max_active_runs=1`), since each day adds to the history of the last.

Paths come from Airflow Variables when set (`arrears_home`, `arrears_python`, `arrears_raw_dir`,
`arrears_db`, `arrears_out`; also settable as AIRFLOW_VAR_ARREARS_DB etc.), else from the environment of
the DAG processor (ARREARS_HOME, ARREARS_PYTHON, ARREARS_RAW_DIR, ARREARS_DB, ARREARS_OUT), else from the
project defaults. This file imports nothing but Airflow, so it parses fast and without the project's venv.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, CronDataIntervalTimetable, Param

DAG_ID = "arrears_daily"
STEPS = (  # task id -> run_pipeline.py step, in run order (tests check this against arrears.pipeline.STEPS)
    ("validate_raw", "validate_raw"),
    ("check_delivery", "check_delivery"),
    ("dbt_build", "build"),
    ("train_risk", "train_risk"),
    ("build_decisions", "build_decisions"),
    ("validate_marts", "validate_marts"),
    ("export_lists", "export"),
    ("publish", "publish"),
    ("report", "report"),
)

_HOME = os.environ.get("ARREARS_HOME") or str(Path(__file__).resolve().parents[3])
_DEFAULTS = {
    "arrears_home": _HOME,
    "arrears_python": os.environ.get("ARREARS_PYTHON") or f"{_HOME}/.venv/bin/python",
    "arrears_raw_dir": os.environ.get("ARREARS_RAW_DIR") or f"{_HOME}/data/raw",
    "arrears_db": os.environ.get("ARREARS_DB") or f"{_HOME}/target/arrears.duckdb",
    "arrears_out": os.environ.get("ARREARS_OUT") or f"{_HOME}/out",
}


def _setting(name: str) -> str:
    """A Jinja expression: the Airflow Variable `name` at run time, else the default resolved above."""
    return "{{ var.value.get(%r, %r) }}" % (name, _DEFAULTS[name])


# Values reach the shell as environment variables, so paths with spaces or quotes need no escaping.
_TASK_ENV = {
    "ARREARS_HOME": _setting("arrears_home"),
    "ARREARS_PYTHON": _setting("arrears_python"),
    "ARREARS_RAW_DIR": _setting("arrears_raw_dir"),
    "ARREARS_DB": _setting("arrears_db"),
    "ARREARS_OUT": _setting("arrears_out"),
    "ARREARS_AS_OF": "{{ ds }}",
    "DO_NOT_TRACK": "1",
}


def _command(step: str) -> str:
    full_refresh = " {{ '--full-refresh' if params.full_refresh else '' }}" if step == "build" else ""
    return (
        'exec "$ARREARS_PYTHON" "$ARREARS_HOME/scripts/run_pipeline.py"'
        f' --steps {step} --as-of "$ARREARS_AS_OF"'
        ' --raw-dir "$ARREARS_RAW_DIR" --db "$ARREARS_DB" --out "$ARREARS_OUT"' + full_refresh
    )


with DAG(
    dag_id=DAG_ID,
    description="Overdue-customer warehouse: validate raw files, dbt build, risk model, validate marts, "
    "export lists, publish, report",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=os.environ.get("ARREARS_TIMEZONE", "UTC")),
    start_date=pendulum.parse(os.environ.get("ARREARS_START_DATE", "2026-10-01"),
                              tz=os.environ.get("ARREARS_TIMEZONE", "UTC")),
    catchup=True,
    max_active_runs=1,
    default_args={
        "owner": "arrears",
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=5),
        "execution_timeout": dt.timedelta(hours=3),
    },
    params={"full_refresh": Param(False, type="boolean",
                                  description="rebuild incremental history from scratch (dbt --full-refresh)")},
    tags=["arrears", "dbt", "duckdb"],
    doc_md=__doc__,
) as dag:
    previous = None
    for task_id, step in STEPS:
        task = BashOperator(
            task_id=task_id,
            bash_command=_command(step),
            env=_TASK_ENV,
            append_env=True,  # keep PATH, HOME and the scheduler's ARREARS_* settings
        )
        if previous is not None:
            previous >> task
        previous = task
