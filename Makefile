# Kindred: `make run` for a demo portal, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT
# The address links carry (emails, the referral link, the API). honcho hands each process
# a port of its own (the worker's is PORT+100), so the worker is told the web server's.
SITE_URL ?= http://127.0.0.1:$(PORT)
# The demo shop that embeds the widget (partners/demo_shop.py), on the next port.
SHOP_PORT := $(shell echo $$(($(PORT) + 1)))

# Compiled catalogues are build output (.gitignore'd): built from the committed .po files.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))

.PHONY: install gettext messages makemessages browser run prod-check test test-fast lint format migrations check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed messages

# msgfmt (GNU gettext) compiles the translation catalogues.
gettext:
	@command -v msgfmt >/dev/null || apt-get install -y -q gettext >/dev/null \
		|| (apt-get update -q && apt-get install -y -q gettext >/dev/null)

messages: $(MO_FILES)

$(MO_FILES): locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po | $(VENV)/.installed gettext
	DEBUG=1 $(BIN)/python manage.py compilemessages --locale $* --ignore .venv --ignore var

# Browser tests drive Playwright's own Chromium, downloaded here when it can be (no root),
# else the system's; with neither, this says what to install and fails
# (tests/browser/browsers.py). CHROMIUM=/path/to/chrome chooses one.
browser: install
	@$(BIN)/python -m tests.browser.browsers --install

run: install
	$(BIN)/python -m config.devenv --port $(PORT)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo
	@echo "Kindred is starting on http://127.0.0.1:$(PORT)/ (Ctrl-C stops the web server, the worker and the demo shop)"
	@echo "The demo shop with the widget: http://127.0.0.1:$(SHOP_PORT)/"
	@echo
	DEBUG=1 SITE_URL="$(SITE_URL)" SHOP_PORT=$(SHOP_PORT) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start

# The Procfile with production settings on PostgreSQL and Redis: started, checked ready
# (/health/, workers, beat), stopped (config/prod_check.py). The database is created if missing.
PROD_CHECK_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/kindred_prod_check
PROD_CHECK_REDIS_URL ?= redis://127.0.0.1:6379/15
prod-check: install
	$(BIN)/python -m config.prod_check \
		--database-url "$(PROD_CHECK_DATABASE_URL)" --redis-url "$(PROD_CHECK_REDIS_URL)"

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

# After marking strings: update the catalogues, translate every new entry (docs/translations.md).
makemessages: install
	DEBUG=1 $(BIN)/python manage.py makemessages -l de -l fr --no-obsolete \
		--ignore=.venv --ignore=var --ignore=bench --ignore=tests

clean:
	rm -rf $(VENV) var $(MO_FILES)
