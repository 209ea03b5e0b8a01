"""Superset configuration for the arrears warehouse (read by Superset through SUPERSET_CONFIG_PATH).

scripts/bi.py (arrears.bi) points SUPERSET_CONFIG_PATH here and SUPERSET_HOME at a folder under target/, where
the metadata database (SQLite) and the secret key live; nothing of a running Superset is committed.

The warehouse file is replaced atomically (os.replace) whenever the pipeline publishes a build, so nothing may
outlive a query: Superset opens analytics databases with SQLAlchemy's NullPool (a new DuckDB connection per
query, hence the new file after a publish), and no chart data or metadata is cached here.
"""
import os
from pathlib import Path

_HOME = Path(os.environ["SUPERSET_HOME"])

SECRET_KEY = (_HOME / "secret_key").read_text(encoding="utf-8").strip()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME / 'superset.db'}?check_same_thread=false"

# No cache between the published file and the page: a chart shows what the file holds when it is drawn.
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
# (filter and explore state are the user's own choices, not data: Superset needs a store for them)

BABEL_DEFAULT_LOCALE = "en"

# Draw every chart when the dashboard opens, not only those scrolled into view (a small dashboard; and a
# screenshot of the whole page shows every chart)
FEATURE_FLAGS = {"DASHBOARD_VIRTUALIZATION": False}
