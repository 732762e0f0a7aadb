# cuntao: everyday commands. Needs only python3 (3.11 or newer) and make;
# everything else goes into a virtual environment of its own, .venv/.
#
#   make demo                 run the embedded demo        (ARGS="..." passed to `cuntao demo`)
#   make test                 run the test suite           (PYTEST_ARGS="..." passed to pytest)
#   make bench                run every benchmark in bench/ (BENCH="routes" for one, ARGS="..." to it)
#   make clean                remove .venv and build leftovers (keeps var/, the demo's data)
#
# Installs are skipped while .venv is newer than pyproject.toml: stamp files in
# .venv record what was installed. pip's own configuration (/etc/pip.conf,
# PIP_* variables) is used as it is.

PYTHON ?= python3
VENV ?= .venv
ARGS ?=
PYTEST_ARGS ?=

VENV_PY := $(VENV)/bin/python
STAMP_BASE := $(VENV)/.installed-base
STAMP_TEST := $(VENV)/.installed-test
STAMP_BENCH := $(VENV)/.installed-bench
# The benchmarks to run: every bench/*.py by name, or BENCH="routes seed".
# freshdb, httpload and raw_orders are modules the benchmarks share, not benchmarks.
BENCH_MODULES := freshdb httpload raw_orders
BENCH ?= $(filter-out $(BENCH_MODULES),$(sort $(basename $(notdir $(wildcard bench/*.py)))))

.DEFAULT_GOAL := help
.PHONY: help demo test bench clean venv

help:
	@echo "make demo    run the demo (ARGS=... for 'cuntao demo')"
	@echo "make test    run the tests (PYTEST_ARGS=... for pytest)"
	@echo "make bench   run the benchmarks in bench/ (BENCH=routes for one; ARGS=... to it)"
	@echo "make clean   remove .venv and build leftovers"

# The environment itself. A failed `venv` (Debian without python3-venv leaves a
# half-made one behind) is removed, so the next run starts again instead of
# carrying on with an environment that has no pip.
$(VENV_PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "cuntao needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
	  echo "Run with PYTHON=/path/to/python3.11 (or newer)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "Could not create $(VENV). On Debian or Ubuntu: apt-get install python3-venv" >&2; exit 1; }

venv: $(VENV_PY)

$(STAMP_BASE): pyproject.toml | $(VENV_PY)
	$(VENV_PY) -m pip install -e .
	@touch $@

# The test extra includes the project itself, so it satisfies the base stamp too.
$(STAMP_TEST): pyproject.toml | $(VENV_PY)
	$(VENV_PY) -m pip install -e '.[test]'
	@touch $(STAMP_BASE) $@

demo: $(STAMP_BASE)
	$(VENV)/bin/cuntao demo $(ARGS)

test: $(STAMP_TEST)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The bench extra adds the tools only benchmarks use (OR-Tools to compare routes with).
$(STAMP_BENCH): pyproject.toml | $(VENV_PY)
	$(VENV_PY) -m pip install -e '.[bench]'
	@touch $(STAMP_BASE) $@

# Each benchmark prints JSON lines on stdout; the name of each goes to stderr.
bench: $(STAMP_BENCH)
	@set -e; for name in $(BENCH); do \
	  echo "== bench/$$name.py" >&2; \
	  $(VENV_PY) bench/$$name.py $(ARGS); \
	done

clean:
	rm -rf $(VENV) build dist src/*.egg-info artifacts
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
