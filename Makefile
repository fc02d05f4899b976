# The two commands the README gives: `make run` and `make test`. Both create .venv on first use.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint pytest install screenshots

$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(VENV)/.installed

run: install
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m sosocial.devservices --run

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) manage.py makemigrations --check --dry-run

pytest: install
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m sosocial.devservices -- $(PY) -m pytest $(PYTEST_ARGS)

test: lint pytest

# Every page at 1366 and 390 px (and dark mode) into docs/screenshots/, from tests/browser.
screenshots: install
	SOSOCIAL_SCREENSHOTS=1 PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m sosocial.devservices -- $(PY) -m pytest tests/browser -q -p no:cacheprovider

# Benchmarks (not part of `make test`): PostgreSQL at DATABASE_URL and Redis db 14 at REDIS_URL;
# see docs/benchmarks.md. `make bench BENCH="all --quick"` or `make bench BENCH="burst --posts 1000"`.
BENCH ?= all
.PHONY: bench
bench: install
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m bench $(BENCH)
