# Frontdesk. `make run`: set up and serve the demo clinic with its worker. `make test`: every check.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/frontdesk
PYTEST_WORKERS ?= 2

.PHONY: run install install-dev pdf-libs browser test lint typecheck test-sqlite test-postgres test-browser bench clean

$(BIN)/activate:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Frontdesk needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# --no-compile: pip would compile every module of every package (about 20 s of a 40 s install);
# Python compiles the modules actually imported, once, on first import.
$(VENV)/.installed: $(BIN)/activate requirements.txt pyproject.toml
	$(BIN)/pip install --quiet --no-compile -r requirements.txt
	$(BIN)/pip install --quiet --no-compile --no-deps -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet --no-compile -r requirements-dev.txt
	touch $@

install: pdf-libs $(VENV)/.installed
install-dev: pdf-libs $(VENV)/.dev-installed

# Debian's pango and its fonts for WeasyPrint (lib/pdf.py), installed only when missing.
pdf-libs:
	@if ! /sbin/ldconfig -p | grep -q 'libpangoft2-1.0.so.0'; then \
		echo "Installing Debian's pango for PDF letters"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; \
	fi

# Debian's Chromium for the browser tests (never a browser download).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

run: install
	$(BIN)/frontdesk migrate --noinput -v 0
	$(BIN)/frontdesk collectstatic --noinput -v 0
	$(BIN)/frontdesk demo
	$(BIN)/frontdesk flow-demo --base-url http://$(HOST):$(PORT)
	@# Demo mode: patients' messages go to /demo/outbox/, never the network. The server and the
	@# background worker run side by side; one Ctrl-C stops both (src/frontdesk/serve.py).
	@# The demo clinic's eligibility checks go to the PAYER SIMULATOR (never a payer), started
	@# beside them; FRONTDESK_PAYER_SIMULATOR=0 leaves it off (every check then waits to verify).
	FRONTDESK_DEMO=true FRONTDESK_PAYER_SIMULATOR="$${FRONTDESK_PAYER_SIMULATOR:-1}" PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}" \
		$(BIN)/python -m frontdesk.serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: install-dev
	$(BIN)/mypy src

test-sqlite: install-dev
	DATABASE_URL= $(BIN)/pytest -q -m "not browser" -n $(PYTEST_WORKERS)

test-postgres: install-dev
	@if $(BIN)/python scripts/pg_ready.py "$(PG_TEST_URL)"; then \
		DATABASE_URL="$(PG_TEST_URL)" $(BIN)/pytest -q -m "not browser" -n $(PYTEST_WORKERS); \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL at $(PG_TEST_URL) is unreachable: CI needs it, failing."; exit 1; \
	else \
		echo "WARNING: PostgreSQL at $(PG_TEST_URL) is unreachable; the PostgreSQL run was NOT done."; \
	fi

test-browser: install-dev browser
	DATABASE_URL= $(BIN)/pytest -q -m browser -p no:xdist

# On two cores the browser run keeps about one busy. The SQLite run and the type check go beside
# it at the lowest priority (nice 19), so the browser tests keep their timing and the other core
# does the rest: about 100 s less than one after the other. Their output follows the browser
# run's; any of the three failing fails make test.
test: lint browser
	@out=$$(mktemp -d); \
	nice -n 19 $(MAKE) --no-print-directory typecheck > $$out/typecheck 2>&1 & check=$$!; \
	nice -n 19 $(MAKE) --no-print-directory test-sqlite > $$out/sqlite 2>&1 & sqlite=$$!; \
	$(MAKE) --no-print-directory test-browser; browser=$$?; \
	wait $$sqlite; tested=$$?; wait $$check; checked=$$?; \
	cat $$out/sqlite $$out/typecheck; rm -rf $$out; \
	[ $$browser -eq 0 ] && [ $$tested -eq 0 ] && [ $$checked -eq 0 ]
	@$(MAKE) --no-print-directory test-postgres

clean:
	rm -rf $(VENV) var/static
