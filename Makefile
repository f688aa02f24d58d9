# `make run` and `make test` set everything up on a fresh machine (venv, packages, chromium), idempotently.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8501
STAMP := $(VENV)/.installed-stamp
# torch first, pinned: the CPU build on this machine's disk. The project's own range (<2.14) then adds nothing.
TORCH ?= torch==2.13.0

.PHONY: install browser run test test-fast bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check "$(TORCH)"
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian's chromium drives the browser tests (Playwright's own browser download is not used).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
	@chromium --version

run: install
	$(VENV)/bin/vae-explorer ui --host $(HOST) --port $(PORT)

test: install browser
	$(PY) -m ruff check .
	$(PY) -m pytest

# everything but the browser and slow tests, for a quick check while editing
test-fast: install
	$(PY) -m ruff check .
	$(PY) -m pytest -m "not slow and not e2e"

bench: install browser
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache artifacts
