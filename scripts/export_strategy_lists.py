#!/usr/bin/env python3
"""`arrears-export`: the same as the console command (see `--help`); the code is arrears.export.cli."""
import sys

from arrears.export.cli import main

if __name__ == "__main__":
    sys.exit(main())
