"""Delivery in increments (contract version 2): a table given as a folder of loads becomes one extract.

A table may arrive as `<table>.csv` / `<table>.parquet` (a full extract) or as a folder `<table>/` of loads
(`<table>/<name>.csv|.parquet`, typically one a day named by its load date). For a delivery with at least one
folder, this module applies the contract's rules and writes every table as one Parquet extract the warehouse
reads unchanged (`<out>/<table>.parquet`: a file for a full extract, a folder of parts for a table in loads):

* the same key in several loads: the latest `updated_at` wins (an unparsable or missing `updated_at` sorts
  below any real one); on equal or missing `updated_at`, the row of the load whose file name sorts last wins;
* every row of the winning load for a key is kept, so a key repeated *within* one load still reaches staging
  and is set aside there as `duplicate_key`, as in a full extract; rows with an empty key are all kept
  (staging sets them aside as `null_key`);
* the older versions are superseded, not lost: they are counted per table and load in the report
  (`<out>/loads.json` from the pipeline, and the run summary);
* every kept row carries its load's file name in an extra column `source_load`, so a row set aside later can
  be traced to its load, the extract's generation in `load_generation` (below), and its key as staging
  reads it in `source_key` (trimmed of the same blanks as staging's `clean_text`; a key is one key here
  exactly when it is one key in staging); extra columns are allowed and ignored by staging's contract checks.

**Only the loads not processed yet are read (issue 15).** The extract of a table in loads is a folder
`<out>/<table>.parquet/` of Parquet parts (DuckDB, Spark and pandas read such a folder as one table), and its
record, `<out>/.<table>.loads.json`, lists the loads it holds (name, size, modification time), the cumulative
counts, its generation and its parts. A run reads only the loads that are new since then and merges them with
the extract's current version of their keys (the previous winner dominates every older version, so the result
is the one a rebuild from every load gives). It writes what it changes, not the table: the parts holding a key
that arrives again are written anew without it, and the winning versions join the last part (a new part when
that one is full, `PART_ROWS`). A rebuild writes its parts in load order, so the keys a correction or a void
reaches, mostly recent ones, sit in the last few parts. Every change of the folder is committed through a
journal (`<out>/.<table>.commit.json`): the new parts are written aside, the journal names the new record, then
the parts move in, the replaced ones go and the record is written; a run interrupted before the journal leaves
the extract as it was, one interrupted after it is completed by the next run, before anything reads the
folder. When a load already processed changed or disappeared, the delivery's format changed, or the folder does
not hold exactly the parts its record names, the table is rebuilt from every load under a new generation; the
warehouse's incremental staging sees the new generation and restates the whole table. Full-extract tables of
the same delivery are converted to Parquet files (all text when delivered as CSV), again only when the file
changed, with their record in the file's own metadata.

**Bounded memory.** The merge runs in DuckDB under the dbt profile's memory limit (`ARREARS_DUCKDB_MEMORY_LIMIT`)
and spills beyond it into a private folder; it ranks versions only for the keys that have more than one
candidate row, so a rebuild from a long history of loads does not partition every row of it.

Nothing is deleted by omission: a key absent from later loads keeps its last version. A table given both
as a file and as a folder is an error (which one is the truth?), as is a folder mixing CSV and Parquet or a
delivery mixing formats across tables.

    arrears-consolidate-loads --raw-dir IN --out DIR    # for dbt users who run dbt themselves
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from .atomic import write_json
from .contract import TABLES
from .errors import EXIT_USAGE, ArrearsError
from .paths import private_spill_dir
from .sql import literal
from .warehouse import quote_identifier

FORMATS = ("csv", "parquet")
OUT_FORMAT = "parquet"
LOAD_COLUMN = "source_load"
GENERATION_COLUMN = "load_generation"
KEY_COLUMN = "source_key"
# the blanks staging's clean_text() trims from a key (macros/text.sql, default__blank_chars; a test checks they
# agree): two spellings of a key that staging reads as one are one key here too
KEY_BLANKS = " \t\n\r\u00a0\u3000"
STATE_KEY = "arrears_loads_state"
STATE_VERSION = 1          # a full extract's record (in the Parquet file's metadata)
PARTS_STATE_VERSION = 2    # an extract of loads' record (a folder of parts and its JSON record)
# rows of a part of an extract of loads: a daily merge rewrites the parts its keys are in and the last part, so
# it writes a few of these, not the table (at 1,000,000 customers, 33 million invoices)
PART_ROWS = 1_000_000
# the memory the merge may hold before DuckDB spills to disk: the dbt profile's limit (same variable, same
# default), so consolidating a long history of loads costs no more memory than the build that follows
DEFAULT_MEMORY_LIMIT = "4GB"


class LoadsError(ArrearsError):
    """The delivery's shape is ambiguous (a table both as file and folder, mixed formats)."""

    exit_code = EXIT_USAGE


