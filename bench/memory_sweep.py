#!/usr/bin/env python3
"""Write a compiled model at a range of DuckDB memory limits: which limits fail with out of memory.

DuckDB spills to disk, but a query can still stop with "Out of Memory Error: could not allocate block" at some
memory limits and pass at lower and higher ones (docs/decisions.md, "A wide aggregate is sorted before it is
written"). This tool runs `create table ... as <compiled model>` into a scratch database file, the warehouse
attached read-only, once per limit, each in a fresh process (a failed query leaves nothing behind), and prints
for each limit whether it passed, its time and its peak RSS. `--tail` replaces the model's last
`select * from final` (e.g. to try the model without its sort). Used for the figures of bench/analysis.md
"Stop 41":

    python bench/memory_sweep.py --db WAREHOUSE.duckdb \\
        --sql TARGET/compiled/arrears/models/marts/overdue/fct_customer_aging_history.sql \\
        --limits-mb 150:700:25 [--tail 'select * from final']
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def write_once(db: str, sql: str, memory_limit: str, threads: int, scratch: Path) -> dict:
    """In this process: CTAS `sql` into a new file under `scratch` reading `db` read-only (as its catalog name)."""
    import duckdb
    import psutil

    out = scratch / "sweep.duckdb"
    for stale in (out, out.with_name(out.name + ".wal")):
        stale.unlink(missing_ok=True)
    catalog = Path(db).stem
    con = duckdb.connect(str(out), config={"threads": threads, "memory_limit": memory_limit,
                                           "preserve_insertion_order": False,
                                           "temp_directory": str(scratch / "spill")})
    con.execute(f"attach '{db}' as \"{catalog}\" (read_only)")
    peak, running = [0], [True]

    def sample() -> None:
        process = psutil.Process()
        while running[0]:
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    try:
        con.execute("create table swept as " + sql)
        result = {"passed": True}
    except duckdb.Error as error:
        result = {"passed": False, "error": str(error).splitlines()[0][:160]}
    finally:
        running[0] = False
        sampler.join()
    return result | {"seconds": round(time.perf_counter() - started, 2), "peak_rss_gib": round(peak[0] / 2**30, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the warehouse file (read-only)")
    parser.add_argument("--sql", required=True, type=Path, help="a compiled model (dbt's target/compiled)")
    parser.add_argument("--limits-mb", required=True, help="FIRST:LAST:STEP in MB, or a comma-separated list")
    parser.add_argument("--tail", help="replaces the model's last `select * from final` and what follows it")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scratch", help="folder for the scratch database and its spill (default: the system's)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one limit in this process
    args = parser.parse_args(argv)
    sql = args.sql.read_text()
    if args.tail:
        cut = sql.rfind("select * from final")
        if cut < 0:
            parser.error("--tail: the model has no `select * from final`")
        sql = sql[:cut] + args.tail
    if args.one:
        with tempfile.TemporaryDirectory(dir=args.scratch) as scratch:
            print(json.dumps(write_once(args.db, sql, args.one, args.threads, Path(scratch))))
        return 0
    if ":" in args.limits_mb:
        first, last, step = (int(v) for v in args.limits_mb.split(":"))
        limits = list(range(first, last + 1, step))
    else:
        limits = [int(v) for v in args.limits_mb.split(",")]
    for limit in limits:
        one = [sys.executable, __file__, "--db", args.db, "--sql", str(args.sql), "--limits-mb", "0",
               "--threads", str(args.threads), "--one", f"{limit}MB"] + (["--tail", args.tail] if args.tail else []) \
            + (["--scratch", args.scratch] if args.scratch else [])
        done = subprocess.run(one, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{limit} MB: the run failed\n{done.stderr[-2000:]}", file=sys.stderr)
            return 1
        r = json.loads(done.stdout.strip().splitlines()[-1])
        state = "passed" if r["passed"] else f"FAILED ({r['error']})"
        print(f"{limit:>6} MB  {state:<10}  {r['seconds']:>7.2f} s  peak RSS {r['peak_rss_gib']:.2f} GiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
