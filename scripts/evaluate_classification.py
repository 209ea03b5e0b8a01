#!/usr/bin/env python3
"""Measure how well the warehouse recognises temporary, chronic and stubborn overdue customers.

Generates a demo dataset with known behaviour types (a seed other than the one the rules were tuned on),
builds the warehouse on it, and prints coverage, the confusion matrix, per-type precision/recall/F1 and
macro-F1 - with all data, without the contact log and without income and debt (both optional in the contract),
then one summary line per scenario against its target. It prints figures; the exit code is 0 unless a build fails.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from arrears.demo import DemoConfig, generate  # noqa: E402
from arrears.evaluation import (  # noqa: E402
    SCENARIOS, Evaluation, derive_scenario, evaluate, evaluate_watchlist, format_report, format_scenario_summary,
    format_watch_report,
)
from arrears.pipeline import RunConfig, dbt_command, dbt_env  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=5000, help="customers to generate (default %(default)s)")
    parser.add_argument("--seed", type=int, default=2027, help="generator seed (default %(default)s; rules were tuned on 42)")
    parser.add_argument("--work-dir", type=pathlib.Path, default=None,
                        help="where data and the database go (default: a temporary folder)")
    parser.add_argument("--db", type=pathlib.Path, default=None,
                        help="evaluate an existing build instead (needs --truth)")
    parser.add_argument("--truth", type=pathlib.Path, default=None, help="truth CSV of an existing build")
    parser.add_argument("--json", type=pathlib.Path, default=None, help="also write the figures as JSON here")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma-separated data scenarios to build and score (default %(default)s)")
    args = parser.parse_args()

    scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = [name for name in scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    results: dict[str, Evaluation] = {}
    watch = None
    if args.db:
        if not args.truth:
            parser.error("--db needs --truth")
        results["given_database"] = evaluate(args.db, args.truth)
        print(format_report(results["given_database"]))
        watch = evaluate_watchlist(args.db, args.truth)
        print("\n" + format_watch_report(watch))
    else:
        work = args.work_dir or pathlib.Path(tempfile.mkdtemp(prefix="arrears_eval_"))
        raw = work / "raw"
        print(f"generating {args.customers} customers with seed {args.seed} into {raw}", flush=True)
        truth = generate(raw, DemoConfig(customers=args.customers, seed=args.seed), force=True).truth_path
        for name in scenarios:
            scenario_raw = derive_scenario(raw, name, work / f"raw_{name}")
            db = work / f"eval_{name}.duckdb"
            cfg = RunConfig(raw_dir=scenario_raw, db=db, out=work / f"out_{name}", as_of=None)
            print(f"\n== {name}: {SCENARIOS[name]}\nbuilding the warehouse (dbt build)", flush=True)
            proc = subprocess.run(dbt_command("build", cfg), env=dbt_env(db), capture_output=True, text=True)
            if proc.returncode != 0:
                print(proc.stdout[-4000:], file=sys.stderr)
                print(f"dbt build failed for scenario {name}", file=sys.stderr)
                return 1
            results[name] = evaluate(db, truth)
            print(format_report(results[name]), flush=True)
            if name == "all_data":
                watch = evaluate_watchlist(db, truth)
                print("\n" + format_watch_report(watch), flush=True)
        print("\n== overdue types by data scenario (seed %d, %d customers)" % (args.seed, args.customers))
        print(format_scenario_summary(results))
        if watch is not None:
            print("\n== early warnings (seed %d)\n%s" % (args.seed, format_watch_report(watch)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = {name: ev.to_dict() for name, ev in results.items()}
        if watch is not None:
            figures["watch_list"] = watch.to_dict()
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
