#!/usr/bin/env python3
"""Train and evaluate the credit-risk models (WoE scorecard + gradient boosting); see --help.

  train_risk_model.py --csv FILE --label COL --id COL --report out.json [--html out.html] [--model m.pkl]
  train_risk_model.py --db target/arrears.duckdb [--scores-out risk_scores.parquet] [--write-db]
"""
import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # noqa: E401,E702

from arrears.risk.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
