#!/usr/bin/env python3
"""`arrears-risk-study`: the same as the console command (see `--help`); the code is arrears.risk.study_cli."""
import sys

from arrears.risk.study_cli import main

if __name__ == "__main__":
    sys.exit(main())
