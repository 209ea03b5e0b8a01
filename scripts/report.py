import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
"""Write the overdue report: one self-contained HTML file (inline SVG charts, opens offline).

    scripts/report.py --db target/arrears.duckdb --out out/report/overdue_report.html [--lang zh]

See `--help` for what it shows and the exit codes, and arrears/report.py for the details.
"""
from arrears.report import main

if __name__ == "__main__":
    sys.exit(main())
