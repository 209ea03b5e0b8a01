#!/usr/bin/env python3
"""`arrears-backtest`: the same as the console command (see `--help`); the code is arrears.backtest."""
import sys

from arrears.backtest import main

if __name__ == "__main__":
    sys.exit(main())
