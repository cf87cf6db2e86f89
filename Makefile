# guild — the two commands: `make run` (service on SQLite with demo data) and `make test` (whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test check check-install install check-system migrate demo scheduler bench bench-reads bench-renders bench-contracts bench-imports bench-sweep migration clean

$(STAMP): pyproject.toml
	@$(PYTHON) scripts/check_system.py --python-only
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

check-system: install
	@$(BIN)/python scripts/check_system.py

run: check-system
	$(BIN)/guild db migrate
	$(BIN)/guild demo --if-empty
	$(BIN)/guild run --host $(HOST) --port $(PORT)

test: check-system
	bash scripts/test.sh

# Lint, format, types and import rules (layers, no cycles, pure rules): what CI runs before the tests.
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# Benchmarks print figures and ratios (never timed assertions in the suite); see README "Benchmarks".
# `make bench` runs them all and prints one table (benchmarks/table.py); each also runs on its own.
bench: install
	$(BIN)/python benchmarks/table.py

bench-reads: install
	$(BIN)/python benchmarks/reads.py

bench-renders: install
	$(BIN)/python benchmarks/renders.py

bench-imports: install
	$(BIN)/python benchmarks/roster_import.py

bench-contracts: install
	$(BIN)/python benchmarks/contract_issuance.py

bench-sweep: install
	$(BIN)/python benchmarks/compliance_sweep.py --productions 10000

# A regular (non-editable) install in a fresh venv renders and verifies a contract PDF.
check-install:
	bash scripts/check_install.sh

migrate: install
	$(BIN)/guild db migrate

demo: install
	$(BIN)/guild demo

# New auto-migration, generated against PostgreSQL (SQLite cannot auto-migrate): make migration DESC="..."
migration: install
	PICCOLO_CONF=guild.piccolo_conf GUILD_DATABASE_URL=$${GUILD_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/guild_migrations} \
		$(BIN)/piccolo migrations new guild --auto --desc="$(DESC)"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
