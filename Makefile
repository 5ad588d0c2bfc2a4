# Every target installs what it needs into .venv first (Python 3.11), the exact
# versions of constraints.txt within setup.cfg's ranges.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tfnf-installed

# `make test-lowest`: the lowest versions of those ranges (constraints-lowest.txt) in
# their own virtualenv, and a few fast test files on them.
LOWEST_VENV ?= .venv-lowest
LOWEST_PY := $(LOWEST_VENV)/bin/python
LOWEST_STAMP := $(LOWEST_VENV)/.tfnf-installed
# `make test-wheel`: build the sdist and the wheel (from the sdist, as pip would), install the
# wheel alone into a fresh virtualenv (no system site-packages, dependencies at constraints.txt's
# versions) and run .ci/wheel_smoke.py with it from a folder outside the repository.
WHEEL_TEST ?= build/wheel-test
# `make docs`: the API reference from the docstrings (Sphinx, docs/), HTML in $(DOCS_HTML). Warnings
# are errors: a cross-reference that resolves nowhere or a public name without a docstring fails
# it. -E re-reads every page, so a second build reports the same problems as the first.
DOCS_STAMP := $(VENV)/.tfnf-docs-installed
DOCS_HTML ?= docs/_build/html
SMOKE_TESTS ?= tests/test_backend.py tests/datasets/test_toy2d.py tests/datasets/test_tfds_images.py tests/cli/test_help.py \
	tests/keras/test_tensorboard_sample_grid.py tests/test_readme.py

export TF_CPP_MIN_LOG_LEVEL ?= 2
export KERAS_BACKEND := tensorflow

.PHONY: install test test-lowest test-wheel docs demo bench clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]" -c constraints.txt
	touch $(STAMP)

# one pytest worker per core (pytest-xdist), each test file on one worker so module fixtures build once
test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -n auto --dist loadfile tests

$(LOWEST_STAMP): setup.cfg pyproject.toml constraints-lowest.txt
	test -x $(LOWEST_PY) || $(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_PY) -m pip install --quiet --upgrade pip
	$(LOWEST_PY) -m pip install --quiet -e ".[test]" -c constraints-lowest.txt
	touch $(LOWEST_STAMP)

test-lowest: $(LOWEST_STAMP)
	$(LOWEST_PY) -m pytest -q -p no:cacheprovider $(SMOKE_TESTS)

test-wheel: $(STAMP)
	rm -rf $(WHEEL_TEST)
	$(PY) -m build --quiet --outdir $(WHEEL_TEST)/dist .
	$(PYTHON) -m venv $(WHEEL_TEST)/venv
	$(WHEEL_TEST)/venv/bin/python -m pip install --quiet $(WHEEL_TEST)/dist/tfnf-*.whl -c constraints.txt
	outside=$$(mktemp -d) && trap 'rm -rf "$$outside"' EXIT && cp .ci/wheel_smoke.py "$$outside" && \
	cd "$$outside" && env -u KERAS_BACKEND -u PYTHONPATH "$(CURDIR)/$(WHEEL_TEST)/venv/bin/python" -I wheel_smoke.py \
		"$(CURDIR)" "$$(ls "$(CURDIR)"/$(WHEEL_TEST)/dist/tfnf-*.whl)"
	rm -rf $(WHEEL_TEST)/venv  # ~3 GB; the built sdist and wheel stay in $(WHEEL_TEST)/dist

$(DOCS_STAMP): $(STAMP) setup.cfg pyproject.toml constraints.txt
	$(PY) -m pip install --quiet -e ".[docs]" -c constraints.txt
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(VENV)/bin/sphinx-build -b html -E -n -W --keep-going -q docs $(DOCS_HTML)

demo: $(STAMP)
	$(VENV)/bin/tfnf train --dataset digits --flow glow --out runs/digits-glow

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf runs build *.egg-info docs/_build docs/api
