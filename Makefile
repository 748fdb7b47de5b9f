# Lien: `make run` serves the app with demo data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app scheduler_app
# axe-core, which the browser tests inject into every page they visit (pinned in its package-lock.json).
AXE := tests/browser/node_modules/axe-core/axe.min.js
export LIEN_DEMO ?= 1

.PHONY: install run test translations messages serve clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

# Compile the French and English catalogues (.po -> .mo); done at every install.
translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d translations -D messages

# For developers: collect new strings into the catalogues (then translate them in the .po files).
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -D messages --no-fuzzy-matching

run: export FLASK_DEBUG = 1
run: install
	$(FLASK) db upgrade
	$(FLASK) demo
	$(BIN)/flask --app "scheduler_app:create_dev_app()" run --debug --host 127.0.0.1 --port 5000

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $(AXE)

test: install $(AXE)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) instance .pytest_cache tests/browser/node_modules