@dataclass
class TableLoads:
    table: str
    loads: list[str]
    rows_read: int = 0          # rows of every load (cumulative over the runs of one generation)
    rows_kept: int = 0          # rows of the extract
    superseded_by_load: dict[str, int] = field(default_factory=dict)
    loads_read: list[str] = field(default_factory=list)   # the loads this run read
    rebuilt: bool = True        # every load read (first run, or a processed load changed)
    generation: str = ""

    @property
    def superseded(self) -> int:
        return self.rows_read - self.rows_kept


@dataclass
class LoadsReport:
    raw_dir: str
    out_dir: str
    file_format: str
    tables: list[TableLoads] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"raw_dir": self.raw_dir, "out_dir": self.out_dir, "format": self.file_format,
                "tables": [asdict(t) | {"superseded": t.superseded} for t in self.tables]}


def load_folders(raw_dir: Path) -> dict[str, list[Path]]:
    """The contract tables delivered as folders of loads, with their load files in name order."""
    found: dict[str, list[Path]] = {}
    for table in TABLES:
        folder = raw_dir / table
        if folder.is_dir():
            files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lstrip(".") in FORMATS)
            found[table] = files
    return found


def has_loads(raw_dir: Path) -> bool:
    return bool(load_folders(raw_dir))


def _format_of(raw_dir: Path, folders: dict[str, list[Path]]) -> str:
    formats: set[str] = set()
    for table in TABLES:
        for ext in FORMATS:
            if (raw_dir / f"{table}.{ext}").exists():
                if table in folders:
                    raise LoadsError(f"{table} is delivered both as {table}.{ext} and as the folder {table}/: "
                                     "deliver a table one way (a full extract or loads)")
                formats.add(ext)
    for table, files in folders.items():
        kinds = {p.suffix.lstrip(".") for p in files}
        if len(kinds) > 1:
            raise LoadsError(f"the folder {table}/ mixes CSV and Parquet loads; use one format")
        formats |= kinds
    if len(formats) > 1:
        raise LoadsError(f"{raw_dir} mixes CSV and Parquet contract files; use one format per delivery")
    return formats.pop() if formats else "csv"


def _reader(files: list[Path], file_format: str) -> str:
    paths = "[" + ", ".join(literal(str(p)) for p in files) + "]"
    if file_format == "parquet":
        return f"read_parquet({paths}, filename = true, union_by_name = true)"
    return (f"read_csv({paths}, header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"', "
            "filename = true, union_by_name = true)")


def _identity(path: Path) -> list[int]:
    """What says a file is the one processed before: its size and modification time (as make and rsync do;
    reading every processed load again to hash it would cost what reading only new loads saves)."""
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _stored_state(con: duckdb.DuckDBPyConnection, target: Path) -> dict | None:
    if not target.exists():
        return None
    try:
        rows = con.execute(f"select decode(key), decode(value) from parquet_kv_metadata({literal(str(target))})"
                           ).fetchall()
    except duckdb.Error:
        return None  # not a readable extract of ours: rebuilt
    for key, value in rows:
        if key == STATE_KEY:
            state = json.loads(value)
            return state if state.get("version") == STATE_VERSION else None
    return None


