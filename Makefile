# make plan  — offline plan of the dev stack (no Pulumi CLI, no Hetzner account needed)
# make test  — the whole test suite
# make e2e   — long-running end-to-end tests (tests/e2e, marker e2e)
# make plan STACK=private-ha   — another example stack
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STACK  ?= dev

.PHONY: plan test e2e clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

plan: $(VENV)/.dev
	$(PY) tools/plan.py --stack $(STACK)

test: $(VENV)/.dev
	$(PY) -m pytest -q

e2e: $(VENV)/.dev
	$(PY) -m pytest -q -m e2e tests/e2e

clean:
	rm -rf $(VENV) .pytest_cache out
