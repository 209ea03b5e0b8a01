"""Daily strategy lists: what the collections, customer-care, legal and credit-risk teams receive.

Reads `marts.mart_collection_strategy` read-only and writes, under `OUT/<as-of>/`:

    <team>.csv | .xlsx | .parquet     one work list per owning team (`owner_team` of the strategy catalog),
                                      sorted by priority_rank (overdue list first, then the watch list)
    summary.csv | .xlsx | .parquet    per team x list x strategy (type, risk band): customers and amounts
    manifest.json                     as-of date, source database, row counts, totals, SHA-256 of every file,
                                      tool version, options

Why one list per owning team rather than per strategy: a team works one queue in priority order; twelve
per-strategy files (several of them empty on most days) would make every collector open many files and
merge them by hand. The strategy (code and name) is a column of every list, so a team can still filter.
Every team of the strategy catalog gets a file, header only when it has nobody today (a missing file would
look like a failed export). File names use the team codes (`collections.csv`) in every language, so
automation does not depend on `--lang`; column headers, sheet names and labels follow `--lang`.
Parquet files are for tools: they keep the stable snake_case column names (and exact decimal and date
types) whatever `--lang` is; their text columns (type, strategy, reasons, next action) follow `--lang`.

Safety:
- every file is written to a temporary name and renamed; the whole as-of folder is built in a temporary
  folder beside it and renamed into place (with `--force`, swapped with the old folder in one
  `renameat2(RENAME_EXCHANGE)` where the kernel offers it), so a reader never sees a half-written list;
- an existing as-of folder is kept unless `force`;
- text a spreadsheet would run as a formula (first character `=`, `+`, `-`, `@`, tab or carriage return)
  gets a leading apostrophe in CSV and XLSX; numbers stay numbers (amounts are written as numeric values,
  and text that is just a number such as `-12.5` is left as it is);
- `mask_pii` masks customer names, contact persons, phones and e-mail addresses (`王*`, `138****0002`,
  `w***@example.cn`) in every file;
- CSV is UTF-8 with a byte-order mark (Excel then reads Chinese text correctly), CRLF line ends.

Exit codes (`ExportError.exit_code`, used by `arrears-export`): 0 done; 1 unexpected
error; 2 bad arguments, or the database file is missing or cannot be opened; 3 the as-of folder exists
(use --force); 4 the marts are missing (the pipeline has not run); 5 the mart holds no rows for the as-of
date; 6 the output folder cannot be created or written.
"""
from .lists import ExportError, ExportOptions, ExportResult, run_export

__all__ = ["ExportError", "ExportOptions", "ExportResult", "run_export"]