def _write(con: duckdb.DuckDBPyConnection, select: str, target: Path, state: dict) -> None:
    """`select` into `target` (Parquet) with `state` in its metadata, atomically (a temporary file renamed)."""
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    text = json.dumps(state, sort_keys=True).replace("'", "''")
    con.execute(f"copy ({select}) to {literal(str(tmp))} (format parquet, kv_metadata {{{STATE_KEY}: '{text}'}})")
    os.replace(tmp, target)


def _whole_table(con: duckdb.DuckDBPyConnection, source: Path, target: Path, file_format: str) -> None:
    """A full extract of a delivery in loads, as Parquet (CSV read as text), converted again only when changed."""
    state = {"version": STATE_VERSION, "source": source.name, "identity": _identity(source), "format": file_format}
    if _stored_state(con, target) == state:
        return
    reader = (f"read_parquet({literal(str(source))})" if file_format == "parquet" else
              f"read_csv({literal(str(source))}, header = true, all_varchar = true, delim = ',', quote = '\"', "
              "escape = '\"')")
    _write(con, f"select * from {reader}", target, state)


def _empty(columns: tuple[str, ...]) -> str:
    """A SELECT of the contract's columns and no row."""
    nothing = ", ".join(f"cast(null as varchar) as {quote_identifier(c)}" for c in columns)
    return (f"select {nothing}, cast(null as varchar) as {LOAD_COLUMN}, "
            f"cast(null as varchar) as {GENERATION_COLUMN}, cast(null as varchar) as {KEY_COLUMN} where false")


# ---- the folder of parts of an extract of loads, and its record --------------------------------------------

def _state_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.loads.json")


def _journal_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.commit.json")


def _pending_dir(target: Path) -> Path:
    return target.with_name(f".{target.name}.pending")


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def clear_extract(target: Path) -> None:
    """Remove the extract `target` (a file or a folder of parts) and its record, journal and pending parts."""
    for path in (target, _state_path(target), _journal_path(target), _pending_dir(target)):
        _remove(path)


def _complete_commit(target: Path) -> None:
    """Bring the folder `target` to the state its journal names (idempotent: also after a crash within it):
    the pending parts move in, every other file goes, the record is written, the journal removed."""
    journal = json.loads(_journal_path(target).read_text(encoding="utf-8"))
    state, pending = journal["state"], _pending_dir(target)
    if target.exists() and not target.is_dir():
        target.unlink()  # an extract written as one file (before parts): replaced by the folder
    target.mkdir(exist_ok=True)
    for name in journal["add"]:
        if (pending / name).exists():
            os.replace(pending / name, target / name)
    keep = {part["name"] for part in state["parts"]}
    for path in target.iterdir():
        if path.name not in keep:
            _remove(path)
    write_json(_state_path(target), state)
    _journal_path(target).unlink()
    shutil.rmtree(pending, ignore_errors=True)


def _commit(target: Path, state: dict, added: list[str]) -> None:
    """Make `state` the extract's record: the journal first (atomic), then the folder follows it."""
    write_json(_journal_path(target), {"state": state, "add": added})
    _complete_commit(target)


def _stored_parts_state(target: Path) -> dict | None:
    """The record of the extract of loads `target`, when the folder holds exactly the parts it names; a commit
    an earlier run left half done is completed first, parts it left pending without a journal are removed."""
    if _journal_path(target).exists():
        _complete_commit(target)
    shutil.rmtree(_pending_dir(target), ignore_errors=True)
    path = _state_path(target)
    if not path.exists() or not target.is_dir():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if state.get("version") != PARTS_STATE_VERSION:
        return None
    if {p.name for p in target.iterdir()} != {part["name"] for part in state["parts"]}:
        return None  # a part missing or a stranger in the folder: rebuilt
    return state


