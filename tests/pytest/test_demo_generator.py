"""The seeded demo-data generator (arrears.demo, scripts/generate_demo_data.py).

The files must follow the input contract (../shared/CONTRACT.md) and carry the behaviour their truth file
claims: if these tests fail, the warehouse would be built and its classification measured on data that is
malformed or does not show what the truth file says.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib.util
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from arrears import demo
from arrears.paths import ROOT

pytestmark = pytest.mark.fast

SCRIPT = ROOT / "scripts" / "generate_demo_data.py"
N = 600
SEED = 7
END = dt.date(2026, 10, 31)
START = dt.date(2024, 11, 1)

CONTRACT_COLUMNS = {
    "customers": ["customer_id", "customer_name", "customer_type", "region", "phone", "email", "contact_person",
                  "account_manager", "credit_limit", "annual_income", "total_debt", "is_key_account",
                  "created_date"],
    "invoices": ["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "currency", "document_type",
                 "status"],
    "payments": ["payment_id", "customer_id", "invoice_id", "payment_date", "amount", "currency", "method"],
    "collection_actions": ["action_id", "customer_id", "action_date", "channel", "outcome", "hardship_reason",
                           "promised_amount", "promised_date"],
    "fx_rates": ["currency", "rate_date", "rate_to_base"],
}
KEYS = {"customers": ("customer_id",), "invoices": ("invoice_id",), "payments": ("payment_id",),
        "collection_actions": ("action_id",), "fx_rates": ("currency", "rate_date")}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONEY = re.compile(r"^\d+\.\d{2}$")


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def cents(text: str) -> int:
    return int(round(float(text) * 100))


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("demo")
    out = base / "raw"
    result = demo.generate(out, demo.DemoConfig(customers=N, seed=SEED))
    tables = {}
    headers = {}
    for name in demo.TABLES:
        headers[name], tables[name] = read_csv(out / f"{name}.csv")
    _, truth = read_csv(result.truth_path)
    return {"out": out, "result": result, "tables": tables, "headers": headers, "truth": truth}


# --- shape of the files ----------------------------------------------------------------------------------------
def test_writes_all_five_tables_with_the_contract_columns(run: dict) -> None:
    """A missing table or column would stop the dbt build (required) or silently empty a mart (optional)."""
    assert sorted(p.name for p in run["out"].iterdir()) == sorted(f"{t}.csv" for t in demo.TABLES)
    for name, columns in CONTRACT_COLUMNS.items():
        assert run["headers"][name] == columns, name
        assert run["tables"][name], f"{name} is empty"
    assert run["result"].row_counts == {name: len(run["tables"][name]) for name in demo.TABLES}
    assert len(run["tables"]["customers"]) == N


def test_keys_are_unique_and_rows_sorted_by_key(run: dict) -> None:
    """Duplicate keys would send every copy to quarantine; unsorted rows would break the determinism promise."""
    for name, key in KEYS.items():
        values = [tuple(row[k] for k in key) for row in run["tables"][name]]
        assert all(all(v) for v in values), f"{name}: empty key"
        assert len(set(values)) == len(values), f"{name}: duplicate key"
        assert values == sorted(values), f"{name}: rows not in key order"


def test_values_follow_the_contract_formats_and_code_sets(run: dict) -> None:
    """Any value outside the contract would land in quarantine instead of demonstrating the pipeline."""
    t = run["tables"]
    for row in t["customers"]:
        assert row["customer_type"] in ("business", "individual")
        assert row["is_key_account"] in ("true", "false")
        assert row["customer_name"]
        for col in ("credit_limit", "annual_income", "total_debt"):
            assert row[col] == "" or MONEY.match(row[col]), (col, row[col])
    for row in t["invoices"]:
        assert DATE.match(row["invoice_date"]) and DATE.match(row["due_date"])
        assert MONEY.match(row["amount"]) and cents(row["amount"]) > 0
        assert row["currency"] in ("", "CNY", "USD", "EUR", "HKD")
        assert row["document_type"] in ("", "invoice", "credit_note")
        assert row["status"] in ("", "posted", "void")
        assert row["due_date"] >= row["invoice_date"]
    for row in t["payments"]:
        assert DATE.match(row["payment_date"]) and MONEY.match(row["amount"]) and cents(row["amount"]) > 0
        assert row["method"] in ("", "bank_transfer", "card", "cash", "alipay", "wechat_pay")
    for row in t["collection_actions"]:
        assert row["channel"] in demo.CHANNELS and row["outcome"] in demo.OUTCOMES
        assert (row["hardship_reason"] != "") == (row["outcome"] == "hardship")
        assert row["hardship_reason"] in ("",) + demo.REASONS
        promise = row["outcome"] == "promise_to_pay"
        assert (row["promised_amount"] != "") == promise and (row["promised_date"] != "") == promise
        if promise:
            assert MONEY.match(row["promised_amount"]) and cents(row["promised_amount"]) > 0
            assert row["promised_date"] >= row["action_date"]
    for row in t["fx_rates"]:
        assert float(row["rate_to_base"]) > 0


def test_nothing_happens_after_the_end_date(run: dict) -> None:
    """Events after --end would leak the future into as-of figures; the default as-of date would move."""
    t = run["tables"]
    end = END.isoformat()
    checks = [("customers", "created_date"), ("invoices", "invoice_date"), ("payments", "payment_date"),
              ("collection_actions", "action_date"), ("fx_rates", "rate_date")]
    for name, col in checks:
        assert max(row[col] for row in t[name]) <= end, (name, col)
    # and the data reaches the end: the warehouse's default as-of date (latest invoice or payment) is --end
    assert max(row["payment_date"] for row in t["payments"]) == end
    first_invoice: dict[str, str] = {}
    for row in t["invoices"]:
        first_invoice.setdefault(row["customer_id"], row["invoice_date"])
    assert all(row["created_date"] < first_invoice[row["customer_id"]] for row in t["customers"])


def test_fx_rates_cover_every_day_from_30_days_before_start_to_end(run: dict) -> None:
    """A gap before a foreign document's date would quarantine it as missing_fx_rate."""
    by_cur: dict[str, list[str]] = defaultdict(list)
    for row in run["tables"]["fx_rates"]:
        by_cur[row["currency"]].append(row["rate_date"])
    assert sorted(by_cur) == ["EUR", "HKD", "USD"]
    expected = (END - (START - dt.timedelta(days=30))).days + 1
    for cur, dates in by_cur.items():
        assert len(set(dates)) == expected and min(dates) == (START - dt.timedelta(days=30)).isoformat(), cur
    centre = {"USD": 7.1, "EUR": 7.8, "HKD": 0.91}
    for row in run["tables"]["fx_rates"]:
        assert abs(float(row["rate_to_base"]) / centre[row["currency"]] - 1) < 0.15


