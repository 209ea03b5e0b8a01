"""The Airflow DAG `arrears_daily` (orchestration/airflow/dags/arrears_daily.py).

Airflow lives in its own virtual environment (`.venv-airflow`, built by orchestration/airflow/setup_venv.sh
from requirements/airflow.lock), so these tests drive it as a subprocess: they import the DAG with a DagBag,
check its task graph against the one documented in orchestration/airflow/README.md, and run it end to end
with `dag.test()` on a small dataset, with AIRFLOW_HOME (and its SQLite metadata database) in a temporary
folder. Without `.venv-airflow` the tests are skipped, unless ARREARS_REQUIRE_AIRFLOW is set (CI sets it),
in which case they fail.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from arrears.paths import ROOT
from arrears.pipeline import has_tool

from helpers import log_measured

DAGS = ROOT / "orchestration" / "airflow" / "dags"
AIRFLOW_VENV = Path(os.environ.get("ARREARS_AIRFLOW_VENV", ROOT / ".venv-airflow"))
AIRFLOW_PY = AIRFLOW_VENV / "bin" / "python"
REQUIRED = bool(os.environ.get("ARREARS_REQUIRE_AIRFLOW"))
LOGICAL_DATE = "2026-10-31"

# The graph documented in orchestration/airflow/README.md: one task per step of scripts/run_pipeline.py.
TASKS = ["validate_raw", "check_delivery", "dbt_build", "train_risk", "build_decisions", "validate_marts", "export_lists", "publish",
         "report"]
STEP_OF_TASK = {"validate_raw": "validate_raw", "check_delivery": "check_delivery", "dbt_build": "build", "train_risk": "train_risk",
                "build_decisions": "build_decisions", "validate_marts": "validate_marts", "export_lists": "export",
                "publish": "publish", "report": "report"}


def test_the_dag_runs_every_pipeline_step_in_the_pipeline_order():
    # Would fail when a step is added to (or moved in) the pipeline but not to the DAG, e.g. a DAG that never
    # builds the risk decisions would publish marts the command line builds differently.
    from arrears.pipeline import STEPS

    assert [STEP_OF_TASK[t] for t in TASKS] == list(STEPS)


# Runs inside .venv-airflow. argv: mode ("graph" | "run"), logical date, "no-retries" or "".
DRIVER = textwrap.dedent("""
    import json, sys
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    mode, logical_date, retries = sys.argv[1], sys.argv[2], sys.argv[3]
    value = lambda e: None if e is None else getattr(e, "value", e)  # enum -> its string
    bag = DagBag(dag_folder=sys.argv[4])
    out = {"import_errors": {k: str(v) for k, v in bag.import_errors.items()}, "dag_ids": sorted(bag.dag_ids)}
    dag = bag.dags.get("arrears_daily")
    if dag is not None and mode == "graph":
        out["catchup"] = dag.catchup
        out["max_active_runs"] = dag.max_active_runs
        out["timetable"] = type(dag.timetable).__name__
        out["cron"] = getattr(dag.timetable, "expression", getattr(dag.timetable, "_expression", None))
        out["tasks"] = {t.task_id: {
            "downstream": sorted(t.downstream_task_ids), "upstream": sorted(t.upstream_task_ids),
            "retries": t.retries, "retry_delay_s": t.retry_delay.total_seconds(),
            "trigger_rule": value(t.trigger_rule), "bash_command": t.bash_command, "env": t.env,
        } for t in dag.tasks}
    if dag is not None and mode == "run":
        if retries == "no-retries":  # a test run must not wait out the retry delays (2 x 5 min)
            for t in dag.tasks:
                t.retries = 0
        run = dag.test(logical_date=pendulum.parse(logical_date, tz="UTC"))
        out["state"] = value(run.state)
        out["tasks"] = {ti.task_id: value(ti.state) for ti in run.get_task_instances()}
    print("DRIVER-RESULT " + json.dumps(out))
