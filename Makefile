# The two commands of the README: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
OUT := loopwise-out

.PHONY: demo test install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.'
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,torch,text,bench,ray,quality,ner]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## demo: margin vs random on scikit-learn's digits, 3 seeds, stored in SQLite, with a table and an HTML report
demo: install
	mkdir -p $(OUT)
	$(BIN)/loopwise simulate --data digits --strategy margin --strategy random --seeds 3 \
		--initial 10 --batch 10 --budget 300 --db sqlite:///$(OUT)/demo.db \
		--json $(OUT)/demo.json --report $(OUT)/demo.html

## test: the whole suite, with the torch, text and ner extras so their tests run for real (PostgreSQL cases run when LOOPWISE_TEST_POSTGRES_URL is set; .ci/run sets it)
test: install-test
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(OUT)
