"""Credit-risk modelling: cleaning, WoE binning and IV, feature selection, a points scorecard, gradient
boosting, evaluation metrics (AUC, KS, Gini, PSI, calibration), threshold choice and reports.

Entry point: ``scripts/train_risk_model.py`` (``arrears.risk.cli.main``). Modules:

- ``data``       column typing, missing values, label coercion
- ``binning``    WoE bins, information value, information gain
- ``selection``  IV threshold and correlation filter
- ``scorecard``  points scaling (base score, odds, PDO), logistic-regression scorecard, score bands
- ``gbm``        HistGradientBoostingClassifier wrapper
- ``metrics``    AUC, ROC, KS, Gini, confusion metrics, PSI, calibration, F1 threshold
- ``split``      random stratified and out-of-time splits
- ``model``      training sequence, model bundle, model file
- ``report``     JSON and self-contained HTML reports
- ``warehouse``  read the risk-feature mart, write score Parquet files
"""
