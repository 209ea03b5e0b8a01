"""Classification quality of the overdue types against the demo generator's known truth.

Coverage: share of truly temporary / chronic / stubborn customers that the warehouse lists as overdue.
Confusion matrix: true behaviour (rows, including good and pattern_change customers that were listed) against
the predicted overdue type (columns, plus `not_listed`). Precision, recall and F1 per type, macro-F1 over the
three types; a customer of one of the three types that is not listed counts against that type's recall.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from arrears.demo import DemoConfig, generate
from arrears.pipeline import RunConfig, dbt_command, dbt_env
from arrears.sql import literal

TYPES = ("temporary", "chronic", "stubborn")
TRUE_TYPES = ("good", "temporary", "chronic", "stubborn", "pattern_change")

# The data a company may not have (both are optional in the contract), and the macro-F1 each scenario must reach.
SCENARIOS = {
    "all_data": "every table and column the generator writes",
    "no_contact_log": "collection_actions removed (the contact log is optional)",
    "no_income_debt": "customers.annual_income and customers.total_debt left empty",
}
TYPE_F1_TARGETS = {"all_data": 0.95, "no_contact_log": 0.85, "no_income_debt": 0.90}


@dataclass
class Evaluation:
    confusion: dict[str, dict[str, int]]
    coverage: float
    per_type: dict[str, dict[str, float]] = field(default_factory=dict)
    macro_f1: float = 0.0
    listed: int = 0

    def to_dict(self) -> dict:
        return {"coverage": self.coverage, "macro_f1": self.macro_f1, "per_type": self.per_type,
                "confusion": self.confusion, "listed": self.listed}


def _truth_at_end(truth_csv: Path) -> tuple[str, list[str]]:
    """SQL for (customer_id, true_type) at the end of the data: with `arrears-demo --respond` data (a
    recovery_truth.csv beside the truth file) a troubled customer whose arrears ended is a good payer again."""
    recovery = Path(truth_csv).with_name("recovery_truth.csv")
    if not recovery.exists():
        return "select customer_id, true_type from read_csv(?, all_varchar = true)", [str(truth_csv)]
    return ("""select t.customer_id, case when r.cure_date is not null then 'good' else t.true_type end as true_type
               from read_csv(?, all_varchar = true) as t
               left join read_csv(?, all_varchar = true) as r on r.customer_id = t.customer_id""",
            [str(truth_csv), str(recovery)])


def evaluate(db: Path, truth_csv: Path) -> Evaluation:
    truth_sql, params = _truth_at_end(truth_csv)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            f"""
            select t.true_type, coalesce(m.overdue_type, 'not_listed') as predicted, count(*) as n
            from ({truth_sql}) as t
            left join marts.mart_overdue_customers as m on m.customer_id = t.customer_id
            group by all
            """,
            params,
        ).fetchall()
    columns = (*TYPES, "not_listed")
    confusion = {t: dict.fromkeys(columns, 0) for t in TRUE_TYPES}
    for true_type, predicted, n in rows:
        confusion.setdefault(true_type, dict.fromkeys(columns, 0))[predicted] = int(n)
    actual = {t: sum(confusion[t].values()) for t in TYPES}
    covered = sum(confusion[t][c] for t in TYPES for c in TYPES)
    result = Evaluation(confusion=confusion, coverage=covered / max(1, sum(actual.values())))
    result.listed = sum(confusion[t][c] for t in confusion for c in TYPES)
    f1s = []
    for t in TYPES:
        tp = confusion[t][t]
        predicted_t = sum(confusion[r][t] for r in confusion)
        precision = tp / predicted_t if predicted_t else 0.0
        recall = tp / actual[t] if actual[t] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result.per_type[t] = {"precision": precision, "recall": recall, "f1": f1, "support": actual[t],
                              "predicted": predicted_t}
        f1s.append(f1)
    result.macro_f1 = sum(f1s) / len(f1s)
    return result


def format_report(ev: Evaluation) -> str:
    columns = (*TYPES, "not_listed")
    lines = [f"coverage (true temporary/chronic/stubborn listed as overdue): {ev.coverage:.3f}",
             f"customers listed as overdue: {ev.listed}", "",
             "confusion matrix (rows: true behaviour, columns: predicted type)",
             f"{'':16}" + "".join(f"{c:>12}" for c in columns)]
    for t, counts in ev.confusion.items():
        lines.append(f"{t:16}" + "".join(f"{counts.get(c, 0):>12}" for c in columns))
    lines += ["", f"{'type':12}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for t, m in ev.per_type.items():
        lines.append(f"{t:12}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>10.3f}{m['support']:>10}")
    lines.append(f"\nmacro-F1: {ev.macro_f1:.3f}")
    return "\n".join(lines)


def write_json(ev: Evaluation, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ev.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def derive_scenario(raw_dir: Path, scenario: str, dest: Path) -> Path:
    """Copy the contract folder `raw_dir` to `dest` with the data of `scenario` taken away; return `dest`.

    `no_contact_log` deletes the collection_actions files; `no_income_debt` empties annual_income and total_debt in
    customers (CSV cells become empty, Parquet values null, the columns stay). `all_data` returns `raw_dir` itself.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    if scenario == "all_data":
        return raw_dir
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(raw_dir, dest)
    if scenario == "no_contact_log":
        for f in dest.glob("collection_actions*"):
            f.unlink() if f.is_file() else shutil.rmtree(f)
        return dest
    files = [f for f in dest.glob("customers*") if f.suffix in (".csv", ".parquet")]
    if not files:
        raise FileNotFoundError(f"no customers file in {raw_dir}")
    with duckdb.connect() as con:
        for f in files:
            tmp = f.with_name(f.name + ".tmp")
            if f.suffix == ".csv":
                con.execute(f"copy (select * replace (null as annual_income, null as total_debt) "
                            f"from read_csv({literal(str(f))}, all_varchar = true, header = true)) "
                            f"to {literal(str(tmp))} (format csv, header true)")
            else:
                con.execute(f"copy (select * replace (cast(null as decimal(18, 2)) as annual_income, "
                            f"cast(null as decimal(18, 2)) as total_debt) from read_parquet({literal(str(f))})) "
                            f"to {literal(str(tmp))} (format parquet)")
            tmp.replace(f)
    return dest