# --- references between tables ---------------------------------------------------------------------------------
def test_every_row_belongs_to_a_known_customer_and_links_point_at_its_own_invoices(run: dict) -> None:
    """Orphans would be quarantined (unknown_customer, unknown_invoice, invoice_customer_mismatch)."""
    t = run["tables"]
    customers = {row["customer_id"] for row in t["customers"]}
    invoices = {row["invoice_id"]: row for row in t["invoices"]}
    for name in ("invoices", "payments", "collection_actions"):
        assert {row["customer_id"] for row in t[name]} <= customers, name
    linked = [row for row in t["payments"] if row["invoice_id"]]
    for row in linked:
        inv = invoices[row["invoice_id"]]
        assert inv["customer_id"] == row["customer_id"]
        assert inv["status"] != "void" and inv["document_type"] != "credit_note"
    share_unapplied = 1 - len(linked) / len(t["payments"])
    assert 0.2 < share_unapplied < 0.4


def test_invoices_are_issued_in_due_date_order_per_customer(run: dict) -> None:
    """The aging history relies on this order (docs/decisions.md, payment allocation)."""
    last: dict[str, tuple[str, str]] = {}
    for row in run["tables"]["invoices"]:  # rows are in invoice_id order = issue order
        prev = last.get(row["customer_id"])
        if prev is not None:
            assert row["invoice_date"] >= prev[0] and row["due_date"] >= prev[1], row
        last[row["customer_id"]] = (row["invoice_date"], row["due_date"])


def test_each_customer_keeps_one_currency_and_cross_currency_payments_are_rare(run: dict) -> None:
    """Credit only pays invoices in its own currency: mixed currencies would leave phantom arrears."""
    t = run["tables"]
    inv_cur: dict[str, set[str]] = defaultdict(set)
    for row in t["invoices"]:
        inv_cur[row["customer_id"]].add(row["currency"] or "CNY")
    assert all(len(c) == 1 for c in inv_cur.values())
    currency = {c: next(iter(s)) for c, s in inv_cur.items()}
    foreign = {c for c, cur in currency.items() if cur != "CNY"}
    businesses = {row["customer_id"] for row in t["customers"] if row["customer_type"] == "business"}
    assert foreign <= businesses and 0.06 < len(foreign) / len(businesses) < 0.20
    cross = [row for row in t["payments"] if (row["currency"] or "CNY") != currency[row["customer_id"]]]
    assert all(row["invoice_id"] for row in cross)  # only linked payments change currency
    assert len(cross) / sum(1 for row in t["payments"] if row["invoice_id"]) < 0.005
    assert any(row["currency"] == "" for row in t["invoices"])  # null = base currency is exercised


