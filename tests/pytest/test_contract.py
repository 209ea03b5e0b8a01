"""The input contract is written once (arrears/contract.py) and every side reads that one copy.

If these fail, the dbt project and the Python code would read the contract differently: macros/contract.sql
was edited by hand or not regenerated, or staging types or keys a column differently from the contract.
"""
from __future__ import annotations

import re

import pytest

from arrears import contract
from arrears.paths import ROOT

from helpers import CONTRACT_COLUMNS, Build

pytestmark = pytest.mark.fast

DUCKDB_TYPES = {"text": "VARCHAR", "date": "DATE", "boolean": "BOOLEAN"}


def test_dbt_macro_is_generated_from_the_contract_module() -> None:
    """macros/contract.sql differs from what arrears/contract.py generates (run python -m arrears.contract --write)."""
    assert (ROOT / "macros" / "contract.sql").read_text(encoding="utf-8") == contract.dbt_macro()


def test_generated_macro_carries_tables_columns_types_and_keys() -> None:
    """The generator dropped a table, a column, a type or a key on the way to the macro."""
    text = contract.dbt_macro()
    flat = re.sub(r"\s+", " ", text)
    for name, spec in contract.TABLES.items():
        block = flat[flat.index(f"'{name}': {{"):]
        block = block[:block.index("},") + 2]
        assert f"'key': [{', '.join(repr(k) for k in spec.key)}]" in block, name
        for column in spec.columns:
            assert f"'{column}'" in block, (name, column)
        for column, kind in spec.types.items():
            if kind != "text":
                assert f"'{column}': '{kind}'" in block, (name, column)
    for name, values in contract.CODES.items():
        assert f"'{name}': [{', '.join(repr(v) for v in values)}]" in flat, name


def test_every_python_user_reads_the_one_contract() -> None:
    """A module lists the contract's tables or columns on its own again."""
    from arrears import benchmark, demo, pipeline
    from arrears.engines import load

    assert demo.TABLES == benchmark.TABLES == pipeline.CONTRACT_TABLES == load.TABLES == contract.TABLE_NAMES
    assert CONTRACT_COLUMNS == {name: spec.columns for name, spec in contract.TABLES.items()}
    assert set(contract.REQUIRED_TABLES) | set(contract.OPTIONAL_TABLES) == set(contract.TABLES)


def test_staged_tables_have_the_contract_columns_types_and_keys(demo_build: Build) -> None:
    """Staging casts a contract column to another type than the contract's, or lets a duplicate key through."""
    for name, spec in contract.TABLES.items():
        staged = dict(demo_build.query(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'staging' and table_name = ?", [f"stg_{name}"]))
        for column, kind in spec.types.items():
            expected = DUCKDB_TYPES.get(kind, kind.upper())
            assert staged.get(column) == expected, (name, column, staged.get(column), expected)
        key = ", ".join(spec.key)
        rows, distinct = demo_build.query(
            f"select count(*), count(distinct ({key})) from staging.stg_{name}")[0]
        assert rows == distinct, (name, spec.key)
