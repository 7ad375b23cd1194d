# The workshop's two commands: `make lab` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Rebuilt when the dependencies change; otherwise `make setup` is a no-op.
STAMP := $(VENV)/.installed

# Jupyter refuses to run as root (containers, CI) unless told it may; token auth stays on.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup lab test server stop status reset bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed (found " + sys.version.split()[0] + ")")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

lab: setup server
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ALLOW_ROOT)

test: setup
	$(BIN)/python -m pytest

server: setup
	@$(BIN)/python -m order_management.devserver start

stop:
	@test -x $(BIN)/python && $(BIN)/python -m order_management.devserver stop || true

status: setup
	@$(BIN)/python -m order_management.devserver status

# Clears workflows and the ledger between workshop sessions.
reset: stop
	rm -rf .temporal

bench: setup
	$(BIN)/python -m bench

clean: stop
	rm -rf $(VENV) .temporal .pytest_cache

# A room: JupyterHub on this machine, one system user per attendee (root; see the README's
# "Run it for a room"). Built from a Python every attendee may run, not the pyenv one.
ROOM_PYTHON ?= /usr/bin/python3
.PHONY: room room-stop

room:
	@$(ROOM_PYTHON) -m order_management.room.environment start

room-stop:
	@$(ROOM_PYTHON) -m order_management.room.environment stop
