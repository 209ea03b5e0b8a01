"""Warehouse side: read ``marts.mart_risk_features`` read-only, write scores as Parquet (optionally into the DB).

The DuckDB file is usually held by a writer (dbt), so the scores go to Parquet files that dbt reads as a
source: ``risk_scores.parquet`` (one row per customer per observation date of the mart, or only the latest
date with ``--no-score-all-dates``) and ``risk_scores_training_distribution.parquet`` (the training score
distribution, for PSI monitoring by month in ``marts.mart_score_monitoring``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import atomic_write
from . import metrics
from .data import DataError
from .model import RiskModel

MART = "marts.mart_risk_features"
ID, DATE, LABEL, FEATURE_PREFIX = "customer_id", "observation_date", "label", "f_"

SCORES_SCHEMA = pa.schema([
    ("customer_id", pa.string()), ("observation_date", pa.date32()), ("pd", pa.float64()),
    ("score", pa.int64()), ("score_band", pa.string()), ("model_name", pa.string()),
    ("model_version", pa.string()), ("trained_at", pa.timestamp("us", tz="UTC")),
])
DISTRIBUTION_SCHEMA = pa.schema([
    ("model_name", pa.string()), ("model_version", pa.string()), ("trained_at", pa.timestamp("us", tz="UTC")),
    ("bin", pa.int32()), ("score_lower", pa.float64()), ("score_upper", pa.float64()),
    ("train_count", pa.int64()), ("train_share", pa.float64()),
])


def read_mart(db_path: Path) -> pd.DataFrame:
    """The risk-feature mart as a DataFrame; the database is opened read-only and closed at once."""
    import duckdb

    db_path = Path(db_path)
    if not db_path.exists():
        raise DataError(f"database {db_path} does not exist")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        frame = con.execute(f"select * from {MART}").df()
    except duckdb.CatalogException as exc:
        raise DataError(f"{MART} not found in {db_path}: build the dbt project first ({exc})") from exc
    finally:
        con.close()
    missing = [c for c in (ID, DATE, LABEL) if c not in frame.columns]
    if missing:
        raise DataError(f"{MART} lacks column(s) {missing}")
    if not feature_columns(frame):
        raise DataError(f"{MART} has no feature column (names starting with '{FEATURE_PREFIX}')")
    frame[DATE] = pd.to_datetime(frame[DATE])
    frame[ID] = frame[ID].astype("object").map(lambda v: None if pd.isna(v) else str(v))
    return frame.sort_values([DATE, ID], kind="mergesort").reset_index(drop=True)


def feature_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if str(c).startswith(FEATURE_PREFIX)]


def latest_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Every row of the latest observation date, labeled or not; one per customer (else an error)."""
    latest = frame[DATE].max()
    rows = frame[frame[DATE] == latest]
    dup = rows[ID].duplicated(keep=False)
    if dup.any():
        raise DataError(f"{int(dup.sum())} rows share a customer_id on {latest.date()}: the mart grain is broken")
    return rows


def scoring_rows(frame: pd.DataFrame, all_dates: bool = True) -> pd.DataFrame:
    """The rows to score: every row of the mart (one per customer per observation date, labeled or not), or
    with ``all_dates=False`` only the latest observation date. A repeated (customer, date) is an error."""
    if not all_dates:
        return latest_rows(frame)
    dup = frame.duplicated([ID, DATE], keep=False)
    if dup.any():
        raise DataError(f"{int(dup.sum())} rows share a (customer_id, observation_date): the mart grain is broken")
    return frame


def remove_scores(scores_path: Path) -> list[Path]:
    """Delete the scores and training-distribution files of an earlier run (when this run writes none, the
    decision models must not read stale scores). Returns what was removed."""
    removed = []
    for path in (Path(scores_path), distribution_path(scores_path)):
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed


def scores_frame(model: RiskModel, rows: pd.DataFrame, version: str) -> pd.DataFrame:
    scored = model.score_frame(rows)
    trained = pd.Timestamp(model.trained_at)
    trained = trained.tz_localize("UTC") if trained.tzinfo is None else trained.tz_convert("UTC")
    return pd.DataFrame({
        "customer_id": rows[ID].to_numpy(dtype=object),
        "observation_date": rows[DATE].dt.date.to_numpy(),
        "pd": scored["pd"].to_numpy(dtype="float64"),
        "score": scored["score"].to_numpy(dtype="int64"),
        "score_band": scored["score_band"].to_numpy(dtype=object),
        "model_name": model.primary,
        "model_version": version,
        "trained_at": trained,
    })


def distribution_frame(model: RiskModel, training_points: np.ndarray, version: str, n_bins: int = 10
                       ) -> pd.DataFrame:
    """Training score distribution: bin ``k`` holds ``score_lower <= score < score_upper`` (null = open)."""
    edges = metrics.decile_edges(training_points, n_bins)
    counts, shares = metrics.bin_shares(training_points, edges)
    lower = [None] + edges.tolist()
    upper = edges.tolist() + [None]
    trained = pd.Timestamp(model.trained_at)
    trained = trained.tz_localize("UTC") if trained.tzinfo is None else trained.tz_convert("UTC")
    return pd.DataFrame({
        "model_name": model.primary, "model_version": version, "trained_at": trained,
        "bin": np.arange(1, len(counts) + 1, dtype="int32"), "score_lower": lower, "score_upper": upper,
        "train_count": counts.astype("int64"), "train_share": shares,
    })


def write_parquet(frame: pd.DataFrame, path: Path, schema: pa.Schema) -> None:
    """Written atomically (arrears.atomic)."""
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def distribution_path(scores_path: Path) -> Path:
    scores_path = Path(scores_path)
    return scores_path.with_name(f"{scores_path.stem}_training_distribution.parquet")


def write_to_db(db_path: Path, scores: pd.DataFrame, distribution: pd.DataFrame) -> None:
    """Replace ``risk.risk_scores`` and ``risk.risk_score_training_distribution`` in one transaction."""
    import duckdb

    con = duckdb.connect(str(db_path))
    try:
        con.execute("begin transaction")
        con.execute("create schema if not exists risk")
        for table, frame, schema in (("risk_scores", scores, SCORES_SCHEMA),
                                     ("risk_score_training_distribution", distribution, DISTRIBUTION_SCHEMA)):
            arrow = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
            con.register("incoming", arrow)
            con.execute(f"create or replace table risk.{table} as select * from incoming")
            con.unregister("incoming")
        con.execute("commit")
    finally:
        con.close()
