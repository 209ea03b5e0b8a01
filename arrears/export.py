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

Exit codes (`ExportError.exit_code`, used by `scripts/export_strategy_lists.py`): 0 done; 1 unexpected
error; 2 bad arguments, or the database file is missing or cannot be opened; 3 the as-of folder exists
(use --force); 4 the marts are missing (the pipeline has not run); 5 the mart holds no rows for the as-of
date; 6 the output folder cannot be created or written.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import csv
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import arrears

TOOL = "export_strategy_lists"
SOURCE_TABLE = "marts.mart_collection_strategy"
FORMATS = ("csv", "xlsx", "parquet")
LANGS = ("en", "zh")
XLSX_MAX_ROWS = 1_048_576  # Excel's sheet limit, header row included

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DATABASE = 2
EXIT_EXISTS = 3
EXIT_NO_MARTS = 4
EXIT_NO_DATA = 5
EXIT_UNWRITABLE = 6


class ExportError(RuntimeError):
    """The export cannot go on; the message says why and what to do, `exit_code` is the CLI's exit status."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR):
        super().__init__(message)
        self.exit_code = exit_code


# ------------------------------------------------------------------------------------------- labels

TEAM_LABELS: dict[str, dict[str, str]] = {
    "collections": {"en": "Collections", "zh": "催收组"},
    "customer_care": {"en": "Customer care", "zh": "客户关怀组"},
    "legal": {"en": "Legal", "zh": "法务组"},
    "credit_risk": {"en": "Credit risk", "zh": "信用风险组"},
    "unassigned": {"en": "Unassigned", "zh": "未分配"},
}

# Codes shown to people: translated with --lang zh, shown as they are in English (they read as words).
VALUE_LABELS_ZH: dict[str, dict[str, str]] = {
    "list_type": {"overdue": "逾期", "watch": "观察"},
    "risk_band": {"low": "低", "medium": "中", "high": "高"},
    "customer_type": {"business": "企业", "individual": "个人"},
    "next_action_channel": {"call": "电话", "sms": "短信", "visit": "上门", "letter": "信函", "legal": "法律",
                            "email": "电子邮件"},
    "credit_action": {"freeze": "冻结额度", "reduce": "降低额度", "review": "复核额度", "none": "无"},
}


@dataclass(frozen=True)
class Column:
    """One column of a list: stable key (Parquet name), headers per language, kind (text, int, amount,
    score, date), and how PII masking treats it (name, phone, email or None)."""

    key: str
    en: str
    zh: str
    kind: str = "text"
    pii: str | None = None

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


LIST_COLUMNS: tuple[Column, ...] = (
    Column("priority_rank", "Priority rank", "优先级排名", "int"),
    Column("customer_id", "Customer ID", "客户编号"),
    Column("customer_name", "Customer name", "客户名称", pii="name"),
    Column("customer_type", "Customer type", "客户类型"),
    Column("region", "Region", "地区"),
    Column("contact_person", "Contact person", "联系人", pii="name"),
    Column("phone", "Phone", "电话", pii="phone"),
    Column("email", "Email", "电子邮箱", pii="email"),
    Column("account_manager", "Account manager", "客户经理"),
    Column("list_type", "List", "名单"),
    Column("overdue_type", "Overdue type", "逾期类型"),
    Column("risk_band", "Risk band", "风险等级"),
    Column("strategy_code", "Strategy code", "策略代码"),
    Column("strategy_name", "Strategy", "策略"),
    Column("outstanding_base", "Outstanding (base currency)", "未结余额(本位币)", "amount"),
    Column("at_stake_base", "Amount overdue / past due (base currency)", "逾期金额(本位币)", "amount"),
    Column("days_past_due", "Days past due", "逾期天数", "int"),
    Column("aging_bucket", "Aging bucket", "账龄区间"),
    Column("reasons", "Reasons", "原因"),
    Column("next_action", "Next action", "下一步行动"),
    Column("next_action_channel", "Channel", "渠道"),
    Column("next_action_due_date", "Next action due", "行动截止日期", "date"),
    Column("credit_action", "Credit action", "额度措施"),
    Column("priority_score", "Priority score", "优先级得分", "score"),
)

SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column("owner_team", "Team", "团队"),
    Column("list_type", "List", "名单"),
    Column("strategy_code", "Strategy code", "策略代码"),
    Column("strategy_name", "Strategy", "策略"),
    Column("overdue_type", "Overdue type", "逾期类型"),
    Column("risk_band", "Risk band", "风险等级"),
    Column("customers", "Customers", "客户数", "int"),
    Column("outstanding_base", "Outstanding (base currency)", "未结余额(本位币)", "amount"),
    Column("at_stake_base", "Amount overdue / past due (base currency)", "逾期金额(本位币)", "amount"),
)

SHEET_TITLES = {"summary": {"en": "Summary", "zh": "汇总"}}


def team_label(team: str, lang: str) -> str:
    return TEAM_LABELS.get(team, {}).get(lang, team)


def value_label(column: str, value: Any, lang: str) -> Any:
    if lang != "zh" or value is None:
        return value
    return VALUE_LABELS_ZH.get(column, {}).get(value, value)


# ------------------------------------------------------------------------------ formulas and masking

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# A phone number (+86 138-0000-0002, +1 (555) 010 9999): digits, spaces, dashes, dots and parentheses only, so
# nothing a spreadsheet could run (no function, no reference); left as it is rather than defaced.
_PHONE = re.compile(r"\+\d[\d .()\-]{4,}\d")


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; other values are unchanged.

    Only text is touched: numbers (int, Decimal, float) are never strings here, and text that is just a
    number (`-12.5`) or a phone number (`+86 138 0000 0002`) is harmless and stays as it is.
    """
    if (isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value)
            and not _PHONE.fullmatch(value)):
        return "'" + value
    return value


