#!/usr/bin/env python3
"""`arrears-risk`: the same as the console command (see `--help`); the code is arrears.risk.cli."""
import sys

from arrears.risk.cli import main

if __name__ == "__main__":
    sys.exit(main())
