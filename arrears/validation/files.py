"""What is wrong with a contract file before anything parses it (issue 20 item 4: errors that say what to do).

- `csv_problem(path)`: not UTF-8 (names the byte, its line and the likely encoding, and how to convert), or a
  delimiter other than the contract's comma (names it). A UTF-8 byte-order mark is accepted.
- `parquet_problem(path, table, columns)`: a contract column whose Parquet type cannot mean what the contract
  says (a list or struct anywhere, a boolean or number where a date is expected, a date where an amount is
  expected), named with its type.
- `parquet_text_sql(column, type, is_date)`: how a Parquet column becomes the contract's text: a timestamp at
  midnight in a date column is that date (pandas writes dates as timestamps); other values keep DuckDB's text
  (floats print as their shortest decimal, so 100.1 stays 100.1).
"""
from __future__ import annotations

import codecs
from pathlib import Path

SAMPLE_BYTES = 1 << 20          # the first MiB tells the encoding and the delimiter
CONTRACT_RULE = "the contract (CONTRACT.md) requires UTF-8 CSV files with a header and comma delimiters"
OTHER_DELIMITERS = {";": "';' (semicolon)", "\t": "TAB", "|": "'|' (pipe)"}
BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"), (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"))
DATE_COLUMNS = {"invoice_date", "due_date", "payment_date", "action_date", "promised_date", "rate_date",
                "created_date"}
NESTED = ("[]", "STRUCT", "MAP", "UNION", "BLOB", "BIT", "INTERVAL")
NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
           "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


def _guess_encoding(data: bytes) -> str:
    for bom, name in BOMS:
        if data.startswith(bom):
            return name
    for name in ("gb18030", "big5", "shift_jis", "cp1252"):
        try:
            data.decode(name)
            return {"gb18030": "GB18030/GBK", "cp1252": "Windows-1252/Latin-1"}.get(name, name.upper())
        except UnicodeDecodeError:
            continue
    return "an unknown encoding"


def csv_problem(path: Path) -> str | None:
    """A sentence naming what makes `path` unreadable as a contract CSV, or None when it looks fine."""
    with open(path, "rb") as handle:
        data = handle.read(SAMPLE_BYTES)
    text_part = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    for bom, name in BOMS:
        if data.startswith(bom):
            return (f"{path.name} is not UTF-8: it starts with a {name} byte-order mark; {CONTRACT_RULE}. "
                    f"Re-export it as UTF-8, e.g. `iconv -f {name} -t UTF-8 {path.name} > {path.stem}.utf8.csv`")
    try:
        text = text_part.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(text_part) == SAMPLE_BYTES and exc.start >= len(text_part) - 4:
            text = text_part[: exc.start].decode("utf-8")      # a character cut by the sample's end
        else:
            offset = exc.start + (len(data) - len(text_part))
            line = data[:offset].count(b"\n") + 1
            guess = _guess_encoding(text_part)
            source = guess.split("/")[0] if guess != "an unknown encoding" else "<encoding>"
            return (f"{path.name} is not UTF-8: byte 0x{data[offset]:02x} at offset {offset} (line {line}) is not "
                    f"valid UTF-8; it looks like {guess}. {CONTRACT_RULE}: re-export it as UTF-8, "
                    f"e.g. `iconv -f {source} -t UTF-8 {path.name} > {path.stem}.utf8.csv`")
    header = text.split("\n", 1)[0].rstrip("\r")
    if header and "," not in header:
        counts = {d: header.count(d) for d in OTHER_DELIMITERS}
        found = max(counts, key=counts.get)
        if counts[found]:
            return (f"{path.name} uses {OTHER_DELIMITERS[found]} as delimiter (header: {header[:120]!r}); "
                    f"{CONTRACT_RULE}. Re-export it with ',' as delimiter")
    return None


def parquet_problem(columns: dict[str, str], path: Path, decimal_columns: set[str]) -> str | None:
    """`columns`: contract column -> DuckDB type of the Parquet column. A sentence naming every column of a
    type the contract cannot read, or None."""
    bad = []
    for column, dtype in columns.items():
        upper = dtype.upper()
        if any(token in upper for token in NESTED):
            bad.append(f"{column} ({dtype}: a nested or binary value, not one value per cell)")
        elif column in DATE_COLUMNS and (upper == "BOOLEAN" or upper.startswith(NUMERIC) or upper.startswith("TIME ")
                                         or upper == "TIME"):
            bad.append(f"{column} ({dtype}: a date column needs DATE, TIMESTAMP or YYYY-MM-DD text)")
        elif column in decimal_columns and (upper == "BOOLEAN" or upper.startswith(("DATE", "TIMESTAMP", "TIME"))):
            bad.append(f"{column} ({dtype}: an amount needs a number or decimal text)")
    if not bad:
        return None
    return (f"{path.name} has column(s) of a type the contract cannot read: {'; '.join(bad)}. Write them as the "
            "contract's types (dates as DATE, amounts as DECIMAL or DOUBLE, the rest as text)")


def parquet_text_sql(quoted_column: str, dtype: str, is_date: bool) -> str:
    """SQL turning a Parquet column into the contract's text (see the module docstring)."""
    upper = dtype.upper()
    if is_date and upper.startswith("TIMESTAMP"):
        ts = f"cast({quoted_column} as timestamp)"
        return (f"case when cast({ts} as time) = cast('00:00:00' as time) then strftime({ts}, '%Y-%m-%d') "
                f"else cast({quoted_column} as varchar) end")
    return f"cast({quoted_column} as varchar)"
