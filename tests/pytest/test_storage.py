"""How the warehouse stores its money columns (profiles.yml: `disabled_compression_methods: bitpacking`).

Money is decimal(38, 2) (macros/types.sql), a 128-bit integer in DuckDB, and DuckDB's bit-packing of 128-bit
integers is slow to read back (docs/decisions.md, 2026-12-07). The profile turns bit-packing off; these tests
check that DuckDB still bit-packs such a column by default (else the setting has no purpose any more) and that
no money column of a built warehouse is bit-packed (else the setting was lost).
"""
from __future__ import annotations

import duckdb

from helpers import query

MONEY = "DECIMAL(38,2)"


def money_column_compressions(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], set[str]]:
    """The compressions of the stored (checkpointed) segments of every decimal(38, 2) column of every table."""
    columns = con.execute(
        "select c.table_schema, c.table_name, c.column_name from information_schema.columns as c "
        "inner join information_schema.tables as t using (table_catalog, table_schema, table_name) "
        "where t.table_type = 'BASE TABLE' and c.data_type = ? and c.table_catalog = current_database()",
        [MONEY]).fetchall()
    found: dict[tuple[str, str, str], set[str]] = {}
    for schema, table, column in columns:
        rows = con.execute(
            "select distinct compression from pragma_storage_info(?) "
            "where column_name = ? and segment_type <> 'VALIDITY' and persistent",
            [f'"{schema}"."{table}"', column]).fetchall()
        if rows:
            found[(schema, table, column)] = {r[0] for r in rows}
    return found


def test_duckdb_bitpacks_money_by_default(tmp_path):
    """The premise: with DuckDB's defaults, stored amounts in cents of all sizes are bit-packed."""
    with duckdb.connect(str(tmp_path / "default.duckdb")) as con:
        con.execute(f"create table amounts as select cast(i * 1.37 as {MONEY}) as amount from range(200000) as t(i)")
        con.execute("checkpoint")
        assert money_column_compressions(con) == {("main", "amounts", "amount"): {"BitPacking"}}


def test_warehouse_money_columns_are_not_bitpacked(demo_build):
    with duckdb.connect(str(demo_build.db), read_only=True) as con:
        found = money_column_compressions(con)
    # the marts' and staging's amounts are among them (else the query above found nothing to check)
    tables = {table for _, table, _ in found}
    assert {"stg_payments_checked", "int_invoice_settlement", "fct_customer_aging_history"} <= tables, tables
    bitpacked = sorted(".".join(key) for key, compressions in found.items() if "BitPacking" in compressions)
    assert not bitpacked, f"{len(bitpacked)} money columns stored bit-packed, among them {bitpacked[:5]}"
    assert query(demo_build.db, "select count(*) from marts.fct_customer_aging_history")[0][0] > 0
