#!/usr/bin/env python3
import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # noqa: E401,E702
# Generate seeded demo input data following the contract (../shared/CONTRACT.md). See `--help`.
# The logic lives in arrears/demo.py. Exit codes: 0 written; 2 bad arguments, or a non-empty output folder
# without --force; 1 anything else.
import argparse  # noqa: E402
import datetime as dt  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Sequence  # noqa: E402

from arrears import demo  # noqa: E402
from arrears.paths import default_raw_dir  # noqa: E402

_DEFAULTS = demo.DemoConfig()


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="generate_demo_data.py",
        description="Write seeded demo data for the arrears warehouse: customers, invoices, payments, "
                    "collection_actions and fx_rates (<table>.csv or .parquet) into --out, and the true "
                    "behaviour type of every customer (good, temporary, chronic, stubborn, pattern_change) "
                    "into --truth, outside the input folder. Same seed and arguments give byte-identical files.",
        epilog="Example: generate_demo_data.py --customers 1000000 --format parquet --out data/raw_1m")
    p.add_argument("--customers", type=_positive, default=_DEFAULTS.customers, metavar="N",
                   help="number of customers (default %(default)s; 1,000,000 takes a few minutes)")
    p.add_argument("--seed", type=_seed, default=_DEFAULTS.seed, metavar="S", help="random seed (default %(default)s)")
    p.add_argument("--out", type=Path, default=default_raw_dir(), metavar="DIR",
                   help="input folder to write; must be empty or absent unless --force "
                        "(default data/raw under the project root)")
    p.add_argument("--truth", type=Path, default=None, metavar="FILE",
                   help="truth CSV (customer_id,true_type,shock_date,notes); must lie outside --out "
                        "(default DIR/../demo_truth/customer_truth.csv)")
    p.add_argument("--format", choices=demo.FORMATS, default=_DEFAULTS.file_format, dest="file_format",
                   help="file format of the tables (default %(default)s)")
    p.add_argument("--start", type=_date, default=_DEFAULTS.start, metavar="YYYY-MM-DD",
                   help="first day of the history (default %(default)s)")
    p.add_argument("--end", type=_date, default=_DEFAULTS.end, metavar="YYYY-MM-DD",
                   help="last day with events (invoices, payments, contacts, rates); only due dates and "
                        "promised dates lie beyond it. Use it as the as-of date (default %(default)s)")
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty folder, replacing the five table files (other files are kept)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = demo.DemoConfig(customers=args.customers, seed=args.seed, start=args.start, end=args.end,
                             file_format=args.file_format)
    say = (lambda message: None) if args.quiet else (lambda message: print(message, flush=True))
    say(f"Generating demo data: {config.customers:,} customers, seed {config.seed}, "
        f"{config.start} .. {config.end}, {config.file_format} -> {args.out}")
    try:
        result = demo.generate(args.out, config, truth_path=args.truth, force=args.force, progress=say)
    except demo.DemoError as exc:
        print(f"generate_demo_data.py: error: {exc}", file=sys.stderr)
        return 2
    width = max(len(name) for name in result.row_counts)
    for name, rows in result.row_counts.items():
        size = result.files[name].stat().st_size
        say(f"  {name:<{width}}  {rows:>12,} rows  {size / 1e6:>10,.1f} MB")
    say(f"  {'truth':<{width}}  {sum(result.type_counts.values()):>12,} rows  "
        + ", ".join(f"{k} {v:,}" for k, v in result.type_counts.items()))
    say(f"Wrote {result.out_dir} and {result.truth_path} in {result.elapsed_seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
