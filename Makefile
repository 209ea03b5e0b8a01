# Two commands a new user needs: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
PYTHON ?= python3
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
RAW_DIR ?= $(ROOT)/data/raw
OUT_DIR ?= $(ROOT)/out
ARREARS_DB ?= $(ROOT)/target/arrears.duckdb
DEMO_CUSTOMERS ?= 3000
# past month ends whose strategy lists a first run issues, so the report's "What works" has outcomes to show
# (the demo data is generated with --respond: arrears end by a known recovery hazard per type and test arm)
# (about 19 s each at 3,000 customers; later runs find them in the log and skip them)
REPLAY_MONTH_ENDS ?= 6
export DO_NOT_TRACK := 1
export ARREARS_HOME := $(ROOT)
export ARREARS_DB

.PHONY: metrics study run test test-fast lint lint-python lint-sql venv venv-airflow engines demo-data benchmark evaluate clean

venv: $(VENV)/.installed

# The environment is rebuilt whenever the lock file changes. Hashes are required: nothing unpinned installs.
$(VENV)/.installed: requirements/main.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/main.lock
	@rm -f $$($(PY) -c 'import site; print(site.getsitepackages()[0])')/arrears-project.pth
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e $(ROOT)
	@touch $@

demo-data: venv
	@if [ -z "$$(ls -A $(RAW_DIR) 2>/dev/null)" ]; then \
		echo "Input folder $(RAW_DIR) is empty: generating demo data ($(DEMO_CUSTOMERS) customers)"; \
		$(VENV)/bin/arrears-demo --customers $(DEMO_CUSTOMERS) --respond --out $(RAW_DIR); \
	else echo "Using the input files in $(RAW_DIR)"; fi

run: demo-data
	$(VENV)/bin/arrears-run --raw-dir $(RAW_DIR) --db $(ARREARS_DB) --out $(OUT_DIR) --replay-month-ends $(REPLAY_MONTH_ENDS)

# The credit-risk study (docs/risk.md, "The study") on the warehouse of `make run`, and on UCI Taiwan when the
# public datasets folder is there (DATASETS_DIR). STUDY_ARGS=--short: the quick version CI runs.
DATASETS_DIR ?= $(ROOT)/../shared/datasets
UCI_CSV := $(DATASETS_DIR)/uci_default_credit_card_taiwan/default_of_credit_card_clients.csv
study: venv
	$(VENV)/bin/arrears-risk-study --db $(ARREARS_DB) --out $(OUT_DIR)/study $(STUDY_ARGS) \
		$$(test -f $(UCI_CSV) && echo --csv $(UCI_CSV) --label default.payment.next.month --id ID \
		   --name "UCI-Taiwan" --increasing '^PAY_[0-9]$$' --exposure LIMIT_BAL)

# The semantic layer on the published file, read-only (docs/semantic_layer.md): make metrics [QUERY=saved query]
QUERY ?= portfolio_monthly
metrics: venv
	cd $(ROOT) && $(VENV)/bin/dbt parse --quiet
	cd $(ROOT) && ARREARS_TARGET=published $(VENV)/bin/mf query --saved-query $(QUERY)

# Airflow lives in its own environment (.venv-airflow); the DAG calls .venv for dbt.
# (its lock is compiled for Python 3.11; on another Python the Airflow tests skip, unless ARREARS_REQUIRE_AIRFLOW=1)
venv-airflow:
	@if $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then \
		bash orchestration/airflow/setup_venv.sh; \
	else echo "Not building .venv-airflow: requirements/airflow.lock is for Python 3.11"; fi

# Apache Superset lives in its own environment (.venv-bi, requirements/bi.lock, compiled for Python 3.11 like
# Airflow's); `make bi` serves the dashboards of bi/bundle on the published file (docs/bi.md).
# BI_ARGS: e.g. --port 8089, --no-serve, --export (the round trip after a change in the UI).
venv-bi:
	@if $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then \
		bash bi/setup_venv.sh; \
	else echo "Not building .venv-bi: requirements/bi.lock is for Python 3.11"; fi

bi: venv venv-bi
	$(PY) scripts/bi.py --db $(ARREARS_DB) $(BI_ARGS)

# PostgreSQL + Spark for the cross-engine check (installs Debian packages when run as root).
engines: venv
	@bash scripts/ci/setup_engines.sh

# The whole suite, linters first: what CI runs. Two pytest-xdist workers (one per core); a module's tests stay
# on one worker, longest modules first (scheduler in tests/pytest/conftest.py). PYTEST_WORKERS=0: one process.
PYTEST_WORKERS ?= 2
test: venv venv-airflow lint
	$(PY) -m pytest tests/pytest -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

# The quick loop while changing code (under 3 minutes): pure Python tests and the tests that read the one
# shared small demo build (its `dbt build` runs every dbt data test and unit test). See docs/testing.md.
test-fast: venv
	$(PY) -m pytest tests/pytest -m fast $(PYTEST_ARGS)

lint: lint-python lint-sql

lint-python: venv
	$(VENV)/bin/ruff check .

# sqlfluff's dbt templater compiles every model, and the macros read the seeds and the raw files while
# compiling: the seeds go into a throwaway database first (.sqlfluff points raw_dir at a fixture folder).
LINT_DB := $(ROOT)/target/lint/lint.duckdb
lint-sql: venv
	@mkdir -p $(ROOT)/target/lint
	cd $(ROOT) && ARREARS_DB=$(LINT_DB) $(VENV)/bin/dbt seed --quiet --target-path target/lint --log-path target/lint/logs
	cd $(ROOT) && ARREARS_DB=$(LINT_DB) $(VENV)/bin/sqlfluff lint models tests/dbt --processes 2

benchmark: venv
	$(VENV)/bin/arrears-benchmark --customers $${CUSTOMERS:-10000,100000,1000000} --out bench/results.json --markdown docs/benchmarks.md

evaluate: venv
	$(VENV)/bin/arrears-evaluate --customers 5000 --seed 2027

clean:
	rm -rf target out logs
