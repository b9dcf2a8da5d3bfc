# kehu — run `make help` for the list of targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

export UV_PYTHON_DOWNLOADS := never
VENV := .venv
BIN := $(VENV)/bin
KEHU := $(BIN)/kehu
PYTEST_ARGS ?=

.PHONY: help
help: ## Show this list
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-16s %s\n", $$1, $$2}'

$(BIN)/kehu: pyproject.toml uv.lock
	@python="$$(scripts/find-python.sh)"; "$$python" -m uv --version >/dev/null 2>&1 || "$$python" -m pip install --quiet uv
	"$$(scripts/find-python.sh)" -m uv sync --frozen --python "$$(scripts/find-python.sh)"
	@touch $(BIN)/kehu

node_modules/echarts/dist/echarts.min.js: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: charts will not show (install Node.js and run make install)."; fi

.PHONY: install
install: $(BIN)/kehu node_modules/echarts/dist/echarts.min.js ## Create .venv with kehu and its development tools, and the chart library
	$(KEHU) migrate --no-input -v0

.PHONY: demo
demo: install ## Fill var/kehu.sqlite3 with demo data and serve kehu at http://127.0.0.1:8000
	$(KEHU) demo --if-empty
	KEHU_DEV=true $(KEHU) runserver 127.0.0.1:8000

.PHONY: serve
serve: install ## Serve kehu at http://127.0.0.1:8000 without touching the data
	KEHU_DEV=true $(KEHU) runserver 127.0.0.1:8000

.PHONY: lint
lint: $(BIN)/kehu ## ruff, mypy, import-linter, Django checks, bandit, migrations and OpenAPI up to date
	$(BIN)/ruff check kehu tests bench
	$(BIN)/ruff format --check kehu tests bench
	$(BIN)/mypy kehu
	$(BIN)/mypy --strict kehu/analytics
	$(BIN)/lint-imports
	$(KEHU) check --fail-level WARNING
	@# Medium and high findings fail; each accepted one says why in place (# nosec BXXX # reason).
	@# bandit also warns about the other parts of an f-string on a nosec line: hide that noise.
	set -o pipefail; $(BIN)/bandit -q -r kehu -x '*/tests/*' --severity-level medium 2>&1 \
		| { grep -v "nosec encountered" || true; }
	$(KEHU) makemigrations --check --dry-run
	$(KEHU) api_schema --check docs/openapi.json

.PHONY: test
test: lint test-sqlite test-postgres ## Lint, then the whole suite on SQLite and on a real PostgreSQL

.PHONY: test-sqlite
test-sqlite: $(BIN)/kehu node_modules/echarts/dist/echarts.min.js ## The suite on SQLite (with the browser tests)
	$(BIN)/pytest $(PYTEST_ARGS)

.PHONY: test-postgres
test-postgres: $(BIN)/kehu ## The suite on a PostgreSQL server started for the run
	scripts/with-postgres.sh $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

.PHONY: bench
bench: $(BIN)/kehu ## Benchmarks: import throughput, list and customer-page response times
	# The load benchmarks send thousands of API calls a minute with one token: no rate limit.
	KEHU_API_RATE_LIMIT=0 scripts/with-postgres.sh $(BIN)/python -m bench

.PHONY: messages
messages: $(BIN)/kehu ## Refresh and compile the zh-hans translations
	scripts/messages.sh

.PHONY: clean
clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) var
