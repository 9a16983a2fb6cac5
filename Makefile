# One Makefile; the venv is stamped on the lock file and rebuilt only when it changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench openapi screenshots catalogues clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m cwledger.demo

lint: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_tlog.py

# The API's OpenAPI document, committed (a test holds it equal to the app).
openapi: $(STAMP)
	$(BIN)/python -m cwledger.api.openapi docs/openapi.json

# Every dashboard page at 1280 and 390 px, in docs/screenshots/ (needs Debian's chromium).
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py docs/screenshots

# The message catalogues: extract the messages of the code and templates and bring every
# language's catalogue up to date (a new message lands untranslated in all of them).
catalogues: $(STAMP)
	$(BIN)/python scripts/catalogues.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
