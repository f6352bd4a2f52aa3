# MESHE: `make run` serves the portal with demo data, `make test` runs the whole suite.

VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
# The newest Python that is at least 3.12 (Django 6 needs it).
PYTHON := $(shell for py in python3.14 python3.13 python3.12 python3 python; do \
	$$py -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { command -v $$py; break; }; \
	done)

# The independent vc-js verifier from ../shared, installed in a writable copy.
INTEROP_SRC := ../shared/interop
INTEROP := var/interop
# A wallet no one here wrote (OID4VCI + SD-JWT VC npm packages), for the wallet issuance tests.
WALLET_SRC := tests/wallet/node
WALLET := var/wallet-node

.PHONY: install run test lint lock clean interop wallet esco-index bench

install: $(VENV)/.installed esco-index

$(VENV)/.installed: pyproject.toml requirements.lock
	@if [ -z "$(PYTHON)" ]; then \
		echo "MESHE needs Python 3.12 or newer, and none was found (tried python3.14 … python)." >&2; \
		echo "Install one, or with pyenv keep the .python-version file in this folder." >&2; \
		exit 1; \
	fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $@

# The ESCO skills index for the type-ahead; the script skips work when it is up to date.
esco-index: $(VENV)/.installed
	$(BIN)/python bin/build-esco-index

# Development server, Celery worker (with beat) and demo data. Ctrl-C stops them all.
run: export DEBUG := $(or $(DEBUG),true)
run: install
	$(MANAGE) migrate --no-input
	$(MANAGE) seed_demo
	@trap 'kill $$(jobs -p) 2>/dev/null; wait' INT TERM EXIT; \
	$(BIN)/celery -A meshe worker --beat --loglevel=INFO --concurrency=2 \
		--schedule=var/celerybeat-schedule & \
	$(MANAGE) runserver 127.0.0.1:8000

test: install
	@if command -v npm >/dev/null 2>&1 && [ -d $(INTEROP_SRC) ]; then $(MAKE) --no-print-directory interop; \
	else echo "No npm or no $(INTEROP_SRC): the vc-js interop tests will be skipped."; fi
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory wallet; \
	else echo "No npm: the wallet issuance tests will be skipped."; fi
	@if [ -d $(INTEROP)/node_modules ]; then export MESHE_INTEROP_DIR="$(CURDIR)/$(INTEROP)"; fi; \
	if [ -d $(WALLET)/node_modules ]; then export MESHE_WALLET_DIR="$(CURDIR)/$(WALLET)"; fi; \
	$(BIN)/pytest

interop: $(INTEROP)/node_modules/.package-lock.json

wallet: $(WALLET)/node_modules/.package-lock.json

$(WALLET)/node_modules/.package-lock.json: $(WALLET_SRC)/package-lock.json $(wildcard $(WALLET_SRC)/*.mjs)
	rm -rf $(WALLET)
	mkdir -p $(dir $(WALLET))
	cp -r $(WALLET_SRC) $(WALLET)
	cd $(WALLET) && npm ci --no-audit --no-fund --loglevel=error

# Every benchmark in bench/ as one table (figures, same-run references, ratios, goals); never
# part of `make test`. BENCH_ARGS=--quick for a smoke run. With DATABASE_URL and REDIS_URL set
# (e.g. postgres://postgres@127.0.0.1:5432/meshe_bench and redis://127.0.0.1:6379/12; the bench
# drops and re-creates that database), bulk issuing also runs on them, and the load and page
# benches use them instead of SQLite.
bench: install interop
	MESHE_INTEROP_DIR="$(CURDIR)/$(INTEROP)" $(BIN)/python -m bench.run $(BENCH_ARGS)

$(INTEROP)/node_modules/.package-lock.json: $(INTEROP_SRC)/package-lock.json
	rm -rf $(INTEROP)
	mkdir -p $(dir $(INTEROP))
	cp -r $(INTEROP_SRC) $(INTEROP)
	chmod -R u+w $(INTEROP)
	cd $(INTEROP) && npm ci --no-audit --no-fund --loglevel=error

lint: export DEBUG := $(or $(DEBUG),true)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# Re-pin every dependency after changing pyproject.toml.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e ".[dev]"
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) var/test