def _part_name(state: dict) -> str:
    """A new part's name (never one in use: a rename onto a part would replace rows still listed)."""
    number = state["next_part"]
    state["next_part"] = number + 1
    return f"part-{state['generation']}-{number:06d}.{OUT_FORMAT}"


def _write_part(con: duckdb.DuckDBPyConnection, select: str, path: Path) -> int:
    con.execute(f"copy ({select}) to {literal(str(path))} (format parquet)")
    return _row_count(con, path)


def _merge_table(con: duckdb.DuckDBPyConnection, table: str, files: list[Path], target: Path,
                 file_format: str) -> TableLoads:
    """Bring the extract `target` (a folder of parts) of one table up to date with its folder of loads `files`."""
    spec = TABLES[table]
    entry = TableLoads(table, [p.name for p in files])
    identities = {p.name: _identity(p) for p in files}
    stored = _stored_parts_state(target)
    incremental = (stored is not None and stored.get("format") == file_format
                   and all(identities.get(name) == ident for name, ident in stored["loads"].items()))
    if incremental:
        new_files = [p for p in files if p.name not in stored["loads"]]
        entry.rebuilt, entry.generation = False, stored["generation"]
        entry.rows_read, entry.superseded_by_load = stored["rows_read"], dict(stored["superseded_by_load"])
        state = {**stored, "loads": identities}
    else:
        new_files = files
        entry.generation = uuid.uuid4().hex[:16]
        state = {"version": PARTS_STATE_VERSION, "format": file_format, "generation": entry.generation,
                 "loads": identities, "parts": [], "next_part": 0}
    entry.loads_read = [p.name for p in new_files]
    if incremental and not new_files:  # nothing new: the extract stands (a changed identity would rebuild)
        entry.rows_kept = sum(part["rows"] for part in stored["parts"])
        return entry
    pending = _pending_dir(target)
    pending.mkdir()
    if not files:  # an empty folder: the table has no rows yet, which reads as an empty extract (one empty part)
        name = _part_name(state)
        rows = _write_part(con, _empty(spec.columns), pending / name)
        _commit(target, state | {"rows_read": 0, "superseded_by_load": {}, "parts": [{"name": name, "rows": rows}]},
                [name])
        return entry

    source = _reader(new_files, file_format)
    columns = [r[0] for r in con.execute(f"describe select * from {source}").fetchall()
               if r[0] not in ("filename", LOAD_COLUMN, GENERATION_COLUMN, KEY_COLUMN)]
    keys = [k for k in spec.key if k in columns]
    if len(keys) < len(spec.key):
        raise LoadsError(f"loads of {table} lack the key column(s) "
                         f"{', '.join(k for k in spec.key if k not in columns)}")
    key_text = [f"nullif(trim(cast({quote_identifier(k)} as varchar), {literal(KEY_BLANKS)}), '')" for k in keys]
    null_key = " or ".join(f"{k} is null" for k in key_text)
    keys_as = ", ".join(f"{k} as key_{i}" for i, k in enumerate(key_text))   # a key list: key_0, key_1...
    # a rebuild reads the loads where it needs them (a view: materialising every load first would write the whole
    # history to memory or to the spill folder); a daily merge keeps the day's rows as a table
    arriving = "arriving" if incremental else "arriving_loads"   # one name per kind: a view is no table
    con.execute(f"""
        create or replace temp {'table' if incremental else 'view'} {arriving} as
        select {', '.join(quote_identifier(c) for c in columns)},
               regexp_extract(filename, '[^/\\\\]+$') as {LOAD_COLUMN}
        from {source}""")
    rows_arriving = con.execute(f"select count(*) from {arriving}").fetchone()[0]
    stored_columns: list[str] = []
    stored_on = ""
    if incremental:
        current = ("read_parquet([" + ", ".join(literal(str(target / part["name"])) for part in stored["parts"])
                   + "], filename = true)")
        stored_types = {r[0]: r[1] for r in con.execute(f"describe select * from {current}").fetchall()
                        if r[0] not in ("filename", GENERATION_COLUMN, KEY_COLUMN)}
        arriving_types = {r[0]: r[1] for r in con.execute(f"describe {arriving}").fetchall()}
        if any(stored_types.get(column) != kind for column, kind in arriving_types.items()):
            # the new loads bring a column or a type the parts do not hold: every part would need it (a folder of
            # parts is read as one table only when they agree), so the table is rebuilt. A column the new loads
            # lack is null in their rows, as in a rebuild.
            _state_path(target).unlink()
            return _merge_table(con, table, files, target, file_format)
        stored_columns = list(stored_types)
        # the extract's rows of keys that arrive again compete with the new versions; the others stand
        con.execute(f"""
            create or replace temp table arriving_keys as
            select distinct {keys_as}
            from arriving where not ({null_key})""")
        # the extract's keys as written (source_key), not cleaned again: cleaning every stored key cost seconds
        stored_key = [KEY_COLUMN] if len(keys) == 1 else key_text
        stored_on = _keys_equal(stored_key, "arriving_keys")
        con.execute(f"""
            create or replace temp table competing as
            select * exclude ({GENERATION_COLUMN}{', ' + KEY_COLUMN if len(keys) == 1 else ''}, filename),
                   filename as part_file
            from {current} semi join arriving_keys on {stored_on}""")
        candidates = "select * from arriving union all by name select * exclude (part_file) from competing"
    else:
        candidates = f"select * from {arriving}"
    updated = ("try_cast(cast(updated_at as varchar) as timestamp)"
               if "updated_at" in columns or "updated_at" in stored_columns else
               "cast(null as timestamp)")
    # Only a key with more than one candidate row has versions to rank (a correction, a void, a duplicate within
    # a load): a few percent of the keys. Those keys are listed first (an aggregate of the keys alone), then only
    # their rows are ranked; every other row wins unranked. Ranking every row instead partitioned the whole
    # history with all its columns (the slowest step of a rebuild, and the one that filled memory).
    con.execute(f"""
        create or replace temp table contested as
        select {keys_as}
        from ({candidates}) as candidates
        where not ({null_key})
        group by all
        having count(*) > 1""")
    contested_on = _keys_equal(key_text, "contested")
    con.execute(f"""
        create or replace temp table versions as
        select *,
               dense_rank() over (
                   partition by {', '.join(key_text)}
                   order by {updated} desc nulls last, {LOAD_COLUMN} desc
               ) as version_rank
        from ({candidates}) as candidates
        semi join contested on {contested_on}""")
    for load, count in con.execute(f"select {LOAD_COLUMN}, count(*) from versions where version_rank > 1 "
                                   "group by 1").fetchall():
        entry.superseded_by_load[load] = entry.superseded_by_load.get(load, 0) + count
    entry.superseded_by_load = dict(sorted(entry.superseded_by_load.items()))
    entry.rows_read += rows_arriving
    # rows with an empty key never match a contested key: all kept (staging sets them aside as null_key)
    body = (f"select * from ({candidates}) as candidates anti join contested on {contested_on} "
            "union all by name select * exclude (version_rank) from versions where version_rank = 1")
    # the key as staging reads it (single-column keys): a daily run's staging selects the rows of restated keys
    # by this column instead of cleaning every key of the table again
    source_key = f", {key_text[0]} as {KEY_COLUMN}" if len(keys) == 1 else ""
    winners = f"select *, {literal(entry.generation)} as {GENERATION_COLUMN}{source_key} from ({body}) as kept"
    state |= {"rows_read": entry.rows_read, "superseded_by_load": entry.superseded_by_load}
    if incremental:
        added = _merge_parts(con, target, state, winners, stored_on)
    else:
        added = _write_rebuild(con, target, state, winners, rows_arriving)
    _commit(target, state, added)
    entry.rows_kept = sum(part["rows"] for part in state["parts"])
    return entry


