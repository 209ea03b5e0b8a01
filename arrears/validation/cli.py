"""Command line of the data-quality gate (scripts/validate.py).

Exit codes: 0 = no critical expectation failed (warnings are reported), 1 = at least one critical
expectation failed (the message names suite and expectation), 2 = usage error (bad arguments, no database,
no raw folder, malformed suite files). An expectation that could not be evaluated at all (its query failed,
a table it reads is missing, GX raised) counts as a critical failure whatever its severity: the gate cannot
vouch for data it did not check.
"""
from __future__ import annotations

import argparse
import fnmatch
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from arrears.paths import default_db
from arrears.validation.suites import STAGES, SuiteError, load_suites, write_suites

from ..paths import ROOT

EXPECTATIONS_DIR = ROOT / "expectations"
EXIT_OK, EXIT_CRITICAL, EXIT_USAGE = 0, 1, 2


def parse_stages(text: str) -> tuple[str, ...]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if parts == ["all"]:
        return STAGES
    bad = [p for p in parts if p not in STAGES]
    if bad or not parts:
        raise argparse.ArgumentTypeError(
            f"unknown stage(s) {', '.join(bad) or '(none)'}: use raw, staging, marts, all, or a comma list")
    return tuple(s for s in STAGES if s in parts)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="validate.py",
        description="Data-quality gate of the arrears warehouse: runs the Great Expectations suites in "
        "expectations/ against the raw contract files (raw stage) or the DuckDB warehouse opened read-only "
        "(staging and marts stages), prints a summary per suite, builds offline Data Docs, and exits 1 when "
        "a critical expectation fails (warnings are reported and the run goes on).",
        epilog="exit codes: 0 ok (maybe warnings), 1 critical expectation failed, 2 usage error",
    )
    p.add_argument("--db", type=Path, default=None,
                   help="DuckDB warehouse file (env ARREARS_DB; default %s). Read-only; need not exist for "
                   "--stage raw." % default_db())
    p.add_argument("--raw-dir", type=Path, default=None,
                   help="folder of contract files <table>.csv/.parquet (required for the raw stage)")
    p.add_argument("--stage", type=parse_stages, default=("marts",), metavar="STAGE",
                   help="raw, staging, marts, all, or a comma list such as staging,marts (default: marts)")
    p.add_argument("--suites", default=None, metavar="NAMES",
                   help="only these suites: comma-separated names or shell patterns (e.g. 'marts.fct_*')")
    p.add_argument("--docs-dir", type=Path, default=None,
                   help="Data Docs folder (default: data_docs beside the database file)")
    p.add_argument("--no-docs", action="store_true", help="skip building Data Docs")
    p.add_argument("--quarantine-tolerance", type=float, default=0.05, metavar="SHARE",
                   help="largest acceptable share of quarantined rows per input table, 0..1 (default 0.05)")
    p.add_argument("--chunk-rows", type=int, default=250_000, metavar="N",
                   help="rows per frame when a table is validated in chunks (default 250000); bounds memory")
    p.add_argument("--suites-dir", type=Path, default=EXPECTATIONS_DIR,
                   help="folder of suite JSON files (default: expectations/)")
    p.add_argument("--write-suites", action="store_true",
                   help="regenerate the suite JSON files from arrears/validation/definitions.py and exit")
    p.add_argument("--quiet", action="store_true", help="print failures and the verdict only")
    return p


