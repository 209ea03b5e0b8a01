"""Errors and exit codes shared by every command-line tool.

Every tool exits 0 when it did its job, 1 on an unexpected error, 2 on bad arguments or an unreadable
database, and 4 when the warehouse lacks what it needs (the pipeline has not run). The other codes are each
tool's own and are listed in its `--help`:

| code | arrears-run (pipeline)        | arrears-export              | arrears-risk                 | arrears-validate |
|------|-------------------------------|-----------------------------|------------------------------|------------------|
| 3    | another run holds the lock    | the as-of folder exists     | the data cannot be modelled  |                  |
| 4    | delivery guard stopped it     | marts missing               | warehouse missing/unreadable |                  |
| 5    |                               | no rows for the as-of date  |                              |                  |
| 6    |                               | output folder not writable  |                              |                  |
| 1    | a step failed                 | unexpected error            | unexpected error             | critical failure |
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DATABASE = 2
EXIT_NO_MARTS = 4


class ArrearsError(RuntimeError):
    """A tool cannot go on; the message says why and what to do, `exit_code` is the CLI's exit status."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
