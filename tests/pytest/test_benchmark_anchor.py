"""The benchmark's pandas anchor computes the same as-of aging as the warehouse.

If this fails, the benchmark compares the warehouse with a script that answers a different question, and
the speed ratio it reports means nothing.
"""
from __future__ import annotations

import importlib.util
from decimal import Decimal

import pytest

from helpers import ROOT, Build, query

pytestmark = pytest.mark.fast

spec = importlib.util.spec_from_file_location("pandas_aging", ROOT / "bench" / "pandas_aging.py")
pandas_aging = importlib.util.module_from_spec(spec)
assert spec.loader is not None
spec.loader.exec_module(pandas_aging)
sql_spec = importlib.util.spec_from_file_location("sql_aging", ROOT / "bench" / "sql_aging.py")
sql_aging = importlib.util.module_from_spec(sql_spec)
assert sql_spec.loader is not None
sql_spec.loader.exec_module(sql_aging)


def test_pandas_anchor_equals_fct_customer_aging(demo_build: Build) -> None:
    result = pandas_aging.aging(demo_build.raw_dir, demo_build.as_of)
    buckets = [f"bucket_{code}_base" for code, _, _ in pandas_aging.BUCKETS]
    warehouse = {
        row[0]: row[1:]
        for row in query(demo_build.db, f"""select customer_id, outstanding_base, days_past_due, {', '.join(buckets)}
                                            from marts.fct_customer_aging""")
    }
    assert len(result) == len(warehouse) > 0
    mismatches = []
    for record in result.to_dict("records"):
        expected = warehouse[record["customer_id"]]
        got = (Decimal(str(record["outstanding_base"])).quantize(Decimal("0.01")), int(record["days_past_due"]),
               *(Decimal(str(record[b])).quantize(Decimal("0.01")) for b in buckets))
        if got != tuple(expected):
            mismatches.append((record["customer_id"], got, expected))
    assert not mismatches, mismatches[:5]
    assert sum(r[0] for r in warehouse.values()) > 0, "the demo data should leave something unpaid"


def test_single_query_anchor_equals_fct_customer_aging(demo_build: Build) -> None:
    """bench/sql_aging.py answers another question than the warehouse: its timing would mean nothing."""
    result = sql_aging.aging(demo_build.raw_dir, demo_build.as_of)
    buckets = [f"bucket_{code}_base" for code, _, _ in sql_aging.BUCKETS]
    columns = ["customer_id", "outstanding_base", "days_past_due", *buckets]
    warehouse = {row[0]: tuple(row[1:]) for row in query(
        demo_build.db, f"select {', '.join(columns)} from marts.fct_customer_aging")}
    got = {r["customer_id"]: (Decimal(str(r["outstanding_base"])).quantize(Decimal("0.01")),
                              int(r["days_past_due"]),
                              *(Decimal(str(r[b])).quantize(Decimal("0.01")) for b in buckets))
           for r in result.to_dict("records")}
    assert len(got) == len(warehouse) > 0
    mismatches = [(cid, got[cid], warehouse[cid]) for cid in warehouse if got.get(cid) != warehouse[cid]]
    assert not mismatches, mismatches[:5]
    assert any(v[1] > 0 for v in warehouse.values()), "the demo data should have customers past due"