def format_scenario_summary(results: dict[str, Evaluation]) -> str:
    """One line per scenario: macro-F1, per-type F1 and the target it must reach."""
    lines = [f"{'scenario':16}{'macro-F1':>10}{'target':>8}  " + "".join(f"{t:>11}" for t in TYPES) + "  met"]
    for name, ev in results.items():
        target = TYPE_F1_TARGETS.get(name, 0.0)
        lines.append(f"{name:16}{ev.macro_f1:>10.3f}{target:>8.2f}  "
                     + "".join(f"{ev.per_type[t]['f1']:>11.3f}" for t in TYPES)
                     + ("  yes" if ev.macro_f1 >= target else "  NO"))
    return "\n".join(lines)


# ---- the watch list ------------------------------------------------------------------------------------------
WATCH_TARGETS = {"recall": 0.90, "precision": 0.60, "precision_at_k": 0.70}


@dataclass
class WatchEvaluation:
    listed: int
    true_changes: int
    found: int
    precision: float
    recall: float
    precision_at_k: float
    listed_by_truth: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"listed": self.listed, "true_changes": self.true_changes, "found": self.found,
                "precision": self.precision, "recall": self.recall, "precision_at_k": self.precision_at_k,
                "listed_by_truth": self.listed_by_truth}


def evaluate_watchlist(db: Path, truth_csv: Path) -> WatchEvaluation:
    """The watch list against the generator's pattern-change customers: size, precision, recall, and precision
    at K (K = the number of true pattern changes) by the list's own order (priority_rank, by warning_score)."""
    with duckdb.connect(str(db), read_only=True) as con:
        truth = dict(con.execute(*_truth_at_end(truth_csv)).fetchall())
        ranked = [r[0] for r in con.execute(
            "select customer_id from marts.mart_watchlist order by priority_rank").fetchall()]
    k = sum(1 for t in truth.values() if t == "pattern_change")
    found = sum(1 for c in ranked if truth.get(c) == "pattern_change")
    top = ranked[:k]
    by_truth: dict[str, int] = {}
    for c in ranked:
        by_truth[truth.get(c, "unknown")] = by_truth.get(truth.get(c, "unknown"), 0) + 1
    return WatchEvaluation(
        listed=len(ranked), true_changes=k, found=found,
        precision=found / len(ranked) if ranked else 0.0, recall=found / k if k else 0.0,
        precision_at_k=(sum(1 for c in top if truth.get(c) == "pattern_change") / k) if k else 0.0,
        listed_by_truth=dict(sorted(by_truth.items())))