def test_documents_mix_matches_the_brief(run: dict) -> None:
    """Without credit notes, voids and enough volume the demo would not exercise those paths or the 1M scale."""
    t = run["tables"]
    kinds = Counter((row["document_type"] or "invoice", row["status"] or "posted") for row in t["invoices"])
    total = sum(kinds.values())
    assert 0.001 < kinds[("invoice", "void")] / total < 0.01
    business = {row["customer_id"] for row in t["customers"] if row["customer_type"] == "business"}
    business_docs = sum(1 for row in t["invoices"] if row["customer_id"] in business)
    assert 0.004 < kinds[("credit_note", "posted")] / business_docs < 0.02
    # enough volume: the 1M-customer run must reach 40M invoice + payment rows
    assert (len(t["invoices"]) + len(t["payments"])) / N >= 40


# --- truth file ------------------------------------------------------------------------------------------------
def test_truth_file_is_outside_the_input_folder_and_covers_every_customer(run: dict) -> None:
    """Truth inside the input folder would leak the answer into the warehouse; gaps would skew the scoring."""
    truth_path = run["result"].truth_path
    out = run["out"]
    assert out not in truth_path.parents
    assert truth_path == out.parent / "demo_truth" / "customer_truth.csv"
    header, _ = read_csv(truth_path)
    assert header == ["customer_id", "true_type", "shock_date", "notes"]
    truth = run["truth"]
    assert [r["customer_id"] for r in truth] == [r["customer_id"] for r in run["tables"]["customers"]]
    types = Counter(r["true_type"] for r in truth)
    assert set(types) == set(demo.TYPE_NAMES)
    assert 0.70 <= types["good"] / N <= 0.80
    for row in truth:
        assert (row["shock_date"] != "") == (row["true_type"] != "good"), row
    for row in truth:
        if row["true_type"] == "temporary":
            assert 35 <= (END - day(row["shock_date"])).days <= 100, row
        if row["true_type"] == "stubborn":
            assert 110 <= (END - day(row["shock_date"])).days <= 366, row


# --- behaviour: DPD at the end date by the contract's allocation -----------------------------------------------
def customer_dpd(tables: dict, as_of: dt.date) -> dict[str, int]:
    """The contract's DPD, computed naively: linked payments pay their invoice, then unapplied payments,
    credit notes and linked excess pay the open invoices oldest due date first."""
    rates: dict[tuple[str, str], float] = {(r["currency"], r["rate_date"]): float(r["rate_to_base"])
                                           for r in tables["fx_rates"]}
    as_of_text = as_of.isoformat()
    open_amount: dict[str, float] = {}
    invoice: dict[str, dict[str, str]] = {}
    credit: dict[str, float] = defaultdict(float)
    for row in tables["invoices"]:
        if row["status"] == "void" or row["invoice_date"] > as_of_text:
            continue
        if row["document_type"] == "credit_note":
            credit[row["customer_id"]] += cents(row["amount"])
        else:
            invoice[row["invoice_id"]] = row
            open_amount[row["invoice_id"]] = cents(row["amount"])
    for row in tables["payments"]:
        if row["payment_date"] > as_of_text:
            continue
        amount = float(cents(row["amount"]))
        if row["invoice_id"]:
            inv = invoice[row["invoice_id"]]
            pay_cur, inv_cur = row["currency"] or "CNY", inv["currency"] or "CNY"
            if pay_cur != inv_cur:
                assert pay_cur == "CNY"
                amount = amount / rates[(inv_cur, row["payment_date"])]
            applied = min(amount, open_amount[row["invoice_id"]])
            open_amount[row["invoice_id"]] -= applied
            credit[row["customer_id"]] += amount - applied
        else:
            credit[row["customer_id"]] += amount
    by_customer: dict[str, list[dict[str, str]]] = defaultdict(list)
    for inv in invoice.values():
        by_customer[inv["customer_id"]].append(inv)
    dpd: dict[str, int] = {}
    for customer in (r["customer_id"] for r in tables["customers"]):
        left = credit[customer]
        worst = 0
        for inv in sorted(by_customer[customer], key=lambda r: (r["due_date"], r["invoice_date"], r["invoice_id"])):
            take = min(left, open_amount[inv["invoice_id"]])
            left -= take
            if open_amount[inv["invoice_id"]] - take > 0.5 and inv["due_date"] < as_of_text:
                worst = max(worst, (as_of - day(inv["due_date"])).days)
        dpd[customer] = worst
    return dpd


