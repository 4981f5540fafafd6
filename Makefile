# guanai — two commands: `make run` and `make test`.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TEST_SETTINGS := DJANGO_SETTINGS_MODULE=config.settings_test

.PHONY: run test lint typecheck migrations-check pytest e2e audit lock openapi messages static-vendor clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

# A local .env with a random secret key and debug on; never committed (see .gitignore). With debug on and
# no GUANAI_FIELD_KEYS configured, the field-encryption keys are generated into var/ on first start.
.env: | $(STAMP)
	@$(BIN)/python -c "import secrets; print('GUANAI_SECRET_KEY=' + secrets.token_urlsafe(64)); print('GUANAI_DEBUG=1')" > .env
	@echo "wrote .env (local settings with a fresh secret key)"

var:
	@mkdir -p var

run: $(STAMP) .env var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_regions
	$(BIN)/python manage.py load_demo
	@echo "Serving on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: lint typecheck migrations-check pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

migrations-check: $(STAMP) var
	$(TEST_SETTINGS) $(BIN)/python manage.py makemigrations --check --dry-run

pytest: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile

# Browser journeys in Debian's Chromium (installed by .ci/run).
e2e: $(STAMP)
	$(BIN)/pytest e2e -p no:xdist

# Known vulnerabilities of every pinned dependency (PyPI's advisory data). --strict: a package that could not
# be looked up fails the audit rather than passing unchecked.
audit: $(STAMP)
	$(BIN)/pip-audit --strict --no-deps --disable-pip --progress-spinner off -r constraints.txt

# Re-pin every dependency after changing pyproject.toml.
lock:
	rm -rf /tmp/guanai-lock && $(PYTHON) -m venv /tmp/guanai-lock
	/tmp/guanai-lock/bin/pip install --quiet --upgrade pip && /tmp/guanai-lock/bin/pip install --quiet -e ".[dev,load]"
	/tmp/guanai-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

openapi: $(STAMP)
	$(TEST_SETTINGS) $(BIN)/python manage.py export_openapi docs/openapi.json

messages: $(STAMP)
	$(TEST_SETTINGS) $(BIN)/python manage.py makemessages --locale zh_Hant --locale en --ignore '.venv/*' --ignore 'var/*' --ignore 'scripts/*'
	$(BIN)/python scripts/translate_hant.py locale/zh_Hant/LC_MESSAGES/django.po
	$(TEST_SETTINGS) $(BIN)/python manage.py compilemessages --ignore '.venv/*' --ignore 'var/*'

static-vendor:
	bash scripts/vendor_static.sh

clean:
	rm -rf $(VENV) var .env
