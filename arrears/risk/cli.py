"""Command line of ``scripts/train_risk_model.py`` (kept here so it can be tested in-process)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import write_bytes as write_atomic
from . import reject, warehouse
from . import report as reporting
from .data import DataError, coerce_label
from .model import MODEL_TYPES, TrainConfig, save_model, train
from .split import out_of_time_split, stratified_split

EXIT_OK, EXIT_USAGE, EXIT_DATA, EXIT_WAREHOUSE = 0, 2, 3, 4

EPILOG = """\
modes:
  --csv FILE --label COL [--id COL]   any labeled table; random stratified split (--seed, --test-size)
  --db PATH                           marts.mart_risk_features (read-only); out-of-time split; scores every
                                      observation date (or the latest only: --no-score-all-dates) into
                                      --scores-out (Parquet)
  --applications FILE --report FILE   reject inference on an applications file (approved with outcome,
                                      rejected without): accepted-only model, inferred rejects (fuzzy
                                      augmentation or parcelling), model retrained; both measured
  --db PATH --applications FILE       both; the reject-inference figures go under "reject_inference"

Too few labels (--db): with --allow-untrainable, a mart with no labeled rows, fewer than --min-bads rows of
either class, or a split left with one class is not an error: no model is trained, no scores are written (score
files of an earlier run at --scores-out are removed), the report says status "not_trained" and why, exit 0.

Both models are fitted on the fit rows; each model's threshold maximises F1 on the validation rows (a share
of the training data); the primary model is the one with the higher validation ROC AUC. Test rows are only
measured, never used to choose.

exit codes: 0 done, 2 bad arguments, 3 input data unusable, 4 warehouse locked or unwritable
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="train_risk_model.py", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train and evaluate a WoE scorecard and a gradient-boosting credit-risk model.")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--csv", type=Path, metavar="FILE", help="labeled table (CSV; NA or empty = missing)")
    src.add_argument("--db", type=Path, metavar="PATH", help="DuckDB warehouse holding marts.mart_risk_features")
    p.add_argument("--applications", type=Path, metavar="FILE",
                   help="applications CSV for reject inference (format: docs/risk.md)")
    p.add_argument("--reject-method", choices=reject.METHODS, default="fuzzy",
                   help="how rejected outcomes are inferred (default fuzzy augmentation)")
    p.add_argument("--reject-bad-rate-factor", type=float, default=1.0, metavar="K",
                   help="multiply the inferred bad probability of rejected applicants by K (default 1)")
    p.add_argument("--applications-scores", type=Path, metavar="FILE.csv",
                   help="per-application PDs, score, inferred outcome and explanation (en/zh)")
    p.add_argument("--label", metavar="COLUMN", help="CSV mode: label column (1/0, yes/no, true/false)")
    p.add_argument("--id", metavar="COLUMN", help="CSV mode: row identifier (never used as a feature)")
    p.add_argument("--report", type=Path, metavar="FILE.json",
                   help="evaluation report (required with --csv; default <scores dir>/risk_model_report.json)")
    p.add_argument("--html", type=Path, metavar="FILE.html", help="also write a self-contained HTML report")
    p.add_argument("--model", type=Path, metavar="FILE.pkl",
                   help="model file (pickle; default with --db: <scores dir>/risk_model.pkl)")
    p.add_argument("--model-type", choices=MODEL_TYPES, default="both", help="default: both")
    p.add_argument("--seed", type=int, default=42, help="default: 42")
    p.add_argument("--test-size", type=float, default=0.3, help="CSV mode test share (default 0.3)")
    p.add_argument("--validation-size", type=float, default=0.2,
                   help="share of the training rows (CSV) or dates (--db) held out to choose threshold and "
                        "primary model (default 0.2)")
    p.add_argument("--pca", type=int, metavar="N", help="model on N principal components of the WoE features")
    p.add_argument("--iv-threshold", type=float, default=0.02, help="minimum information value (default 0.02)")
    p.add_argument("--max-corr", type=float, default=0.8, help="correlation filter on WoE features (default 0.8)")
    p.add_argument("--gbm-features", choices=("all", "iv", "selected"), default="all",
                   help="features for gradient boosting (default all; the scorecard always uses 'selected')")
    p.add_argument("--base-score", type=float, default=600.0, help="points at the base odds (default 600)")
    p.add_argument("--base-odds", type=float, default=50.0, help="good:bad odds at the base score (default 50)")
    p.add_argument("--pdo", type=float, default=20.0, help="points to double the odds (default 20)")
    p.add_argument("--band-pd-cutoffs", default="0.02,0.05,0.10,0.20", metavar="P1,P2,P3,P4",
                   help="PD upper bounds of bands A..D, turned into points; E is the rest")
    p.add_argument("--oot-months", type=int, metavar="K",
                   help="--db: test on the last K months of labeled dates (default: last 25%% of the dates)")
    p.add_argument("--oot-gap-months", type=int, default=0, metavar="G",
                   help="--db: leave out training dates in the G months before the test window, so training "
                        "outcome windows do not reach into it (default 0; the label window, e.g. 6, is strict)")
    p.add_argument("--scores-out", type=Path, metavar="FILE.parquet",
                   help="--db: scores file (default <db dir>/risk_scores.parquet)")
    p.add_argument("--score-all-dates", action=argparse.BooleanOptionalAction, default=True,
                   help="--db: score every observation date of the mart, for PSI by month (default); "
                        "--no-score-all-dates scores the latest date only")
    p.add_argument("--min-bads", type=int, default=10, metavar="N",
                   help="--db: labeled rows of each class needed to train (default 10)")
    p.add_argument("--allow-untrainable", action="store_true",
                   help="--db: too few labels is not an error: write no scores, report why, exit 0")
    p.add_argument("--write-db", action="store_true",
                   help="--db: also write risk.risk_scores and risk.risk_score_training_distribution")
    p.add_argument("--threads", type=int, default=1, help="OpenMP threads for gradient boosting (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    return p


def _config(args) -> TrainConfig:
    cutoffs = tuple(float(x) for x in args.band_pd_cutoffs.split(","))
    return TrainConfig(seed=args.seed, test_size=args.test_size, validation_size=args.validation_size,
                       model_type=args.model_type, pca=args.pca, iv_threshold=args.iv_threshold,
                       max_corr=args.max_corr, gbm_features=args.gbm_features, base_score=args.base_score,
                       base_odds=args.base_odds, pdo=args.pdo, band_pd_cutoffs=cutoffs,
                       threads=max(1, args.threads))


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"{path} does not exist")
    return pd.read_csv(path, low_memory=False, na_values=["NA", "", "?"], keep_default_na=True)


