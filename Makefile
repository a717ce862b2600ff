# Every target runs inside .venv, built from requirements.lock (exact pins) on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080
TOKEN ?= dev-token
BASE_URL ?=
QUESTIONNAIRE_ID ?=
FAILING_QUESTIONNAIRE_ID ?=
CONFORMANCE_ARGS ?=
PYTEST_ARGS ?=
SERVE_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv gen check-gen template-diff lint test test-vendored test-slow serve conformance bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-12s %s\n", $$1, $$2}'

# Two distributions from the repo's own files: the client alone (generated_client/) and the tool with its extras.
$(STAMP): requirements.lock pyproject.toml generated_client/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		-e ./generated_client -e '.[server,conformance]'
	touch $(STAMP)

venv: $(STAMP) ## Create .venv from the pins

gen: $(STAMP) ## Regenerate generated_client/ from openapi.yaml and the templates
	PATH="$(abspath $(BIN)):$$PATH" ./generate.sh

check-gen: $(STAMP) ## Fail when generated_client/ differs from what `make gen` produces, or templates.diff is stale
	PATH="$(abspath $(BIN)):$$PATH" ./generate.sh --check
	$(BIN)/python generator/template_diff.py --check

template-diff: $(STAMP) ## Refresh generator/templates.diff (upstream templates -> our overrides) after a template edit
	$(BIN)/python generator/template_diff.py

lint: $(STAMP) ## ruff and mypy --strict on the whole tree (generated files: correctness rules only)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(STAMP) check-gen lint ## Everything CI runs: pipeline check, lint, tests (slow ones excluded)
	$(BIN)/pytest -n 2 -m "not slow" $(PYTEST_ARGS)

test-vendored: $(STAMP) ## The vendored client alone (only httpx, attrs) on every CPython >= 3.11 found
	$(BIN)/python tests/client/vendored/run_matrix.py

test-slow: $(STAMP) ## Long fuzz and soak runs
	$(BIN)/pytest -m slow $(PYTEST_ARGS)

serve: $(STAMP) ## Run the reference server on 127.0.0.1:$(PORT) with token $(TOKEN) (more options: SERVE_ARGS=…)
	$(BIN)/python -m reference_server --host 127.0.0.1 --port $(PORT) --token $(TOKEN) $(SERVE_ARGS)

conformance: $(STAMP) ## Run the conformance suite (embedded server, or BASE_URL=… QUESTIONNAIRE_ID=…)
	$(BIN)/python -m conformance run \
		$(if $(BASE_URL),--base-url $(BASE_URL)) \
		$(if $(QUESTIONNAIRE_ID),--questionnaire-id $(QUESTIONNAIRE_ID)) \
		$(if $(FAILING_QUESTIONNAIRE_ID),--failing-questionnaire-id $(FAILING_QUESTIONNAIRE_ID)) \
		$(CONFORMANCE_ARGS)

bench: $(STAMP) ## Benchmarks: ratios against baselines measured in the same run
	$(BIN)/python -m bench
