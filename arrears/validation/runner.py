"""Run suites against their sources with Great Expectations and judge the outcome by severity.

GX 1.x validates pandas frames here (its SQLAlchemy route cannot read DuckDB: "list index out of range"),
in an ephemeral context: nothing is written while validating. Each batch of a suite is fetched as one or
more frames (`sources.py`), validated, and the results of a key-partitioned batch's chunks are merged into
one result per expectation (`merge_results`), so every suite yields one ordinary GX
ExpectationSuiteValidationResult, which `docs.py` stores and renders.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from arrears.validation.sources import SourceError, _DuckSource
from arrears.validation.suites import CHUNK_MERGE, Batch, Suite

PARTIAL = 20          # values / keys kept per failed expectation
SHOWN = 5             # of which printed


def _quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"great_expectations(\..*)?")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


# ---- outcomes ---------------------------------------------------------------------------------------------
@dataclass
class ExpectationOutcome:
    suite: str
    index: int
    type: str
    rule: str
    severity: str
    success: bool
    detail: str = ""                      # "3 of 1,200 rows (0.25%)", "missing: amount", "error: ..."
    offenders: list[str] = field(default_factory=list)
    skipped: str | None = None            # reason when not run (optional input absent)
    error: bool = False                   # could not be evaluated (query or GX error): the gate cannot vouch

    @property
    def critical_failure(self) -> bool:
        return not self.success and self.skipped is None and (self.severity == "critical" or self.error)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "type": self.type, "rule": self.rule, "severity": self.severity,
                "success": self.success, "detail": self.detail, "offenders": self.offenders,
                "skipped": self.skipped, "error": self.error}


@dataclass
class SuiteOutcome:
    suite: Suite
    expectations: list[ExpectationOutcome] = field(default_factory=list)
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)
    batches: dict[str, dict[str, int]] = field(default_factory=dict)   # name -> {rows, chunks}
    gx_result: Any = None                 # ExpectationSuiteValidationResult (None when skipped)
    seconds: float = 0.0

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success and e.skipped is None]

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if e.critical_failure]

    @property
    def evaluated(self) -> int:
        return sum(1 for e in self.expectations if e.skipped is None)

    def to_json(self) -> dict[str, Any]:
        return {"suite": self.suite.name, "stage": self.suite.stage, "relation": self.suite.relation,
                "skipped": self.skipped, "success": not self.failed and self.skipped is None,
                "critical_failures": len(self.critical_failures), "evaluated": self.evaluated,
                "failed": len(self.failed), "notes": self.notes, "batches": self.batches,
                "seconds": round(self.seconds, 2),
                "expectations": [e.to_json() for e in self.expectations]}


# ---- describing expectations -------------------------------------------------------------------------------
def _fmt(value: Any, params: dict[str, Any]) -> str:
    if isinstance(value, dict) and "$PARAMETER" in value:
        name = value["$PARAMETER"]
        return f"${name}={params.get(name)!r}"
    return repr(value) if isinstance(value, str) else str(value)


def describe_rule(exp: dict[str, Any], params: dict[str, Any]) -> str:
    """A short readable statement of what the expectation demands."""
    k = exp["kwargs"]
    t = exp["type"]
    col = k.get("column")
    if t == "expect_column_values_to_not_be_null":
        return f"{col} is not null"
    if t == "expect_column_values_to_be_unique":
        return f"{col} is unique"
    if t == "expect_compound_columns_to_be_unique":
        return f"({', '.join(k['column_list'])}) is unique"
    if t == "expect_column_values_to_be_in_set":
        values = [str(v) for v in k["value_set"]]
        shown = ", ".join(values[:8]) + (", ..." if len(values) > 8 else "")
        return f"{col} in {{{shown}}}"
    if t in ("expect_column_values_to_be_between", "expect_table_row_count_to_be_between"):
        subject = col if col else "row count"
        parts = []
        if k.get("min_value") is not None:
            parts.append(f"{'>' if k.get('strict_min') else '>='} {_fmt(k['min_value'], params)}")
        if k.get("max_value") is not None:
            parts.append(f"{'<' if k.get('strict_max') else '<='} {_fmt(k['max_value'], params)}")
        return f"{subject} {' and '.join(parts)}"
    if t == "expect_column_values_to_match_regex":
        return f"{col} matches {k['regex']}"
    if t == "expect_column_pair_values_a_to_be_greater_than_b":
        return f"{k['column_A']} {'>=' if k.get('or_equal') else '>'} {k['column_B']}"
    if t == "expect_column_pair_values_to_be_equal":
        return f"{k['column_A']} = {k['column_B']}"
    if t == "expect_table_columns_to_match_set":
        return f"columns include {', '.join(k['column_set'])}"
    shown = ", ".join(f"{a}={_fmt(v, params)}" for a, v in sorted(k.items()))
    return shown


def _value(v: Any) -> str:
    if isinstance(v, float) and math.isnan(v):
        return "null"
    if v is None:
        return "null"
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(_value(x) for x in v) + ")"
    text = str(v)
    return text if len(text) <= 100 else text[:97] + "..."


def _offenders(exp_type: str, result: dict[str, Any]) -> list[str]:
    rows = result.get("partial_unexpected_index_list") or []
    counts = result.get("partial_unexpected_counts") or []
    if exp_type in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique") and counts:
        return [f"{_value(c['value'])} x{c['count']}" for c in counts[:SHOWN]]
    if rows and isinstance(rows[0], dict):
        keys = list(result.get("unexpected_index_column_names") or [])
        out = []
        for row in rows[:SHOWN]:
            head = ", ".join(f"{k}={_value(row[k])}" for k in keys if k in row and row[k] not in ("", None))
            rest = ", ".join(f"{k}={_value(v)}" for k, v in row.items() if k not in keys)
            out.append(f"{head}: {rest}" if head and rest else head or rest)
        return out
    if counts:
        return [f"{_value(c['value'])} x{c['count']}" for c in counts[:SHOWN]]
    return [_value(v) for v in (result.get("partial_unexpected_list") or [])[:SHOWN]]


def summarize(exp_type: str, success: bool, result: dict[str, Any], exception: str | None) -> tuple[str, list[str]]:
    if exception:
        return f"error: {exception}", []
    if "element_count" in result and "unexpected_count" in result:
        n, bad = result["element_count"], result["unexpected_count"]
        pct = (100.0 * bad / n) if n else 0.0
        detail = f"{bad:,} of {n:,} rows ({pct:.2f}%)" if bad else f"{n:,} rows"
        return detail, ([] if success else _offenders(exp_type, result))
    if exp_type == "expect_table_columns_to_match_set":
        mismatched = (result.get("details") or {}).get("mismatched") or {}
        missing = mismatched.get("missing") or []
        return (f"missing: {', '.join(missing)}" if missing else "all present"), []
    if "observed_value" in result:
        return f"observed {result['observed_value']}", []
    return "", []


def _columns_of(exp: dict[str, Any]) -> list[str]:
    k = exp["kwargs"]
    cols = [k[n] for n in ("column", "column_A", "column_B") if isinstance(k.get(n), str)]
    return cols + list(k.get("column_list") or [])


# ---- merging chunk results ---------------------------------------------------------------------------
def merge_results(exp: dict[str, Any], parts: list[Any]) -> Any:
    """One ExpectationValidationResult for the whole table from the results of its chunks."""
    from great_expectations.core.expectation_validation_result import ExpectationValidationResult

    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    errors = [p for p in parts if p.exception_info and p.exception_info.get("raised_exception")]
    if errors:
        return errors[0]
    kind = CHUNK_MERGE[exp["type"]]
    if kind == "same":
        return ExpectationValidationResult(success=all(p.success for p in parts), result=first.result,
                                           expectation_config=first.expectation_config, meta=first.meta)
    if kind == "row_count":
        observed = sum(int(p.result.get("observed_value") or 0) for p in parts)
        lo, hi = exp["kwargs"].get("min_value"), exp["kwargs"].get("max_value")
        ok = (lo is None or observed >= lo) and (hi is None or observed <= hi)
        return ExpectationValidationResult(success=ok, result={"observed_value": observed},
                                           expectation_config=first.expectation_config, meta=first.meta)
    total = sum(p.result.get("element_count", 0) for p in parts)
    bad = sum(p.result.get("unexpected_count", 0) for p in parts)
    missing = sum(p.result.get("missing_count", 0) for p in parts)
    nonmissing = total - missing
    merged: dict[str, Any] = {
        "element_count": total,
        "unexpected_count": bad,
        "missing_count": missing,
        "missing_percent": 100.0 * missing / total if total else None,
        "unexpected_percent": 100.0 * bad / nonmissing if nonmissing else None,
        "unexpected_percent_total": 100.0 * bad / total if total else None,
        "unexpected_percent_nonmissing": 100.0 * bad / nonmissing if nonmissing else None,
        "partial_unexpected_list": [v for p in parts for v in p.result.get("partial_unexpected_list") or []][:PARTIAL],
    }
    index_lists = [v for p in parts for v in p.result.get("partial_unexpected_index_list") or []]
    if index_lists:
        merged["partial_unexpected_index_list"] = index_lists[:PARTIAL]
    if "unexpected_index_column_names" in first.result:
        merged["unexpected_index_column_names"] = first.result["unexpected_index_column_names"]
    counts: dict[str, dict[str, Any]] = {}
    for p in parts:
        for c in p.result.get("partial_unexpected_counts") or []:
            key = repr(c["value"])
            counts.setdefault(key, {"value": c["value"], "count": 0})["count"] += c["count"]
    if counts:
        ranked = sorted(counts.values(), key=lambda c: (-c["count"], repr(c["value"])))
        merged["partial_unexpected_counts"] = ranked[:PARTIAL]
    mostly = exp["kwargs"].get("mostly")
    if mostly is None:
        ok = bad == 0
    else:
        ok = nonmissing == 0 or (nonmissing - bad) / nonmissing >= float(mostly)
    return ExpectationValidationResult(success=ok, result=merged, expectation_config=first.expectation_config,
                                       meta=first.meta)


# ---- the validator ---------------------------------------------------------------------------------------
class Validator:
    """Validates frames with an ephemeral GX context (no files written)."""

    def __init__(self, params: dict[str, Any], chunk_rows: int, progress: Callable[[str], None] | None = None) -> None:
        _quiet_gx()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        self.params = params
        self.chunk_rows = chunk_rows
        self.progress = progress or (lambda msg: None)
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self.datasource = self.context.data_sources.add_pandas("arrears")
        self._assets: dict[str, Any] = {}
        self.run_time = dt.datetime.now(dt.UTC)

    # -- GX objects
    def _configuration(self, suite: Suite, index: int, exp: dict[str, Any]) -> Any:
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        return ExpectationConfiguration(type=exp["type"], kwargs=dict(exp["kwargs"]), meta=dict(exp["meta"]),
                                        notes=exp.get("notes"), severity=exp["meta"]["severity"],
                                        id=suite.expectation_id(index))

    def gx_suite(self, suite: Suite, expectations: Iterable[tuple[int, dict[str, Any]]] | None = None) -> Any:
        items = list(expectations) if expectations is not None else list(enumerate(suite.expectations))
        return self.gx.ExpectationSuite(
            name=suite.name, expectations=[self._configuration(suite, i, e) for i, e in items],
            meta={"arrears": suite.to_json()["meta"]["arrears"]}, notes=suite.description)

    def _batch_definition(self, suite: Suite, batch: Batch) -> Any:
        name = f"{suite.name}.{batch.name}"
        if name not in self._assets:
            asset = self.datasource.add_dataframe_asset(name=name)
            self._assets[name] = asset.add_batch_definition_whole_dataframe("frame")
        return self._assets[name]

    def _error_result(self, suite: Suite, index: int, exp: dict[str, Any], message: str) -> Any:
        from great_expectations.core.expectation_validation_result import ExpectationValidationResult

        return ExpectationValidationResult(
            success=False, expectation_config=self._configuration(suite, index, exp), result={},
            exception_info={"raised_exception": True, "exception_message": message, "exception_traceback": None})

    # -- one suite
    def run_suite(self, source: _DuckSource, suite: Suite, optional_relations: dict[str, bool],
                  checked: frozenset[str] = frozenset()) -> SuiteOutcome:
        """Validate one suite. `optional_relations`: relation -> optional, for every suite defined;
        `checked`: relations whose own suite runs in this invocation (its missing-table failure is reported
        there, so other suites only note what they could not run)."""
        started = time.monotonic()
        outcome = SuiteOutcome(suite=suite)
        missing = {rel: source.describe_missing(rel) for rel in suite.relations() if not source.exists(rel)}
        unreadable = source.unreadable
        if suite.relation in missing and suite.optional and suite.relation not in unreadable:
            outcome.skipped = f"{missing[suite.relation]} (optional: skipped)"
            return outcome
        results: dict[int, Any] = {}
        skipped: dict[int, str] = {}
        undelivered = source.undelivered_columns(suite.relation)
        for batch in suite.batches.values():
            items = suite.expectations_of(batch.name)
            if batch.name != "columns" and undelivered:
                kept = []
                for i, exp in items:
                    gone = sorted(c for c in _columns_of(exp) if c.split("__")[0] in undelivered)
                    if gone:
                        skipped[i] = f"not run: column {', '.join(c.split('__')[0] for c in gone)} not delivered"
                    else:
                        kept.append((i, exp))
                items = kept
            if not items:
                continue
            absent = [rel for rel in batch.relations if rel in missing]
            if batch.name == "columns" and suite.relation in missing:
                outcome.notes.append(missing[suite.relation])
                frames: Iterable[tuple[pd.DataFrame, int, int]] = [(pd.DataFrame(), 0, 1)]
            elif absent:
                # reported elsewhere: the suite's own table (its column check fails), a table whose suite runs
                # now, an optional table; otherwise nothing else would fail, so the expectations fail here
                reported = all(rel == suite.relation or rel in checked
                               or (optional_relations.get(rel, False) and rel not in unreadable) for rel in absent)
                reason = "; ".join(missing[rel] for rel in absent)
                for i, exp in items:
                    if reported:
                        skipped[i] = f"not run: {reason}"
                    else:
                        results[i] = self._error_result(suite, i, exp, f"not run: {reason}")
                continue
            else:
                frames = source.frames(batch, self.chunk_rows)
            parts: dict[int, list[Any]] = {i: [] for i, _ in items}
            gx_suite = self.gx_suite(suite, items)
            definition = self._batch_definition(suite, batch)
            rows = chunks = 0
            try:
                for frame, number, count in frames:
                    chunks = count
                    rows += len(frame)
                    if count > 1:
                        self.progress(f"{suite.name} [{batch.name}] chunk {number + 1}/{count}")
                    index_cols = [c for c in batch.index_columns if c in frame.columns]
                    result = definition.get_batch(batch_parameters={"dataframe": frame}).validate(
                        gx_suite, expectation_parameters=self.params,
                        result_format={"result_format": "SUMMARY", "partial_unexpected_count": PARTIAL,
                                       "unexpected_index_column_names": index_cols})
                    by_id = {r.expectation_config.id: r for r in result.results}
                    for i, _ in items:
                        parts[i].append(by_id[suite.expectation_id(i)])
                    del frame, result
            except (duckdb.Error, SourceError) as exc:
                message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                for i, exp in items:
                    results[i] = self._error_result(suite, i, exp, f"batch {batch.name} could not be read: {message}")
                continue
            outcome.batches[batch.name] = {"rows": rows, "chunks": chunks}
            for i, exp in items:
                results[i] = merge_results(exp, parts[i])
        outcome.expectations = []
        ordered = []
        for i, exp in enumerate(suite.expectations):
            rule = describe_rule(exp, self.params)
            severity = exp["meta"]["severity"]
            if i in skipped:
                outcome.expectations.append(ExpectationOutcome(suite.name, i, exp["type"], rule, severity, True,
                                                               skipped=skipped[i]))
                continue
            r = results[i]
            info = r.exception_info or {}
            exc = info.get("exception_message") if info.get("raised_exception") else None
            detail, offenders = summarize(exp["type"], bool(r.success), r.result or {}, exc)
            if exp["type"] == "expect_table_columns_to_match_set" and suite.relation in unreadable:
                # the file is there but cannot be read: say why, not which columns an unread file "lacks"
                detail = missing.get(suite.relation, detail)
            outcome.expectations.append(ExpectationOutcome(suite.name, i, exp["type"], rule, severity,
                                                           bool(r.success) and exc is None, detail, offenders,
                                                           error=exc is not None))
            ordered.append(r)
        outcome.gx_result = self._suite_result(suite, ordered, outcome)
        outcome.seconds = time.monotonic() - started
        return outcome

    def _suite_result(self, suite: Suite, results: list[Any], outcome: SuiteOutcome) -> Any:
        from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
        from great_expectations.core.run_identifier import RunIdentifier

        ok = sum(1 for r in results if r.success)
        statistics = {"evaluated_expectations": len(results), "successful_expectations": ok,
                      "unsuccessful_expectations": len(results) - ok,
                      "success_percent": 100.0 * ok / len(results) if results else None}
        run_id = RunIdentifier(run_name=f"arrears-{suite.stage}", run_time=self.run_time)
        meta = {
            "great_expectations_version": self.gx.__version__,
            "run_id": run_id,
            "validation_time": self.run_time,
            "batch_spec": {"batch_data": "PandasDataFrame", "relation": suite.relation},
            "batch_markers": {},
            "batch_kwargs": {"data_asset_name": suite.relation},     # what the Data Docs page header shows
            "active_batch_definition": {"datasource_name": "arrears", "data_connector_name": "fluent",
                                        "data_asset_name": suite.relation,
                                        "batch_identifiers": {"batches": ", ".join(suite.batches)}},
            "arrears": {"stage": suite.stage, "batches": outcome.batches, "notes": outcome.notes},
        }
        return ExpectationSuiteValidationResult(success=all(r.success for r in results), results=results,
                                                suite_name=suite.name, statistics=statistics, meta=meta,
                                                suite_parameters=dict(self.params), batch_id=suite.relation)


def progress_to_stderr(message: str) -> None:
    print(f"  ... {message}", file=sys.stderr, flush=True)
