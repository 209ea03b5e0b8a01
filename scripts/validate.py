import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
"""Data-quality gate: run the Great Expectations suites of a stage (raw, staging, marts) and build Data Docs.

    scripts/validate.py --db target/arrears.duckdb --raw-dir data/raw --stage raw
    scripts/validate.py --db target/arrears.duckdb --stage staging,marts

Exit 0 when no critical expectation failed, 1 when one did, 2 on usage errors. See arrears/validation/.
"""
from arrears.validation.cli import main

if __name__ == "__main__":
    sys.exit(main())
