# MESHE: `make run` serves the portal with demo data, `make test` runs the whole suite.

VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
# The newest Python that is at least 3.12 (Django 6 needs it).
PYTHON := $(shell for py in python3.14 python3.13 python3.12 python3 python; do \
	$$py -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { command -v $$py; break; }; \
	done)

# MESHE's vc-js harness (digitalbazaar's signer and verifier, for the interop tests and the
# bench), installed in var/interop.
INTEROP_SRC := tests/vcjs
INTEROP := var/interop
# A wallet no one here wrote (OID4VCI + SD-JWT VC npm packages), for the wallet issuance tests.
WALLET_SRC := tests/wallet/node
WALLET := var/wallet-node

.PHONY: install run exchange-demo test test-fast lint lock clean interop wallet esco-index bench soak

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
# `make run PORT=9000` serves on another port: every link and DID names that port, and the
# data lives in var/port-9000 (a signed credential names its node's address, so a database
# does not move between ports).
PORT ?= 8000
run: export DEBUG := $(or $(DEBUG),true)
run: export MESHE_BASE_URL := $(or $(MESHE_BASE_URL),http://127.0.0.1:$(PORT))
run: export MESHE_VAR_DIR := $(or $(MESHE_VAR_DIR),$(if $(filter 8000,$(PORT)),var,var/port-$(PORT)))
run: install
	$(MANAGE) migrate --no-input
	$(MANAGE) seed_demo
	@[ -n "$$SECRET_KEY" ] || echo "Development secrets (Django's and the key-encryption one) are kept in" \
		"$$MESHE_VAR_DIR/dev-secrets.json; production sets SECRET_KEY and MESHE_KEY_ENCRYPTION_SECRET."
	@trap 'kill $$(jobs -p) 2>/dev/null; wait' INT TERM EXIT; \
	$(BIN)/celery -A meshe worker --beat --loglevel=INFO --concurrency=2 \
		--schedule=$$MESHE_VAR_DIR/celerybeat-schedule & \
	$(MANAGE) runserver 127.0.0.1:$(PORT)

# Two nodes over HTTPS (a throw-away CA), node A hosting uni-a and node B uni-b, each with its
# own database, worker and beat: README "Try the exchange". Ctrl-C stops them all.
EXCHANGE_PORTS ?= 8443 8444
exchange-demo: install
	$(BIN)/python bin/exchange-demo --ports $(EXCHANGE_PORTS)

test: install
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory interop wallet; \
	else echo "No npm: the vc-js interop and Node wallet tests will be skipped (CI=true fails them)."; fi
	@if [ -d $(INTEROP)/node_modules ]; then export MESHE_INTEROP_DIR="$(CURDIR)/$(INTEROP)"; fi; \
	if [ -d $(WALLET)/node_modules ]; then export MESHE_WALLET_DIR="$(CURDIR)/$(WALLET)"; fi; \
	$(BIN)/pytest $(PYTEST_ARGS)

# The developer's lane: the whole suite but the tests marked slow (browser, two-node and fault
# tests, the dev servers, a real Celery worker; tests/conftest.py marks them), installed as
# `make test` installs.
test-fast: PYTEST_ARGS := -m "not slow"
test-fast: test

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

# The soak alone (also part of `make bench`): 10 minutes of mixed load, hostile traffic in the
# second half, on gunicorn and a Celery worker; DATABASE_URL and REDIS_URL as for `make bench`.
soak: install
	$(BIN)/python -m bench.run --only soak $(BENCH_ARGS)

$(INTEROP)/node_modules/.package-lock.json: $(INTEROP_SRC)/package-lock.json $(wildcard $(INTEROP_SRC)/*.mjs)
	rm -rf $(INTEROP)
	mkdir -p $(dir $(INTEROP))
	cp -r $(INTEROP_SRC) $(INTEROP)
	cd $(INTEROP) && npm ci --no-audit --no-fund --loglevel=error

lint: export DEBUG := $(or $(DEBUG),true)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

# Re-pin every dependency after changing pyproject.toml.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e ".[dev]"
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) var/test
