"""Expectation suites as reviewed JSON: the file format, loading, writing and consistency checks.

One file per suite, `expectations/<suite name>.json`, in the shape of a Great Expectations 1.x
ExpectationSuite (`name`, `expectations`, `meta`, `notes`) without ids or timestamps, keys sorted, so
the files only change when a definition changes (`scripts/validate.py --write-suites` regenerates them
from `arrears/validation/definitions.py`; a test fails when the two disagree).

What GX does not know about lives in `meta`:

* `meta.arrears` of the suite: `stage` (raw, staging, marts), `relation` (the table it guards), `optional`
  (true: an absent table is skipped with a printed warning; false: an absent table is a critical failure),
  and `batches`: the named SQL queries whose result frames the expectations run on. A batch is
  `{sql, partition_by, index_columns, relations}`: with `partition_by` the frame is fetched in chunks of
  whole key partitions (`hash(key) % n`), so per-chunk uniqueness equals global uniqueness and memory is
  bounded by the chunk size; without it the query is an aggregate small enough to fetch at once.
* `meta` of each expectation: `batch` (which frame it runs on) and `severity` (`critical` stops the
  pipeline, `warning` is reported and the run goes on). The same severity is also written to GX's own
  `severity` field, so Data Docs and GX tooling see it.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import write_text

STAGES: tuple[str, ...] = ("raw", "staging", "marts")
SEVERITIES: tuple[str, ...] = ("critical", "warning")

# Expectation types whose per-chunk results can be merged into one result for the whole table, and how.
#   map:       row-by-row checks; counts add up (uniqueness too, when the batch is partitioned by its key)
#   same:      every chunk sees the same thing (the column list)
#   row_count: observed row counts add up, the bounds are checked on the total
CHUNK_MERGE: dict[str, str] = {
    "expect_column_values_to_not_be_null": "map",
    "expect_column_values_to_be_null": "map",
    "expect_column_values_to_be_in_set": "map",
    "expect_column_values_to_not_be_in_set": "map",
    "expect_column_values_to_be_between": "map",
    "expect_column_values_to_match_regex": "map",
    "expect_column_values_to_not_match_regex": "map",
    "expect_column_values_to_match_strftime_format": "map",
    "expect_column_values_to_be_unique": "map",
    "expect_compound_columns_to_be_unique": "map",
    "expect_column_pair_values_a_to_be_greater_than_b": "map",
    "expect_column_pair_values_to_be_equal": "map",
    "expect_multicolumn_sum_to_equal": "map",
    "expect_table_columns_to_match_set": "same",
    "expect_table_row_count_to_be_between": "row_count",
}

# Parameters an expectation may take at run time ({"$PARAMETER": name}); value given by the command line.
RUNTIME_PARAMETERS: tuple[str, ...] = ("quarantine_tolerance",)


class SuiteError(ValueError):
    """A suite file or definition is malformed."""


@dataclass(frozen=True)
class Batch:
    """A named SQL query whose result frame some expectations of a suite run on."""

    name: str
    sql: str
    partition_by: tuple[str, ...] = ()
    index_columns: tuple[str, ...] = ()
    relations: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"sql": self.sql, "partition_by": list(self.partition_by),
                "index_columns": list(self.index_columns), "relations": list(self.relations)}

    @classmethod
    def from_json(cls, name: str, data: dict[str, Any]) -> Batch:
        return cls(name=name, sql=data["sql"], partition_by=tuple(data.get("partition_by", ())),
                   index_columns=tuple(data.get("index_columns", ())), relations=tuple(data.get("relations", ())))


@dataclass(frozen=True)
class Suite:
    name: str
    stage: str
    relation: str
    optional: bool
    description: str
    batches: dict[str, Batch]
    expectations: list[dict[str, Any]] = field(default_factory=list)

    # ---- JSON ---------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "notes": self.description,
            "meta": {"arrears": {
                "stage": self.stage, "relation": self.relation, "optional": self.optional,
                "batches": {name: batch.to_json() for name, batch in self.batches.items()},
            }},
            "expectations": self.expectations,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Suite:
        try:
            meta = data["meta"]["arrears"]
            suite = cls(
                name=data["name"], stage=meta["stage"], relation=meta["relation"], optional=bool(meta["optional"]),
                description=data.get("notes") or "",
                batches={name: Batch.from_json(name, b) for name, b in meta["batches"].items()},
                expectations=list(data["expectations"]),
            )
        except (KeyError, TypeError) as exc:
            raise SuiteError(f"suite {data.get('name', '?')}: missing field {exc}") from exc
        suite.check()
        return suite

    # ---- structure ------------------------------------------------------------------------------
    def check(self) -> None:
        """Raise SuiteError when the suite cannot be run as written."""
        where = f"suite {self.name}"
        if self.stage not in STAGES:
            raise SuiteError(f"{where}: unknown stage {self.stage!r}")
        if not self.expectations:
            raise SuiteError(f"{where}: no expectations")
        for i, exp in enumerate(self.expectations):
            label = f"{where}, expectation {i} ({exp.get('type')})"
            meta = exp.get("meta") or {}
            if meta.get("severity") not in SEVERITIES:
                raise SuiteError(f"{label}: meta.severity must be one of {SEVERITIES}")
            if exp.get("severity", meta["severity"]) != meta["severity"]:
                raise SuiteError(f"{label}: severity and meta.severity disagree")
            batch = self.batches.get(meta.get("batch", ""))
            if batch is None:
                raise SuiteError(f"{label}: meta.batch {meta.get('batch')!r} is not a batch of the suite")
            if batch.partition_by:
                merge = CHUNK_MERGE.get(exp["type"])
                if merge is None:
                    raise SuiteError(f"{label}: cannot run on chunked batch {batch.name!r} (results of "
                                     "chunks cannot be merged); use an aggregate batch")
                if exp["type"] == "expect_column_values_to_be_unique" and \
                        (exp["kwargs"]["column"],) != batch.partition_by:
                    raise SuiteError(f"{label}: uniqueness needs the batch partitioned by that column")
                if exp["type"] == "expect_compound_columns_to_be_unique" and \
                        tuple(exp["kwargs"]["column_list"]) != batch.partition_by:
                    raise SuiteError(f"{label}: uniqueness needs the batch partitioned by those columns")
            for value in exp.get("kwargs", {}).values():
                if isinstance(value, dict) and "$PARAMETER" in value and value["$PARAMETER"] not in RUNTIME_PARAMETERS:
                    raise SuiteError(f"{label}: unknown parameter {value['$PARAMETER']!r}")

    def expectations_of(self, batch: str) -> list[tuple[int, dict[str, Any]]]:
        return [(i, e) for i, e in enumerate(self.expectations) if e["meta"]["batch"] == batch]

    def relations(self) -> tuple[str, ...]:
        seen: dict[str, None] = {self.relation: None}
        for batch in self.batches.values():
            for rel in batch.relations:
                seen.setdefault(rel, None)
        return tuple(seen)

    def expectation_id(self, index: int) -> str:
        """A stable id for expectation `index` (GX matches results to expectations by id)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"arrears:{self.name}:{index}"))