def run_csv(args, config: TrainConfig, say) -> dict:
    frame = _read_csv(args.csv)
    for col in filter(None, (args.label, args.id)):
        if col not in frame.columns:
            raise DataError(f"column {col!r} not in {args.csv} (columns: {', '.join(map(str, frame.columns))})")
    y_all = coerce_label(frame[args.label])
    labeled = ~np.isnan(y_all)
    frame = frame.loc[labeled].reset_index(drop=True)
    y = y_all[labeled]
    say(f"read {len(labeled):,} rows ({int((~labeled).sum()):,} without label dropped)")
    candidates = [c for c in frame.columns if c not in (args.label, args.id)]
    split = stratified_split(y, config.test_size, config.validation_size, config.seed)
    model, report, evaluation = train(frame, y, split, config, candidates, args.label, args.id or "", say)
    report.update({"mode": "csv", "source": str(args.csv), "label": args.label, "id": args.id})
    report["rows"].update({"input": int(len(labeled)), "unlabeled_dropped": int((~labeled).sum()),
                           "duplicate_ids": int(frame[args.id].duplicated().sum()) if args.id else None})
    if args.model:
        report["model_file"] = str(args.model)
        report["model_version"] = save_model(model, args.model)
    return {"report": report, "evaluation": evaluation}


class NotTrainable(DataError):
    """The mart is readable but holds too few labels to train and measure a model."""


def _check_trainable(y: np.ndarray, min_bads: int) -> None:
    labeled = y[~np.isnan(y)]
    if len(labeled) == 0:
        raise NotTrainable("the mart has no labeled row yet (every outcome window is still open)")
    bads, goods = int(labeled.sum()), int(len(labeled) - labeled.sum())
    if min(bads, goods) < min_bads:
        raise NotTrainable(f"the mart has {bads} labeled bad and {goods} labeled good rows; at least {min_bads} "
                           "of each are needed (--min-bads)")


