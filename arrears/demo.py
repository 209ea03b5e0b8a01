"""Seeded demo data for the arrears input contract (`../shared/CONTRACT.md`).

`generate()` writes the five contract tables (customers, invoices, payments, collection_actions, fx_rates)
into one input folder and, outside it, the true behaviour of every customer (`customer_truth.csv`), so that
later work can measure how well the warehouse classifies overdue customers.

How the data is made
--------------------
Customers are simulated in chunks of `CHUNK_CUSTOMERS`, each chunk with its own random stream derived from
the seed (`SeedSequence(seed, spawn_key=(chunk + 1,))`; the FX rates use `spawn_key=(0,)`). Everything inside a
chunk is vectorised over customers, documents and payments (numpy); no Python loop runs per customer. The
same seed and arguments therefore give byte-identical files, and a million customers take minutes.

Every customer has one hidden behaviour type (`TYPE_NAMES`):

* good: pays on or before the due date, sometimes 1-15 days late; ~3% have one recent slip (an invoice
  3-28 days overdue at the end, or one paid 16-30 days late).
* temporary: an on-time history, then a one-off shock 35-100 days before the end: payments stop (a few tiny
  ones or kept promises at most), the contact log shows hardship (illness, accident, job loss, disaster).
* chronic: late (10-60+ days) and partial payers all along, with past delinquency spells, growing delays,
  low income and high debt; 38-140 days past due at the end.
* stubborn: an ordinary history, then 4-12 months before the end payments stop for good; the contact log
  shows no answers, refusals, disputes, broken promises and escalation to letters, visits and legal action.
* pattern_change: businesses invoiced weekly or fortnightly that paid each invoice on time and, in the last
  ~3 months, pay in monthly (often partial) lump sums; under 30 days past due at the end.

Signals are noisy on purpose: good customers pay late now and then; a fifth of temporary customers never tell
the collector about the hardship and 15% had one earlier slip; a quarter of stubborn customers were sloppy
payers before they stopped; a fifth of chronic customers are milder; chronic customers pay on time at times.
Shares: good 75%, temporary 7%, chronic 8%, stubborn 5%, pattern_change 5% (exact per chunk); 30% businesses.

Invariants the rest of the project may rely on
----------------------------------------------
* Keys are unique text; rows are written sorted by key; ids of one table are zero-padded to one width.
* Per customer, documents are issued in due-date order (a later document never has an earlier due date).
* Each customer keeps one currency; a linked payment in CNY against a foreign invoice is rare (< 0.5%) and
  always covers the invoice at the payment date's rate.
* Event dates (created_date, invoice_date, payment_date, action_date, rate_date) are never after `end`.
  Obligations may lie beyond it: due dates of the latest invoices and promised dates of recent promises.
* Payments never name a void invoice or a credit note.

Outcomes that respond (`DemoConfig(respond=True)`, `arrears-demo --respond`)
-----------------------------------------------------------------------------
By default every troubled customer is still in arrears at the end, so the warehouse's strategy outcomes show
almost no cures. With `respond`, a troubled customer's current arrears end on a day drawn from a geometric
recovery hazard (a constant daily chance of paying everything that is due) that depends on the true type and
on the arm the customer gets in that type's champion/challenger test (`RECOVERY_TESTS`, the same stable hash
as the warehouse: `arrears.experiments.arm`): the true effect of what the company does for each type and arm
(`TRUE_CURE_30`). On the cure day the customer pays every invoice due by then (linked); later invoices are paid
on time; the contact log of the arrears, tiny payments and kept promises stop. Temporary and chronic arrears
start earlier (up to 200 / 240 days before the end) so that many spells cross the month ends the warehouse
replays. The hazard is memoryless: whatever day the warehouse assigns a strategy inside the spell, the chance
of a cure within k days is 1 - (1 - h)^k, which `recovery_truth.csv` (per troubled customer: spell start, arm,
hazard, cure date) and `strategy_effects.csv` (per type and arm) beside the truth file give. Nothing before
the cure day depends on it, so lists issued inside a spell are independent of the outcome they are judged on.
With `respond` off the random streams and the files are exactly as without the feature.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .atomic import fsync_path
from .contract import TABLE_NAMES
from .experiments import arm as test_arm
from .paths import default_raw_dir

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

CHUNK_CUSTOMERS = 100_000  # part of the determinism contract: changing it changes the data of a seed
MIN_SPAN_DAYS = 365
TABLES = TABLE_NAMES
FORMATS = ("csv", "parquet")

# --- behaviour types ---------------------------------------------------------------------------------------
GOOD, TEMPORARY, CHRONIC, STUBBORN, PATTERN = range(5)
TYPE_NAMES = ("good", "temporary", "chronic", "stubborn", "pattern_change")
TYPE_SHARES = {TEMPORARY: 0.07, CHRONIC: 0.08, STUBBORN: 0.05, PATTERN: 0.05}  # good = the rest (75%)
BUSINESS_SHARE = 0.30  # of all customers; every pattern_change customer is a business
BUSINESS_SHARE_OTHERS = (BUSINESS_SHARE - TYPE_SHARES[PATTERN]) / (1 - TYPE_SHARES[PATTERN])

# --- outcomes that respond (respond=True) ---------------------------------------------------------------------
# The champion/challenger test that runs on each type's main strategy (seeds/strategy_tests.csv: id, share).
RECOVERY_TESTS = {TEMPORARY: ("T01_TMP_CARE_SMS_FIRST", 0.2), CHRONIC: ("T02_CHR_RESTRUCTURE_AA", 0.5)}
# The true chance that arrears end within 30 days of any day inside them, per type and arm: temporary
# customers recover fast and the challenger's next-day SMS speeds it up; the chronic test is an A/A test (no
# effect); stubborn customers hardly ever pay.
TRUE_CURE_30 = {(TEMPORARY, "champion"): 0.30, (TEMPORARY, "challenger"): 0.45,
                (CHRONIC, "champion"): 0.12, (CHRONIC, "challenger"): 0.12,
                (STUBBORN, "champion"): 0.02}
RESPOND_TRUTH_FILES = ("recovery_truth.csv", "strategy_effects.csv")  # written beside the truth file
RESPOND_TROUBLE_START = {TEMPORARY: 200, CHRONIC: 240}  # earliest first missed due date, days before the end


def daily_cure_hazard(cure_30: float) -> float:
    """The constant daily hazard h with 1 - (1 - h)^30 = cure_30."""
    return 1.0 - (1.0 - cure_30) ** (1.0 / 30.0)


# --- codes ---------------------------------------------------------------------------------------------------
CURRENCIES = ("CNY", "USD", "EUR", "HKD")
FX_CENTRE = (1.0, 7.10, 7.80, 0.91)
FX_DAILY_VOL = (0.0, 0.0030, 0.0040, 0.0003)
METHODS = ("bank_transfer", "card", "cash", "alipay", "wechat_pay")
CHANNELS = ("call", "sms", "email", "letter", "visit", "legal")
OUTCOMES = ("no_answer", "reached", "promise_to_pay", "refused", "dispute", "hardship", "wrong_contact")
NO_ANSWER, REACHED, PROMISE, REFUSED, DISPUTE, HARDSHIP, WRONG_CONTACT = range(7)
REASONS = ("illness", "accident", "job_loss", "business_downturn", "disaster", "other")

# Contact-log categories: each has a channel mix and an outcome mix (rows of the tables below).
(CAT_ROUTINE, CAT_LATE, CAT_LATE_CHRONIC, CAT_CUR_TEMP, CAT_CUR_CHRONIC, CAT_CUR_STUB_0, CAT_CUR_STUB_1,
 CAT_CUR_STUB_2, CAT_CUR_STUB_3, CAT_SLIP, CAT_BATCH) = range(11)
#                        call  sms  email letter visit legal
_CHANNEL_MIX = np.array([
    [0.00, 0.55, 0.45, 0.00, 0.00, 0.00],  # routine reminder before the due date
    [0.40, 0.40, 0.20, 0.00, 0.00, 0.00],  # an invoice paid late (ordinary customers)
    [0.50, 0.30, 0.10, 0.10, 0.00, 0.00],  # an invoice paid late (chronic)
    [0.60, 0.25, 0.15, 0.00, 0.00, 0.00],  # current arrears, temporary
    [0.50, 0.20, 0.10, 0.15, 0.05, 0.00],  # current arrears, chronic
    [0.45, 0.35, 0.20, 0.00, 0.00, 0.00],  # current arrears, stubborn, first 30 days
    [0.50, 0.10, 0.00, 0.40, 0.00, 0.00],  # stubborn, 30-90 days
    [0.30, 0.00, 0.00, 0.30, 0.30, 0.10],  # stubborn, 90-180 days
    [0.10, 0.00, 0.00, 0.20, 0.30, 0.40],  # stubborn, 180+ days
    [0.50, 0.50, 0.00, 0.00, 0.00, 0.00],  # good customer's recent slip
    [0.60, 0.00, 0.40, 0.00, 0.00, 0.00],  # pattern_change: call before a monthly lump sum
])
#                        no_ans reach promise refused dispute hardship wrong
_OUTCOME_MIX = np.array([
    [0.30, 0.70, 0.00, 0.00, 0.00, 0.00, 0.00],
    [0.30, 0.45, 0.25, 0.00, 0.00, 0.00, 0.00],
    [0.20, 0.30, 0.30, 0.03, 0.02, 0.13, 0.02],
    [0.20, 0.35, 0.25, 0.00, 0.00, 0.20, 0.00],
    [0.20, 0.30, 0.25, 0.05, 0.03, 0.15, 0.02],
    [0.35, 0.15, 0.15, 0.15, 0.10, 0.00, 0.10],
    [0.35, 0.15, 0.15, 0.15, 0.10, 0.00, 0.10],
    [0.35, 0.15, 0.15, 0.15, 0.10, 0.00, 0.10],
    [0.35, 0.15, 0.15, 0.15, 0.10, 0.00, 0.10],
    [0.40, 0.40, 0.20, 0.00, 0.00, 0.00, 0.00],
    [0.00, 0.40, 0.60, 0.00, 0.00, 0.00, 0.00],
])

# --- synthetic names (Chinese characters with their pinyin for e-mail handles) ------------------------------
_SURNAMES = [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
             ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
             ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
             ("高", "gao"), ("罗", "luo")]
_GIVEN = [("伟", "wei"), ("娜", "na"), ("静", "jing"), ("敏", "min"), ("强", "qiang"), ("磊", "lei"),
          ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("涛", "tao"),
          ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"),
          ("桂英", "guiying"), ("芳", "fang"), ("婷", "ting"), ("浩", "hao"), ("宇", "yu"), ("欣怡", "xinyi")]
_LATIN_FIRST = ["Anna", "David", "Maria", "James", "Sophie", "Michael", "Laura", "Daniel", "Emma", "Thomas",
                "Olivia", "Lucas", "Chloe", "Peter", "Grace", "Kevin"]
_LATIN_LAST = [("Smith", "smith"), ("Müller", "mueller"), ("Garcia", "garcia"), ("Brown", "brown"),
               ("Wong", "wong"), ("Chan", "chan"), ("Lee", "lee"), ("Martin", "martin"), ("Rossi", "rossi"),
               ("Tan", "tan"), ("Kumar", "kumar"), ("Schmidt", "schmidt"), ("Dubois", "dubois"),
               ("Nguyen", "nguyen"), ("Silva", "silva"), ("Johnson", "johnson")]
_CO_PREFIX = [("华东", "huadong"), ("华南", "huanan"), ("华北", "huabei"), ("东方", "dongfang"),
              ("长江", "changjiang"), ("珠江", "zhujiang"), ("新世纪", "xinshiji"), ("恒通", "hengtong"),
              ("金桥", "jinqiao"), ("瑞丰", "ruifeng"), ("宏达", "hongda"), ("鑫源", "xinyuan")]
_CO_TRADE = [("贸易", "trade"), ("科技", "tech"), ("电子", "dianzi"), ("物流", "wuliu"), ("建材", "jiancai"),
             ("食品", "food"), ("医药", "pharma"), ("机械", "jixie"), ("纺织", "textile"), ("化工", "chem"),
             ("餐饮", "canyin"), ("服装", "fuzhuang")]
_CO_SUFFIX = ["有限公司", "股份有限公司", "集团有限公司"]
_EN_WORD1 = ["Pacific", "Golden", "Eastern", "Silver", "Harbor", "Summit", "Orient", "Jade", "Northstar",
             "Bluewave", "Evergreen", "Sunrise"]
_EN_WORD2 = ["Trading", "Logistics", "Electronics", "Foods", "Textiles", "Machinery", "Pharma", "Materials",
             "Imports", "Systems"]
_EN_SUFFIX = ["Ltd.", "Limited", "Co. Ltd.", "GmbH", "Inc."]
_REGIONS = ["Shanghai", "Beijing", "Guangdong", "Zhejiang", "Jiangsu", "Sichuan", "Hubei", "Hong Kong"]
_REGION_WEIGHTS = [0.20, 0.15, 0.20, 0.12, 0.12, 0.08, 0.08, 0.05]
_REGION_AREA = ["+86 21", "+86 10", "+86 20", "+86 571", "+86 25", "+86 28", "+86 27", "+852"]
_MANAGERS = ["Li Ming", "Zhang Wei", "Chen Jing", "Wang Fang", "Liu Yang", "Zhao Lei", "Huang Min",
             "Zhou Tao", "Wu Xia", "Xu Hao", "Sun Ting", "Ma Jun", "Zhu Yan", "Hu Qiang", "Guo Ping",
             "He Jie", "Lin Chao", "Anna Schmidt", "David Wong", "Grace Tan"]
_INDIVIDUAL_MAIL = ["qq.com", "163.com", "126.com", "gmail.com", "outlook.com"]
_BUSINESS_MAILBOX = ["finance", "accounts", "ar", "billing"]

# --- output schemas ------------------------------------------------------------------------------------------
_MONEY = pa.decimal128(18, 2)
_RATE = pa.decimal128(18, 6)
SCHEMAS: dict[str, pa.Schema] = {
    "customers": pa.schema([
        ("customer_id", pa.string()), ("customer_name", pa.string()), ("customer_type", pa.string()),
        ("region", pa.string()), ("phone", pa.string()), ("email", pa.string()),
        ("contact_person", pa.string()), ("account_manager", pa.string()), ("credit_limit", _MONEY),
        ("annual_income", _MONEY), ("total_debt", _MONEY), ("is_key_account", pa.bool_()),
        ("created_date", pa.date32())]),
    "invoices": pa.schema([
        ("invoice_id", pa.string()), ("customer_id", pa.string()), ("invoice_date", pa.date32()),
        ("due_date", pa.date32()), ("amount", _MONEY), ("currency", pa.string()),
        ("document_type", pa.string()), ("status", pa.string())]),
    "payments": pa.schema([
        ("payment_id", pa.string()), ("customer_id", pa.string()), ("invoice_id", pa.string()),
        ("payment_date", pa.date32()), ("amount", _MONEY), ("currency", pa.string()), ("method", pa.string())]),
    "collection_actions": pa.schema([
        ("action_id", pa.string()), ("customer_id", pa.string()), ("action_date", pa.date32()),
        ("channel", pa.string()), ("outcome", pa.string()), ("hardship_reason", pa.string()),
        ("promised_amount", _MONEY), ("promised_date", pa.date32())]),
    "fx_rates": pa.schema([("currency", pa.string()), ("rate_date", pa.date32()), ("rate_to_base", _RATE)]),
}
TRUTH_SCHEMA = pa.schema([("customer_id", pa.string()), ("true_type", pa.string()),
                          ("shock_date", pa.date32()), ("notes", pa.string())])
_ID_PREFIX = {"invoices": "INV", "payments": "PAY", "collection_actions": "ACT"}
_EPOCH = dt.date(1970, 1, 1)


class DemoError(Exception):
    """A problem with the request (bad arguments, non-empty output folder): the CLI exits with code 2."""


@dataclass(frozen=True)
class DemoConfig:
    customers: int = 3000
    seed: int = 42
    start: dt.date = dt.date(2024, 11, 1)
    end: dt.date = dt.date(2026, 10, 31)
    file_format: str = "csv"
    respond: bool = False  # troubled customers' arrears end by a recovery hazard per type and test arm

    def validate(self) -> None:
        if self.customers < 1:
            raise DemoError(f"--customers must be at least 1, got {self.customers}")
        if self.seed < 0:
            raise DemoError(f"--seed must be >= 0, got {self.seed}")
        if self.file_format not in FORMATS:
            raise DemoError(f"--format must be one of {', '.join(FORMATS)}, got {self.file_format!r}")
        if (self.end - self.start).days < MIN_SPAN_DAYS:
            raise DemoError(f"--end must be at least {MIN_SPAN_DAYS} days after --start "
                            f"(got {self.start} .. {self.end}): the behaviour types need a year of history")


@dataclass
class DemoResult:
    out_dir: Path
    truth_path: Path
    files: dict[str, Path]
    row_counts: dict[str, int]
    elapsed_seconds: float
    type_counts: dict[str, int] = field(default_factory=dict)
    recovery_path: Path | None = None  # respond=True: per troubled customer, the spell and its true hazard
    effects_path: Path | None = None  # respond=True: the true cure chances per type and arm


RECOVERY_SCHEMA = pa.schema([("customer_id", pa.string()), ("true_type", pa.string()), ("spell_start", pa.date32()),
                             ("test_id", pa.string()), ("variant", pa.string()),
                             ("daily_cure_hazard", pa.float64()), ("cure_date", pa.date32())])


def default_truth_path(out_dir: Path) -> Path:
    """`DIR/../demo_truth/customer_truth.csv`: beside the input folder, never inside it."""
    return out_dir.resolve().parent / "demo_truth" / "customer_truth.csv"


def generate(out_dir: Path, config: DemoConfig | None = None, truth_path: Path | None = None,
             force: bool = False, progress: Callable[[str], None] | None = None) -> DemoResult:
    """Write the contract tables for `config` into `out_dir` and the truth file; return what was written.

    Refuses (DemoError) a non-empty `out_dir` unless `force`; with `force` the five table files (of either
    format) are replaced and other files are left alone. Files appear atomically (written under a temporary
    name, renamed at the end); on failure no partial table file is left behind.
    """
    config = config or DemoConfig()
    config.validate()
    t0 = time.perf_counter()
    out_dir = Path(out_dir).resolve()
    truth = Path(truth_path).resolve() if truth_path is not None else default_truth_path(out_dir)
    if truth == out_dir or out_dir in truth.parents:
        raise DemoError(f"the truth file must be outside the input folder {out_dir}, got {truth}")
    if out_dir.exists() and not out_dir.is_dir():
        raise DemoError(f"--out {out_dir} exists and is not a folder")
    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise DemoError(f"output folder {out_dir} is not empty; pass --force to replace the demo tables in it")
    out_dir.mkdir(parents=True, exist_ok=True)
    truth.parent.mkdir(parents=True, exist_ok=True)

    start = (config.start - _EPOCH).days
    end = (config.end - _EPOCH).days
    n_total = config.customers
    n_chunks = -(-n_total // CHUNK_CUSTOMERS)
    widths = _id_widths(n_total, end - start)
    ext = config.file_format
    sinks = {name: _Sink(out_dir / f"{name}.{ext}", SCHEMAS[name], ext) for name in TABLES}
    truth_sink = _Sink(truth, TRUTH_SCHEMA, "csv")
    truth_sinks = [truth_sink]
    if config.respond:
        recovery_sink = _Sink(truth.with_name(RESPOND_TRUTH_FILES[0]), RECOVERY_SCHEMA, "csv")
        effects_sink = _Sink(truth.with_name(RESPOND_TRUTH_FILES[1]), EFFECTS_SCHEMA, "csv")
        truth_sinks += [recovery_sink, effects_sink]
    type_counts = np.zeros(len(TYPE_NAMES), dtype=np.int64)
    try:
        fx_first = start - 30
        fx = _fx_rates(np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(0,))), end - fx_first + 1)
        sinks["fx_rates"].write(_fx_table(fx, fx_first))
        offsets = dict.fromkeys(_ID_PREFIX, 0)
        for chunk in range(n_chunks):
            first_no = chunk * CHUNK_CUSTOMERS + 1
            n = min(CHUNK_CUSTOMERS, n_total - first_no + 1)
            rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(chunk + 1,)))
            sim = _ChunkSimulation(rng, first_no, n, start, end, fx, fx_first, config.respond)
            tables, truth_table = sim.run(offsets, widths)
            if config.respond:
                recovery_sink.write(sim.recovery_table())
            for name, table in tables.items():
                sinks[name].write(table)
                if name in offsets:
                    offsets[name] += table.num_rows
                    if offsets[name] >= 10 ** widths[name]:
                        raise RuntimeError(f"{name}: id width {widths[name]} too small")  # cannot happen
            truth_sink.write(truth_table)
            type_counts += np.bincount(sim.ttype, minlength=len(TYPE_NAMES))
            if progress is not None and n_chunks > 1:
                progress(f"  chunk {chunk + 1}/{n_chunks}: {first_no + n - 1:,} customers "
                         f"({time.perf_counter() - t0:.1f} s)")
        if config.respond:
            effects_sink.write(effects_table())
        for sink in (*sinks.values(), *truth_sinks):
            sink.close()
        for name in TABLES:  # --force: drop the other format's stale copy so a reader never mixes them
            for other in FORMATS:
                stale = out_dir / f"{name}.{other}"
                if other != ext and stale.exists():
                    stale.unlink()
        for sink in (*sinks.values(), *truth_sinks):
            sink.commit()
        if not config.respond:  # a stale outcome truth from an earlier --respond run would describe other data
            for name in RESPOND_TRUTH_FILES:
                truth.with_name(name).unlink(missing_ok=True)
    except BaseException:
        for sink in (*sinks.values(), *truth_sinks):
            sink.discard()
        raise
    return DemoResult(out_dir=out_dir, truth_path=truth,
                      files={name: sinks[name].path for name in TABLES},
                      row_counts={name: sinks[name].rows for name in TABLES},
                      elapsed_seconds=time.perf_counter() - t0,
                      type_counts={TYPE_NAMES[i]: int(c) for i, c in enumerate(type_counts)},
                      recovery_path=truth_sinks[1].path if config.respond else None,
                      effects_path=truth_sinks[2].path if config.respond else None)


EFFECTS_SCHEMA = pa.schema([("true_type", pa.string()), ("test_id", pa.string()), ("variant", pa.string()),
                            ("daily_cure_hazard", pa.float64()), ("cure_within_30", pa.float64()),
                            ("cure_within_60", pa.float64()), ("cure_within_90", pa.float64())])


def effects_table() -> pa.Table:
    """The true effects (`TRUE_CURE_30`): per type and arm, the daily hazard and the chance to cure within
    30 / 60 / 90 days of any day inside the arrears."""
    rows = []
    for (ty, variant), cure_30 in TRUE_CURE_30.items():
        h = daily_cure_hazard(cure_30)
        test = RECOVERY_TESTS.get(ty, ("", 0.0))[0]
        rows.append({"true_type": TYPE_NAMES[ty], "test_id": test, "variant": variant, "daily_cure_hazard": h,
                     **{f"cure_within_{k}": 1.0 - (1.0 - h) ** k for k in (30, 60, 90)}})
    return pa.Table.from_pylist(rows, schema=EFFECTS_SCHEMA)


# =============================================================================================================
# Output
# =============================================================================================================
class _Sink:
    """One output file written chunk by chunk under a temporary name, renamed into place by `commit`."""

    def __init__(self, path: Path, schema: pa.Schema, file_format: str) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp")
        self.schema = schema
        self.rows = 0
        self._csv: pa.NativeFile | None = None
        self._parquet: pq.ParquetWriter | None = None
        if file_format == "csv":
            self._csv = pa.OSFile(str(self.tmp), "wb")
            self._csv.write((",".join(schema.names) + "\n").encode())
            # every value we write is free of commas, quotes and line breaks: "none" fails loudly otherwise
            self._options = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=65536)
        else:
            self._parquet = pq.ParquetWriter(str(self.tmp), schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        table = table.select(self.schema.names).cast(self.schema)
        if self._csv is not None:
            pacsv.write_csv(table, self._csv, self._options)
        elif self._parquet is not None:
            self._parquet.write_table(table, row_group_size=1 << 20)
        self.rows += table.num_rows

    def close(self) -> None:
        if self._csv is not None and not self._csv.closed:
            self._csv.close()
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None

    def commit(self) -> None:
        fsync_path(self.tmp)
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        try:
            self.close()
        finally:
            self.tmp.unlink(missing_ok=True)


def _id_widths(n_customers: int, span_days: int) -> dict[str, int]:
    """Zero-padding widths fixed before the first chunk (ids must sort as text in key order).

    Bound: no customer has more than span+10 rows in any table (at most one invoice a week, two payment parts
    per invoice plus a few extras, contacts at most every few days).
    """
    bound = n_customers * (span_days + 10)
    width = max(9, len(str(bound)))
    return {"customers": max(7, len(str(n_customers))), "invoices": width, "payments": width,
            "collection_actions": width}


def _ids(prefix: str, numbers: I64, width: int) -> pa.Array:
    text = pc.utf8_lpad(pc.cast(pa.array(numbers, type=pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, text, "")


def _money(cents: I64, valid: Bools | None = None) -> pa.Array:
    return _decimal(cents, _MONEY, valid)


def _decimal(units: I64, dtype: pa.DataType, valid: Bools | None = None) -> pa.Array:
    """A decimal128 array from integer units of its scale (cents for money), built without Python objects."""
    values = np.ascontiguousarray(units, dtype=np.int64)
    n = len(values)
    words = np.empty((n, 2), dtype=np.int64)
    words[:, 0] = values
    words[:, 1] = values >> 63  # sign extension to 128 bits
    validity = None
    null_count = 0
    if valid is not None:
        words[~valid] = 0
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
        null_count = int(n - np.count_nonzero(valid))
    return pa.Array.from_buffers(dtype, n, [validity, pa.py_buffer(words)], null_count=null_count)


def _dates(days: I64, valid: Bools | None = None) -> pa.Array:
    values = np.asarray(days, dtype=np.int32)
    mask = None if valid is None else ~valid
    return pa.array(values, type=pa.date32(), mask=mask)


def _codes(labels: tuple[str, ...] | list[str], index: I64, valid: Bools | None = None) -> pa.Array:
    """Text column from small-integer codes; rows where `valid` is false are null."""
    pool = pa.array(list(labels) + [None], type=pa.string())
    idx = np.asarray(index, dtype=np.int64)
    if valid is not None:
        idx = np.where(valid, idx, len(labels))
    return pool.take(pa.array(idx))


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _digits(values: I64, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string()), width, "0")


# =============================================================================================================
# FX rates
# =============================================================================================================
def _fx_rates(rng: np.random.Generator, n_days: int) -> I64:
    """Daily rates to CNY in millionths, shape (4, n_days); row 0 (CNY) is 1. Mean-reverting random walks."""
    out = np.full((len(CURRENCIES), n_days), 1_000_000, dtype=np.int64)
    for cur in range(1, len(CURRENCIES)):
        shocks = rng.normal(0.0, FX_DAILY_VOL[cur], n_days)
        level = np.empty(n_days)
        x = rng.normal(0.0, FX_DAILY_VOL[cur] * 3)
        for day in range(n_days):  # ~760 steps: the only loop here, and it is over days
            x = 0.985 * x + shocks[day]
            level[day] = x
        out[cur] = np.round(FX_CENTRE[cur] * np.exp(level) * 1_000_000).astype(np.int64)
    return out


def _fx_table(fx: I64, first_day: int) -> pa.Table:
    """Rows in key order: currency code, then date."""
    n_days = fx.shape[1]
    order = sorted(range(1, len(CURRENCIES)), key=lambda i: CURRENCIES[i])
    cur = np.repeat(np.array(order), n_days)
    days = np.tile(np.arange(first_day, first_day + n_days, dtype=np.int64), len(order))
    return pa.table({
        "currency": _codes(CURRENCIES, cur),
        "rate_date": _dates(days),
        "rate_to_base": _decimal(fx[order].reshape(-1), _RATE),
    })


# =============================================================================================================
# Vector helpers
# =============================================================================================================
def _starts(counts: I64) -> I64:
    out = np.zeros(len(counts), dtype=np.int64)
    if len(counts) > 1:
        np.cumsum(counts[:-1], out=out[1:])
    return out


def _within(counts: I64) -> I64:
    """0, 1, ... inside each group of a flat array grouped by `counts`."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(_starts(counts), counts)