def _print_outcome(outcome, quiet: bool) -> None:
    name = outcome.suite.name
    if outcome.skipped:
        print(f"WARN  {name}: skipped, {outcome.skipped}")
        return
    failed = outcome.failed
    crit = outcome.critical_failures
    status = "FAIL" if crit else ("WARN" if failed else "PASS")
    rows = ", ".join(f"{b} {v['rows']:,} rows" + (f" in {v['chunks']} chunks" if v["chunks"] > 1 else "")
                     for b, v in outcome.batches.items() if b != "columns")
    if quiet and not failed:
        return
    print(f"{status}  {name}: {outcome.evaluated - len(failed)}/{outcome.evaluated} expectations passed"
          + (f" ({rows})" if rows else "") + f" [{outcome.seconds:.1f}s]")
    for note in outcome.notes:
        print(f"        note: {note}")
    reasons: dict[str, int] = {}
    for e in outcome.expectations:
        if e.skipped:
            reasons[e.skipped] = reasons.get(e.skipped, 0) + 1
    for reason, count in reasons.items():
        print(f"      - {count} expectation(s) {reason}")
    for e in outcome.expectations:
        if e.skipped:
            continue
        if not e.success:
            level = "critical" if e.critical_failure else e.severity
            print(f"      x {level:<8} {e.type} ({e.rule}): {e.detail}")
            if e.offenders:
                print(f"          e.g. {'; '.join(e.offenders)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:           # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)

    def usage(message: str) -> int:
        parser.print_usage(sys.stderr)
        print(f"validate.py: error: {message}", file=sys.stderr)
        return EXIT_USAGE

    if args.write_suites:
        from arrears.validation.definitions import all_suites

        changed = write_suites(args.suites_dir, all_suites())
        for path in changed:
            print(f"wrote {path}")
        print(f"{len(changed)} suite file(s) changed in {args.suites_dir}")
        return EXIT_OK

    stages: tuple[str, ...] = args.stage
    db: Path = (args.db or default_db()).resolve()
    if not 0 <= args.quarantine_tolerance <= 1:
        return usage("--quarantine-tolerance must be a share between 0 and 1")
    if args.chunk_rows < 1:
        return usage("--chunk-rows must be at least 1")
    if "raw" in stages:
        if args.raw_dir is None:
            return usage("the raw stage needs --raw-dir")
        if not args.raw_dir.is_dir():
            return usage(f"--raw-dir {args.raw_dir} is not a folder")
    if any(s != "raw" for s in stages) and not db.is_file():
        return usage(f"database {db} does not exist (the {', '.join(s for s in stages if s != 'raw')} "
                     "stage reads it; run the build first)")
    try:
        suites = load_suites(args.suites_dir, stages)
    except (SuiteError, OSError) as exc:
        return usage(f"cannot load suites from {args.suites_dir}: {exc}")
    if args.suites:
        patterns = [p.strip() for p in args.suites.split(",") if p.strip()]
        suites = [s for s in suites if any(fnmatch.fnmatchcase(s.name, p) for p in patterns)]
    if not suites:
        return usage(f"no suites for stage(s) {', '.join(stages)}"
                     + (f" matching {args.suites!r}" if args.suites else "") + f" in {args.suites_dir}")
    docs_dir = (args.docs_dir or db.parent / "data_docs").resolve()

    from arrears.validation.runner import Validator, progress_to_stderr
    from arrears.validation.sources import RawSource, SourceError, WarehouseSource

    params = {"quarantine_tolerance": args.quarantine_tolerance}
    started = time.monotonic()
    validator = Validator(params=params, chunk_rows=args.chunk_rows, progress=progress_to_stderr)
    optional = {s.relation: s.optional for s in load_suites(args.suites_dir)}
    checked = frozenset(s.relation for s in suites)
    outcomes = []
    for stage in stages:
        stage_suites = [s for s in suites if s.stage == stage]
        if not stage_suites:
            continue
        where = args.raw_dir.resolve() if stage == "raw" else db
        print(f"== {stage} stage: {len(stage_suites)} suite(s) on {where}")
        try:
            source = RawSource(where) if stage == "raw" else WarehouseSource(db)
        except SourceError as exc:
            return usage(str(exc))
        with source:
            for suite in stage_suites:
                outcome = validator.run_suite(source, suite, optional, checked)
                outcomes.append(outcome)
                _print_outcome(outcome, args.quiet)

    critical = [(o.suite.name, e) for o in outcomes for e in o.critical_failures]
    notes = {o.suite.name: "; ".join(o.notes) for o in outcomes if o.notes}
    warnings_ = sum(len(o.failed) for o in outcomes) - len(critical)
    skipped = sum(1 for o in outcomes if o.skipped)

    if not args.no_docs:
        from arrears.validation.docs import DocsError, build_data_docs, write_summary

        try:
            index = build_data_docs(docs_dir, outcomes, validator)
            write_summary(docs_dir, outcomes, params, validator.run_time.isoformat())
            print(f"Data Docs: {index}")
        except DocsError as exc:
            print(f"ERROR  {exc}", file=sys.stderr)
            critical.append(("data_docs", None))

    elapsed = time.monotonic() - started
    if critical:
        print(f"\nCRITICAL: {len(critical)} critical expectation(s) failed; later steps must not run:", file=sys.stderr)
        for suite_name, e in critical:
            if e is None:
                print(f"  - {suite_name}: Data Docs could not be made offline", file=sys.stderr)
            else:
                table_check = e.type == "expect_table_columns_to_match_set"
                why = (f" [{notes[suite_name]}]" if table_check and suite_name in notes
                       and notes[suite_name] not in e.detail else "")
                print(f"  - {suite_name}: {e.type} ({e.rule}): {e.detail}{why}", file=sys.stderr)
        return EXIT_CRITICAL
    print(f"\nOK: no critical expectation failed ({len(outcomes) - skipped} suite(s) run, {warnings_} warning(s), "
          f"{skipped} skipped) in {elapsed:.1f}s")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
