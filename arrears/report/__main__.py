"""`python -m arrears.report`: the same as `arrears-report`."""
import sys

from .page import main

sys.exit(main())
