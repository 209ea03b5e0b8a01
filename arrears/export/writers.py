"""File writers of the lists: CSV (UTF-8 with BOM, CRLF), XLSX and Parquet, each written atomically."""
from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..atomic import atomic_write
from .columns import Column
from .safety import neutralise

XLSX_MAX_ROWS = 1_048_576  # Excel's sheet limit, header row included


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
    atomic_write(path, write)


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
    atomic_write(path, write)


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
    atomic_write(path, write)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
