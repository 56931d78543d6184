# make plan  — offline plan of the dev stack (no Pulumi CLI, no Hetzner account needed)
# make test  — the whole test suite
# make plan STACK=private-ha   — another example stack
# make engine — build the real Pulumi CLI and helm from Go modules, fetch the real charts and CRDs
#               into ${XDG_CACHE_HOME:-~/.cache}/k3s-hcloud (docs/real-engine.md; needs Go)
# make e2e    — long-running end-to-end tests (tests/e2e, marker e2e), among them those that run
#               the real tools (they fail with "run make engine" without them)
# make policy-pack — the policy pack as `pulumi policy publish` ships it: out/policy-pack
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STACK  ?= dev

.PHONY: plan test engine e2e policy-pack clean

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

engine:
	bash tools/engine/build.sh

e2e: $(VENV)/.dev
	$(PY) -m pytest -q -m e2e tests/e2e

policy-pack:
	$(PYTHON) tools/policy_pack.py out/policy-pack

clean:
	rm -rf $(VENV) .pytest_cache out