# ---- files -------------------------------------------------------------------------------------------
def dumps(suite: Suite) -> str:
    return json.dumps(suite.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def suite_path(directory: Path, name: str) -> Path:
    return directory / f"{name}.json"


def load_suites(directory: Path, stages: Iterable[str] | None = None) -> list[Suite]:
    """The suites of the given stages, in stage order then file-name order."""
    wanted = tuple(stages) if stages is not None else STAGES
    suites = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SuiteError(f"{path}: not valid JSON ({exc})") from exc
        suite = Suite.from_json(data)
        if suite_path(directory, suite.name).name != path.name:
            raise SuiteError(f"{path}: holds suite {suite.name!r}; the file must be named {suite.name}.json")
        if suite.stage in wanted:
            suites.append(suite)
    return sorted(suites, key=lambda s: (STAGES.index(s.stage), s.name))


def write_suites(directory: Path, suites: Iterable[Suite]) -> list[Path]:
    """Write the suites (atomically, one file each); remove files of suites no longer defined.

    Returns the paths whose content changed.
    """
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    keep = set()
    for suite in suites:
        suite.check()
        path = suite_path(directory, suite.name)
        keep.add(path.name)
        text = dumps(suite)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        write_text(path, text)
        changed.append(path)
    for stale in directory.glob("*.json"):
        if stale.name not in keep:
            stale.unlink()
            changed.append(stale)
    return changed


