#!/usr/bin/env python3
"""`arrears-demo`: the same as the console command (see `--help`); the code is arrears.demo."""
import sys

from arrears.demo import main

if __name__ == "__main__":
    sys.exit(main())
