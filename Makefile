# Lien: `make run` serves the app with demo data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app scheduler_app
# axe-core, which the browser tests inject into every page they visit (pinned in its package-lock.json).
AXE := tests/browser/node_modules/axe-core/axe.min.js
export LIEN_DEMO ?= 1
PORT ?= 5000

.PHONY: install secret run test translations messages serve bench clean

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

# A random SECRET_KEY of this checkout's own, kept in .env: every `flask` command run here reads
# .env (Flask does, with python-dotenv), so the README's commands work after `make run` as typed.
secret:
	@grep -qs '^SECRET_KEY=' .env || { umask 077; echo "SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(48))')" >> .env; }

run: export PUBLIC_URL ?= http://127.0.0.1:$(PORT)
run: export CONSOLE_MESSAGES_DIR ?= instance/messages
run: install secret
	$(FLASK) db upgrade
	$(FLASK) demo
	$(BIN)/flask --app "scheduler_app:create_dev_app()" run --debug --host 127.0.0.1 --port $(PORT)

# Production on one machine: gunicorn with WEB_WORKERS web processes on BIND, and REMINDER_WORKERS
# outbox workers, after migrating DATABASE_URL. Needs SECRET_KEY; see docs/deploy.md.
WEB_WORKERS ?= 2
REMINDER_WORKERS ?= 1
BIND ?= 127.0.0.1:8000
GUNICORN := $(BIN)/gunicorn --workers $(WEB_WORKERS) --bind $(BIND)
serve: export LIEN_DEMO = 0
serve: install
	$(FLASK) db upgrade
	@workers=""; \
	for n in $$(seq 1 $(REMINDER_WORKERS)); do $(FLASK) worker & workers="$$workers $$!"; done; \
	trap 'kill $$workers 2>/dev/null' EXIT; \
	$(GUNICORN) "scheduler_app:create_app()"

# The benchmark (bench/pages.py, about 30 minutes; BENCH_ARGS=--quick: 5): wrk from Debian, PostgreSQL
# and Redis as for the tests. It writes docs/performance.md.
bench: install
	command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(BIN)/python bench/pages.py $(BENCH_ARGS)

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $(AXE)

test: install $(AXE)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) instance .pytest_cache tests/browser/node_modules