def run_db(args, config: TrainConfig, say) -> dict:
    frame = warehouse.read_mart(args.db)
    features = warehouse.feature_columns(frame)
    y = coerce_label(frame[warehouse.LABEL])
    say(f"read {len(frame):,} rows, {len(features)} features, {int(np.isnan(y).sum()):,} without label")
    scores_path = args.scores_out or args.db.resolve().parent / "risk_scores.parquet"
    try:
        _check_trainable(y, args.min_bads)
        split = out_of_time_split(frame[warehouse.DATE], y, args.oot_months, config.validation_size, config.seed,
                                  gap_months=args.oot_gap_months)
        model, report, evaluation = train(frame, y, split, config, features, warehouse.LABEL, warehouse.ID, say)
    except DataError as exc:
        if not args.allow_untrainable:
            raise
        return _not_trained(args, frame, y, scores_path, str(exc), say)
    model_path = args.model or scores_path.parent / "risk_model.pkl"
    version = save_model(model, model_path)
    rows = warehouse.scoring_rows(frame, args.score_all_dates)
    scores = warehouse.scores_frame(model, rows, version)
    dist = warehouse.distribution_frame(model, evaluation.points_fit[model.primary], version)
    dist_path = warehouse.distribution_path(scores_path)
    warehouse.write_parquet(scores, scores_path, warehouse.SCORES_SCHEMA)
    warehouse.write_parquet(dist, dist_path, warehouse.DISTRIBUTION_SCHEMA)
    dates = rows[warehouse.DATE]
    latest = dates.max()
    say(f"wrote {len(scores):,} scores for {dates.nunique()} observation date(s) up to {latest.date()} "
        f"to {scores_path}")
    if args.write_db:
        warehouse.write_to_db(args.db, scores, dist)
        say("wrote risk.risk_scores and risk.risk_score_training_distribution")
    report.update({"mode": "warehouse", "status": "trained", "source": f"{args.db}:{warehouse.MART}",
                   "label": warehouse.LABEL, "id": warehouse.ID, "model_file": str(model_path),
                   "model_version": version})
    report["rows"].update({"input": int(len(frame)), "unlabeled": int(np.isnan(y).sum())})
    on_latest = scores["observation_date"] == latest.date()
    report["scores"] = {
        "path": str(scores_path), "training_distribution_path": str(dist_path), "rows": int(len(scores)),
        "all_dates": bool(args.score_all_dates), "observation_dates": int(dates.nunique()),
        "first_observation_date": str(dates.min().date()), "observation_date": str(latest.date()),
        "rows_latest_date": int(on_latest.sum()), "model_name": model.primary, "written_to_db": bool(args.write_db),
        "band_counts": {k: int(v) for k, v in
                        scores.loc[on_latest, "score_band"].value_counts().sort_index().items()},
    }
    return {"report": report, "evaluation": evaluation}


def _not_trained(args, frame: pd.DataFrame, y: np.ndarray, scores_path: Path, reason: str, say) -> dict:
    """--allow-untrainable: no model, no scores (stale ones removed), a report that says why."""
    removed = warehouse.remove_scores(scores_path)
    for path in removed:
        say(f"removed {path} (scores of an earlier run)")
    labeled = y[~np.isnan(y)]
    report = {
        "mode": "warehouse", "status": "not_trained", "reason": reason,
        "source": f"{args.db}:{warehouse.MART}", "label": warehouse.LABEL, "id": warehouse.ID,
        "rows": {"input": int(len(frame)), "labeled": int(len(labeled)), "labeled_bad": int(labeled.sum()),
                 "unlabeled": int(np.isnan(y).sum()),
                 "observation_dates": int(frame[warehouse.DATE].nunique())},
        "min_bads": args.min_bads,
        "scores": {"path": str(scores_path), "rows": 0, "written": False,
                   "removed_stale": [str(p) for p in removed]},
        "consequence": "no risk scores: marts.mart_credit_actions gives every customer the decision "
                       "'no_score' and marts.mart_score_monitoring is empty",
    }
    return {"report": report, "evaluation": None}


