"""The overdue report: one self-contained HTML file managers open in any browser, offline.

Sections (from the marts, opened read-only):
1. headline figures of the as-of date (`mart_portfolio_monthly`, `mart_watchlist`);
2. overdue amount by aging bucket (`fct_customer_aging`, buckets and labels from `reference.aging_buckets`);
3. customers and amount at stake by overdue type, watch list beside them (`mart_collection_strategy`);
4. roll-rate heatmap of the latest month: share of customers moving from each aging bucket at the previous
   month end to each bucket at this month end (`fct_roll_rates`, `count_rate`; rows sum to 100 %);
5. overdue trend over months: past-due amount per month end stacked by aging bucket, and the overdue rate
   (amount more than the overdue threshold past due / outstanding) as a line (`mart_portfolio_monthly`);
6. top-priority overdue customers and the watch list (top rows of each, by priority rank).

Self-contained: charts are inline SVG drawn by matplotlib (text kept as text, so the browser renders
Chinese labels with a system font), CSS is inline, there are no scripts, fonts, images or links to fetch,
and a Content-Security-Policy of `default-src 'none'` makes the browser refuse any fetch the file might
still try. The file is written to a temporary name and renamed.

Exit codes (`arrears-report`): 0 done; 1 unexpected error; 2 bad arguments or the database is missing
or cannot be opened; 4 the marts are missing (the pipeline has not run); 5 the marts hold no data;
6 the output file cannot be written.
"""
from .charts import CHART_COLORS, WORKS_CHART_COLORS
from .data import ReportData, ReportError, read_report_data
from .page import main, render_html, write_report

__all__ = ["CHART_COLORS", "WORKS_CHART_COLORS", "ReportData", "ReportError", "main", "read_report_data", "render_html", "write_report"]