def _month_of(days: I64) -> I64:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _month_start(months: I64) -> I64:
    return np.asarray(months, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _pick(rng: np.random.Generator, probs: list[float] | F64, size: int) -> I64:
    cum = np.cumsum(np.asarray(probs, dtype=np.float64))
    cum /= cum[-1]
    return np.minimum(np.searchsorted(cum, rng.random(size), side="right"), len(cum) - 1).astype(np.int64)


def _pick_rows(rng: np.random.Generator, table: F64, category: I64) -> I64:
    """One draw per row from the distribution in row `category[i]` of `table`."""
    out = np.zeros(len(category), dtype=np.int64)
    u = rng.random(len(category))
    for cat in np.unique(category):
        sel = category == cat
        cum = np.cumsum(table[cat])
        cum /= cum[-1]
        out[sel] = np.minimum(np.searchsorted(cum, u[sel], side="right"), len(cum) - 1)
    return out


def _uniform_int(rng: np.random.Generator, low: I64 | int, high: I64 | int, size: int) -> I64:
    """Integers in [low, high] inclusive (array bounds allowed; high < low gives low)."""
    low_a = np.asarray(low, dtype=np.int64)
    high_a = np.maximum(np.asarray(high, dtype=np.int64), low_a)
    return low_a + np.floor(rng.random(size) * (high_a - low_a + 1)).astype(np.int64)


def _cents(values: F64) -> I64:
    return np.round(values * 100).astype(np.int64)


# =============================================================================================================
# One chunk of customers
# =============================================================================================================
class _ChunkSimulation:
    """Customers `first_no .. first_no+n-1`: their documents, payments, contacts and truth, all vectorised.

    Arrays are named by what they index: per customer (length n), per document `d_*` (every invoice row), per
    payable invoice `p_*` (posted invoices, not credit notes: the rows payments are planned for).
    """

    def __init__(self, rng: np.random.Generator, first_no: int, n: int, start: int, end: int,
                 fx: I64, fx_first: int, respond: bool = False) -> None:
        self.rng = rng
        self.first_no = first_no
        self.n = n
        self.start = start
        self.end = end
        self.fx = fx
        self.fx_first = fx_first
        self.ttype: I64 = np.zeros(n, dtype=np.int64)
        self.respond = respond
        self.cure = np.full(n, end + 1, dtype=np.int64)  # respond: the day arrears end (> end: still open)

    # ---------------------------------------------------------------------------------------------------------
    def run(self, offsets: dict[str, int], widths: dict[str, int]) -> tuple[dict[str, pa.Table], pa.Table]:
        self.cust_ids = _ids("C", np.arange(self.first_no, self.first_no + self.n, dtype=np.int64),
                             widths["customers"])
        self._customers()
        self._documents()
        self._troubles()
        self._payment_plan()
        self._credit_notes_and_overpayments()
        self._pattern_batches()
        self._contacts()
        payments = self._payments()
        return self._tables(payments, offsets, widths)

    # --- customers -------------------------------------------------------------------------------------------
    def _customers(self) -> None:
        rng, n = self.rng, self.n
        counts = np.zeros(len(TYPE_NAMES), dtype=np.int64)
        for t, share in TYPE_SHARES.items():
            counts[t] = int(round(share * n))
        counts[GOOD] = n - counts.sum()
        self.ttype = rng.permutation(np.repeat(np.arange(len(TYPE_NAMES), dtype=np.int64), counts))
        t = self.ttype
        self.is_bus = np.where(t == PATTERN, True, rng.random(n) < BUSINESS_SHARE_OTHERS)
        u = rng.random(n)
        cur = np.zeros(n, dtype=np.int64)
        cur[self.is_bus & (u < 0.06)] = 1
        cur[self.is_bus & (u >= 0.06) & (u < 0.09)] = 2
        cur[self.is_bus & (u >= 0.09) & (u < 0.12)] = 3
        self.cur = cur

        chronic = t == CHRONIC
        income = np.where(self.is_bus,
                          rng.lognormal(np.log(8e6), 0.9, n) * np.where(chronic, 0.5, 1.0),
                          rng.lognormal(np.log(1.6e5), 0.5, n) * np.where(chronic, 0.45, 1.0))
        self.income = np.round(income, -2)
        ratio = np.where(self.is_bus, rng.uniform(0.03, 0.10, n),
                         np.where(chronic, rng.uniform(0.30, 0.80, n), rng.uniform(0.10, 0.45, n)))
        unit = np.where(self.is_bus, 10_000.0, 1_000.0)
        self.credit_limit = np.maximum(np.round(self.income * ratio / unit), 1.0) * unit
        self.income_valid = rng.random(n) >= np.where(chronic, 0.20, 0.04)
        dti_low = np.select([t == GOOD, t == TEMPORARY, chronic, t == STUBBORN], [0.05, 0.10, 2.0, 0.6], 0.3)
        dti_high = np.select([t == GOOD, t == TEMPORARY, chronic, t == STUBBORN], [1.2, 0.9, 6.0, 3.0], 1.5)
        self.total_debt = np.round(self.income * rng.uniform(dti_low, dti_high))
        self.debt_valid = rng.random(n) >= 0.02
        self.key_account = self.is_bus & (rng.random(n) < 0.05)

        # cadence and size of the documents
        interval = np.zeros(n, dtype=np.int64)
        interval[self.is_bus] = np.array([7, 14, 21, 28])[_pick(rng, [0.25, 0.35, 0.20, 0.20], int(self.is_bus.sum()))]
        pat = t == PATTERN
        interval[pat] = np.array([7, 14])[_pick(rng, [0.7, 0.3], int(pat.sum()))]
        self.interval = interval
        self.terms = np.where(self.is_bus, np.array([30, 45, 60])[_pick(rng, [0.5, 0.3, 0.2], n)],
                              rng.integers(20, 26, n))  # individuals: statement to due date
        util = np.where(chronic, rng.beta(4, 4, n), np.where(t == GOOD, rng.beta(2, 10, n), rng.beta(2, 8, n)))
        share = np.where(chronic, rng.uniform(0.5, 0.9, n), rng.uniform(0.15, 0.5, n))
        self.doc_mean = np.where(self.is_bus, self.credit_limit * share * interval / 30.0, self.credit_limit * util)

    # --- documents ---------------------------------------------------------------------------------------------
    def _documents(self) -> None:
        rng, n, start, end = self.rng, self.n, self.start, self.end
        t, is_bus = self.ttype, self.is_bus
        span = end - start
        late_start = rng.random(n) < 0.15
        max_offset = np.where(t == GOOD, span - 90, max(0, span - 450))
        offset = np.where(late_start, np.floor(rng.random(n) * (max_offset + 1)), 0).astype(np.int64)
        earliest = start + offset
        # businesses: every `interval` days from a first date in the first cycle
        first_b = earliest + np.floor(rng.random(n) * np.maximum(self.interval, 1)).astype(np.int64)
        k_bus = (end - first_b) // np.maximum(self.interval, 1) + 1
        # individuals: a monthly statement on a fixed day of the month
        sday = rng.integers(1, 29, n)
        e_month = _month_of(earliest)
        first_month = e_month + ((earliest - _month_start(e_month) + 1) > sday)
        end_month = _month_of(np.array([end]))[0]
        end_dom = end - _month_start(np.array([end_month]))[0] + 1
        last_month = end_month - (end_dom < sday)
        k_ind = last_month - first_month + 1
        count = np.maximum(np.where(is_bus, k_bus, k_ind), 1).astype(np.int64)

        cust = np.repeat(np.arange(n, dtype=np.int64), count)
        k = _within(count)
        m = len(cust)
        bus_row = is_bus[cust]
        jitter = rng.integers(0, 3, m)
        inv_date = np.where(bus_row, first_b[cust] + k * self.interval[cust] + jitter,
                            _month_start(first_month[cust] + k) + sday[cust] - 1)
        inv_date = np.minimum(inv_date, end)
        due = inv_date + self.terms[cust]

        is_cn = bus_row & (k > 0) & (rng.random(m) < 0.01)
        is_void = ~is_cn & (rng.random(m) < 0.003)
        noise = rng.lognormal(0.0, np.where(bus_row, 0.40, 0.35))
        size = np.where(is_cn, rng.uniform(0.05, 0.30, m), 1.0)
        amount = self.doc_mean[cust] * noise * size / np.asarray(FX_CENTRE)[self.cur[cust]]
        floor = np.where(is_cn, 1.0, np.where(bus_row, 100.0, 20.0))
        self.d_cust, self.d_date, self.d_due = cust, inv_date, due
        self.d_amount = np.maximum(_cents(amount), _cents(floor))
        self.d_cn, self.d_void = is_cn, is_void
        self.first_doc = _starts(count)
        self.doc_count = count

        payable = ~is_cn & ~is_void
        self.p_doc = np.flatnonzero(payable)
        self.p_cust = cust[self.p_doc]
        self.p_due = due[self.p_doc]
        self.p_inv = inv_date[self.p_doc]
        self.p_amount = self.d_amount[self.p_doc]
        self.p_count = np.bincount(self.p_cust, minlength=n).astype(np.int64)
        self.p_first = _starts(self.p_count)
        self.p_key = self.p_cust * (1 << 22) + self.p_due  # sorted: documents are in (customer, due) order

    def _find(self, target: I64, side: str = "left") -> I64:
        """Per customer: position in the payable list of the first invoice due >= target (side='left') or the
        last due <= target (side='right'); -1 where the customer has none."""
        cidx = np.arange(self.n, dtype=np.int64)
        q = np.searchsorted(self.p_key, cidx * (1 << 22) + target, side=side)
        if side == "right":
            q = q - 1
        p = len(self.p_key)
        ok = (q >= 0) & (q < p)
        qc = np.clip(q, 0, max(p - 1, 0))
        ok &= (self.p_cust[qc] == cidx) if p else False
        return np.where(ok, q, -1)

    # --- when trouble starts -------------------------------------------------------------------------------------
    def _troubles(self) -> None:
        rng, n, end = self.rng, self.n, self.end
        t = self.ttype
        earliest = (RESPOND_TROUBLE_START if self.respond else {TEMPORARY: 80, CHRONIC: 140})
        lo = np.select([t == TEMPORARY, t == CHRONIC, t == STUBBORN],
                       [end - earliest[TEMPORARY], end - earliest[CHRONIC], end - 340], end)
        hi = np.select([t == TEMPORARY, t == CHRONIC, t == STUBBORN], [end - 38, end - 38, end - 125], end)
        lo = np.minimum(np.maximum(lo, self.start + 120), hi)  # short histories: keep 4 months before trouble
        target = _uniform_int(rng, lo, hi, n)
        q = self._find(target)
        q_safe = np.maximum(q, 0)
        in_window = (q >= 0) & (self.p_due[q_safe] <= hi)
        q_last = self._find(hi, side="right")
        d_pos = np.where(in_window, q, q_last)
        troubled = np.isin(t, (TEMPORARY, CHRONIC, STUBBORN))
        # a customer without any invoice due in time cannot show the behaviour: it becomes good (rare, tiny N)
        lost = troubled & (d_pos < 0)
        t[lost] = GOOD
        troubled &= ~lost
        self.troubled = troubled
        self.d_pos = np.where(troubled, d_pos, -1)
        dp = np.maximum(self.d_pos, 0)
        self.trouble_due = np.where(troubled, self.p_due[dp], end + 1)  # invoices due >= this are in trouble
        self.trouble_amount = np.where(troubled, self.p_amount[dp], 0)
        has_prev = troubled & (self.d_pos > self.p_first)
        prev_due = np.where(has_prev, self.p_due[np.maximum(dp - 1, 0)], self.trouble_due - 30)
        room = np.clip(self.trouble_due - prev_due - 1, 0, 20)
        shock = self.trouble_due - _uniform_int(rng, 0, room, n)
        self.shock = np.where(t == CHRONIC, self.trouble_due, shock)  # chronic: start of current arrears

        # temporary customers: do they tell the collector about the hardship, and what was it
        self.hardship_told = (t == TEMPORARY) & (rng.random(n) < 0.8)
        reason = np.full(n, REASONS.index("other"), dtype=np.int64)
        temp_ind = np.array([0.30, 0.20, 0.40, 0.0, 0.10, 0.0])
        temp_bus = np.array([0.30, 0.20, 0.0, 0.0, 0.50, 0.0])
        chron_ind = np.array([0.15, 0.0, 0.20, 0.15, 0.0, 0.50])
        chron_bus = np.array([0.0, 0.0, 0.0, 0.70, 0.0, 0.30])
        for mask, probs in (((t == TEMPORARY) & ~self.is_bus, temp_ind), ((t == TEMPORARY) & self.is_bus, temp_bus),
                            ((t == CHRONIC) & ~self.is_bus, chron_ind), ((t == CHRONIC) & self.is_bus, chron_bus)):
            reason[mask] = _pick(rng, probs, int(mask.sum()))
        self.reason = reason

        # good customers with a recent slip: one invoice unpaid at the end (current) or paid 16-30 days late
        slip = (t == GOOD) & (rng.random(n) < 0.03)
        slip_current = slip & (rng.random(n) < 0.5)
        q_cur = self._find(np.full(n, end - 3), side="right")
        ok_cur = slip_current & (q_cur >= 0) & (self.p_due[np.maximum(q_cur, 0)] >= end - 28)
        q_past = self._find(_uniform_int(rng, end - 120, end - 40, n))
        ok_past = slip & ~slip_current & (q_past >= 0) & (self.p_due[np.maximum(q_past, 0)] <= end - 35)
        self.slip_pos = np.where(ok_cur | ok_past, np.where(ok_cur, q_cur, q_past), -1)
        self.slip_current = ok_cur

        # pattern_change: monthly lump sums from `change`; batch dates every 28 days ending at `batch_last`
        self.change = np.where(t == PATTERN, end - _uniform_int(rng, 75, 100, n), end + 1)
        self.batch_last = end - _uniform_int(rng, 0, 14, n)
        self.batch_count = np.where(t == PATTERN, (self.batch_last - self.change - 14) // 28 + 1, 0)
        self.batch_first = self.batch_last - 28 * (self.batch_count - 1)
        if self.respond:
            self._recovery()

    def _recovery(self) -> None:
        """respond: each troubled customer's arm in its type's test, hazard, and the day its arrears end."""
        t, n = self.ttype, self.n
        ids = self.cust_ids.to_pylist()
        self.challenger = np.zeros(n, dtype=bool)
        for ty, (test_id, share) in RECOVERY_TESTS.items():
            for i in np.flatnonzero(self.troubled & (t == ty)):
                self.challenger[i] = test_arm(test_id, ids[i], share) == "challenger"
        hazard = np.zeros(n)
        for (ty, variant), cure_30 in TRUE_CURE_30.items():
            hazard[self.troubled & (t == ty) & (self.challenger == (variant == "challenger"))] = \
                daily_cure_hazard(cure_30)
        self.hazard = hazard
        # first past-due day is trouble_due + 1; the arrears end on day trouble_due + G, G ~ Geometric(h) >= 1
        gaps = self.rng.geometric(np.where(self.troubled, hazard, 1.0))
        self.cure = np.where(self.troubled, np.minimum(self.trouble_due + gaps, self.end + 1), self.end + 1)

    def recovery_table(self) -> pa.Table:
        """respond: per troubled customer the spell start, arm, true daily hazard and cure day (if by the end)."""
        rows = np.flatnonzero(self.troubled)
        test_id = pa.array([RECOVERY_TESTS.get(int(ty), (None,))[0] for ty in self.ttype[rows]], pa.string())
        return pa.table({
            "customer_id": self.cust_ids.take(pa.array(rows)),
            "true_type": _codes(TYPE_NAMES, self.ttype[rows]),
            "spell_start": _dates(self.trouble_due[rows] + 1),
            "test_id": test_id,
            "variant": _codes(("champion", "challenger"), self.challenger[rows].astype(np.int64)),
            "daily_cure_hazard": pa.array(self.hazard[rows]),
            "cure_date": _dates(self.cure[rows], self.cure[rows] <= self.end),
        })

    # --- payments planned per payable invoice --------------------------------------------------------------------
    def _payment_plan(self) -> None:
        rng, end = self.rng, self.end
        p = len(self.p_doc)
        c = self.p_cust
        ty = self.ttype[c]
        due, inv, amount = self.p_due, self.p_inv, self.p_amount
        u = rng.random(p)
        early = -_uniform_int(rng, 1, 15, p)
        late15 = _uniform_int(rng, 1, 15, p)
        delay = np.zeros(p, dtype=np.int64)
        g = ty == GOOD
        delay[g] = np.where(u < 0.70, early, np.where(u < 0.88, 0, late15))[g]
        tm = ty == TEMPORARY
        delay[tm] = np.where(u < 0.75, early, np.where(u < 0.95, 0, _uniform_int(rng, 1, 3, p)))[tm]
        sb = ty == STUBBORN
        delay[sb] = np.where(u < 0.50, early, np.where(u < 0.70, 0, np.where(
            u < 0.90, _uniform_int(rng, 1, 10, p), _uniform_int(rng, 10, 30, p))))[sb]
        pt = ty == PATTERN
        delay[pt] = _uniform_int(rng, -3, 2, p)[pt]
        # noise: a quarter of stubborn customers were already sloppy payers before they stopped
        sloppy = (self.ttype == STUBBORN) & (rng.random(self.n) < 0.25)
        delay = np.where(sb & sloppy[c] & (u >= 0.5), _uniform_int(rng, 5, 25, p), delay)

        # chronic: a customer-level lag that grows over the last year, noise, and past delinquency spells
        ch = ty == CHRONIC
        n = self.n
        mild = rng.random(n) < 0.2  # noise: a fifth of chronic customers are milder (less late, one spell)
        base = np.where(mild, rng.uniform(4, 10, n), rng.uniform(8, 25, n))
        slope = np.where(mild, rng.uniform(0.01, 0.04, n), rng.uniform(0.04, 0.12, n))
        growth = slope[c] * np.maximum(0, due - (end - 365))
        lag = np.clip(np.round(base[c] + growth + rng.normal(0, 8, p)), 1, 120).astype(np.int64)
        ontime = u < 0.2
        delay[ch] = np.where(ontime, _uniform_int(rng, -5, 5, p), lag)[ch]
        first_due = np.where(self.p_count > 0, self.p_due[np.minimum(self.p_first, max(p - 1, 0))], self.start)
        room = np.maximum(self.trouble_due - 100 - first_due, 1)
        for spell in range(3):
            wanted = ~mild if spell == 1 else (~mild & (rng.random(n) < 0.5)) if spell == 2 else np.ones(n, bool)
            active = (self.ttype == CHRONIC) & wanted
            s_start = first_due + np.floor(rng.random(n) * room).astype(np.int64)
            s_end = s_start + _uniform_int(rng, 30, 90, n)
            inside = ch & active[c] & (due >= s_start[c]) & (due <= s_end[c]) & (due < self.trouble_due[c])
            catch_up = s_end[c] - due + _uniform_int(rng, 0, 14, p)
            delay = np.where(inside, np.maximum(delay, catch_up), delay)

        # noise: 15% of temporary customers had one earlier short slip (10-25 days late, 4+ months before)
        slipped = (self.ttype == TEMPORARY) & self.troubled & (rng.random(n) < 0.15)
        q = self._find(_uniform_int(rng, first_due + 30, self.shock - 120, n))
        q_ok = slipped & (q >= 0) & (self.p_due[np.maximum(q, 0)] <= self.shock - 120)
        delay[q[q_ok]] = _uniform_int(rng, 10, 25, int(q_ok.sum()))

        # split payments: part 1 share f1 now, the rest later
        f1 = np.ones(p)
        delay2 = delay.copy()
        split_g = (g | sb) & (rng.random(p) < 0.03)
        f1 = np.where(split_g, rng.uniform(0.3, 0.7, p), f1)
        delay2 = np.where(split_g, delay + _uniform_int(rng, 3, 14, p), delay2)
        recent = due >= self.trouble_due[c] - 180  # chronic: the half year before the current arrears
        split_c = ch & ~recent & (rng.random(p) < 0.5)
        f1 = np.where(split_c, rng.uniform(0.4, 0.9, p), f1)
        delay2 = np.where(split_c, delay + _uniform_int(rng, 15, 60, p), delay2)

        p1 = np.maximum(due + delay, inv + 1)
        p2 = np.maximum(due + delay2, p1)
        paid1 = np.ones(p, dtype=bool)
        linked_forced = np.zeros(p, dtype=bool)
        after = due >= self.trouble_due[c]  # in the customer's current trouble (troubled types only)

        shock = self.shock[c]
        # temporary: on time before the shock, nothing after it (tiny payments and kept promises come later)
        paid1[tm & after] = False
        p1 = np.where(tm & ~after, np.minimum(p1, shock - 1), p1)
        p2 = np.where(tm & ~after, np.minimum(p2, shock - 1), p2)
        # stubborn: nothing paid from the shock on
        paid1[sb & (after | (p1 >= shock))] = False
        # chronic, current arrears: a linked part payment of 10-60% (or nothing), never the rest
        cur_ch = ch & after
        f1 = np.where(cur_ch, np.where(rng.random(p) < 0.4, 0.0, rng.uniform(0.1, 0.6, p)), f1)
        paid1[cur_ch & (f1 <= 0)] = False
        p1 = np.where(cur_ch, due + _uniform_int(rng, 5, 45, p), p1)
        linked_forced |= cur_ch
        # chronic, older invoices: everything is paid by the end (catching up just before it if need be)
        pre_ch = ch & ~after
        pull = np.maximum(due + 1, end - _uniform_int(rng, 0, 10, p))
        p1 = np.where(pre_ch & (p1 > end), pull, p1)
        p2 = np.where(pre_ch & (p2 > end), np.maximum(pull, p1), p2)
        # good customers' slips
        slip_rows = self.slip_pos[self.slip_pos >= 0]
        slip_cur = self.slip_current[self.p_cust[slip_rows]]
        paid1[slip_rows[slip_cur]] = False
        past_rows = slip_rows[~slip_cur]
        f1[past_rows] = 1.0
        p1[past_rows] = due[past_rows] + _uniform_int(rng, 16, 30, len(past_rows))
        # pattern_change: from the change date, invoices wait for the monthly lump sum
        in_batch = pt & (p1 >= self.change[c])
        paid1[in_batch] = False

        a1 = np.round(amount * f1).astype(np.int64)
        a1 = np.where(paid1, np.maximum(a1, 1), a1)
        a2 = amount - a1
        has2 = (f1 < 1.0) & (a2 > 0) & ~cur_ch & ~(tm & after) & ~in_batch
        # chronic cadence slows in the half year before the current arrears: every other invoice is paid
        # together with the next one (one payment; linked to the newer invoice, its excess pays the older)
        if p > 1:
            k_in = np.arange(p, dtype=np.int64) - self.p_first[c]
            one = paid1 & ~has2
            pair = (ch & ~after & recent)[:-1] & (ch & ~after)[1:] & (c[:-1] == c[1:]) & one[:-1] & one[1:] \
                & (k_in[:-1] % 2 == 0)
            i = np.flatnonzero(pair)
            a1[i + 1] += a1[i]
            p1[i + 1] = np.maximum(p1[i + 1], p1[i])
            paid1[i] = False
        else:
            i = np.zeros(0, dtype=np.int64)
        paid2 = has2.copy()
        paid2[sb & (after | (p2 >= shock))] = False
        paid2[slip_rows] = False
        p2 = np.maximum(p2, p1)
        # the plan as if the arrears never ended: the contact log is drawn from it (and cut at the cure day)
        # (the same arrays without respond: credit notes below then adjust both, as they always did)
        self.pl_p1_plan, self.pl_a1_plan, self.pl_paid1_plan = p1, a1, paid1
        if self.respond:
            self.pl_p1_plan, self.pl_a1_plan, self.pl_paid1_plan = p1.copy(), a1.copy(), paid1.copy()
            p1, p2, a1, a2, paid1, paid2, has2 = self._cure_payments(p1, p2, a1, a2, paid1, paid2, has2, i)
            linked_forced |= (self.cure[c] <= end) & (due <= self.cure[c])
        self.pl_p1, self.pl_p2, self.pl_a1, self.pl_a2 = p1, p2, a1, a2
        self.pl_paid1, self.pl_paid2, self.pl_has2 = paid1, paid2, has2
        self.pl_linked_forced = linked_forced
        self.pl_after = after
        self.pl_in_batch = in_batch

    def _cure_payments(self, p1: I64, p2: I64, a1: I64, a2: I64, paid1: Bools, paid2: Bools, has2: Bools,
                       paired: I64) -> tuple[I64, I64, I64, I64, Bools, Bools, Bools]:
        """respond: on the cure day the customer pays what is left of every invoice due by then; invoices due
        later are paid on time (never before the cure day). What was paid before the cure day stays as planned."""
        c, due, amount = self.p_cust, self.p_due, self.p_amount
        p = len(c)
        cure = self.cure[c]
        cured = cure <= self.end
        before = cured & (due <= cure)
        after = cured & (due > cure)
        part1 = paid1 & (p1 < cure)
        part2 = paid2 & (p2 < cure)
        paid_before = np.where(part1, a1, 0) + np.where(part2, a2, 0)
        # a chronic invoice paid together with the next one is paid when the next one is
        carried = np.zeros(p, dtype=bool)
        carried[paired] = True
        carried_paid = np.zeros(p, dtype=bool)
        carried_paid[paired] = paid1[paired + 1] & (p1[paired + 1] < cure[paired])
        paid_before = np.where(carried, np.where(carried_paid, amount, 0), paid_before)
        remaining = np.maximum(amount - paid_before, 0)
        rest_in_2 = before & part1 & (remaining > 0)
        rest_in_1 = before & ~part1 & (remaining > 0)
        paid1 = np.where(before, part1 | rest_in_1, paid1)
        paid2 = np.where(before, part2 | rest_in_2, paid2)
        p1 = np.where(rest_in_1, cure, p1)
        a1 = np.where(rest_in_1, remaining, a1)
        p2 = np.where(rest_in_2, cure, p2)
        a2 = np.where(rest_in_2, remaining, a2)
        has2 = np.where(before, paid2, has2)
        on_time = self._on_time_after_cure(due, cure, self.p_inv)
        paid1 = paid1 | after
        p1 = np.where(after, on_time, p1)
        a1 = np.where(after, amount, a1)
        a2 = np.where(after, 0, a2)
        paid2 = paid2 & ~after
        has2 = has2 & ~after
        p2 = np.maximum(p2, p1)
        return p1, p2, a1, a2, paid1, paid2, has2

    def _on_time_after_cure(self, due: I64, cure: I64, issued: I64) -> I64:
        """respond: a document paid by a customer whose arrears ended: 0-10 days before its due date, never
        before the cure day nor on the day it was issued."""
        return np.maximum(np.maximum(due - _uniform_int(self.rng, 0, 10, len(due)), cure), issued + 1)

    # --- credit notes deducted from the next payment; occasional overpayments -------------------------------------
    def _credit_notes_and_overpayments(self) -> None:
        rng = self.rng
        p = len(self.p_doc)
        c = self.p_cust
        # a credit note issued once a troubled customer's trouble has begun is re-billed as an ordinary
        # invoice (it simply stays unpaid): its credit would otherwise quietly pay the overdue invoice
        cn = np.flatnonzero(self.d_cn)
        cn_c = self.d_cust[cn]
        late_cn = self.troubled[cn_c] & (self.d_date[cn] >= np.minimum(self.shock[cn_c], self.trouble_due[cn_c] - 60))
        self.d_cn[cn[late_cn]] = False
        # respond: a re-billed document is paid (unapplied) on the cure day, or on time if due after it
        rb = cn[late_cn]
        rb_c = self.d_cust[rb]
        rb_cure = self.cure[rb_c]
        cured = rb_cure <= self.end
        rb, rb_c, rb_cure = rb[cured], rb_c[cured], rb_cure[cured]
        rb_due = self.d_due[rb]
        on_time = self._on_time_after_cure(rb_due, rb_cure, self.d_date[rb])
        self.rebill_cust, self.rebill_amount = rb_c, self.d_amount[rb]
        self.rebill_date = np.where(rb_due <= rb_cure, rb_cure, on_time)
        cn = cn[~late_cn]
        # the next payable invoice's payment is reduced by the credit note (first credit note per invoice)
        nxt = np.searchsorted(self.p_doc, cn, side="right")
        ok = nxt < p
        nxt_c = np.clip(nxt, 0, max(p - 1, 0))
        ok &= (c[nxt_c] == self.d_cust[cn]) if p else False
        cn, nxt = cn[ok], nxt[ok]
        nxt, first = np.unique(nxt, return_index=True)
        cn = cn[first]
        cn_amt = self.d_amount[cn]
        cn_date = self.d_date[cn]
        a1, a2 = self.pl_a1, self.pl_a2
        use1 = self.pl_paid1[nxt] & (a1[nxt] > cn_amt + 100) & (self.pl_p1[nxt] >= cn_date)
        use2 = ~use1 & self.pl_paid2[nxt] & (a2[nxt] > cn_amt + 100) & (self.pl_p2[nxt] >= cn_date)
        a1[nxt[use1]] -= cn_amt[use1]
        a2[nxt[use2]] -= cn_amt[use2]

        # overpayment: a good (or pattern_change, before the change) customer pays 5-30% too much and pays the
        # next invoice that much less; the excess is credit in between
        ty = self.ttype[c]
        idx = np.arange(p - 1)
        single = self.pl_paid1 & ~self.pl_has2
        cand = (np.isin(ty[:-1], (GOOD, PATTERN)) & (c[:-1] == c[1:]) & single[:-1] & single[1:]
                & (self.pl_p1[1:] >= self.pl_p1[:-1]) & (rng.random(p - 1) < 0.01)) if p > 1 else np.zeros(0, bool)
        i = idx[cand]
        extra = np.minimum(np.round(self.p_amount[i] * rng.uniform(0.05, 0.30, len(i))).astype(np.int64),
                           a1[i + 1] // 2)
        a1[i] += extra
        a1[i + 1] -= extra
        assert (a1[self.pl_paid1] > 0).all() and (a2[self.pl_paid2] > 0).all()

    # --- pattern_change lump sums -----------------------------------------------------------------------------
    def _pattern_batches(self) -> None:
        rng = self.rng
        rows = np.flatnonzero(self.pl_in_batch)
        c = self.p_cust[rows]
        due = self.p_due[rows]
        first = self.batch_first[c]
        b = np.where(due <= first, 0, -(-(due - first) // 28))
        keep = b < self.batch_count[c]
        rows, c, b = rows[keep], c[keep], b[keep]
        key = c * 8 + b  # batch_count <= 4
        sums = np.zeros(self.n * 8, dtype=np.int64)
        np.add.at(sums, key, self.p_amount[rows])
        # rows are in (customer, due) order, so `key` ascends: first and last row of each batch
        last_row = np.full(self.n * 8, -1, dtype=np.int64)
        first_row = np.full(self.n * 8, -1, dtype=np.int64)
        if len(key):
            starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            ends = np.r_[starts[1:], len(key)] - 1
            first_row[key[starts]] = rows[starts]
            last_row[key[ends]] = rows[ends]
        custs = np.flatnonzero(self.ttype == PATTERN)
        grid_c = np.repeat(custs, 4)
        grid_b = np.tile(np.arange(4), len(custs))
        grid = grid_c * 8 + grid_b
        valid = grid_b < self.batch_count[grid_c]
        nonempty = last_row[grid] >= 0
        # about half of the lump sums fall short: 30-90% of the newest invoice waits for the next one (not when
        # that invoice would be 26+ days overdue at the end: these customers stay under 30 days past due)
        newest_due = self.p_due[np.maximum(last_row[grid], 0)]
        rem = np.where(valid & nonempty & (rng.random(len(grid)) < 0.5) & (self.end - newest_due <= 25),
                       np.round(rng.uniform(0.3, 0.9, len(grid)) * self.p_amount[np.maximum(last_row[grid], 0)]), 0
                       ).astype(np.int64)
        prev_rem = np.where(grid_b > 0, np.roll(rem, 1), 0)
        amount = sums[grid] + prev_rem - rem
        date = self.batch_first[grid_c] + 28 * grid_b
        emit = valid & (amount > 0)
        link = np.where(nonempty & (rng.random(len(grid)) < 0.2), first_row[grid], -1)
        self.batch_cust = grid_c[emit]
        self.batch_date = date[emit]
        self.batch_amount = amount[emit]
        self.batch_link = link[emit]

    # --- the contact log -------------------------------------------------------------------------------------------
    def _contacts(self) -> None:
        rng, end, n = self.rng, self.end, self.n
        c = self.p_cust
        p = len(c)
        ty = self.ttype[c]
        due, inv = self.p_due, self.p_inv
        ep: dict[str, list[I64]] = {k: [] for k in ("cust", "start", "end", "n", "cat", "row", "pdate", "pamt")}

        def add(cust: I64, s: I64, e: I64, count: I64, cat: I64, row: I64, pdate: I64, pamt: I64) -> None:
            ok = s <= e
            for name, arr in (("cust", cust), ("start", s), ("end", e), ("n", np.minimum(count, e - s + 1)),
                              ("cat", cat), ("row", row), ("pdate", pdate), ("pamt", pamt)):
                ep[name].append(np.broadcast_to(np.asarray(arr, dtype=np.int64), ok.shape)[ok])

        rows = np.arange(p, dtype=np.int64)
        zeros = np.zeros(p, dtype=np.int64)
        # routine reminders a few days before the due date
        r = rng.random(p) < 0.04
        add(c[r], np.maximum(inv + 1, due - 5)[r], np.minimum(due - 1, end)[r], np.ones(int(r.sum())),
            np.full(int(r.sum()), CAT_ROUTINE), rows[r], zeros[r], zeros[r])
        # invoices paid (or to be paid) late, outside a current-arrears spell
        lateness = self.pl_p1_plan - due
        intended = np.where(self.pl_paid1_plan | (ty == GOOD), lateness, 0)
        thr = np.select([ty == CHRONIC, ty == TEMPORARY], [10, 3], 5)
        prob = np.where(ty == CHRONIC, 0.7, 0.5)
        slip_row = np.zeros(p, dtype=bool)
        slip_row[self.slip_pos[self.slip_pos >= 0]] = True
        late = ((intended > thr) & (rng.random(p) < prob) & ~self.pl_after & ~self.pl_in_batch & (ty != PATTERN)
                & ~slip_row)
        count = np.clip(1 + lateness // 15, 1, 4)
        add(c[late], (due + 2)[late], np.minimum(self.pl_p1_plan - 1, end)[late], count[late],
            np.where(ty == CHRONIC, CAT_LATE_CHRONIC, CAT_LATE)[late], rows[late], self.pl_p1_plan[late],
            self.pl_a1_plan[late])
        # current arrears of troubled customers, from a few days after the first missed due date to the end
        t = self.ttype
        cidx = np.arange(n, dtype=np.int64)
        tr = self.troubled
        gap = np.select([t == TEMPORARY, t == CHRONIC], [rng.uniform(7, 12, n), rng.uniform(7, 14, n)],
                        rng.uniform(6, 10, n))
        s = self.trouble_due + 3
        count = np.ceil((end - s + 1) / gap).astype(np.int64)
        cat = np.select([t == TEMPORARY, t == CHRONIC], [CAT_CUR_TEMP, CAT_CUR_CHRONIC], CAT_CUR_STUB_0)
        add(cidx[tr], s[tr], np.full(int(tr.sum()), end), count[tr], cat[tr], self.d_pos[tr],
            np.zeros(int(tr.sum())), self.trouble_amount[tr])
        # a good customer's current slip: one or two reminders
        sl = self.slip_current
        srow = self.slip_pos[sl]
        add(cidx[sl], self.p_due[srow] + 2, np.full(len(srow), end), 1 + (rng.random(len(srow)) < 0.5),
            np.full(len(srow), CAT_SLIP), srow, np.zeros(len(srow)), self.p_amount[srow])
        # pattern_change: a call before some of the lump sums, promising it
        bt = rng.random(len(self.batch_cust)) < 0.6
        when = np.maximum(self.batch_date - _uniform_int(rng, 3, 10, len(self.batch_cust)),
                          self.change[self.batch_cust])
        add(self.batch_cust[bt], when[bt], np.minimum(when, end)[bt], np.ones(int(bt.sum())),
            np.full(int(bt.sum()), CAT_BATCH), np.full(int(bt.sum()), -1), self.batch_date[bt], self.batch_amount[bt])

        e = {k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in ep.items()}
        a_ep = np.repeat(np.arange(len(e["n"]), dtype=np.int64), e["n"])
        j = _within(e["n"])
        a_n = e["n"][a_ep]
        width = e["end"][a_ep] - e["start"][a_ep] + 1
        date = np.minimum(e["start"][a_ep] + np.floor((j + rng.random(len(j))) * width / a_n).astype(np.int64),
                          e["end"][a_ep])
        cust = e["cust"][a_ep]
        cat = e["cat"][a_ep]
        age = date - self.trouble_due[cust]
        stub = cat == CAT_CUR_STUB_0
        cat = np.where(stub, CAT_CUR_STUB_0 + np.searchsorted(np.array([30, 90, 180]), age, side="right"), cat)
        a = len(date)
        channel = _pick_rows(rng, _CHANNEL_MIX, cat)
        outcome = _pick_rows(rng, _OUTCOME_MIX, cat)
        temp_cur = cat == CAT_CUR_TEMP
        forced = temp_cur & self.hardship_told[cust] & (j == np.minimum(1, a_n - 1))
        outcome[forced] = HARDSHIP
        outcome[temp_cur & ~self.hardship_told[cust] & (outcome == HARDSHIP)] = REACHED
        # promises
        row = e["row"][a_ep]
        pdate = e["pdate"][a_ep]
        pamt = e["pamt"][a_ep]
        is_promise = outcome == PROMISE
        u = rng.random(a)
        late_kind = (cat == CAT_LATE) | (cat == CAT_LATE_CHRONIC)
        keep_late = late_kind & ((cat == CAT_LATE) | (u < 0.6))
        inv_amount = self.p_amount[np.maximum(row, 0)]
        prom_date = np.where(keep_late, pdate, date + _uniform_int(rng, 3, 10, a))
        prom_amt = np.where(keep_late, pamt, inv_amount)
        cur_kind = temp_cur | (cat == CAT_CUR_CHRONIC) | ((cat >= CAT_CUR_STUB_0) & (cat <= CAT_CUR_STUB_3))
        frac = np.select([temp_cur, cat == CAT_CUR_CHRONIC], [rng.uniform(0.04, 0.12, a), rng.uniform(0.05, 0.15, a)],
                         rng.uniform(0.2, 1.0, a))
        prom_date = np.where(cur_kind, date + _uniform_int(rng, 3, 21, a), prom_date)
        prom_amt = np.where(cur_kind, np.maximum(np.round(pamt * frac / 100) * 100, 100).astype(np.int64), prom_amt)
        slip = cat == CAT_SLIP
        prom_date = np.where(slip, np.maximum(date + _uniform_int(rng, 2, 10, a), end + _uniform_int(rng, 1, 8, a)),
                             prom_date)
        prom_amt = np.where(slip, pamt, prom_amt)
        batch = cat == CAT_BATCH
        prom_date = np.where(batch, pdate, prom_date)
        prom_amt = np.where(batch, pamt, prom_amt)
        # kept promises of current arrears become payments, capped so the first missed invoice stays unpaid
        cap = np.where(temp_cur, 0.55, 0.30)
        can_keep = is_promise & (prom_date <= end) & (temp_cur | ((cat == CAT_CUR_CHRONIC) & (u < 0.4)))
        kept_amt = np.where(can_keep, prom_amt, 0)
        running = np.cumsum(kept_amt)
        ep_first = _starts(e["n"])[a_ep]
        within_ep = running - (running[ep_first] - kept_amt[ep_first])
        over = can_keep & (within_ep > cap * pamt)
        kept = can_keep & ~over
        outcome[temp_cur & over] = REACHED  # a temporary customer's promise with a date <= end is always kept
        is_promise = outcome == PROMISE
        hardship = outcome == HARDSHIP

        # respond: once the arrears have ended, their contacts stop (routine reminders go on)
        shown = (cat == CAT_ROUTINE) | (date < self.cure[cust])
        order = np.lexsort((np.arange(a), date, cust))  # by customer, date, then episode order
        order = order[shown[order]]
        self.a_cust = cust[order]
        self.a_date = date[order]
        self.a_channel = channel[order]
        self.a_outcome = outcome[order]
        self.a_reason = self.reason[cust][order]
        self.a_hardship = hardship[order]
        self.a_promise = is_promise[order]
        self.a_prom_date = prom_date[order]
        self.a_prom_amt = prom_amt[order]
        # payments that keep promises (temporary: on or a few days before the promised date)
        kp = kept & is_promise
        pay_date = np.maximum(prom_date - _uniform_int(rng, 0, 3, a), date)[kp]
        kp_cust = cust[kp]
        link = np.where(self.ttype[kp_cust] == CHRONIC, True, rng.random(len(kp_cust)) < 0.5)
        pay_date = np.minimum(pay_date, end)
        before_cure = pay_date < self.cure[kp_cust]  # respond: the cure payment settles the rest
        self.kept_cust = kp_cust[before_cure]
        self.kept_date = pay_date[before_cure]
        self.kept_amount = prom_amt[kp][before_cure]
        self.kept_link = np.where(link, self.d_pos[kp_cust], -1)[before_cure]

    # --- payments ----------------------------------------------------------------------------------------------
    def _payments(self) -> dict[str, I64]:
        rng, end, n = self.rng, self.end, self.n
        t = self.ttype
        parts_c: list[I64] = []
        parts_d: list[I64] = []
        parts_a: list[I64] = []
        parts_link: list[I64] = []  # payable position, -1 = unapplied
        parts_cny: list[Bools] = []
        p = len(self.p_doc)
        rows = np.arange(p, dtype=np.int64)
        single = ~self.pl_has2
        # planned parts
        foreign = self.cur[self.p_cust] > 0
        for part, paid, date, amt, force_link in (
                (1, self.pl_paid1, self.pl_p1, self.pl_a1, self.pl_linked_forced),
                (2, self.pl_paid2, self.pl_p2, self.pl_a2, np.zeros(p, dtype=bool))):
            m = paid & (date <= end)
            unapplied = (rng.random(p) < 0.30) & ~force_link
            cny = m & ~unapplied & foreign & single & (part == 1) & (rng.random(p) < 0.03)
            parts_c.append(self.p_cust[m])
            parts_d.append(date[m])
            parts_a.append(amt[m])
            parts_link.append(np.where(unapplied, -1, rows)[m])
            parts_cny.append(cny[m])
        # temporary customers' tiny payments after the shock
        tiny_c = np.flatnonzero((t == TEMPORARY) & self.troubled & (rng.random(n) < 0.5))
        tiny_c = np.concatenate([tiny_c, tiny_c[rng.random(len(tiny_c)) < 0.4]])
        tiny_d = _uniform_int(rng, self.shock[tiny_c], end, len(tiny_c))
        tiny_frac = rng.uniform(0.02, 0.06, len(tiny_c))
        tiny_a = np.maximum(np.round(self.trouble_amount[tiny_c] * tiny_frac), 1).astype(np.int64)
        tiny_l = np.where(rng.random(len(tiny_c)) < 0.5, self.d_pos[tiny_c], -1)
        before_cure = tiny_d < self.cure[tiny_c]
        tiny_c, tiny_d, tiny_a, tiny_l = (x[before_cure] for x in (tiny_c, tiny_d, tiny_a, tiny_l))
        rebill_l = np.full(len(self.rebill_cust), -1, dtype=np.int64)
        for arr_c, arr_d, arr_a, arr_l in ((tiny_c, tiny_d, tiny_a, tiny_l),
                                           (self.kept_cust, self.kept_date, self.kept_amount, self.kept_link),
                                           (self.batch_cust, self.batch_date, self.batch_amount, self.batch_link),
                                           (self.rebill_cust, self.rebill_date, self.rebill_amount, rebill_l)):
            parts_c.append(arr_c)
            parts_d.append(arr_d)
            parts_a.append(arr_a)
            parts_link.append(arr_l)
            parts_cny.append(np.zeros(len(arr_c), dtype=bool))
        cust = np.concatenate(parts_c)
        date = np.concatenate(parts_d)
        amount = np.concatenate(parts_a)
        link = np.concatenate(parts_link)
        cny = np.concatenate(parts_cny)
        keep = date <= end
        cust, date, amount, link, cny = cust[keep], date[keep], amount[keep], link[keep], cny[keep]
        order = np.lexsort((date, cust))  # stable: ties keep the order above
        cust, date, amount, link, cny = cust[order], date[order], amount[order], link[order], cny[order]
        # a rare linked payment in CNY against a foreign invoice: enough CNY to cover it at the day's rate
        cur = np.where(cny, 0, self.cur[cust])
        rate = self.fx[self.cur[cust], np.clip(date - self.fx_first, 0, self.fx.shape[1] - 1)]
        amount = np.where(cny, (amount * rate + 999_999) // 1_000_000 + 1, amount)
        assert (amount > 0).all()
        # method: each customer has a habit
        pref = np.where(self.is_bus, _pick(rng, [0.90, 0.0, 0.02, 0.05, 0.03], n),
                        _pick(rng, [0.15, 0.35, 0.05, 0.25, 0.20], n))
        method = np.where(rng.random(len(cust)) < 0.85, pref[cust], _pick(rng, [0.3, 0.2, 0.1, 0.2, 0.2], len(cust)))
        return {"cust": cust, "date": date, "amount": amount, "link": link, "cur": cur, "method": method}

    # --- arrow tables --------------------------------------------------------------------------------------------
    def _tables(self, pay: dict[str, I64], offsets: dict[str, int],
                widths: dict[str, int]) -> tuple[dict[str, pa.Table], pa.Table]:
        rng = self.rng
        cust_ids = self.cust_ids
        tables: dict[str, pa.Table] = {}
        tables["customers"] = self._customer_table(cust_ids)

        m = len(self.d_cust)
        inv_ids = _ids(_ID_PREFIX["invoices"], offsets["invoices"] + 1 + np.arange(m, dtype=np.int64),
                       widths["invoices"])
        d_cur = self.cur[self.d_cust]
        doc_type = np.where(self.d_cn, 1, 0)
        tables["invoices"] = pa.table({
            "invoice_id": inv_ids,
            "customer_id": cust_ids.take(pa.array(self.d_cust)),
            "invoice_date": _dates(self.d_date),
            "due_date": _dates(self.d_due),
            "amount": _money(self.d_amount),
            "currency": _codes(CURRENCIES, d_cur, (d_cur > 0) | (rng.random(m) >= 0.15)),
            "document_type": _codes(("invoice", "credit_note"), doc_type, self.d_cn | (rng.random(m) >= 0.05)),
            "status": _codes(("posted", "void"), self.d_void.astype(np.int64), self.d_void | (rng.random(m) >= 0.05)),
        })

        k = len(pay["cust"])
        linked = pay["link"] >= 0
        doc = self.p_doc[np.maximum(pay["link"], 0)] if len(self.p_doc) else np.zeros(k, dtype=np.int64)
        tables["payments"] = pa.table({
            "payment_id": _ids(_ID_PREFIX["payments"], offsets["payments"] + 1 + np.arange(k, dtype=np.int64),
                               widths["payments"]),
            "customer_id": cust_ids.take(pa.array(pay["cust"])),
            "invoice_id": pc.if_else(pa.array(linked), inv_ids.take(pa.array(doc)), pa.scalar(None, pa.string())),
            "payment_date": _dates(pay["date"]),
            "amount": _money(pay["amount"]),
            "currency": _codes(CURRENCIES, pay["cur"], (pay["cur"] > 0) | (rng.random(k) >= 0.15)),
            "method": _codes(METHODS, pay["method"], rng.random(k) >= 0.02),
        })

        a = len(self.a_cust)
        tables["collection_actions"] = pa.table({
            "action_id": _ids(_ID_PREFIX["collection_actions"],
                              offsets["collection_actions"] + 1 + np.arange(a, dtype=np.int64),
                              widths["collection_actions"]),
            "customer_id": cust_ids.take(pa.array(self.a_cust)),
            "action_date": _dates(self.a_date),
            "channel": _codes(CHANNELS, self.a_channel),
            "outcome": _codes(OUTCOMES, self.a_outcome),
            "hardship_reason": _codes(REASONS, self.a_reason, self.a_hardship),
            "promised_amount": _money(self.a_prom_amt, self.a_promise),
            "promised_date": _dates(self.a_prom_date, self.a_promise),
        })
        return tables, self._truth_table(cust_ids)

    def _customer_table(self, cust_ids: pa.Array) -> pa.Table:
        rng, n = self.rng, self.n
        bus = self.is_bus
        surname, given = rng.integers(0, len(_SURNAMES), n), rng.integers(0, len(_GIVEN), n)
        first, last = rng.integers(0, len(_LATIN_FIRST), n), rng.integers(0, len(_LATIN_LAST), n)
        number = rng.integers(1, 1000, n)
        sur = pa.array([s[0] for s in _SURNAMES]).take(pa.array(surname))
        giv = pa.array([g[0] for g in _GIVEN]).take(pa.array(given))
        sur_py = pa.array([s[1] for s in _SURNAMES]).take(pa.array(surname))
        giv_py = pa.array([g[1] for g in _GIVEN]).take(pa.array(given))
        lat_first = pa.array(_LATIN_FIRST).take(pa.array(first))
        lat_last = pa.array([s[0] for s in _LATIN_LAST]).take(pa.array(last))
        lat_last_ascii = pa.array([s[1] for s in _LATIN_LAST]).take(pa.array(last))
        chinese_person = rng.random(n) < 0.8
        cp = pa.array(chinese_person)
        person = pc.if_else(cp, _join(sur, giv), _join(lat_first, " ", lat_last))
        handle = pc.if_else(cp, _join(giv_py, ".", sur_py), _join(pc.utf8_lower(lat_first), ".", lat_last_ascii))
        person_mail = _join(handle, _digits(number, 1), "@",
                            pa.array(_INDIVIDUAL_MAIL).take(pa.array(rng.integers(0, len(_INDIVIDUAL_MAIL), n))))

        pre, trade, suf = (rng.integers(0, len(_CO_PREFIX), n), rng.integers(0, len(_CO_TRADE), n),
                           rng.integers(0, len(_CO_SUFFIX), n))
        w1, w2, suf2 = (rng.integers(0, len(_EN_WORD1), n), rng.integers(0, len(_EN_WORD2), n),
                        rng.integers(0, len(_EN_SUFFIX), n))
        chinese_co = rng.random(n) < np.where(self.cur > 0, 0.3, 0.85)
        zh_name = _join(pa.array([x[0] for x in _CO_PREFIX]).take(pa.array(pre)),
                        pa.array([x[0] for x in _CO_TRADE]).take(pa.array(trade)),
                        pa.array(_CO_SUFFIX).take(pa.array(suf)))
        en_w1 = pa.array(_EN_WORD1).take(pa.array(w1))
        en_w2 = pa.array(_EN_WORD2).take(pa.array(w2))
        en_name = _join(en_w1, " ", en_w2, " ", pa.array(_EN_SUFFIX).take(pa.array(suf2)))
        zh_domain = _join(pa.array([x[1] for x in _CO_PREFIX]).take(pa.array(pre)),
                          pa.array([x[1] for x in _CO_TRADE]).take(pa.array(trade)), ".com.cn")
        en_domain = _join(pc.utf8_lower(en_w1), pc.utf8_lower(en_w2), ".com")
        ccn = pa.array(chinese_co)
        company = pc.if_else(ccn, zh_name, en_name)
        company_mail = _join(pa.array(_BUSINESS_MAILBOX).take(pa.array(rng.integers(0, len(_BUSINESS_MAILBOX), n))),
                             "@", pc.if_else(ccn, zh_domain, en_domain))
        b = pa.array(bus)
        name = pc.if_else(b, company, person)
        email = pc.if_else(b, company_mail, person_mail)

        region = _pick(rng, _REGION_WEIGHTS, n)
        hk = region == _REGIONS.index("Hong Kong")
        mobile = _join("+86 1", _digits(rng.integers(30, 100, n), 2), " ", _digits(rng.integers(0, 10_000, n), 4),
                       " ", _digits(rng.integers(0, 10_000, n), 4))
        hk_mobile = _join("+852 ", _digits(rng.integers(5000, 10_000, n), 4), " ",
                          _digits(rng.integers(0, 10_000, n), 4))
        landline = _join(pa.array(_REGION_AREA).take(pa.array(region)), " ",
                         _digits(rng.integers(2_000_000, 100_000_000, n), 8))
        phone = pc.if_else(b, landline, pc.if_else(pa.array(hk), hk_mobile, mobile))

        first_date = self.d_date[self.first_doc]
        created = first_date - _uniform_int(self.rng, 30, 3650, n)
        contact_valid = bus & (rng.random(n) >= 0.10)
        return pa.table({
            "customer_id": cust_ids,
            "customer_name": name,
            "customer_type": _codes(("individual", "business"), bus.astype(np.int64)),
            "region": _codes(_REGIONS, region, rng.random(n) >= 0.02),
            "phone": pc.if_else(pa.array(rng.random(n) >= 0.03), phone, pa.scalar(None, pa.string())),
            "email": pc.if_else(pa.array(rng.random(n) >= 0.08), email, pa.scalar(None, pa.string())),
            "contact_person": pc.if_else(pa.array(contact_valid), person, pa.scalar(None, pa.string())),
            "account_manager": _codes(_MANAGERS, rng.integers(0, len(_MANAGERS), n)),
            "credit_limit": _money(_cents(self.credit_limit)),
            "annual_income": _money(_cents(self.income), self.income_valid),
            "total_debt": _money(_cents(self.total_debt), self.debt_valid),
            "is_key_account": pa.array(self.key_account),
            "created_date": _dates(created),
        })

    def _truth_table(self, cust_ids: pa.Array) -> pa.Table:
        n, t = self.n, self.ttype
        shock = np.select([t == TEMPORARY, t == CHRONIC, t == STUBBORN, t == PATTERN],
                          [self.shock, self.shock, self.shock, self.change], 0)
        has_shock = t != GOOD
        trouble = pc.cast(_dates(self.trouble_due), pa.string())
        slip_due = pc.cast(_dates(self.p_due[np.maximum(self.slip_pos, 0)] if len(self.p_due) else np.zeros(n)),
                           pa.string())
        batches = pc.cast(_dates(self.batch_first), pa.string())
        reason = _codes(REASONS, self.reason)
        told = pa.array(self.hardship_told)
        notes_by_type = [
            pc.if_else(pa.array(self.slip_current), _join("recent slip: invoice due ", slip_due, " unpaid at end"),
                       _join("recent slip: invoice due ", slip_due, " paid 16-30 days late")),
            _join("first missed due date ", trouble, "; hardship ",
                  pc.if_else(told, reason, pa.scalar("not disclosed"))),
            _join("current arrears from due date ", trouble),
            _join("stopped paying; first missed due date ", trouble),
            _join("monthly lump sums from ", batches),
        ]
        notes = notes_by_type[GOOD]
        for ty in (TEMPORARY, CHRONIC, STUBBORN, PATTERN):
            notes = pc.if_else(pa.array(t == ty), notes_by_type[ty], notes)
        notes_valid = (t != GOOD) | (self.slip_pos >= 0)
        return pa.table({
            "customer_id": cust_ids,
            "true_type": _codes(TYPE_NAMES, t),
            "shock_date": _dates(shock, has_shock),
            "notes": pc.if_else(pa.array(notes_valid), notes, pa.scalar(None, pa.string())),
        })


# ------------------------------------------------------------------------------ command line (arrears-demo)

_DEFAULTS = DemoConfig()


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least `minimum`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}: {text!r}")
        return value
    return parse


_positive = _int_at_least(1)
_seed = _int_at_least(0)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="arrears-demo",
        description="Write seeded demo data for the arrears warehouse: customers, invoices, payments, "
                    "collection_actions and fx_rates (<table>.csv or .parquet) into --out, and the true "
                    "behaviour type of every customer (good, temporary, chronic, stubborn, pattern_change) "
                    "into --truth, outside the input folder. Same seed and arguments give byte-identical files.",
        epilog="Example: arrears-demo --customers 1000000 --format parquet --out data/raw_1m")
    p.add_argument("--customers", type=_positive, default=_DEFAULTS.customers, metavar="N",
                   help="number of customers (default %(default)s; 1,000,000 takes a few minutes)")
    p.add_argument("--seed", type=_seed, default=_DEFAULTS.seed, metavar="S", help="random seed (default %(default)s)")
    p.add_argument("--out", type=Path, default=default_raw_dir(), metavar="DIR",
                   help="input folder to write; must be empty or absent unless --force "
                        "(default data/raw under the project root)")
    p.add_argument("--truth", type=Path, default=None, metavar="FILE",
                   help="truth CSV (customer_id,true_type,shock_date,notes); must lie outside --out "
                        "(default DIR/../demo_truth/customer_truth.csv)")
    p.add_argument("--format", choices=FORMATS, default=_DEFAULTS.file_format, dest="file_format",
                   help="file format of the tables (default %(default)s)")
    p.add_argument("--start", type=_date, default=_DEFAULTS.start, metavar="YYYY-MM-DD",
                   help="first day of the history (default %(default)s)")
    p.add_argument("--end", type=_date, default=_DEFAULTS.end, metavar="YYYY-MM-DD",
                   help="last day with events (invoices, payments, contacts, rates); only due dates and "
                        "promised dates lie beyond it. Use it as the as-of date (default %(default)s)")
    p.add_argument("--respond", action="store_true",
                   help="troubled customers' arrears end by a recovery hazard that depends on their type and "
                        "their arm in the demo champion/challenger tests (true effects in strategy_effects.csv "
                        "and recovery_truth.csv beside the truth file), so strategy outcomes can be checked")
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty folder, replacing the five table files (other files are kept)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = DemoConfig(customers=args.customers, seed=args.seed, start=args.start, end=args.end,
                        file_format=args.file_format, respond=args.respond)
    say = (lambda message: None) if args.quiet else (lambda message: print(message, flush=True))
    say(f"Generating demo data: {config.customers:,} customers, seed {config.seed}, "
        f"{config.start} .. {config.end}, {config.file_format} -> {args.out}")
    try:
        result = generate(args.out, config, truth_path=args.truth, force=args.force, progress=say)
    except DemoError as exc:
        print(f"arrears-demo: error: {exc}", file=sys.stderr)
        return 2
    width = max(len(name) for name in result.row_counts)
    for name, rows in result.row_counts.items():
        size = result.files[name].stat().st_size
        say(f"  {name:<{width}}  {rows:>12,} rows  {size / 1e6:>10,.1f} MB")
    say(f"  {'truth':<{width}}  {sum(result.type_counts.values()):>12,} rows  "
        + ", ".join(f"{k} {v:,}" for k, v in result.type_counts.items()))
    if result.recovery_path is not None:
        say(f"  true outcomes: {result.recovery_path.name}, {result.effects_path.name} beside the truth file")
    say(f"Wrote {result.out_dir} and {result.truth_path} in {result.elapsed_seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