def run_applications(args, config: TrainConfig, say) -> dict:
    report, evaluation, _, scores, full = reject.run(args.applications, config, args.reject_method,
                                                    args.reject_bad_rate_factor, say)
    if args.applications_scores:
        write_atomic(args.applications_scores, scores.to_csv(index=False).encode("utf-8"))
        report["applications_scores"] = str(args.applications_scores)
    return {"report": report, "evaluation": evaluation, "html_report": full}


def _not_trained_html(report: dict) -> str:
    import html

    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                   for k, v in report["rows"].items())
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Credit-risk model: not trained"
            "</title></head><body><h1>Credit-risk model: not trained</h1>"
            f"<p><b>{html.escape(report['reason'])}</b></p><p>{html.escape(report['consequence'])}.</p>"
            f"<p>Source: {html.escape(report['source'])}</p><table>{rows}</table></body></html>")


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not (args.csv or args.db or args.applications):
        parser.error("one of --csv, --db or --applications is required")
    if args.csv and args.applications:
        parser.error("--applications goes alone or with --db, not with --csv")
    if (args.csv or (args.applications and not args.db)) and not args.report:
        parser.error("--csv and --applications need --report")
    if args.csv and not args.label:
        parser.error("--csv needs --label")
    if args.db and (args.label or args.id):
        parser.error("--label/--id are for --csv; the mart's columns are fixed (customer_id, label)")
    if (args.write_db or args.scores_out or args.oot_months or args.oot_gap_months or args.allow_untrainable
            or not args.score_all_dates) and not args.db:
        parser.error("--scores-out, --write-db, --oot-months, --oot-gap-months, --allow-untrainable and "
                     "--no-score-all-dates need --db")
    if args.applications_scores and not args.applications:
        parser.error("--applications-scores needs --applications")
    if args.oot_gap_months < 0:
        parser.error("--oot-gap-months must be 0 or more")
    if args.min_bads < 1:
        parser.error("--min-bads must be at least 1")
    try:
        config = _config(args)
    except ValueError as exc:
        parser.error(str(exc))

    def say(msg: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - started:6.1f}s] {msg}", file=sys.stderr, flush=True)

    try:
        if args.csv:
            result = run_csv(args, config, say)
        elif args.db:
            result = run_db(args, config, say)
            if args.applications:
                try:
                    applications = run_applications(args, config, say)["report"]
                except DataError as exc:
                    if not args.allow_untrainable:
                        raise
                    applications = {"mode": "applications", "status": "not_trained", "reason": str(exc),
                                    "source": str(args.applications)}
                result["report"]["reject_inference"] = applications
        else:
            result = run_applications(args, config, say)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_DATA
    except Exception as exc:  # duckdb lock / permission problems surface as its IOException
        if type(exc).__module__.startswith("duckdb") or isinstance(exc, OSError):
            print(f"error: warehouse or file not usable: {exc}", file=sys.stderr)
            return EXIT_WAREHOUSE
        raise
    report, evaluation = result["report"], result["evaluation"]
    report_path = args.report or Path(report["scores"]["path"]).parent / "risk_model_report.json"
    report["elapsed_seconds"] = round(time.perf_counter() - started, 2)
    if report.get("status") == "not_trained":
        if args.html:
            write_atomic(args.html, _not_trained_html(report).encode("utf-8"))
            report["html"] = str(args.html)
        reporting.write_json(report, report_path)
        print(f"NO MODEL TRAINED, NO SCORES WRITTEN: {report['reason']}; report {report_path}")
        return EXIT_OK
    if args.html:
        title = f"Credit-risk model evaluation: {Path(str(report['source'])).name}"
        if "html_report" in result:
            title += f" (with reject inference, {args.reject_method})"
        reporting.write_html(result.get("html_report", report), evaluation, args.html, title)
        report["html"] = str(args.html)
    reporting.write_json(report, report_path)
    r = report
    print(f"primary model {r['primary_model']}: test ROC AUC {r['roc_auc']:.4f}, KS {r['ks']:.4f}, "
          f"F1 {r['f1']:.4f} at PD >= {r['threshold']:.4f}; report {report_path}")
    if r.get("mode") == "applications":
        a = r["accepted_only"]
        print(f"accepted-only model {a['primary_model']}: test ROC AUC {a['roc_auc']:.4f}, KS {a['ks']:.4f}; "
              f"rejects' inferred bad rate {r['rejects']['inferred_bad_rate']:.4f} ({r['method']})")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