def _write_rebuild(con: duckdb.DuckDBPyConnection, target: Path, state: dict, winners: str, rows: int
                   ) -> list[str]:
    """Every row of a rebuild (`rows` read), in parts of about PART_ROWS rows each holding consecutive loads (in
    name order): a later correction or void mostly reaches recent keys, which then sit in the last parts. Not
    sorted: a part is the rows of its loads, written in one partitioned pass (each part's loads listed in
    `load_parts`). A load's rows are estimated from its file's share of the bytes (counting them would read
    every load once more)."""
    pending = _pending_dir(target)
    sizes = {name: identity[0] for name, identity in sorted(state["loads"].items())}
    total = sum(sizes.values()) or 1
    assignment, part, filled = [], 0, 0
    for load, size in sizes.items():
        rows_of_load = rows * size / total
        if filled and filled + rows_of_load > PART_ROWS:
            part, filled = part + 1, 0
        assignment.append((load, part))
        filled += rows_of_load
    values = ", ".join(f"({literal(load)}, {part_no})" for load, part_no in assignment) or "(null, 0)"
    con.execute(f"create or replace temp table load_parts as "
                f"select * from (values {values}) as listed (load_name, part_no)")
    written = pending / "partitioned"
    con.execute(f"""
        copy (
            select winners.*, coalesce(load_parts.part_no, 0) as part_no
            from ({winners}) as winners
            left join load_parts on winners.{LOAD_COLUMN} = load_parts.load_name
        ) to {literal(str(written))} (format parquet, partition_by (part_no))""")
    added = []
    for folder in sorted(written.iterdir(), key=lambda p: int(p.name.split("=", 1)[1])):
        for path in sorted(folder.iterdir()):
            name = _part_name(state)
            os.replace(path, pending / name)
            state["parts"].append({"name": name, "rows": _row_count(con, pending / name)})
            added.append(name)
    shutil.rmtree(written)
    if not added:  # no row at all: one empty part, so the folder reads as an empty table
        name = _part_name(state)
        state["parts"].append({"name": name, "rows": _write_part(con, f"select * from ({winners}) as w where false",
                                                                   pending / name)})
        added.append(name)
    return added


