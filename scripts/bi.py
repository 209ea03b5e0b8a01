#!/usr/bin/env python3
"""`make bi`: Superset on the published warehouse (see `--help`); the code is arrears.bi."""
import sys

from arrears.bi import main

if __name__ == "__main__":
    sys.exit(main())
