#!/usr/bin/env python3
"""`arrears-validate`: the same as the console command (see `--help`); the code is arrears.validation.cli."""
import sys

from arrears.validation.cli import main

if __name__ == "__main__":
    sys.exit(main())