def _merge_parts(con: duckdb.DuckDBPyConnection, target: Path, state: dict, winners: str, stored_on: str
                 ) -> list[str]:
    """A daily merge's writes: each part holding a key that arrived again, without it; the winning versions in
    the last part (written again with them) or, when that would pass PART_ROWS, in a new part."""
    pending = _pending_dir(target)
    con.execute(f"create or replace temp table winning as {winners}")
    winning_rows = con.execute("select count(*) from winning").fetchone()[0]
    touched = {Path(r[0]).name for r in con.execute("select distinct part_file from competing").fetchall()}
    parts, added = state["parts"], []
    last = parts[-1] if parts else None

    def part_rows(part: dict) -> str:
        return f"select * from read_parquet({literal(str(target / part['name']))})" + (
            f" anti join arriving_keys on {stored_on}" if part["name"] in touched else "")

    new_parts = []
    for part in parts:
        if part is last:
            continue
        if part["name"] in touched:
            name = _part_name(state)
            rows = _write_part(con, part_rows(part), pending / name)
            if rows:
                new_parts.append({"name": name, "rows": rows})
                added.append(name)
            else:
                (pending / name).unlink()
        else:
            new_parts.append(part)
    last_rows = last["rows"] if last is not None else 0
    if last is not None and last_rows + winning_rows > PART_ROWS:
        if last["name"] in touched:  # a full last part stays last but without the keys that arrived again
            name = _part_name(state)
            new_parts.append({"name": name, "rows": _write_part(con, part_rows(last), pending / name)})
            added.append(name)
        else:
            new_parts.append(last)
        last = None
    name = _part_name(state)
    select = "select * from winning" if last is None else f"{part_rows(last)} union all by name select * from winning"
    new_parts.append({"name": name, "rows": _write_part(con, select, pending / name)})
    added.append(name)
    state["parts"] = new_parts
    return added


