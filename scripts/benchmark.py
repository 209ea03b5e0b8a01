#!/usr/bin/env python3
"""Scale benchmark of the warehouse: prints a table and writes JSON (and an SVG chart).

For each scale: data generation, the scan bound (one DuckDB query reading every raw file once), the plain
pandas script (bench/pandas_aging.py), the full `dbt build` (models and tests), a daily incremental run,
mart validation and export; peak memory of the build and database size. Cheap timings are repeated
(--repeats) and the median reported. Targets are judged from the printed figures (docs/benchmarks.md).
"""
import argparse
import json
import os
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from arrears.benchmark import bench_scale, chart_svg, markdown, scale_from_json, table, to_json  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", default="10000,100000,1000000",
                        help="comma-separated scales (default %(default)s)")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("bench/results.json"))
    parser.add_argument("--chart", type=pathlib.Path, default=pathlib.Path("docs/benchmark_scale.svg"))
    parser.add_argument("--markdown", type=pathlib.Path, default=None, help="also write docs/benchmarks.md here")
    parser.add_argument("--work-dir", type=pathlib.Path, default=None, help="data and databases (default: temp)")
    parser.add_argument("--format", choices=["csv", "parquet"], default="parquet", help="raw file format")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=3, help="repeats of cheap timings (median reported)")
    parser.add_argument("--repeat-max-customers", type=int, default=100_000,
                        help="repeat timings only up to this scale (default %(default)s)")
    parser.add_argument("--pandas-max-customers", type=int, default=100_000,
                        help="run the pandas anchor only up to this scale (default %(default)s)")
    parser.add_argument("--memory-limit", default="5GB", help="DuckDB memory_limit for the build")
    parser.add_argument("--threads", type=int, default=0,
                        help="dbt threads (models built side by side); 0 = auto: 2, or 1 above 20 M rows")
    parser.add_argument("--skip", default="", help="steps not to measure: incremental, validate_marts, export")
    parser.add_argument("--append", action="store_true",
                        help="keep the scales already in --out (a scale measured again replaces its entry)")
    parser.add_argument("--render-only", action="store_true",
                        help="measure nothing: write --chart and --markdown again from the results in --out "
                             "(after editing bench/analysis.md)")
    args = parser.parse_args()

    if args.render_only:
        payload = json.loads(args.out.read_text())
        chart_svg([scale_from_json(s) for s in payload["scales"]], args.chart)
        markdown_path = args.markdown or pathlib.Path("docs/benchmarks.md")
        chart_ref = os.path.relpath(args.chart.resolve(), markdown_path.resolve().parent)
        markdown_path.write_text(markdown(payload, chart_ref), encoding="utf-8")
        print(f"wrote {markdown_path} and {args.chart} from {args.out}")
        return 0

    scales = [int(s) for s in args.customers.split(",") if s.strip()]
    work = args.work_dir or pathlib.Path(tempfile.mkdtemp(prefix="arrears_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    settings = {k: (str(v) if isinstance(v, pathlib.Path) else v) for k, v in vars(args).items()}
    results = []
    if args.append and args.out.exists():
        results = [scale_from_json(s) for s in json.loads(args.out.read_text())["scales"] if s["customers"] not in scales]
    skip = frozenset(x.strip() for x in args.skip.split(",") if x.strip())
    for n in scales:
        results.append(bench_scale(n, work, seed=args.seed, file_format=args.format, repeats=args.repeats,
                                   repeat_max=args.repeat_max_customers, pandas_max=args.pandas_max_customers,
                                   memory_limit=args.memory_limit, threads=args.threads,
                                   log=lambda m: print(m, flush=True), skip=skip))
        results.sort(key=lambda r: r.customers)
        payload = to_json(results, settings)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print()
    print(table(results))
    print(json.dumps(payload["growth"]))
    chart_svg(results, args.chart)
    if args.markdown:
        chart_ref = os.path.relpath(args.chart.resolve(), args.markdown.resolve().parent)
        args.markdown.write_text(markdown(payload, chart_ref), encoding="utf-8")
    print(f"\nresults: {args.out}\nchart: {args.chart}\nwork folder: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
