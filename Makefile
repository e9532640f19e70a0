# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CRMMODELS_DATA_DIR ?= $(abspath ../shared/datasets)
export CRMMODELS_DATA_DIR

.PHONY: demo test test-fast test-oldest lint typecheck pytest docs bench clean

# constraints.txt pins the versions the suite was last run with (tools included), so a
# fresh machine gets the same lint, type-check and test results.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -c constraints.txt -e ".[dev,plot,report,spark,reference]"
	touch $(STAMP)

# The main job on the bundled CDNOW data: scores and an HTML report in report/.
demo: $(STAMP)
	$(BIN)/crmmodels analyze --out report

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest

test: lint typecheck pytest

# The edit-test loop: lint, types and the suite without the slow, notebook and Spark tests.
test-fast: lint typecheck
	$(BIN)/python -m pytest -m "not slow and not notebook and not spark"

# The declared lower bounds (constraints-oldest.txt: pandas 2.2, numpy 1.26, scikit-learn
# 1.5, ...) in their own venv, running the fast part of the suite. CI runs it after `test`.
OLDEST := .venv-oldest
$(OLDEST)/.installed: pyproject.toml constraints-oldest.txt
	test -x $(OLDEST)/bin/python || $(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --upgrade pip
	$(OLDEST)/bin/python -m pip install -c constraints-oldest.txt -e ".[test,plot,report,reference]"
	touch $(OLDEST)/.installed

test-oldest: $(OLDEST)/.installed
	$(OLDEST)/bin/python -m pytest -m "not slow and not notebook and not spark"

docs: $(STAMP)
	$(BIN)/mkdocs build --strict

# Every benchmark, each in its own process; writes benchmarks/RESULTS.md (tens of minutes).
# BENCH_ARGS=--quick for a smoke run at small sizes.
bench: $(STAMP)
	$(BIN)/python -m pip install -c constraints.txt -e ".[bench,reference]"
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(OLDEST) site .mypy_cache .ruff_cache .pytest_cache
