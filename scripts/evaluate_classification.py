#!/usr/bin/env python3
"""Measure how well the warehouse recognises temporary, chronic and stubborn overdue customers.

Generates a demo dataset with known behaviour types (a seed other than the one the rules were tuned on),
builds the warehouse on it, and prints coverage, the confusion matrix, per-type precision/recall/F1 and
macro-F1. This is a benchmark that prints figures; it has no pass/fail threshold of its own.
"""
import argparse
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from arrears.demo import DemoConfig, generate  # noqa: E402
from arrears.evaluation import evaluate, format_report, write_json  # noqa: E402
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
    args = parser.parse_args()

    if args.db:
        if not args.truth:
            parser.error("--db needs --truth")
        db, truth = args.db, args.truth
    else:
        work = args.work_dir or pathlib.Path(tempfile.mkdtemp(prefix="arrears_eval_"))
        raw = work / "raw"
        print(f"generating {args.customers} customers with seed {args.seed} into {raw}", flush=True)
        result = generate(raw, DemoConfig(customers=args.customers, seed=args.seed), force=True)
        truth, db = result.truth_path, work / "eval.duckdb"
        cfg = RunConfig(raw_dir=raw, db=db, out=work / "out", as_of=None)
        print("building the warehouse (dbt build)", flush=True)
        proc = subprocess.run(dbt_command("build", cfg), env=dbt_env(db), capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stdout[-4000:], file=sys.stderr)
            print("dbt build failed", file=sys.stderr)
            return 1
    ev = evaluate(db, truth)
    print(format_report(ev))
    if args.json:
        write_json(ev, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
