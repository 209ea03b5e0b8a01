"""Connections to the server engines the dbt project also runs on (profiles.yml targets `postgres` and
`spark`), configured from the same environment variables, for arrears.engines.load and
arrears.engines.compare. Needs .venv-engines (psycopg2, pyspark); nothing here is imported by .venv code.

Spark runs in this process (local pyspark) with the warehouse folder and the embedded Derby metastore of the
`spark` target under ARREARS_SPARK_DIR, so tables written here are the ones dbt reads and builds. Embedded
Derby admits one process at a time: never run this while dbt (or another Spark process) uses the same folder.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..paths import ROOT


def pg_settings() -> dict[str, Any]:
    """psycopg2 connection keywords of the `postgres` target (defaults: scripts/ci/setup_engines.sh's cluster)."""
    return {
        "host": os.environ.get("ARREARS_PG_HOST", "127.0.0.1"),
        "port": int(os.environ.get("ARREARS_PG_PORT", "54329")),
        "user": os.environ.get("ARREARS_PG_USER", "arrears"),
        "password": os.environ.get("ARREARS_PG_PASSWORD", "arrears"),
        "dbname": os.environ.get("ARREARS_PG_DATABASE", "arrears"),
        "connect_timeout": 10,
    }


def pg_connect():
    import psycopg2

    return psycopg2.connect(**pg_settings())


def spark_dir() -> Path:
    """ARREARS_SPARK_DIR (absolute), else <ARREARS_HOME or project root>/target/spark, as in profiles.yml."""
    value = os.environ.get("ARREARS_SPARK_DIR")
    if value:
        return Path(value).resolve()
    return Path(os.environ.get("ARREARS_HOME", str(ROOT))).resolve() / "target" / "spark"


# C1 JIT only and serial GC suit short runs on few cores. C1-only JVMs reserve just 48 MB for compiled code by
# default, and a whole `dbt build` filled it (CI, 2026-12-04: "CodeCache is full. Compiler has been disabled"):
# the cache is set to the tiered default, 240 MB.
SPARK_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m -XX:+UseSerialGC"


def spark_conf() -> dict[str, str]:
    """The Spark settings of the `spark` target's server_side_parameters (keep the two in step)."""
    folder = spark_dir()
    return {
        "spark.master": os.environ.get("ARREARS_SPARK_MASTER", "local[2]"),
        "spark.driver.memory": os.environ.get("ARREARS_SPARK_DRIVER_MEMORY", "2g"),
        "spark.sql.warehouse.dir": f"{folder}/warehouse",
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={folder}/metastore_db;create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={folder} "
                                         + os.environ.get("ARREARS_SPARK_JAVA_OPTIONS", SPARK_JAVA_OPTIONS),
        "spark.sql.shuffle.partitions": os.environ.get("ARREARS_SPARK_SHUFFLE_PARTITIONS", "4"),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "false",  # as dbt-spark sets it for every connection
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }


def spark_session():
    """A SparkSession (Hive support) on the `spark` target's warehouse and metastore."""
    from pyspark.sql import SparkSession

    spark_dir().mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_conf().items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
