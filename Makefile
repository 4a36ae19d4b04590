# The documented commands. `make run` sets up and serves the demo; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/inspectorate_test_root
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run setup venv deps frontend migrate demo serve test test-sqlite test-postgres \
        lint typecheck lock chromium postgres bench bench-fieldwork bench-reports bench-portal \
        bench-followup bench-themes bench-themes-pages bench-themes-train bench-bertopic clean

run: setup demo serve

setup: deps frontend migrate

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	mkdir -p var

venv: $(VENV)/bin/python

# Installs exactly the locked, hash-checked versions; re-running is a no-op.
deps: venv
	@mkdir -p var
	$(PIP) install --quiet --require-hashes --no-deps -r requirements/lock.txt -r requirements/dev-lock.txt

frontend:
	@if [ ! -d node_modules/govuk-frontend ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
		npm ci --no-audit --no-fund --ignore-scripts; fi
	npm run --silent build

migrate:
	$(MANAGE) migrate --noinput
	$(MANAGE) load_reference
	$(MANAGE) load_methodologies

demo:
	$(MANAGE) generate_programme --scale demo
	$(MANAGE) themes_code

serve:
	$(MANAGE) collectstatic --noinput -v0
	@$(MANAGE) demo_sign_ins
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl+C to stop)"
	@# The background worker (imports of several reports, reminders) runs beside the site,
	@# in a session of its own. Ctrl+C, closing the terminal or stopping make stops both once
	@# each (the trap clears itself): the site at once, the worker after the job it is doing.
	DJANGO_DEBUG=false setsid $(MANAGE) db_worker --no-reload & worker=$$!; \
		DJANGO_DEBUG=false $(VENV)/bin/gunicorn inspectorate.wsgi_dev:application \
		--bind $(HOST):$(PORT) --workers 2 --threads 4 --timeout 60 --access-logfile - & \
		site=$$!; \
		stop='trap - EXIT INT TERM HUP; kill -TERM $$site $$worker 2>/dev/null; wait'; \
		trap "$$stop" EXIT INT TERM HUP; \
		wait $$site

chromium:
	@command -v chromium >/dev/null || { \
		echo "Installing Debian chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; }

postgres:
	@pg_isready -h 127.0.0.1 -p 5432 -q || { \
		echo "Starting PostgreSQL"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
		for i in $$(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done; }

# Every test, on SQLite and then on PostgreSQL, two workers each; lint and types first.
test: deps frontend chromium postgres
	$(MAKE) --no-print-directory lint typecheck
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite:
	@echo "== tests on SQLite"
	DATABASE_URL=sqlite:///var/test-root.sqlite3 $(PY) -m pytest -n 2 --dist loadgroup -p no:cacheprovider $(PYTEST_ARGS)

test-postgres:
	@echo "== tests on PostgreSQL"
	DATABASE_URL=$(PG_URL) $(PY) -m pytest -n 2 --dist loadgroup -p no:cacheprovider $(PYTEST_ARGS)

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck:
	$(VENV)/bin/mypy apps inspectorate

lock:
	cd requirements && ../$(VENV)/bin/pip-compile --generate-hashes --allow-unsafe --strip-extras -o lock.txt base.in
	cd requirements && ../$(VENV)/bin/pip-compile --generate-hashes --allow-unsafe --strip-extras -o dev-lock.txt dev.in

bench:
	$(PY) bench/run_bench.py

bench-fieldwork:
	$(PY) bench/fieldwork_bench.py --scale national

bench-reports:
	$(PY) bench/report_bench.py --scale national

bench-portal:
	$(PY) bench/portal_bench.py --scale national

bench-followup:
	$(PY) bench/followup_bench.py --scale national

clean:
	rm -rf $(VENV) node_modules var static/css static/govuk

# BERTopic is installed for this benchmark only, in var/ (never in the project's environment).
bench-bertopic:
	$(PIP) install --quiet --target var/bench-bertopic --no-deps bertopic==0.17.4 umap-learn==0.5.12 \
		pynndescent==0.7.0 hdbscan==0.8.44 numba==0.68.1 llvmlite==0.50.0 pandas==3.1.1 \
		plotly==7.1.0 narwhals==2.29.0 python-dateutil==4.0.0 pytz==2026.6 tzdata==2026.6
	PYTHONPATH=var/bench-bertopic $(PY) bench/themes_bertopic.py

bench-themes:
	$(PY) bench/themes_bench.py

# Training the classifier on the shipped statements plus 0 to 4,250 coded by people.
bench-themes-train:
	$(PY) bench/themes_train_bench.py

# After bench-themes: its coded corpus's analysis, evidence, downloads and thematic report.
bench-themes-pages:
	$(PY) bench/themes_pages.py
