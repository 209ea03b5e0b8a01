"""Train / validation / test splits.

- Random (any labeled table): stratified by label with a seed; the validation rows are a stratified share of
  the training rows.
- Out-of-time (warehouse panel): every test date is later than every training date. The validation rows are
  the latest training dates (so threshold and model choice are also made out of time), falling back to a
  stratified random share when the training rows span one date only or the latest dates hold one class.

The test rows are never used to choose anything: not the bins, the features, the threshold or the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .data import DataError


@dataclass
class Split:
    fit: np.ndarray              # row positions the models are trained on
    validation: np.ndarray       # row positions used for the threshold and the choice of primary model
    test: np.ndarray             # row positions the reported metrics come from
    kind: str
    details: dict = field(default_factory=dict)

    def counts(self) -> dict:
        return {"fit": int(len(self.fit)), "validation": int(len(self.validation)), "test": int(len(self.test)),
                "train": int(len(self.fit) + len(self.validation))}


def _check_classes(y: np.ndarray, where: str) -> None:
    present = set(np.unique(y).tolist())
    if present != {0.0, 1.0}:
        raise DataError(f"the {where} rows hold only label(s) {sorted(present)}: both 0 and 1 are needed")


def _stratified(positions: np.ndarray, y: np.ndarray, share: float, seed: int, what: str
                ) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (rest, share) split; too few rows of a class to put some on both sides is a DataError."""
    try:
        rest, part = train_test_split(positions, test_size=share, random_state=seed, stratify=y)
    except ValueError as exc:       # sklearn: a class with one member, or a share smaller than 2 rows
        raise DataError(f"too few rows to hold out {what} rows with both labels: {exc}") from exc
    return rest, part


def stratified_split(y: np.ndarray, test_size: float, validation_size: float, seed: int,
                     positions: np.ndarray | None = None) -> Split:
    """Random stratified split of ``positions`` (default: all rows) into fit / validation / test."""
    positions = np.arange(len(y)) if positions is None else np.asarray(positions)
    yy = y[positions]
    _check_classes(yy, "labeled")
    if np.bincount(yy.astype(int)).min() < 4:
        raise DataError("fewer than 4 rows of one class: cannot split into fit, validation and test")
    train, test = _stratified(positions, yy, test_size, seed, "test")
    fit, val = _stratified(train, y[train], validation_size, seed + 1, "validation")
    return Split(np.sort(fit), np.sort(val), np.sort(test), "random stratified",
                 {"seed": seed, "test_size": test_size, "validation_size": validation_size})


def oot_test_dates(labeled_dates: pd.Series, oot_months: int | None = None, test_share: float = 0.25) -> list:
    """The distinct labeled dates that form the out-of-time test set.

    ``oot_months=K``: dates in the last K calendar months up to the latest labeled date. Otherwise the latest
    ``test_share`` of the distinct labeled dates (at least one). At least one date is left for training.
    """
    dates = sorted(pd.to_datetime(pd.Series(labeled_dates).dropna().unique()))
    if len(dates) < 2:
        raise DataError(f"out-of-time split needs labeled rows on at least 2 dates, found {len(dates)}")
    if oot_months is not None:
        if oot_months < 1:
            raise DataError("--oot-months must be at least 1")
        last = pd.Timestamp(dates[-1]).to_period("M")
        first_test = last - (oot_months - 1)
        test = [d for d in dates if pd.Timestamp(d).to_period("M") >= first_test]
    else:
        n_test = max(1, int(math.floor(test_share * len(dates) + 0.5)))
        test = dates[-n_test:]
    if len(test) >= len(dates):
        raise DataError("the out-of-time test window covers every labeled date: nothing left to train on")
    return test


def out_of_time_split(dates: pd.Series, y: np.ndarray, oot_months: int | None = None,
                      validation_size: float = 0.2, seed: int = 42, test_share: float = 0.25,
                      gap_months: int = 0) -> Split:
    """Split labeled rows (``y`` not NaN) by date; unlabeled rows are in no part.

    ``gap_months``: training dates within that many months before the first test date are left out, so the
    outcome windows of training rows need not overlap the test period (use the label window length).
    """
    dates = pd.to_datetime(pd.Series(dates).reset_index(drop=True))
    labeled = ~np.isnan(y)
    test_dates = set(oot_test_dates(dates[labeled], oot_months, test_share))
    is_test = dates.isin(test_dates).to_numpy() & labeled
    in_train = labeled & ~is_test
    if gap_months:
        first_test = pd.Timestamp(min(test_dates)).to_period("M")
        in_train &= (dates.dt.to_period("M") <= first_test - gap_months - 1).to_numpy()
        if not in_train.any():
            raise DataError(f"a gap of {gap_months} months leaves no training date")
    train = np.nonzero(in_train)[0]
    test = np.nonzero(is_test)[0]
    _check_classes(y[test], "out-of-time test")
    _check_classes(y[train], "training")
    train_dates = sorted(dates.iloc[train].unique())
    n_val = max(1, int(math.floor(validation_size * len(train_dates) + 0.5)))
    how = "latest training dates"
    if len(train_dates) >= 2:
        val_dates = set(train_dates[-n_val:])
        in_val = dates.iloc[train].isin(val_dates).to_numpy()
        fit, val = train[~in_val], train[in_val]
        if len(set(y[val].tolist())) < 2 or len(set(y[fit].tolist())) < 2:
            fit = np.array([], dtype=int)
    else:
        fit = np.array([], dtype=int)
    if len(fit) == 0:
        how = "stratified random share of the training rows"
        fit, val = _stratified(train, y[train], validation_size, seed, "validation")
    test_sorted = sorted(test_dates)
    details = {"train_dates": [str(pd.Timestamp(d).date()) for d in train_dates],
               "test_dates": [str(pd.Timestamp(d).date()) for d in test_sorted],
               "train_last_date": str(pd.Timestamp(train_dates[-1]).date()),
               "test_first_date": str(pd.Timestamp(test_sorted[0]).date()),
               "oot_months": oot_months, "gap_months": gap_months, "validation": how}
    return Split(np.sort(fit), np.sort(val), np.sort(test), "out-of-time", details)
