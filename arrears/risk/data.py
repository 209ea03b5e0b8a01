"""Data cleaning for the risk models: column typing, missing values, label coercion.

Every candidate feature column gets one of three kinds, decided on the training rows only:

- ``numeric``: parses as numbers (text such as ``"1,5"`` does not; ``NA``/empty/``null`` become missing).
- ``integer_categorical``: numeric, whole numbers only, at most ``max_int_categories`` distinct values
  (codes such as SEX, EDUCATION, PAY_0). WoE binning treats each value as a category; the gradient-boosting
  model keeps them as ordered numbers (its splits can isolate any single value anyway).
- ``text_categorical``: anything else that is not id-like. WoE bins by category; gradient boosting uses its
  native categorical support with ordinal codes.

Columns that carry no information (all missing, constant) or look like identifiers (text with a distinct
value on nearly every row) are dropped with a stated reason.

Missing values: for WoE they form their own bin; for gradient boosting numeric columns are median-imputed
(median of the training rows) and get a ``<column>__missing`` 0/1 indicator when the training rows had any
missing value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MISSING = "__missing__"
OTHER = "__other__"
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "#n/a", "<na>"})

KIND_NUMERIC = "numeric"
KIND_INT_CAT = "integer_categorical"
KIND_TEXT_CAT = "text_categorical"


class DataError(ValueError):
    """The input table cannot be modelled as given (missing column, one class only, ...)."""


def _is_text(series: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def normalise_missing(series: pd.Series) -> pd.Series:
    """Text column with every missing-value token (``NA``, empty, ``null``, ...) turned into NaN, values stripped."""
    if not _is_text(series):
        return series
    s = series.astype("object")
    notna = s.notna()
    stripped = s[notna].map(lambda v: str(v).strip())
    out = pd.Series(np.nan, index=s.index, dtype="object")
    keep = ~stripped.str.lower().isin(MISSING_TOKENS)
    out.loc[stripped.index[keep]] = stripped[keep]
    return out


def to_numeric_if_parsable(series: pd.Series) -> pd.Series | None:
    """Float series when every non-missing value parses as a number, else None."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64")
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64")
    s = normalise_missing(series)
    parsed = pd.to_numeric(s, errors="coerce")
    if (parsed.isna() & s.notna()).any():
        return None
    return parsed.astype("float64")


def coerce_label(series: pd.Series) -> np.ndarray:
    """Label as float array of 1.0 (bad), 0.0 (good) and NaN (unknown).

    Accepts numbers 0/1 and the tokens true/false, yes/no, y/n, bad/good. Anything else is an error: guessing
    which of two arbitrary values means "bad" would silently invert the model.
    """
    numeric = to_numeric_if_parsable(series)
    if numeric is not None:
        values = numeric.to_numpy(dtype="float64")
        present = values[~np.isnan(values)]
        if not np.isin(present, [0.0, 1.0]).all():
            bad = sorted(set(present[~np.isin(present, [0.0, 1.0])].tolist()))[:5]
            raise DataError(f"label must be 0/1, found values such as {bad}")
        return values
    tokens = {"1": 1.0, "0": 0.0, "true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0, "y": 1.0, "n": 0.0,
              "bad": 1.0, "good": 0.0}
    s = normalise_missing(series)
    mapped = s.map(lambda v: tokens.get(str(v).lower(), -1.0) if pd.notna(v) else np.nan)
    if (mapped == -1.0).any():
        bad = sorted(set(s[mapped == -1.0].astype(str)))[:5]
        raise DataError(f"label values not understood as 0/1: {bad}")
    return mapped.to_numpy(dtype="float64")


@dataclass
class ColumnInfo:
    name: str
    kind: str
    n_missing: int
    n_distinct: int
    median: float | None = None          # numeric and integer_categorical
    categories: list[str] = field(default_factory=list)  # text_categorical: codes for gradient boosting
    missing_indicator: bool = False


