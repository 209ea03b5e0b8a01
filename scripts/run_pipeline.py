#!/usr/bin/env python3
"""Run the overdue-customer warehouse end to end. See `--help`."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from arrears.pipeline import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
