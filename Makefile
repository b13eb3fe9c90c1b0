# regbot — two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: venv run serve chat migrate test test-fast lint format bench soak clean

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

# The environment follows uv.lock exactly (re-synced whenever the lock or pyproject changes).
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	"$$(command -v uv || echo $(UV))" sync --frozen
	touch $@

venv: $(VENV)/.synced

run: venv  ## migrate, then serve on the SQLite default
	$(BIN)/regbot migrate
	$(BIN)/regbot serve

serve: run

chat: venv  ## register in this terminal (same database as `make run`)
	$(BIN)/regbot chat

migrate: venv
	$(BIN)/regbot migrate

test: venv  ## everything; tests start PostgreSQL, Dovecot and Chromium themselves
	$(BIN)/pytest

test-fast: venv
	$(BIN)/pytest -m "not postgres and not browser and not dovecot and not slow"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict conversations storage bot mail
	$(BIN)/mypy tests bench

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv
	$(BIN)/python -m bench

soak: venv
	$(BIN)/python -m bench --soak

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis test-artifacts
