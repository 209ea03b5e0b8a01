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