""")


def _make_raw_dir(folder: Path) -> Path:
    """200 seeded demo customers ending on the logical date: small, yet every mart has rows."""
    generator = ROOT / "scripts" / "generate_demo_data.py"
    assert generator.exists(), f"{generator} is missing"
    subprocess.run([sys.executable, str(generator), "--customers", "200", "--seed", "7", "--out", str(folder),
                    "--truth", str(folder.parent / "demo_truth" / "customer_truth.csv"), "--end", LOGICAL_DATE],
                   check=True, capture_output=True, timeout=600)
    return folder


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    """Run things in .venv-airflow with AIRFLOW_HOME and every project path in a temporary folder."""
    if not AIRFLOW_PY.exists() and not REQUIRED:
        pytest.skip(f"{AIRFLOW_VENV} is missing (build it with orchestration/airflow/setup_venv.sh; "
                    "set ARREARS_REQUIRE_AIRFLOW=1 to make this a failure)")
    if not AIRFLOW_PY.exists():
        pytest.fail(f"ARREARS_REQUIRE_AIRFLOW is set but {AIRFLOW_PY} does not exist: "
                    "run orchestration/airflow/setup_venv.sh first")
    home = tmp_path_factory.mktemp("airflow_home")
    work = tmp_path_factory.mktemp("arrears")
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "ARREARS_HOME": str(ROOT),
        "ARREARS_TARGET": "duckdb",
        "ARREARS_RAW_DIR": str(work / "raw"),
        "ARREARS_DB": str(work / "published" / "arrears.duckdb"),
        "ARREARS_OUT": str(work / "out"),
        "DO_NOT_TRACK": "1",
    })
    if not (ROOT / ".venv" / "bin" / "python").exists():  # the DAG's default; else this test's own python
        env["ARREARS_PYTHON"] = sys.executable
    timings: dict[str, float] = {}

    def call(label: str, args: list[str], extra_env: dict[str, str] | None = None, timeout: int = 1800):
        started = time.monotonic()
        result = subprocess.run(args, env={**env, **(extra_env or {})}, capture_output=True, text=True,
                                timeout=timeout, cwd=home)
        timings[label] = time.monotonic() - started
        return result

    def driver(mode: str, logical_date: str = LOGICAL_DATE, *, no_retries: bool = False,
               extra_env: dict[str, str] | None = None) -> dict:
        args = [str(AIRFLOW_PY), "-c", DRIVER, mode, logical_date, "no-retries" if no_retries else "", str(DAGS)]
        result = call(f"{mode} {logical_date}", args, extra_env)
        lines = [ln for ln in result.stdout.splitlines() if ln.startswith("DRIVER-RESULT ")]
        assert result.returncode == 0 and lines, (
            f"the Airflow driver failed (exit {result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}")
        return {**json.loads(lines[-1][len("DRIVER-RESULT "):]), "log": result.stdout + result.stderr}

    migrate = call("airflow db migrate", [str(AIRFLOW_VENV / "bin" / "airflow"), "db", "migrate"])
    assert migrate.returncode == 0, f"airflow db migrate failed:\n{migrate.stdout[-3000:]}\n{migrate.stderr[-3000:]}"
    yield {"env": env, "work": work, "driver": driver, "timings": timings}
    log_measured("[airflow test timings] " + ", ".join(f"{k}: {v:.1f}s" for k, v in timings.items()))


def test_dag_imports_and_its_graph_is_the_documented_one(airflow):
    # Would fail on an import error in the DAG file, a task missing or out of order, a task not retried,
    # or a task that would not stop at an upstream failure.
    result = airflow["driver"]("graph")
    assert result["import_errors"] == {}
    assert result["dag_ids"] == ["arrears_daily"]
    tasks = result["tasks"]
    assert sorted(tasks) == sorted(TASKS)
    for upstream, downstream in zip(TASKS, TASKS[1:]):
        assert tasks[upstream]["downstream"] == [downstream]
        assert tasks[downstream]["upstream"] == [upstream]
    assert tasks[TASKS[0]]["upstream"] == [] and tasks[TASKS[-1]]["downstream"] == []
    for task_id, task in tasks.items():
        assert task["retries"] == 2 and task["retry_delay_s"] > 0
        assert task["trigger_rule"] == "all_success"  # a failure stops everything downstream
        assert f"--steps {STEP_OF_TASK[task_id]} " in task["bash_command"]
        assert "run_pipeline.py" in task["bash_command"]
        assert task["env"]["ARREARS_AS_OF"] == "{{ ds }}"  # the as-of date is the run's logical date
    assert result["catchup"] is True and result["max_active_runs"] == 1
    assert result["timetable"] == "CronDataIntervalTimetable" and result["cron"] == "0 0 * * *"


def test_dag_runs_end_to_end_and_publishes_the_logical_date(airflow):
    # Would fail if any task failed under Airflow, if the tasks did not share one build, or if the run's
    # logical date did not reach dbt as the as-of date.
    work = airflow["work"]
    _make_raw_dir(work / "raw")
    result = airflow["driver"]("run", no_retries=True)  # a failure would otherwise wait out 2 x 5 min
    assert result["state"] == "success", result["log"][-8000:]
    assert result["tasks"] == dict.fromkeys(TASKS, "success")
    report = work / "out" / "report" / f"overdue_report_{LOGICAL_DATE}.html"
    assert not has_tool("report") or report.exists()

    db = Path(airflow["env"]["ARREARS_DB"])
    with duckdb.connect(str(db), read_only=True) as con:
        assert str(con.execute("select as_of_date from intermediate.int_as_of_date").fetchone()[0]) == LOGICAL_DATE
        marts = sorted(r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall())
    manifest = json.loads((work / "out" / "current" / "manifest.json").read_text())
    assert manifest["as_of"] == LOGICAL_DATE
    assert sorted(manifest["marts"]) == marts
    assert sorted(p.stem for p in (work / "out" / "parquet").glob("*.parquet")) == marts
    if has_tool("export"):
        lists = json.loads((work / "out" / "lists" / LOGICAL_DATE / "manifest.json").read_text(encoding="utf-8"))
        assert LOGICAL_DATE in json.dumps(lists)


def test_a_failed_task_stops_the_tasks_after_it(airflow, tmp_path):
    # Would fail if a task ran after a failed upstream task (e.g. publish after a failed validation).
    before = {p.name: p.stat().st_mtime_ns for p in (airflow["work"] / "published").glob("*.duckdb")}
    result = airflow["driver"]("run", "2026-10-30", no_retries=True,
                               extra_env={"AIRFLOW_VAR_ARREARS_RAW_DIR": str(tmp_path / "no_such_folder")})
    assert result["state"] == "failed"
    assert result["tasks"] == {"validate_raw": "failed", **dict.fromkeys(TASKS[1:], "upstream_failed")}
    after = {p.name: p.stat().st_mtime_ns for p in (airflow["work"] / "published").glob("*.duckdb")}
    assert after == before
