# The two commands of the README — `make serve` and `make test` — install what they need first.
.PHONY: serve test install lint spec spec-check property soak terraform-check bench console-screenshots clean
VENV := .venv
PYTHON ?= python3
BIN := $(VENV)/bin
CHROMIUM := /usr/bin/chromium
VALGRIND := /usr/bin/valgrind
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

serve: $(VENV)/.installed  ## run the API on the embedded default (or DATABASE_URL)
	$(BIN)/focus serve

test: $(VENV)/.installed node_modules/.installed $(CHROMIUM) $(VALGRIND)  ## every suite, on real servers
	$(BIN)/pytest

install: $(VENV)/.installed node_modules/.installed $(CHROMIUM) $(VALGRIND)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

spec: $(VENV)/.installed  ## regenerate the committed OpenAPI spec
	$(BIN)/focus openapi export

spec-check: $(VENV)/.installed node_modules/.installed  ## committed spec current, no breaking change
	$(BIN)/focus openapi export --check
	OPTIC_TELEMETRY_LEVEL=off NO_UPDATE_NOTIFIER=1 GIT_OPTIONAL_LOCKS=0 \
	  node_modules/.bin/optic diff openapi/released/v1.json openapi/v1.json --check
	$(BIN)/pytest -q tests/integration/test_openapi_spec.py

property: $(VENV)/.installed  ## the property-based suite, 20 times the examples CI draws, fresh ones
	FOCUS_PROPERTY_EXAMPLES=500 $(BIN)/pytest -q tests/property

soak: $(VENV)/.installed  ## the migration's soak, 5 minutes (FOCUS_SOAK_SEED=<the seed a failure names> replays it)
	FOCUS_SOAK_SECONDS=$${FOCUS_SOAK_SECONDS:-300} $(BIN)/pytest -q tests/integration/migration/test_soak.py

terraform-check: .venv-checkov/.installed  ## static checks of terraform/ (no provider needed)
	.venv-checkov/bin/checkov -d terraform --framework terraform --skip-download --compact --quiet

# checkov has heavy dependencies of its own (boto3, networkx, …): its own venv, its own lock.
.venv-checkov/.installed: terraform/checkov.lock $(VENV)/.installed
	$(PYTHON) -m venv .venv-checkov
	$(BIN)/uv pip install --python .venv-checkov/bin/python --quiet -r terraform/checkov.lock
	touch $@

bench: $(VENV)/.installed $(VALGRIND)  ## every benchmark; each ends with `RESULT <name> ratio=<x>`
	$(BIN)/python bench/api_read.py
	$(BIN)/python bench/read_instructions.py
	$(BIN)/python bench/outbox_relay.py
	$(BIN)/python bench/push_fanout.py
	$(BIN)/python bench/backfill.py
	$(BIN)/python bench/dual_write.py
	$(BIN)/python bench/privacy_erase.py
	$(BIN)/python bench/privacy_export.py
	$(BIN)/python bench/exports.py
	$(BIN)/python bench/ai_hooks.py
	$(BIN)/python bench/load.py

$(VENV)/.installed: pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "uv>=0.5"
	$(BIN)/uv pip install --python $(BIN)/python --quiet -r requirements-dev.lock -e .
	# The Cloud Tasks emulator pins protobuf<5 but runs on the current one: no dependencies.
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps "gcloud-tasks-emulator==0.6.2"
	touch $@

node_modules/.installed: package.json package-lock.json
	# --ignore-scripts: no native add-on is needed (re2 would be compiled from source for minutes)
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# The console's browser tests drive Debian's chromium through Playwright (which cannot download
# browsers of its own here). Installed once; nothing to do when it is there.
$(CHROMIUM):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
	  || { $(SUDO) apt-get update && \
	       $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

# bench/read_instructions.py counts a read's instructions with valgrind's callgrind (Debian's).
$(VALGRIND):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends valgrind \
	  || { $(SUDO) apt-get update && \
	       $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends valgrind; }

console-screenshots: $(VENV)/.installed node_modules/.installed $(CHROMIUM)  ## PNGs of the console's screens in docs/console/
	$(BIN)/python -m tests.browser.screenshots

clean:
	rm -rf $(VENV) node_modules .focus
