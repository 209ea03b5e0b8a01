#!/usr/bin/env python3
"""`arrears-benchmark`: the same as the console command (see `--help`); the code is arrears.benchmark."""
import sys

from arrears.benchmark import main

if __name__ == "__main__":
    sys.exit(main())
