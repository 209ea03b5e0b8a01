#!/usr/bin/env python3
"""`arrears-run`: the same as the console command (see `--help`); the code is arrears.pipeline."""
import sys

from arrears.pipeline import main

if __name__ == "__main__":
    sys.exit(main())