def mask_name(value: str | None) -> str | None:
    """First character of each word, the rest as '*': 王芳 -> 王*, Kevin Brown -> K**** B****."""
    if not value:
        return value
    return " ".join(word[:1] + "*" * (len(word) - 1) for word in value.split())


def mask_phone(value: str | None) -> str | None:
    """Keep an international prefix (`+86`), the first 3 and last 4 digits of the number, mask the digits
    between: 13800000002 -> 138****0002, +86 193 3799 3817 -> +86 193 **** 3817. Short numbers keep only
    their last 2 digits."""
    if not value:
        return value
    prefix, rest = "", value
    if value.startswith("+") and " " in value:
        head, rest = value.split(" ", 1)
        prefix = head + " "
    digits = sum(ch.isdigit() for ch in rest)
    keep_head, keep_tail = (3, 4) if digits >= 8 else (0, 2)
    out, seen = [], 0
    for ch in rest:
        if ch.isdigit():
            out.append(ch if seen < keep_head or seen >= digits - keep_tail else "*")
            seen += 1
        else:
            out.append(ch)
    return prefix + "".join(out)


def mask_email(value: str | None) -> str | None:
    """First character of the local part, then ***, domain kept: wang.fang@example.cn -> w***@example.cn."""
    if not value:
        return value
    local, at, domain = value.partition("@")
    if not at:
        return local[:1] + "***"
    return local[:1] + "***@" + domain


MASKERS: dict[str, Callable[[str | None], str | None]] = {
    "name": mask_name, "phone": mask_phone, "email": mask_email,
}


# ------------------------------------------------------------------------------------------ database

def open_readonly(db: Path):
    """A read-only DuckDB connection to `db`; ExportError(2) when the file is missing or cannot be opened."""
    import duckdb

    if not db.exists():
        raise ExportError(f"database {db} does not exist: run the pipeline first (make run) or pass --db",
                          EXIT_DATABASE)
    if not db.is_file():
        raise ExportError(f"database {db} is not a file", EXIT_DATABASE)
    try:
        return duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise ExportError(f"cannot open database {db} read-only (is it a DuckDB file, and is no process "
                          f"writing it?): {exc}", EXIT_DATABASE) from exc


def relation_exists(con, schema: str, name: str) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name]).fetchone()[0] > 0


def require_marts(con, db: Path, names: Iterable[str]) -> None:
    missing = [n for n in names if not relation_exists(con, "marts", n)]
    if missing:
        raise ExportError(
            f"database {db} has no {', '.join('marts.' + n for n in missing)}: the pipeline has not been run "
            "(or did not finish) on it; run `make run` or scripts/run_pipeline.py first", EXIT_NO_MARTS)


def built_as_of(con) -> dt.date | None:
    """The as-of date the warehouse was built for (intermediate.int_as_of_date), None when it is not there."""
    if not relation_exists(con, "intermediate", "int_as_of_date"):
        return None
    row = con.execute("select max(as_of_date) from intermediate.int_as_of_date").fetchone()
    return row[0] if row else None


