"""`arrears-export`: the day's strategy lists from the command line (see `--help`)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from ..errors import ArrearsError
from ..labels import LANGS
from .lists import EXIT_OK, FORMATS, ExportOptions, run_export

EPILOG = """\
Output: OUT/<as-of>/<team>.<format> for every owning team of the strategy catalog (collections,
customer_care, credit_risk, legal), sorted by priority rank; summary.<format> (per team, list, strategy:
customers and amounts); manifest.json (as-of date, source database, row counts, totals, SHA-256 of every
file, tool version). CSV is UTF-8 with BOM; text that a spreadsheet would run as a formula gets a leading
apostrophe in CSV and XLSX. Parquet keeps stable snake_case column names in every language.

exit codes:
  0  done
  1  unexpected error
  2  bad arguments, or the database file is missing or cannot be opened
  3  OUT/<as-of> already exists (use --force to replace it)
  4  the marts are missing: the pipeline has not been run on this database
  5  the mart holds no rows for the as-of date
  6  the output folder cannot be created or written
"""


def _formats(text: str) -> tuple[str, ...]:
    import argparse

    items = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in items if f not in FORMATS]
    if not items or unknown:
        raise argparse.ArgumentTypeError(
            f"{', '.join(unknown) or 'nothing'}: choose one or more of {', '.join(FORMATS)}, comma-separated")
    return items


def parse_args(argv: Sequence[str] | None = None):
    import argparse

    from arrears.paths import default_db, default_out_dir

    parser = argparse.ArgumentParser(
        prog="arrears-export",
        description="Write the day's collection strategy lists (one per owning team, in priority order) with "
        "a summary and a manifest, from marts.mart_collection_strategy (opened read-only).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=default_db(),
                        help="DuckDB file built by the pipeline (env ARREARS_DB); default: %(default)s")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="as-of date to export; must be the date the mart was built for "
                        "(default: the mart's as-of date)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="folder that receives <as-of>/ (default: <project>/out/lists)")
    parser.add_argument("--format", dest="formats", type=_formats, default=FORMATS, metavar="LIST",
                        help="comma-separated subset of csv,xlsx,parquet (default: all three)")
    parser.add_argument("--lang", choices=LANGS, default="en",
                        help="language of column headers, labels, reasons and next actions (default: en)")
    parser.add_argument("--mask-pii", action="store_true",
                        help="mask customer names, contact persons, phones and e-mails (e.g. 王*, 138****0002, "
                        "w***@example.cn)")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing OUT/<as-of>/ folder (swapped in atomically)")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = default_out_dir() / "lists"
    return args


def main(argv: Sequence[str] | None = None) -> int:
    import sys

    args = parse_args(argv)
    say = (lambda msg: None) if args.quiet else (lambda msg: print(f"[export] {msg}", flush=True))
    opts = ExportOptions(db=args.db, out=args.out, as_of=args.as_of, formats=args.formats, lang=args.lang,
                         mask_pii=args.mask_pii, force=args.force)
    try:
        result = run_export(opts, log=say)
    except ArrearsError as exc:
        print(f"[export] ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    totals = result.manifest["totals"]
    say(f"wrote {len(result.files)} files to {result.folder}: {totals['customers']} customers, "
        f"outstanding {totals['outstanding_base']}, at stake {totals['at_stake_base']} (base currency)")
    return EXIT_OK


if __name__ == "__main__":
    import sys

    sys.exit(main())
