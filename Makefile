# Kindred: `make run` for a demo portal, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT
# The address links carry (emails, the referral link, the API). honcho hands each process
# a port of its own (the worker's is PORT+100), so the worker is told the web server's.
SITE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: install browser run test test-fast lint format migrations check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Browser tests drive the system's Chromium (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null || apt-get install -y -q chromium >/dev/null \
		|| (apt-get update -q && apt-get install -y -q chromium >/dev/null)

run: install
	$(BIN)/python -m config.devenv --port $(PORT)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo
	@echo "Kindred is starting on http://127.0.0.1:$(PORT)/ (Ctrl-C stops the web server and the worker)"
	@echo
	DEBUG=1 SITE_URL="$(SITE_URL)" PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start

test: install browser
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: install
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations: install
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var
