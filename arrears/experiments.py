"""Champion/challenger arithmetic in Python, the same as macros/experiments.sql computes in SQL.

The warehouse assigns arms in SQL; this module lets the demo generator, the tests and anyone auditing a list
reproduce an arm or an interval without a database: `arm("T01", "C000123", 0.2)` is the arm
`mart_collection_strategy` gives that customer in that test, on every run and engine.
"""
from __future__ import annotations

import hashlib
import math

Z95 = 1.959964


def stable_unit_interval(text: str) -> float:
    """A number in [0, 1) from the first 32 bits of md5(text) (macro stable_unit_interval)."""
    return int(hashlib.md5(text.encode("utf-8")).hexdigest()[:8], 16) / 2**32


def arm(test_id: str, customer_id: str, challenger_share: float) -> str:
    """`challenger` when the customer's stable number in the test is under the share (macro test_arm)."""
    return "challenger" if stable_unit_interval(f"{test_id}|{customer_id}") < challenger_share else "champion"


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of successes / trials (macro wilson_bound, before rounding)."""
    if trials <= 0:
        return None
    p = successes / trials
    centre = p + z * z / (2 * trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    scale = 1 + z * z / trials
    return max(0.0, (centre - half) / scale), min(1.0, (centre + half) / scale)


def normal_cdf(x: float) -> float:
    """Phi(x), exactly (math.erf); the SQL uses a polynomial within 7.5e-8 of it."""
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def two_proportion_p_value(s1: int, n1: int, s2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (mart_strategy_tests.p_value)."""
    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    return 2 * (1 - normal_cdf(abs(s2 / n2 - s1 / n1) / se))
