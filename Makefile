# Beskontakt: the two commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install lint typecheck migrations-check messages test-postgres test-sqlite browser mailserver snmp clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

messages: $(STAMP)
	cd beskontakt && ../$(PY) ../manage.py compilemessages --ignore=.venv -v 0

## make demo: the embedded demo on SQLite, no other server (http://127.0.0.1:8000)
demo: install messages
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py load_demo --size demo --seed 1
	BESKONTAKT_OUTBOX_FILE_DIR=$(CURDIR)/var/outbox $(PY) -m beskontakt.cli serve --with-worker --with-acs

## make test: lint, types, migrations, then the whole suite on PostgreSQL and on SQLite
test: install messages lint typecheck migrations-check browser mailserver snmp test-postgres test-sqlite

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy beskontakt

migrations-check: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run

# Browser tests drive Debian's Chromium; install it when missing (CI runs as root).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; \
	  else echo "Chromium is missing: run 'sudo apt-get install chromium'" >&2; exit 1; fi; }

# E-mail tests run a real IMAP server: Debian's dovecot, started by the tests on loopback.
mailserver:
	@test -x /usr/sbin/dovecot || { \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-imapd >/dev/null; \
	  else echo "dovecot is missing: run 'sudo apt-get install dovecot-imapd'" >&2; exit 1; fi; }

# SNMP tests run real agents: snmpsim (recorded switches from snmpsim-data) in a venv made
# from Debian's Python (snmpsim drops to nobody, who cannot read a pyenv Python in root's
# home), and Debian's snmpd with a config of the tests' own, both started by the tests.
SNMPSIM_VENV := var/snmpsim-venv
SNMPSIM_STAMP := $(SNMPSIM_VENV)/.installed
$(SNMPSIM_STAMP):
	mkdir -p var && /usr/bin/python3 -m venv $(SNMPSIM_VENV)
	$(SNMPSIM_VENV)/bin/pip install --quiet snmpsim snmpsim-data pysmi
	chmod -R o+rX $(SNMPSIM_VENV)
	touch $(SNMPSIM_STAMP)

# The ping tests also exercise the fallback to the system's ping (iputils-ping).
snmp: $(SNMPSIM_STAMP)
	@test -x /usr/sbin/snmpd -a -x /usr/bin/ping || { \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q snmpd iputils-ping >/dev/null; \
	  else echo "snmpd or ping is missing: run 'sudo apt-get install snmpd iputils-ping'" >&2; exit 1; fi; }

PG_RUN_DB := beskontakt_ci_$(shell date +%s)_$$$$
test-postgres: $(STAMP)
	BESKONTAKT_DB=postgres BESKONTAKT_DB_NAME=$(PG_RUN_DB) BESKONTAKT_TEST_DB_NAME=test_$(PG_RUN_DB) \
	  $(VENV)/bin/pytest -p no:cacheprovider -n 2 --dist loadgroup $(PYTEST_ARGS)

test-sqlite: $(STAMP)
	mkdir -p var && BESKONTAKT_DB=sqlite BESKONTAKT_TEST_DB_NAME=$(CURDIR)/var/test-$(PG_RUN_DB).sqlite3 \
	  $(VENV)/bin/pytest -p no:cacheprovider -n 2 --dist loadgroup $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
