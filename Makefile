# The README's two commands: `make run` and `make test`. Each sets up what it needs first.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes (pytest-xdist): one per core by default.
PYTEST_WORKERS ?= auto

.PHONY: setup run bench test lint chromium release serve-production web worker beat loadtest

# uv from PyPI: into the user's Python when pip may, else past Debian's "externally managed" guard.
setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
	  python3 -m pip install --quiet uv 2>/dev/null || \
	  python3 -m pip install --quiet --user --break-system-packages uv
	@$(UV) sync --frozen --quiet

# One line per stage, so the first run (about a minute of migrating and seeding) is never silent.
# HOST and PORT reach Django too: links in SMS and email follow them unless SITE_URL is set.
run: export HOST := $(HOST)
run: export PORT := $(PORT)
run:
	@echo "[1/4] Installing dependencies (uv sync)…"
	@$(MAKE) --no-print-directory setup
	@echo "[2/4] Migrating the database…"
	@$(UV) run python manage.py migrate --no-input -v0
	@echo "[3/4] Adding demo data (first run only; about a minute)…"
	@$(UV) run python manage.py seed_demo --if-empty >/dev/null
	@echo "[4/4] Starting the server and, beside it, the sweep that retries failed messages and polls stores…"
	@echo ""
	@echo "  Orderdesk is running at http://$(HOST):$(PORT)/"
	@echo "  Sign in as demo@orderdesk.local with password orderdesk-demo"
	@echo "  (Django admin at http://$(HOST):$(PORT)/admin/ as admin@orderdesk.local, same password)"
	@echo ""
	@# Without Celery, failed messages are retried by the sweep and connected stores are polled
	@# (each every STORE_POLL_MINUTES): once a minute, one loop in this shell (never inside
	@# runserver, whose reloader would start a second one).
	@trap 'kill $$sweeper 2>/dev/null' EXIT; \
	  ( while sleep 60; do $(UV) run python manage.py notifications sweep >/dev/null; \
	    $(UV) run python manage.py stores poll >/dev/null; done ) & sweeper=$$!; \
	  $(UV) run python manage.py runserver $(HOST):$(PORT)

# Speed at scale (README "Speed at scale"); SQLite unless DATABASE_URL names PostgreSQL.
BENCH_ORDERS ?= 10000
# DEBUG off as in production (the bench refuses DEBUG); a throwaway key and plain http on loopback.
bench: setup
	@$(UV) run python manage.py migrate --no-input -v0
	@DEBUG=$${DEBUG:-false} SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-false} \
	  SECRET_KEY=$${SECRET_KEY:-bench-only-key-never-used-for-anything-but-this-loopback-bench} \
	  CREDENTIALS_KEY=$${CREDENTIALS_KEY:-bench-only-credentials-key-for-the-loopback-store-double} \
	  $(UV) run python manage.py bench --orders $(BENCH_ORDERS) $(BENCH_ARGS)

# Production (README "Running in production"): settings from the environment or .env — at least
# DEBUG=false, SECRET_KEY, CREDENTIALS_KEY, ALLOWED_HOSTS, DATABASE_URL (PostgreSQL),
# CELERY_BROKER_URL and CACHE_URL (Redis). `release` migrates and collects the static files;
# `serve-production` runs it, then gunicorn, a Celery worker and beat from the Procfile until
# SIGTERM/Ctrl-C. On several machines run `make web` / `make worker` on each, `make beat` on one.
release: setup
	@$(UV) run python deploy/procfile.py release

serve-production: release
	@$(UV) run python deploy/procfile.py web worker beat

web worker beat: setup
	@$(UV) run python deploy/procfile.py $@

# The load test (README "Load test"): 2 gunicorn web processes and 2 Celery workers on PostgreSQL
# and Redis, locust on loopback, a worker killed and a web process restarted, then the checker.
LOADTEST_SECONDS ?= 120
LOADTEST_USERS ?= 12
LOADTEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/orderdesk_loadtest
LOADTEST_REDIS_URL ?= redis://127.0.0.1:6379/14
loadtest: setup
	@$(UV) run python -m loadtest.run --seconds $(LOADTEST_SECONDS) --users $(LOADTEST_USERS) \
	  --database-url $(LOADTEST_DATABASE_URL) --redis-url $(LOADTEST_REDIS_URL)

lint: setup
	@$(UV) run ruff check .
	@$(UV) run ruff format --check .

# Debian's Chromium for the browser tests (never a browser download of Playwright's own).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests…"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@command -v chromium >/dev/null 2>&1 || { echo "chromium is missing and could not be installed"; exit 1; }

test: setup chromium lint
	@$(UV) run python manage.py makemigrations --check --dry-run -v1
	@$(UV) run pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)