@pytest.fixture(scope="module")
def dpd_by_type(run: dict) -> dict[str, list[int]]:
    dpd = customer_dpd(run["tables"], END)
    out: dict[str, list[int]] = defaultdict(list)
    for row in run["truth"]:
        out[row["true_type"]].append(dpd[row["customer_id"]])
    return out


def share(values: list[int], predicate) -> float:
    return sum(1 for v in values if predicate(v)) / len(values)


def test_troubled_customers_are_more_than_30_days_past_due_at_the_end(dpd_by_type: dict) -> None:
    """Truth would claim overdue types for customers the warehouse cannot see as overdue."""
    for kind in ("temporary", "chronic", "stubborn"):
        assert share(dpd_by_type[kind], lambda d: d > 30) >= 0.95, (kind, sorted(dpd_by_type[kind]))
    assert share(dpd_by_type["stubborn"], lambda d: d >= 90) >= 0.95
    assert share(dpd_by_type["chronic"], lambda d: d <= 150) >= 0.95
    assert share(dpd_by_type["temporary"], lambda d: d <= 100) >= 0.95


def test_pattern_change_and_good_customers_stay_under_30_days(dpd_by_type: dict) -> None:
    """Watch-list and good customers would pollute the overdue list the truth says they are not on."""
    assert share(dpd_by_type["pattern_change"], lambda d: d < 30) >= 0.90, sorted(dpd_by_type["pattern_change"])
    assert share(dpd_by_type["good"], lambda d: d <= 30) >= 0.98


def test_contact_log_carries_the_behaviour_signals(run: dict) -> None:
    """Without these signals the classifier has nothing to tell temporary, chronic and stubborn apart."""
    kind = {r["customer_id"]: r["true_type"] for r in run["truth"]}
    outcomes: dict[str, Counter] = defaultdict(Counter)
    reasons: dict[str, Counter] = defaultdict(Counter)
    channels: dict[str, Counter] = defaultdict(Counter)
    hardship_customers: dict[str, set[str]] = defaultdict(set)
    for row in run["tables"]["collection_actions"]:
        k = kind[row["customer_id"]]
        outcomes[k][row["outcome"]] += 1
        channels[k][row["channel"]] += 1
        if row["hardship_reason"]:
            reasons[k][row["hardship_reason"]] += 1
            hardship_customers[k].add(row["customer_id"])
    temporary = [c for c, k in kind.items() if k == "temporary"]
    assert len(hardship_customers["temporary"]) / len(temporary) >= 0.7
    assert set(reasons["temporary"]) <= {"illness", "accident", "job_loss", "disaster"}
    assert reasons["chronic"]["business_downturn"] + reasons["chronic"]["other"] > 0
    stub = outcomes["stubborn"]
    assert (stub["no_answer"] + stub["refused"] + stub["wrong_contact"] + stub["dispute"]) / sum(stub.values()) > 0.5
    assert channels["stubborn"]["legal"] + channels["stubborn"]["visit"] > 0
    assert outcomes["good"]["hardship"] == 0 and channels["good"]["legal"] == 0


def test_temporary_customers_keep_promises_due_by_the_end(run: dict) -> None:
    """Kept-versus-broken promises are a classification signal; the log must agree with the payments."""
    kind = {r["customer_id"]: r["true_type"] for r in run["truth"]}
    paid: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for row in run["tables"]["payments"]:
        paid[row["customer_id"]].append((row["payment_date"], cents(row["amount"])))
    promises = [r for r in run["tables"]["collection_actions"]
                if kind[r["customer_id"]] == "temporary" and r["outcome"] == "promise_to_pay"
                and r["promised_date"] <= END.isoformat()]
    assert promises
    for r in promises:
        assert any(r["action_date"] <= d <= r["promised_date"] and a == cents(r["promised_amount"])
                   for d, a in paid[r["customer_id"]]), r
    broken = [r for r in run["tables"]["collection_actions"]
              if kind[r["customer_id"]] == "stubborn" and r["outcome"] == "promise_to_pay"
              and r["promised_date"] <= END.isoformat()]
    assert broken  # stubborn customers' promises come due and nothing is paid after the shock


