#!/usr/bin/env python3
"""`arrears-evaluate`: the same as the console command (see `--help`); the code is arrears.evaluation."""
import sys

from arrears.evaluation import main

if __name__ == "__main__":
    sys.exit(main())
