"""`python -m arrears.export`: the same as `arrears-export`."""
import sys

from .cli import main

sys.exit(main())
