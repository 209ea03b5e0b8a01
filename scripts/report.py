#!/usr/bin/env python3
"""`arrears-report`: the same as the console command (see `--help`); the code is arrears.report.page."""
import sys

from arrears.report.page import main

if __name__ == "__main__":
    sys.exit(main())