# --- determinism, formats, CLI ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("small")
    runs = {}
    for label, seed, fmt in (("a", 11, "csv"), ("b", 11, "csv"), ("c", 12, "csv"), ("p", 11, "parquet")):
        out = base / label / "raw"
        demo.generate(out, demo.DemoConfig(customers=150, seed=seed, file_format=fmt))
        runs[label] = out
    return runs


def test_same_seed_gives_byte_identical_files_and_another_seed_differs(small_runs: dict[str, Path]) -> None:
    """Without byte-identical output runs could not be reproduced; an ignored seed would look the same."""
    a, b, c = small_runs["a"], small_runs["b"], small_runs["c"]
    assert digest(a) == digest(b)
    assert digest(a.parent / "demo_truth") == digest(b.parent / "demo_truth")
    differing = [name for name, h in digest(a).items() if digest(c)[name] != h]
    assert set(differing) == {f"{t}.csv" for t in demo.TABLES}


def test_parquet_output_holds_the_same_rows_and_duckdb_reads_it(small_runs: dict[str, Path]) -> None:
    """The Parquet path must carry exactly the CSV data, typed, readable by the DuckDB sources."""
    duckdb = pytest.importorskip("duckdb")
    csv_dir, pq_dir = small_runs["a"], small_runs["p"]
    assert sorted(p.name for p in pq_dir.iterdir()) == sorted(f"{t}.parquet" for t in demo.TABLES)
    con = duckdb.connect()
    for name, columns in CONTRACT_COLUMNS.items():
        cols = ", ".join(f"cast({c} as varchar) as {c}" for c in columns)
        from_pq = f"select {cols} from read_parquet('{pq_dir / name}.parquet')"
        from_csv = f"select {cols} from read_csv('{csv_dir / name}.csv', header = true, all_varchar = true)"
        n_pq = con.execute(f"select count(*) from ({from_pq})").fetchone()[0]
        assert n_pq == con.execute(f"select count(*) from ({from_csv})").fetchone()[0] > 0
        diff = con.execute(f"select count(*) from (({from_pq}) except all ({from_csv}))").fetchone()[0]
        assert diff == 0, name
    described = con.execute(f"describe select * from read_parquet('{pq_dir}/invoices.parquet')").fetchall()
    types = {row[0]: row[1] for row in described}
    assert types["invoice_id"] == "VARCHAR" and types["due_date"] == "DATE" and types["amount"].startswith("DECIMAL")


def test_cli_refuses_a_non_empty_folder_without_force(tmp_path: Path) -> None:
    """Writing into someone's input folder would mix demo rows with real data."""
    out = tmp_path / "raw"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    cmd = [sys.executable, str(SCRIPT), "--customers", "40", "--out", str(out), "--quiet"]
    refused = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert "--force" in refused.stderr and not (out / "customers.csv").exists()
    forced = subprocess.run(cmd + ["--force", "--format", "parquet"], capture_output=True, text=True, timeout=120)
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout == ""  # --quiet
    assert (out / "notes.txt").read_text() == "keep me" and (out / "invoices.parquet").exists()
    assert (tmp_path / "demo_truth" / "customer_truth.csv").exists()


def load_cli():
    spec = importlib.util.spec_from_file_location("generate_demo_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_prints_row_counts_and_rejects_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Bad arguments must fail with exit code 2 before anything is written."""
    cli = load_cli()
    out = tmp_path / "in"
    assert cli.main(["--customers", "30", "--seed", "3", "--out", str(out), "--truth", str(tmp_path / "t.csv")]) == 0
    printed = capsys.readouterr().out
    for name in demo.TABLES:
        assert re.search(rf"{name}\s+[\d,]+ rows", printed), printed
    assert re.search(r"in \d+\.\d s", printed)
    _, truth = read_csv(tmp_path / "t.csv")
    assert len(truth) == 30
    for bad in (["--customers", "0"], ["--start", "2024-13-01"], ["--format", "xlsx"], ["--seed", "-1"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(bad + ["--out", str(tmp_path / "never")])
        assert exc.value.code == 2
    # a history shorter than a year cannot show the behaviour types
    assert cli.main(["--out", str(tmp_path / "short"), "--start", "2026-01-01", "--end", "2026-06-30"]) == 2
    assert not (tmp_path / "never").exists() and not (tmp_path / "short").exists()


def test_refuses_a_truth_file_inside_the_input_folder(tmp_path: Path) -> None:
    """A truth file read as input would leak the answer into the warehouse."""
    with pytest.raises(demo.DemoError, match="outside"):
        demo.generate(tmp_path / "raw", demo.DemoConfig(customers=10), truth_path=tmp_path / "raw" / "t.csv")
    assert not (tmp_path / "raw" / "customers.csv").exists()
