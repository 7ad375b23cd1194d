# The workshop's two commands: `make lab` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# uv installs the exact versions in uv.lock. It comes from PyPI into the venv itself, so
# nothing is installed by hand; the stamp names its version, so a new pin reinstalls it.
UV_VERSION := 0.13.8
UV_STAMP := $(VENV)/.uv-$(UV_VERSION)
# --locked: refuse a uv.lock out of step with pyproject.toml (run `make lock`);
# --inexact: keep what the lock does not list (uv itself, the test tools after `make test`).
# Not installed: rfc3987-syntax. jsonschema checks the "iri" format with it when it is there,
# and builds its grammar on import: a second of CPU in every Jupyter server and every process
# that reads a notebook with nbformat, for a format none of Jupyter's schemas uses. The room
# skips it too (SKIPPED_PACKAGES in order_management/hosting/room/environment.py).
SYNC := UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --locked --inexact \
	--no-install-package rfc3987-syntax
# Rebuilt when the dependencies change; otherwise `make setup` is a no-op.
LAB_STAMP := $(VENV)/.installed-lab
TEST_STAMP := $(VENV)/.installed-test
SITE_STAMP := $(VENV)/.installed-site

# Jupyter refuses to run as root (containers, CI) unless told it may; token auth stays on.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup setup-test site lab test test-fast lint server stop status reset bench lock clean

# What the workshop runs on: no test tools (tests/integration/test_install.py checks it).
setup: $(LAB_STAMP)

# The same, plus pytest, Playwright, hypothesis and the rest of the `test` extra.
setup-test: $(TEST_STAMP)

$(UV_STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed (found " + sys.version.split()[0] + ")")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@touch $@

# Byte-compiled at install (a minute here), so that no kernel or Jupyter server compiles the
# packages on its first import; the test environment skips it (its runs compile as they go).
$(LAB_STAMP): pyproject.toml uv.lock $(wildcard jupyter-config/*/*.json) | $(UV_STAMP)
	$(SYNC) --compile-bytecode
	@touch $@

$(TEST_STAMP): pyproject.toml uv.lock $(wildcard jupyter-config/*/*.json) | $(UV_STAMP)
	$(SYNC) --extra test
	@touch $@

# The `site` extra: Sphinx, myst-nb, Furo (website/). Not in `make lab`'s install.
$(SITE_STAMP): pyproject.toml uv.lock $(wildcard jupyter-config/*/*.json) | $(UV_STAMP)
	$(SYNC) --extra site
	@touch $@

# The rendered site in build/site/html/: every notebook executed against a dev server the
# notebooks start (stopped at the end), then rendered by Sphinx (website/build.py).
site: $(SITE_STAMP)
	$(BIN)/python -m website.build

# The Jupyter server starts the Temporal dev server itself, and stops it on exit
# (order_management/hosting/jupyter.py); its Web UI is the launcher's "Temporal Web UI" tile.
lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ALLOW_ROOT)

# pytest-xdist worker processes. The suite mostly waits (on servers, kernels, Chromium,
# timeouts a lesson waits out), so more workers than cores pay off; the README's "Tests" has
# the measurements. `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= 4
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS)

test: setup-test
	$(PYTEST)

# The fast tier: unit and time-skipping tests, no notebook, browser, room or fresh venv.
test-fast: setup-test
	$(PYTEST) tests --ignore=tests/integration

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The Web UI under /temporal, the path `make lab`'s proxy forwards, so `make lab` reuses this
# server; http://localhost:8233 still opens it.
server: setup
	@$(BIN)/python -m order_management.local.devserver start --ui-public-path /temporal

stop:
	@test -x $(BIN)/python && $(BIN)/python -m order_management.local.devserver stop || true

status: setup
	@$(BIN)/python -m order_management.local.devserver status

# Clears workflows and the ledger between workshop sessions.
reset: stop
	rm -rf .temporal

bench: setup-test
	$(BIN)/python -m bench --test-workers $(TEST_WORKERS)
	$(BIN)/python -m bench.room

# Newest versions that pyproject.toml allows, for every platform; commit uv.lock after
# `make test` passes.
lock: $(UV_STAMP)
	$(BIN)/uv lock --upgrade

clean: stop
	rm -rf $(VENV) .temporal .pytest_cache

# A room: JupyterHub on this machine, one system user per attendee (root; see the README's
# "Run it for a room"). Built from a Python every attendee may run, not the pyenv one.
ROOM_PYTHON ?= /usr/bin/python3
.PHONY: room room-stop bench-room

# uv (the Makefile's pinned one) installs the room's environment from uv.lock.
room: $(UV_STAMP)
	@ROOM_UV=$(abspath $(BIN)/uv) $(ROOM_PYTHON) -m order_management.hosting.room.environment start

room-stop:
	@$(ROOM_PYTHON) -m order_management.hosting.room.environment stop

# N attendees (ATTENDEES, default 10) pressing Run All on 01 at once, each with a kernel and a
# dev server of their own, from the room's environment when `make room` has built one.
ATTENDEES ?= 10
bench-room: setup-test
	$(BIN)/python -m bench.room --attendees $(ATTENDEES)
