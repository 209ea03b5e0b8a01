"""Staging's clean_text (macros/text.sql): DuckDB's fast path (trim only a value that starts or ends with a
blank) returns exactly what trimming every value returns, for any text: blanks of every kind at either end or
inside, combining marks, CR LF (one grapheme), emoji, the empty string, null."""
from __future__ import annotations

import duckdb
import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import ROOT

BLANKS = " \t\n\r\u00a0\u3000"


def _macros() -> object:
    """macros/text.sql rendered by plain Jinja: adapter.dispatch picks duckdb__<name>, else default__<name>."""
    module: dict[str, object] = {}

    class Adapter:
        @staticmethod
        def dispatch(name: str, _package: str) -> object:
            return getattr(module["m"], f"duckdb__{name}", None) or getattr(module["m"], f"default__{name}")

    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    template = env.from_string((ROOT / "macros" / "text.sql").read_text(),
                               globals={"adapter": Adapter, "return": lambda value: value})
    module["m"] = template.module
    return module["m"]


MACROS = _macros()
FAST = str(MACROS.clean_text("v"))
TRIM_ALL = str(MACROS.default__clean_text("v"))


@pytest.mark.fast
def test_duckdb_takes_the_fast_path_and_the_default_trims() -> None:
    assert "ascii(reverse(v))" in FAST and "trim(both" in FAST
    assert "ascii" not in TRIM_ALL


def _compare(values: list[str | None]) -> None:
    with duckdb.connect() as con:
        rows = con.execute(f"select v, {FAST}, {TRIM_ALL} from unnest(?::varchar[]) as t(v)", [values]).fetchall()
    assert [r[1] for r in rows] == [r[2] for r in rows], [r for r in rows if r[1] != r[2]]


@pytest.mark.fast
def test_the_fast_path_trims_what_trim_trims() -> None:
    _compare(["", None, "a", " a", "a ", "\u3000a\u00a0", "\r\n", "a\r\n", "\u00a0", "a b", "e\u0301 ", " e\u0301",
              "a \u0301", "\U0001F600\t", "\t\U0001F468\u200d\U0001F469", "  ", "x\u3000y"])


@pytest.mark.fast
@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(list(BLANKS) + ["a", "0", "e\u0301", "\u0301", "\u200d", "\U0001F600",
                                                         "\u4e2d", "\r\n"]), max_size=6).map("".join),
                max_size=40))
def test_the_fast_path_trims_what_trim_trims_for_any_text(values: list[str]) -> None:
    _compare(values)


@pytest.mark.fast
def test_the_fast_path_knows_every_blank() -> None:
    from arrears import loads
    codes = {int(code) for code in str(MACROS.blank_codes()).split(",")}
    assert codes == {ord(c) for c in BLANKS} == {ord(c) for c in loads.KEY_BLANKS}
