"""Delivery guards: stop a run before anything is published when the delivery itself looks broken.

A contract-valid file can still be a broken delivery: an extract that lost its payments (header only) would
publish every customer as overdue. The guards compare this delivery with the last one that was published:

- ``empty_table``: a table (required or optional) has no rows where the last published run had rows;
- ``row_drop``: a table has lost more than ``max_drop_share`` of its rows against the last published run;
- ``day_volume``: the latest day of invoices or payments holds far more rows than the days before it
  (more than ``day_volume_ratio`` times their median, and at least ``day_volume_min_rows``): dates defaulted to
  the extract day, a load delivered twice.

A guard that fires stops the run (exit 4) with a message naming the table and the figures. A real one-off (a
portfolio sold, a migration) is acknowledged for one run with ``--accept-guard <guard>`` or
``--accept-guard <guard>:<table>``; acknowledged guards are listed in the run summary, never silent. The counts
of a published run are kept in ``<db>.delivery.json`` beside the published database (written at publish only).
The first run (no previous counts) passes the comparisons with a note.
"""
from __future__ import annotations

import datetime as dt
import json
import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from arrears.atomic import write_json
from arrears.contract import table_input
from arrears.sql import literal

GUARDS = ("empty_table", "row_drop", "day_volume")
TABLES = ("customers", "invoices", "payments", "collection_actions", "fx_rates")
DATE_COLUMNS = {"invoices": "invoice_date", "payments": "payment_date"}


@dataclass(frozen=True)
class GuardSettings:
    max_drop_share: float = 0.5        # a table may lose at most this share of its rows against the last run
    day_volume_ratio: float = 5.0      # the latest day above this multiple of the recent median is an outlier
    day_volume_min_rows: int = 50      # ... and at least this many rows (small books vary a lot day to day)
    recent_days: int = 28              # the days before the latest one that make the recent range


@dataclass
class Finding:
    guard: str
    table: str
    message: str
    accepted: bool = False

    @property
    def key(self) -> str:
        return f"{self.guard}:{self.table}"


@dataclass
class DeliveryCheck:
    counts: dict[str, int | None]
    latest_day: dict[str, dict] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if not f.accepted]

    def to_json(self) -> dict:
        return {"counts": self.counts, "latest_day": self.latest_day, "notes": self.notes,
                "findings": [asdict(f) | {"key": f.key} for f in self.findings]}


class GuardError(ValueError):
    """An --accept-guard value that names no guard."""


def state_path(db: Path) -> Path:
    return db.with_name(db.name + ".delivery.json")


def _files(raw_dir: Path, table: str) -> tuple[str, str] | None:
    """(reader, path pattern) of a table in the folder, or None when absent."""
    for ext, reader in (("csv", "read_csv"), ("parquet", "read_parquet")):
        single = table_input(raw_dir, table, ext)
        if single is not None:
            return reader, str(single)
        folder = raw_dir / table
        if folder.is_dir() and any(folder.glob(f"*.{ext}")):
            return reader, str(folder / f"*.{ext}")
    return None


def _relation(reader: str, pattern: str) -> str:
    if reader == "read_csv":
        return f"read_csv({literal(pattern)}, all_varchar = true, header = true)"
    return f"read_parquet({literal(pattern)}, union_by_name = true)"


def measure(raw_dir: Path, settings: GuardSettings = GuardSettings()) -> DeliveryCheck:
    """Row counts per table (None when a table cannot be read: raw validation names the problem) and, for
    invoices and payments, the latest day's volume against the recent days."""
    import duckdb

    check = DeliveryCheck(counts={})
    with duckdb.connect() as con:
        for table in TABLES:
            found = _files(raw_dir, table)
            if found is None:
                check.counts[table] = 0
                continue
            relation = _relation(*found)
            try:
                check.counts[table] = int(con.execute(f"select count(*) from {relation}").fetchone()[0])
            except duckdb.Error as exc:
                check.counts[table] = None
                check.notes.append(f"{table}: not counted ({str(exc).splitlines()[0]}); raw validation reports it")
                continue
            column = DATE_COLUMNS.get(table)
            if column is None or not check.counts[table]:
                continue
            try:
                rows = con.execute(f"""
                    select day, count(*) from (
                        select try_cast(substr(trim(cast("{column}" as varchar)), 1, 10) as date) as day
                        from {relation}) as d
                    where day is not null
                    group by day order by day desc limit {settings.recent_days + 1}""").fetchall()
            except duckdb.Error:
                continue
            if len(rows) < 8:
                continue
            (latest, latest_rows), recent = rows[0], [n for _, n in rows[1:]]
            check.latest_day[table] = {"day": latest.isoformat(), "rows": int(latest_rows),
                                       "recent_median": float(statistics.median(recent)),
                                       "recent_max": int(max(recent)), "recent_days": len(recent)}
    return check


def load_previous(db: Path) -> dict | None:
    path = state_path(db)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def evaluate(check: DeliveryCheck, previous: dict | None, settings: GuardSettings = GuardSettings(),
             accepted: Iterable[str] = ()) -> DeliveryCheck:
    """Fill check.findings; `accepted` holds guard names or guard:table keys acknowledged for this run."""
    accepted = set(accepted)
    unknown = {a for a in accepted if a.split(":", 1)[0] not in GUARDS}
    if unknown:
        raise GuardError(f"unknown guard(s) {', '.join(sorted(unknown))}; guards are {', '.join(GUARDS)} "
                         "(optionally :<table>, e.g. empty_table:payments)")
    before = (previous or {}).get("counts", {})
    if previous is None:
        check.notes.append("no earlier published delivery to compare with: row-count guards pass this first run")
    for table in TABLES:
        now, then = check.counts.get(table), before.get(table)
        if now is None or not then:
            continue
        if now == 0:
            check.findings.append(Finding(
                "empty_table", table,
                f"{table} has no rows, the last published run had {then:,} "
                f"(published {previous.get('published_at', '?')}, as of {previous.get('as_of', '?')})"))
        elif now < (1 - settings.max_drop_share) * then:
            check.findings.append(Finding(
                "row_drop", table,
                f"{table} has {now:,} rows, {1 - now / then:.0%} fewer than the last published run's {then:,} "
                f"(the limit is a drop of {settings.max_drop_share:.0%})"))
    for table, day in check.latest_day.items():
        median = day["recent_median"]
        if day["rows"] >= settings.day_volume_min_rows and day["rows"] > settings.day_volume_ratio * max(median, 1):
            check.findings.append(Finding(
                "day_volume", table,
                f"{table} dated {day['day']}: {day['rows']:,} rows, {day['rows'] / max(median, 1):.1f} times the "
                f"median of the {day['recent_days']} days before it ({median:g}; at most {day['recent_max']:,})"))
    for finding in check.findings:
        finding.accepted = finding.guard in accepted or finding.key in accepted
    return check


def record(db: Path, check: DeliveryCheck, as_of: dt.date | None) -> Path:
    """Keep the counts of the delivery just published (the next run compares with them)."""
    path = state_path(db)
    data = {"counts": check.counts, "latest_day": check.latest_day,
            "as_of": as_of.isoformat() if as_of else None,
            "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    return write_json(path, data, default=None)