def _keys_equal(keys: list[str], listed: str) -> str:
    """The join condition of rows keyed by the expressions `keys` to a key list `listed` (key_0, key_1...)."""
    return " and ".join(f"{k} = {listed}.key_{i}" for i, k in enumerate(keys))


def _row_count(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    return con.execute(f"select coalesce(sum(num_rows), 0) from parquet_file_metadata({literal(str(path))})"
                       ).fetchone()[0]


def consolidate(raw_dir: Path, out_dir: Path, spill_root: Path | None = None) -> LoadsReport:
    """Bring the Parquet extracts in `out_dir` up to date with the delivery `raw_dir` (module docstring).
    `out_dir` is kept between runs: it is what makes the next run read only the new loads. Beyond the memory
    limit DuckDB spills under `spill_root` (default: `ARREARS_DUCKDB_TEMP_DIR`, else the system's temp)."""
    raw_dir, out_dir = Path(raw_dir).resolve(), Path(out_dir).resolve()
    folders = load_folders(raw_dir)
    file_format = _format_of(raw_dir, folders)
    report = LoadsReport(str(raw_dir), str(out_dir), file_format)
    out_dir.mkdir(parents=True, exist_ok=True)
    con, spill = _connect(spill_root)
    try:
        for table in TABLES:
            target = out_dir / f"{table}.{OUT_FORMAT}"
            single = raw_dir / f"{table}.{file_format}"
            if table in folders:
                report.tables.append(_merge_table(con, table, folders[table], target, file_format))
            elif single.exists():
                if target.is_dir() or _state_path(target).exists():
                    clear_extract(target)  # delivered in loads before, as one file now
                _whole_table(con, single, target, file_format)
            else:
                clear_extract(target)  # absent from this delivery: absent from the extract
            for other in FORMATS:
                if other != OUT_FORMAT:
                    (out_dir / f"{table}.{other}").unlink(missing_ok=True)
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    return report


def _connect(spill_root: Path | None) -> tuple[duckdb.DuckDBPyConnection, str]:
    """An in-memory DuckDB bounded by `ARREARS_DUCKDB_MEMORY_LIMIT` that spills into a private folder (under
    `spill_root`). Unbounded, a rebuild from the 759 loads of 1,000,000 customers reached 17.7 GiB."""
    spill = private_spill_dir("arrears_loads_", spill_root)
    config = {"memory_limit": os.environ.get("ARREARS_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT,
              "temp_directory": spill, "preserve_insertion_order": False}
    return duckdb.connect(config=config), spill


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="arrears-consolidate-loads",
        description="Turn tables delivered as folders of loads (contract v2) into one Parquet extract each "
                    "(a folder of parts, read as one table), "
                    "applying the contract's versioning rules and reading only the loads not processed yet; "
                    "full extracts are converted to Parquet.")
    parser.add_argument("--raw-dir", type=Path, required=True, help="the delivery (files and/or table folders)")
    parser.add_argument("--out", type=Path, required=True,
                        help="folder of the extracts, kept between runs (the next run reads only new loads)")
    parser.add_argument("--report", type=Path, default=None, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    if not args.raw_dir.is_dir():
        print(f"arrears-consolidate-loads: error: {args.raw_dir} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    if args.out.resolve() == args.raw_dir.resolve():
        print("arrears-consolidate-loads: error: --out must differ from --raw-dir", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = consolidate(args.raw_dir, args.out)
    except ArrearsError as exc:
        print(f"arrears-consolidate-loads: error: {exc}", file=sys.stderr)
        return exc.exit_code
    for t in report.tables:
        read = "every load (rebuilt)" if t.rebuilt else f"{len(t.loads_read)} new"
        print(f"{t.table}: {len(t.loads)} loads ({read}), {t.rows_read} rows read, {t.rows_kept} kept, "
              f"{t.superseded} superseded by later versions")
    if args.report:
        write_json(args.report, report.to_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
