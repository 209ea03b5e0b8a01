"""`arrears-risk-study` (`scripts/risk_study.py`): the credit-risk study as one self-contained HTML page and a
PDF printed from it by headless Chromium, over the warehouse's risk features and any labeled CSV files.

    arrears-risk-study --db target/arrears.duckdb \\
        --csv ../shared/datasets/uci_default_credit_card_taiwan/default_of_credit_card_clients.csv \\
        --label default.payment.next.month --id ID --increasing '^PAY_[0-9]$' --exposure LIMIT_BAL \\
        --out out/study [--short]

Per --csv, the options after it (--label, --id, --name, --increasing, --exposure) belong to it. Writes
`study.html`, `study.pdf` (unless --no-pdf or no Chromium), `study.json` (every figure) and
`predictions.parquet` (the test rows' PD of every candidate, so any figure can be recomputed).
Exit codes: 0 done, 2 bad arguments, 3 a dataset unusable.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import write_bytes
from . import warehouse
from .data import DataError, coerce_label
from .report import _clean
from .split import out_of_time_split, stratified_split
from .study import StudyConfig, StudyData, conclusions, run_dataset
from .study_report import render

WAREHOUSE_INCREASING = r"^f_(days_past_due|dpd\d+_count_\d+m|max_dpd_12m)$"
WAREHOUSE_EXPOSURE = "f_outstanding_base"
DATASET_OPTIONS = ("--label", "--id", "--name", "--increasing", "--exposure")


def split_datasets(argv: list[str]) -> tuple[list[str], list[dict]]:
    """Separate `--csv FILE [--label C --id C --name N --increasing RE --exposure C]` groups from the rest."""
    rest, groups = [], []
    i = 0
    while i < len(argv):
        tok = argv[i]
        key, _, inline = tok.partition("=")
        if key == "--csv" or (key in DATASET_OPTIONS and groups):
            value = inline if inline else (argv[i + 1] if i + 1 < len(argv) else None)
            if value is None:
                raise SystemExit(f"arrears-risk-study: error: {key} needs a value")
            if key == "--csv":
                groups.append({"csv": value})
            elif key.lstrip("-") in groups[-1]:
                raise SystemExit(f"arrears-risk-study: error: {key} given twice for {groups[-1]['csv']}")
            else:
                groups[-1][key.lstrip("-")] = value
            i += 1 if inline else 2
            continue
        if key in DATASET_OPTIONS:
            raise SystemExit(f"arrears-risk-study: error: {key} must follow a --csv FILE")
        rest.append(tok)
        i += 1
    for g in groups:
        if "label" not in g:
            raise SystemExit(f"arrears-risk-study: error: --csv {g['csv']} needs --label COLUMN")
    return rest, groups


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="arrears-risk-study", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Per dataset after --csv FILE: --label COL (required), --id COL, --name NAME, "
                                       "--increasing REGEX (columns whose higher values mean more risk: monotone "
                                       "constraints), --exposure COL (exposure for the policy curves)")
    p.add_argument("--db", type=Path, help="DuckDB warehouse: marts.mart_risk_features (read-only)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--short", action="store_true",
                   help="3 folds, 2 LightGBM settings, 200 bootstrap replicates (CI); default 5, 8, 1000")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--test-size", type=float, default=0.3, help="CSV datasets: share of test rows (default 0.3)")
    p.add_argument("--lgd", type=float, default=0.6, help="loss given default for the policy curves (default 0.6)")
    p.add_argument("--margin", type=float, default=0.12, help="revenue per unit of exposure of a good account")
    p.add_argument("--no-pdf", action="store_true", help="do not print the PDF")
    p.add_argument("--chromium", default=os.environ.get("ARREARS_CHROMIUM", "/usr/bin/chromium"))
    return p


def load_csv(group: dict, cfg: StudyConfig, test_size: float) -> StudyData:
    path = Path(group["csv"])
    if not path.exists():
        raise DataError(f"{path} does not exist")
    frame = pd.read_csv(path, low_memory=False, na_values=["NA", "", "?"], keep_default_na=True)
    for key in ("label", "id", "exposure"):
        if group.get(key) and group[key] not in frame.columns:
            raise DataError(f"{path}: no column {group[key]!r} (--{key})")
    y_all = coerce_label(frame[group["label"]])
    labeled = ~np.isnan(y_all)
    frame = frame.loc[labeled].reset_index(drop=True)
    y = y_all[labeled]
    if group.get("id"):
        frame.index = frame[group["id"]].astype(str).to_numpy()
    candidates = [c for c in frame.columns if c not in (group["label"], group.get("id"))]
    try:
        pattern = re.compile(group.get("increasing") or r"(?!)")
    except re.error as exc:
        raise DataError(f"--increasing {group['increasing']!r} is not a regular expression: {exc}") from exc
    increasing = [c for c in candidates if pattern.search(str(c))]
    exposure = None
    if group.get("exposure"):
        exposure = pd.to_numeric(frame[group["exposure"]], errors="coerce").to_numpy(dtype="float64")
        if np.isnan(exposure).all():
            raise DataError(f"{path}: --exposure column {group['exposure']!r} holds no number")
    split = stratified_split(y, test_size, 0.2, cfg.seed)
    return StudyData(name=group.get("name") or path.stem, frame=frame, y=y, candidates=candidates, split=split,
                     source=str(path), increasing=increasing, exposure=exposure,
                     exposure_column=group.get("exposure"))


def load_warehouse(db: Path, cfg: StudyConfig) -> StudyData:
    frame = warehouse.read_mart(db)
    y_all = coerce_label(frame[warehouse.LABEL])
    labeled = ~np.isnan(y_all)
    frame = frame.loc[labeled].reset_index(drop=True)
    y = y_all[labeled]
    candidates = warehouse.feature_columns(frame)
    split = out_of_time_split(frame[warehouse.DATE], y, None, 0.2, cfg.seed)
    frame.index = (frame[warehouse.ID].astype(str) + "@" + frame[warehouse.DATE].dt.date.astype(str)).to_numpy()
    return StudyData(name="warehouse (mart_risk_features)", frame=frame, y=y, candidates=candidates, split=split,
                     source=f"{db}:{warehouse.MART}",
                     increasing=[c for c in candidates if re.search(WAREHOUSE_INCREASING, c)],
                     dates=frame[warehouse.DATE].reset_index(drop=True),
                     exposure=frame[WAREHOUSE_EXPOSURE].to_numpy(dtype="float64")
                     if WAREHOUSE_EXPOSURE in frame else None,
                     exposure_column=WAREHOUSE_EXPOSURE if WAREHOUSE_EXPOSURE in frame else None)


def print_pdf(html_path: Path, pdf_path: Path, chromium: str) -> str | None:
    """Print the page with headless Chromium; returns why not when it could not."""
    if not Path(chromium).exists() and not shutil.which(chromium):
        return f"{chromium} not found (apt-get install chromium)"
    with tempfile.TemporaryDirectory() as profile:
        tmp = pdf_path.with_name(f".{pdf_path.name}.tmp")
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={tmp}",
               html_path.resolve().as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if done.returncode != 0 or not tmp.exists():
            return f"chromium exit {done.returncode}: {done.stderr[-500:]}"
        os.replace(tmp, pdf_path)
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        rest, groups = split_datasets(argv)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    args = build_parser().parse_args(rest)
    if not args.db and not groups:
        print("arrears-risk-study: error: give --db and/or at least one --csv FILE --label COL", file=sys.stderr)
        return 2
    cfg = (StudyConfig.short if args.short else StudyConfig)(seed=args.seed, lgd=args.lgd, margin=args.margin)
    say = lambda m: print(m, flush=True)  # noqa: E731
    t0 = time.perf_counter()
    results = []
    try:
        datasets = ([load_warehouse(args.db, cfg)] if args.db else []) + [load_csv(g, cfg, args.test_size)
                                                                            for g in groups]
        for data in datasets:
            results.append(run_dataset(data, cfg, say))
    except DataError as exc:
        print(f"arrears-risk-study: error: {exc}", file=sys.stderr)
        return 3
    args.out.mkdir(parents=True, exist_ok=True)
    preds = []
    for r in results:
        arr = r.pop("_arrays")
        part = pd.DataFrame({"dataset": r["name"], "row_id": arr["id_test"].astype(str), "label": arr["y_test"]})
        for name, p in arr["pd_test"].items():
            part[f"pd_{name}"] = p
        preds.append(part)
    pd.concat(preds, ignore_index=True).to_parquet(args.out / "predictions.parquet", index=False)
    study = {"config": cfg.__dict__, "datasets": results, "conclusions": conclusions(results),
             "seconds": time.perf_counter() - t0}
    write_bytes(args.out / "study.json", (json.dumps(_clean(study), indent=2, allow_nan=False) + "\n").encode())
    html_path = args.out / "study.html"
    write_bytes(html_path, render(study, pd.concat(preds, ignore_index=True)).encode())
    say(f"wrote {html_path} and study.json, predictions.parquet ({study['seconds']:.0f} s)")
    if not args.no_pdf:
        why = print_pdf(html_path, args.out / "study.pdf", args.chromium)
        say(f"PDF not printed: {why}" if why else f"wrote {args.out / 'study.pdf'}")
    for line in study["conclusions"]:
        say(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
