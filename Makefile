# The two commands the README gives: `make run` and `make test`. Both create .venv on first use.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint pytest install

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

# Benchmarks (not part of `make test`): PostgreSQL at DATABASE_URL and Redis db 14 at REDIS_URL;
# see docs/benchmarks.md. `make bench BENCH="all --quick"` or `make bench BENCH="burst --posts 1000"`.
BENCH ?= all
.PHONY: bench
bench: install
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m bench $(BENCH)