@dataclass
class Cleaner:
    """Learns column kinds, medians and category lists on the training rows; applies them to any rows."""

    max_int_categories: int = 12
    max_text_categories: int = 250       # HistGradientBoosting accepts at most 255 categories per feature
    id_like_ratio: float = 0.9
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)

    def fit(self, frame: pd.DataFrame, candidates: list[str]) -> Cleaner:
        self.columns, self.dropped = {}, {}
        n = len(frame)
        for name in candidates:
            raw = frame[name]
            numeric = to_numeric_if_parsable(raw)
            values = numeric if numeric is not None else normalise_missing(raw)
            n_missing = int(values.isna().sum())
            n_distinct = int(values.nunique(dropna=True))
            if n_missing == n:
                self.dropped[name] = "all values missing"
                continue
            if n_distinct <= 1 and n_missing == 0:
                self.dropped[name] = "constant"
                continue
            if numeric is not None:
                finite = numeric.dropna()
                whole = bool(np.all(np.equal(np.mod(finite.to_numpy(), 1), 0)))
                kind = KIND_INT_CAT if whole and n_distinct <= self.max_int_categories else KIND_NUMERIC
                info = ColumnInfo(name, kind, n_missing, n_distinct, median=float(finite.median()),
                                  missing_indicator=n_missing > 0)
            else:
                if n_distinct > self.id_like_ratio * (n - n_missing) and n_distinct > 20:
                    self.dropped[name] = f"id-like text ({n_distinct} distinct values in {n - n_missing} rows)"
                    continue
                counts = values.value_counts()
                info = ColumnInfo(name, KIND_TEXT_CAT, n_missing, n_distinct,
                                  categories=[str(c) for c in counts.index[: self.max_text_categories]])
            self.columns[name] = info
        if not self.columns:
            raise DataError("no usable feature column left after cleaning")
        return self

    @property
    def features(self) -> list[str]:
        return list(self.columns)

    def typed_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Numeric columns as float (NaN = missing); categorical columns as text with ``__missing__``."""
        out = {}
        for name, info in self.columns.items():
            raw = frame[name] if name in frame else pd.Series(np.nan, index=frame.index)
            if info.kind == KIND_TEXT_CAT:
                s = normalise_missing(raw.astype("object") if not _is_text(raw) else raw)
                out[name] = s.map(lambda v: MISSING if pd.isna(v) else str(v)).astype("object")
            else:
                numeric = pd.to_numeric(normalise_missing(raw), errors="coerce").astype("float64")
                if info.kind == KIND_INT_CAT:
                    arr = numeric.to_numpy()
                    text = np.where(np.isnan(arr), MISSING,
                                    np.nan_to_num(arr, nan=0).round().astype("int64").astype(str))
                    out[name] = pd.Series(text, index=frame.index, dtype="object")
                else:
                    out[name] = numeric
        return pd.DataFrame(out, index=frame.index)

    def gbm_matrix(self, frame: pd.DataFrame, features: list[str]) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Matrix for gradient boosting: median-imputed numbers + missing indicators, category codes.

        Returns (matrix, column names, boolean mask of categorical columns).
        """
        cols, names, cats = [], [], []
        for name in features:
            info = self.columns[name]
            raw = frame[name] if name in frame else pd.Series(np.nan, index=frame.index)
            if info.kind == KIND_TEXT_CAT:
                s = normalise_missing(raw.astype("object") if not _is_text(raw) else raw)
                codes = {c: i for i, c in enumerate(info.categories)}
                other = float(len(info.categories))   # unseen or rare categories share one code
                col = s.map(lambda v, codes=codes, other=other: np.nan if pd.isna(v) else float(codes.get(str(v), other)))
                cols.append(col.to_numpy(dtype="float64"))
                names.append(name)
                cats.append(True)
            else:
                arr = pd.to_numeric(normalise_missing(raw), errors="coerce").to_numpy(dtype="float64")
                missing = np.isnan(arr)
                cols.append(np.where(missing, info.median, arr))
                names.append(name)
                cats.append(False)
                if info.missing_indicator:
                    cols.append(missing.astype("float64"))
                    names.append(f"{name}__missing")
                    cats.append(False)
        return np.column_stack(cols), names, np.array(cats, dtype=bool)

    def describe(self) -> list[dict]:
        rows = [{"feature": c.name, "kind": c.kind, "n_missing": c.n_missing, "n_distinct": c.n_distinct,
                 "median": c.median, "dropped": None} for c in self.columns.values()]
        rows += [{"feature": k, "kind": None, "n_missing": None, "n_distinct": None, "median": None,
                  "dropped": v} for k, v in self.dropped.items()]
        return rows