def mart_as_of_dates(con) -> list[dt.date]:
    return [r[0] for r in con.execute(
        f"select distinct as_of_date from {SOURCE_TABLE} where as_of_date is not null order by 1").fetchall()]


# ------------------------------------------------------------------------------------------- options

@dataclass(frozen=True)
class ExportOptions:
    db: Path
    out: Path
    as_of: dt.date | None = None          # None: the mart's as-of date (it holds one)
    formats: tuple[str, ...] = FORMATS
    lang: str = "en"
    mask_pii: bool = False
    force: bool = False


@dataclass
class ExportResult:
    folder: Path
    manifest: dict[str, Any]
    files: list[Path] = field(default_factory=list)


# ------------------------------------------------------------------------------------------- reading

_LIST_SQL = f"""
select
    s.*,
    {{bucket_label}} as aging_bucket_label,
    {{bucket_label_zh}} as aging_bucket_label_zh
from {SOURCE_TABLE} as s
{{bucket_join}}
where s.as_of_date = ?
order by s.priority_rank, s.customer_id
"""


def read_strategy_rows(con, as_of: dt.date) -> list[dict[str, Any]]:
    """The mart's rows of the as-of date as dicts (Decimal amounts, dates), in priority order."""
    if relation_exists(con, "reference", "aging_buckets"):
        sql = _LIST_SQL.format(bucket_label="b.bucket_label", bucket_label_zh="b.bucket_label_zh",
                               bucket_join="left join reference.aging_buckets as b on s.aging_bucket = b.bucket_code")
    else:
        sql = _LIST_SQL.format(bucket_label="null", bucket_label_zh="null", bucket_join="")
    cursor = con.execute(sql, [as_of])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def catalog_teams(con) -> list[str]:
    if not relation_exists(con, "reference", "strategy_catalog"):
        return []
    return [r[0] for r in con.execute(
        "select distinct owner_team from reference.strategy_catalog where owner_team is not null order by 1"
    ).fetchall()]


def mart_totals(con, as_of: dt.date) -> dict[str, Any]:
    """Totals straight from the mart (SQL), to check the exported rows against."""
    row = con.execute(
        f"select count(*), coalesce(sum(outstanding_base), 0), coalesce(sum(at_stake_base), 0) "
        f"from {SOURCE_TABLE} where as_of_date = ?", [as_of]).fetchone()
    return {"customers": int(row[0]), "outstanding_base": Decimal(row[1]), "at_stake_base": Decimal(row[2])}


def _pick(lang: str, en: Any, zh: Any) -> Any:
    return (zh if zh is not None else en) if lang == "zh" else en


def list_record(row: dict[str, Any], lang: str, mask_pii: bool) -> dict[str, Any]:
    """One list row keyed by LIST_COLUMNS keys: language-specific text picked, codes labelled, PII masked."""
    record = {
        "priority_rank": row["priority_rank"],
        "customer_id": row["customer_id"],
        "customer_name": row["customer_name"],
        "customer_type": value_label("customer_type", row["customer_type"], lang),
        "region": row["region"],
        "contact_person": row["contact_person"],
        "phone": row["phone"],
        "email": row["email"],
        "account_manager": row["account_manager"],
        "list_type": value_label("list_type", row["list_type"], lang),
        "overdue_type": _pick(lang, row["overdue_type"], row["overdue_type_zh"]),
        "risk_band": value_label("risk_band", row["risk_band"], lang),
        "strategy_code": row["strategy_code"],
        "strategy_name": _pick(lang, row["strategy_name_en"], row["strategy_name_zh"]),
        "outstanding_base": row["outstanding_base"],
        "at_stake_base": row["at_stake_base"],
        "days_past_due": row["days_past_due"],
        "aging_bucket": _pick(lang, row.get("aging_bucket_label"), row.get("aging_bucket_label_zh"))
        or row["aging_bucket"],
        "reasons": _pick(lang, row["reasons_en"], row["reasons_zh"]),
        "next_action": _pick(lang, row["next_action_en"], row["next_action_zh"]),
        "next_action_channel": value_label("next_action_channel", row["next_action_channel"], lang),
        "next_action_due_date": row["next_action_due_date"],
        "credit_action": value_label("credit_action", row["credit_action"], lang),
        "priority_score": None if row["priority_score"] is None else round(float(row["priority_score"]), 2),
    }
    if mask_pii:
        for col in LIST_COLUMNS:
            if col.pii:
                record[col.key] = MASKERS[col.pii](record[col.key])
    return record


