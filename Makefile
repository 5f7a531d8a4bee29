# Yiwang: the two set-up commands are `make run` and `make test`; everything else is optional.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-browser lint messages bench bench-quick clean prod-smoke

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: the platform on SQLite with the demo district, tasks in-process, http://127.0.0.1:8000
run: $(STAMP)
	YIWANG_DEMO=1 $(BIN)/python manage.py serve 127.0.0.1:8000

## test: the whole suite (SQLite by default; DATABASE_URL=postgres://... for PostgreSQL)
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .

## messages: refresh and compile translations after changing UI strings
messages: $(STAMP)
	cd yiwang && YIWANG_DEMO=1 ../$(BIN)/python ../manage.py makemessages -l en -l zh_Hans --no-obsolete
	cd yiwang && YIWANG_DEMO=1 ../$(BIN)/python ../manage.py makemessages -d djangojs -l en -l zh_Hans --no-obsolete
	cd yiwang && YIWANG_DEMO=1 ../$(BIN)/python ../manage.py compilemessages

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --full

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks.run --quick

## prod-smoke: gunicorn + Celery worker + beat against PostgreSQL and Redis (used by .ci/run)
prod-smoke: $(STAMP)
	scripts/prod-smoke.sh

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles var test-artifacts
