import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
"""Write the day's collection strategy lists, one per owning team, with a summary and a manifest.

    scripts/export_strategy_lists.py --db target/arrears.duckdb --as-of 2026-10-31 --out out/lists \
        --format csv,xlsx,parquet --lang zh --mask-pii --force

See `--help` for the exit codes and arrears/export.py for the details.
"""
from arrears.export import main

if __name__ == "__main__":
    sys.exit(main())