def summarise(rows: Sequence[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Per team x list x strategy: customers, outstanding and at-stake amounts (Decimal sums)."""
    groups: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        team = row["owner_team"] or "unassigned"
        key = (team, row["list_type"], row["strategy_code"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "owner_team": team_label(team, lang),
                "list_type": value_label("list_type", row["list_type"], lang),
                "strategy_code": row["strategy_code"],
                "strategy_name": _pick(lang, row["strategy_name_en"], row["strategy_name_zh"]),
                "overdue_type": _pick(lang, row["overdue_type"], row["overdue_type_zh"]),
                "risk_band": value_label("risk_band", row["risk_band"], lang),
                "customers": 0, "outstanding_base": Decimal("0.00"), "at_stake_base": Decimal("0.00"),
            }
        group["customers"] += 1
        group["outstanding_base"] += row["outstanding_base"] or 0
        group["at_stake_base"] += row["at_stake_base"] or 0
    return [groups[k] for k in sorted(groups, key=lambda k: (k[0], k[1] != "overdue", k[2] or ""))]


# ------------------------------------------------------------------------------------------- writing

def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Run `write(tmp)` on a temporary name beside `path`, flush it to disk, then rename it to `path`."""
    tmp = path.with_name(f".{path.name}.part-{os.getpid()}")
    try:
        write(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _csv_text(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "amount":
        return format(Decimal(value).quantize(Decimal("0.01")), "f")
    if kind == "date":
        return value.isoformat()
    if kind in {"int", "score"}:
        return str(value)
    return neutralise(str(value))


def write_csv(path: Path, columns: Sequence[Column], records: Sequence[dict[str, Any]], lang: str) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow([neutralise(c.header(lang)) for c in columns])
            for rec in records:
                writer.writerow([_csv_text(rec.get(c.key), c.kind) for c in columns])
    _atomic_write(path, write)


_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XLSX_FORMATS = {"amount": "#,##0.00", "date": "yyyy-mm-dd", "score": "0.0", "int": "0"}
_XLSX_WIDTHS = {"amount": 18, "date": 13, "score": 10, "int": 10}


def _xlsx_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "amount":
        return Decimal(value)
    if kind in {"int", "score", "date"}:
        return value
    return neutralise(_XLSX_ILLEGAL.sub("", str(value)))


def write_xlsx(path: Path, columns: Sequence[Column], records: Sequence[dict[str, Any]], lang: str,
               sheet_title: str) -> None:
    """One workbook, header row frozen and filtered; numbers are numeric cells with a number format; text
    cells are always text (openpyxl would store a string starting with '=' as a formula: neutralise()
    guarantees none does). Lists longer than an Excel sheet continue on further sheets."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    def write(tmp: Path) -> None:
        wb = Workbook(write_only=True)
        per_sheet = XLSX_MAX_ROWS - 1
        chunks = [records[i:i + per_sheet] for i in range(0, len(records), per_sheet)] or [records]
        bold = Font(bold=True)
        for n, chunk in enumerate(chunks, start=1):
            title = _sheet_title(sheet_title if n == 1 else f"{sheet_title} ({n})")
            ws = wb.create_sheet(title=title)
            for i, col in enumerate(columns, start=1):
                width = _XLSX_WIDTHS.get(col.kind, 24 if col.key in {"reasons", "next_action"} else 16)
                ws.column_dimensions[get_column_letter(i)].width = width
            ws.freeze_panes = "A2"
            ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(chunk) + 1}"
            header = []
            for col in columns:
                cell = WriteOnlyCell(ws, value=neutralise(col.header(lang)))
                cell.font = bold
                header.append(cell)
            ws.append(header)
            for rec in chunk:
                cells = []
                for col in columns:
                    cell = WriteOnlyCell(ws, value=_xlsx_value(rec.get(col.key), col.kind))
                    if col.kind in _XLSX_FORMATS and rec.get(col.key) is not None:
                        cell.number_format = _XLSX_FORMATS[col.kind]
                    cells.append(cell)
                ws.append(cells)
        wb.save(tmp)
    _atomic_write(path, write)


def _sheet_title(title: str) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title).strip() or "Sheet"
    return cleaned[:31]


def write_parquet(path: Path, columns: Sequence[Column], records: Sequence[dict[str, Any]]) -> None:
    """Typed Parquet with the stable column keys: decimal(18,2) amounts, dates, int64, float64, text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"amount": pa.decimal128(18, 2), "date": pa.date32(), "int": pa.int64(), "score": pa.float64(),
             "text": pa.string()}
    schema = pa.schema([pa.field(c.key, types[c.kind]) for c in columns])
    data = {}
    for c in columns:
        values = [rec.get(c.key) for rec in records]
        if c.kind == "amount":
            values = [None if v is None else Decimal(v).quantize(Decimal("0.01")) for v in values]
        elif c.kind == "text":
            values = [None if v is None else str(v) for v in values]
        data[c.key] = pa.array(values, type=types[c.kind])
    table = pa.table(data, schema=schema)

    def write(tmp: Path) -> None:
        pq.write_table(table, tmp, compression="zstd")
    _atomic_write(path, write)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------------------- the as-of folder swap

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False when not available."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _move_into_place(tmp: Path, final: Path, force: bool) -> None:
    if not final.exists():
        try:
            os.rename(tmp, final)  # fails if another run created `final` meanwhile
            return
        except OSError as exc:
            if not final.exists():
                raise
            if not force:
                raise ExportError(f"{final} was created by another run meanwhile; use --force to replace it",
                                  EXIT_EXISTS) from exc
    if not force:
        raise ExportError(f"{final} already exists; use --force to replace it", EXIT_EXISTS)
    if _exchange(tmp, final):
        shutil.rmtree(tmp, ignore_errors=True)  # `tmp` now holds the old folder
        return
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    os.rename(final, old)  # readers see no folder for the instant between these two renames
    os.rename(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _remove_stale_temp_folders(out: Path, as_of: str) -> None:
    """Temporary folders of this as-of date left by killed runs (their process is gone)."""
    pattern = re.compile(rf"\.{re.escape(as_of)}\.(tmp|old)-(\d+)(-.*)?")
    for entry in out.iterdir():
        m = pattern.fullmatch(entry.name)
        if not m or not entry.is_dir():
            continue
        pid = int(m.group(2))
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except PermissionError:
            pass


# -------------------------------------------------------------------------------------------- export

def _amount(value: Decimal) -> str:
    """Amounts in the manifest are exact decimal strings (JSON numbers would go through binary floats)."""
    return format(Decimal(value).quantize(Decimal("0.01")), "f")


def run_export(opts: ExportOptions, log: Callable[[str], None] | None = None) -> ExportResult:
    """Write the lists of one as-of date (see the module docstring). Raises ExportError on failure."""
    for fmt in opts.formats:
        if fmt not in FORMATS:
            raise ExportError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}", EXIT_USAGE)
    if opts.lang not in LANGS:
        raise ExportError(f"unknown language {opts.lang!r}; choose from {', '.join(LANGS)}", EXIT_USAGE)
    db = opts.db.resolve()
    with open_readonly(db) as con:
        require_marts(con, db, ["mart_collection_strategy"])
        dates = mart_as_of_dates(con)
        built = built_as_of(con)
        as_of = opts.as_of
        if as_of is None:
            if not dates and built is None:
                raise ExportError(f"{SOURCE_TABLE} in {db} is empty: nothing to export", EXIT_NO_DATA)
            as_of = dates[-1] if dates else built
        if as_of not in dates and as_of == built:
            # The warehouse was built for this date and nobody needs collection work: empty lists, not an error.
            if log:
                log(f"nobody to work on as of {as_of}: the lists are written with their headers only")
        elif as_of not in dates:
            held = ", ".join(d.isoformat() for d in dates) or "none (the mart is empty)"
            raise ExportError(
                f"{SOURCE_TABLE} in {db} has no rows for as-of date {as_of}; it holds: {held}. "
                "Build the warehouse for that date first (run_pipeline.py --as-of) or pass one of these dates",
                EXIT_NO_DATA)
        rows = read_strategy_rows(con, as_of)
        teams = sorted(set(catalog_teams(con)) | {r["owner_team"] or "unassigned" for r in rows})
        totals = mart_totals(con, as_of)

    out = opts.out.resolve()
    folder_name = as_of.isoformat()
    final = out / folder_name
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not os.access(out, os.W_OK | os.X_OK):
            raise PermissionError(f"no write permission on {out}")
        _remove_stale_temp_folders(out, folder_name)
        if final.exists() and not opts.force:
            raise ExportError(f"{final} already exists; use --force to replace it", EXIT_EXISTS)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder_name}.tmp-{os.getpid()}-", dir=out))
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; the published folder follows the umask
    except ExportError:
        raise
    except OSError as exc:
        raise ExportError(f"cannot write to output folder {out}: {exc}", EXIT_UNWRITABLE) from exc

    try:
        files = _write_folder(tmp, rows, teams, totals, opts, db, as_of, log)
        _fsync(tmp)
        _move_into_place(tmp, final, opts.force)
        _fsync(out)
    except ExportError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ExportError(f"cannot write to output folder {out}: {exc}", EXIT_UNWRITABLE) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest = json.loads((final / "manifest.json").read_text(encoding="utf-8"))
    return ExportResult(folder=final, manifest=manifest, files=[final / f for f in files])


def _write_folder(tmp: Path, rows: list[dict[str, Any]], teams: list[str], totals: dict[str, Any],
                  opts: ExportOptions, db: Path, as_of: dt.date,
                  log: Callable[[str], None] | None) -> list[str]:
    lang = opts.lang
    entries: list[dict[str, Any]] = []

    def add(name: str, kind: str, fmt: str, count: int, team: str | None = None) -> None:
        path = tmp / name
        entry = {"name": name, "kind": kind, "format": fmt, "rows": count, "bytes": path.stat().st_size,
                 "sha256": sha256_of(path)}
        if team is not None:
            entry["team"] = team
        entries.append(entry)

    by_team: dict[str, list[dict[str, Any]]] = {team: [] for team in teams}
    for row in rows:  # already in priority order
        by_team[row["owner_team"] or "unassigned"].append(row)

    team_totals: dict[str, dict[str, Any]] = {}
    exported = {"customers": 0, "outstanding_base": Decimal("0.00"), "at_stake_base": Decimal("0.00")}
    for team in teams:
        team_rows = by_team[team]
        records = [list_record(r, lang, opts.mask_pii) for r in team_rows]
        sums = {"customers": len(team_rows),
                "outstanding_base": sum((r["outstanding_base"] or 0 for r in team_rows), Decimal("0.00")),
                "at_stake_base": sum((r["at_stake_base"] or 0 for r in team_rows), Decimal("0.00"))}
        for key in exported:
            exported[key] += sums[key]
        team_totals[team] = {"label": team_label(team, lang), "customers": sums["customers"],
                             "outstanding_base": _amount(sums["outstanding_base"]),
                             "at_stake_base": _amount(sums["at_stake_base"])}
        for fmt in opts.formats:
            name = f"{team}.{fmt}"
            if fmt == "csv":
                write_csv(tmp / name, LIST_COLUMNS, records, lang)
            elif fmt == "xlsx":
                write_xlsx(tmp / name, LIST_COLUMNS, records, lang, team_label(team, lang))
            else:
                write_parquet(tmp / name, LIST_COLUMNS, records)
            add(name, "list", fmt, len(records), team)
        if log:
            log(f"{team}: {len(records)} customers")

    # The exported rows must be the mart's rows, no more, no less: a mismatch is a bug, never a file.
    if exported != {k: totals[k] for k in exported}:
        raise ExportError(f"exported totals {exported} differ from the mart's {totals}; nothing was written")

    summary = summarise(rows, lang)
    for fmt in opts.formats:
        name = f"summary.{fmt}"
        if fmt == "csv":
            write_csv(tmp / name, SUMMARY_COLUMNS, summary, lang)
        elif fmt == "xlsx":
            write_xlsx(tmp / name, SUMMARY_COLUMNS, summary, lang, SHEET_TITLES["summary"][lang])
        else:
            write_parquet(tmp / name, SUMMARY_COLUMNS, summary)
        add(name, "summary", fmt, len(summary))

    by_list: dict[str, dict[str, Any]] = {}
    for row in rows:
        agg = by_list.setdefault(row["list_type"], {"customers": 0, "outstanding_base": Decimal("0.00"),
                                                    "at_stake_base": Decimal("0.00")})
        agg["customers"] += 1
        agg["outstanding_base"] += row["outstanding_base"] or 0
        agg["at_stake_base"] += row["at_stake_base"] or 0

    manifest = {
        "tool": TOOL,
        "tool_version": arrears.__version__,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "as_of_date": as_of.isoformat(),
        "source_database": str(db),
        "source_table": SOURCE_TABLE,
        "grouping": "owner_team",
        "sort": "priority_rank",
        "language": lang,
        "formats": list(opts.formats),
        "mask_pii": opts.mask_pii,
        "amounts": "base currency; exact decimal strings",
        "totals": {"customers": totals["customers"], "outstanding_base": _amount(totals["outstanding_base"]),
                   "at_stake_base": _amount(totals["at_stake_base"])},
        "totals_by_list_type": {k: {"customers": v["customers"], "outstanding_base": _amount(v["outstanding_base"]),
                                    "at_stake_base": _amount(v["at_stake_base"])}
                                for k, v in sorted(by_list.items())},
        "teams": team_totals,
        "files": entries,
    }

    def write_manifest(path: Path) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
    _atomic_write(tmp / "manifest.json", write_manifest)
    return [e["name"] for e in entries] + ["manifest.json"]


# ----------------------------------------------------------------------------------------------- CLI

EPILOG = """\
Output: OUT/<as-of>/<team>.<format> for every owning team of the strategy catalog (collections,
customer_care, credit_risk, legal), sorted by priority rank; summary.<format> (per team, list, strategy:
customers and amounts); manifest.json (as-of date, source database, row counts, totals, SHA-256 of every
file, tool version). CSV is UTF-8 with BOM; text that a spreadsheet would run as a formula gets a leading
apostrophe in CSV and XLSX. Parquet keeps stable snake_case column names in every language.

exit codes:
  0  done
  1  unexpected error
  2  bad arguments, or the database file is missing or cannot be opened
  3  OUT/<as-of> already exists (use --force to replace it)
  4  the marts are missing: the pipeline has not been run on this database
  5  the mart holds no rows for the as-of date
  6  the output folder cannot be created or written
"""


def _formats(text: str) -> tuple[str, ...]:
    import argparse

    items = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in items if f not in FORMATS]
    if not items or unknown:
        raise argparse.ArgumentTypeError(
            f"{', '.join(unknown) or 'nothing'}: choose one or more of {', '.join(FORMATS)}, comma-separated")
    return items


def parse_args(argv: Sequence[str] | None = None):
    import argparse

    from arrears.paths import default_db, default_out_dir

    parser = argparse.ArgumentParser(
        prog="export_strategy_lists.py",
        description="Write the day's collection strategy lists (one per owning team, in priority order) with "
        "a summary and a manifest, from marts.mart_collection_strategy (opened read-only).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=default_db(),
                        help="DuckDB file built by the pipeline (env ARREARS_DB); default: %(default)s")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="as-of date to export; must be the date the mart was built for "
                        "(default: the mart's as-of date)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="folder that receives <as-of>/ (default: <project>/out/lists)")
    parser.add_argument("--format", dest="formats", type=_formats, default=FORMATS, metavar="LIST",
                        help="comma-separated subset of csv,xlsx,parquet (default: all three)")
    parser.add_argument("--lang", choices=LANGS, default="en",
                        help="language of column headers, labels, reasons and next actions (default: en)")
    parser.add_argument("--mask-pii", action="store_true",
                        help="mask customer names, contact persons, phones and e-mails (e.g. 王*, 138****0002, "
                        "w***@example.cn)")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing OUT/<as-of>/ folder (swapped in atomically)")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = default_out_dir() / "lists"
    return args


def main(argv: Sequence[str] | None = None) -> int:
    import sys

    args = parse_args(argv)
    say = (lambda msg: None) if args.quiet else (lambda msg: print(f"[export] {msg}", flush=True))
    opts = ExportOptions(db=args.db, out=args.out, as_of=args.as_of, formats=args.formats, lang=args.lang,
                         mask_pii=args.mask_pii, force=args.force)
    try:
        result = run_export(opts, log=say)
    except ExportError as exc:
        print(f"[export] ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    totals = result.manifest["totals"]
    say(f"wrote {len(result.files)} files to {result.folder}: {totals['customers']} customers, "
        f"outstanding {totals['outstanding_base']}, at stake {totals['at_stake_base']} (base currency)")
    return EXIT_OK