def format_watch_report(ev: WatchEvaluation) -> str:
    met = {"recall": ev.recall, "precision": ev.precision, "precision_at_k": ev.precision_at_k}
    lines = [f"watch list: {ev.listed} customers ({', '.join(f'{t} {n}' for t, n in ev.listed_by_truth.items())}); "
             f"{ev.found} of the {ev.true_changes} true pattern changes"]
    for name, value in met.items():
        target = WATCH_TARGETS[name]
        lines.append(f"  {name:15}{value:>8.3f}   target >= {target:.2f}  {'yes' if value >= target else 'NO'}")
    return "\n".join(lines)


EVALUATE_HELP = """Measure how well the warehouse recognises temporary, chronic and stubborn overdue customers.

Generates a demo dataset with known behaviour types (a seed other than the one the rules were tuned on),
builds the warehouse on it, and prints coverage, the confusion matrix, per-type precision/recall/F1 and
macro-F1 - with all data, without the contact log and without income and debt (both optional in the contract),
then one summary line per scenario against its target. It prints figures; the exit code is 0 unless a build fails.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=EVALUATE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=5000, help="customers to generate (default %(default)s)")
    parser.add_argument("--seed", type=int, default=2027, help="generator seed (default %(default)s; rules were tuned on 42)")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="where data and the database go (default: a temporary folder)")
    parser.add_argument("--db", type=Path, default=None,
                        help="evaluate an existing build instead (needs --truth)")
    parser.add_argument("--truth", type=Path, default=None, help="truth CSV of an existing build")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma-separated data scenarios to build and score (default %(default)s)")
    args = parser.parse_args(argv)

    scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = [name for name in scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    results: dict[str, Evaluation] = {}
    watch = None
    if args.db:
        if not args.truth:
            parser.error("--db needs --truth")
        results["given_database"] = evaluate(args.db, args.truth)
        print(format_report(results["given_database"]))
        watch = evaluate_watchlist(args.db, args.truth)
        print("\n" + format_watch_report(watch))
    else:
        work = args.work_dir or Path(tempfile.mkdtemp(prefix="arrears_eval_"))
        raw = work / "raw"
        print(f"generating {args.customers} customers with seed {args.seed} into {raw}", flush=True)
        truth = generate(raw, DemoConfig(customers=args.customers, seed=args.seed), force=True).truth_path
        for name in scenarios:
            scenario_raw = derive_scenario(raw, name, work / f"raw_{name}")
            db = work / f"eval_{name}.duckdb"
            cfg = RunConfig(raw_dir=scenario_raw, db=db, out=work / f"out_{name}", as_of=None)
            print(f"\n== {name}: {SCENARIOS[name]}\nbuilding the warehouse (dbt build)", flush=True)
            proc = subprocess.run(dbt_command("build", cfg), env=dbt_env(db, cfg.effective_run_date()), capture_output=True, text=True)
            if proc.returncode != 0:
                print(proc.stdout[-4000:], file=sys.stderr)
                print(f"dbt build failed for scenario {name}", file=sys.stderr)
                return 1
            results[name] = evaluate(db, truth)
            print(format_report(results[name]), flush=True)
            if name == "all_data":
                watch = evaluate_watchlist(db, truth)
                print("\n" + format_watch_report(watch), flush=True)
        print("\n== overdue types by data scenario (seed %d, %d customers)" % (args.seed, args.customers))
        print(format_scenario_summary(results))
        if watch is not None:
            print("\n== early warnings (seed %d)\n%s" % (args.seed, format_watch_report(watch)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = {name: ev.to_dict() for name, ev in results.items()}
        if watch is not None:
            figures["watch_list"] = watch.to_dict()
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
