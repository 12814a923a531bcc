# Two commands for a fresh machine (see README.md):
#   make book   set up, then build the static site into _build/html (chapters in full mode)
#   make test   set up, then ruff + unit tests + every chapter under nbval in smoke mode
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup book test lint clean benchmark

setup: $(STAMP)

# (Re)create the environment when requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	# Register this venv's Python as the "python3" kernel, so nbval and the book
	# execute chapters with the pinned packages and not a system-wide kernel.
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (gentorch)" >/dev/null
	rm -f $(VENV)/.installed-*
	touch $@

lint: setup
	$(BIN)/ruff check gentorch tests benchmarks chapters
	$(BIN)/ruff format --check gentorch tests benchmarks chapters

# One pytest run, so the closing summary line counts unit tests and notebook cells.
# pytest-xdist runs it on every core; --dist loadfile keeps each notebook (one kernel,
# cells in order) on one worker, so chapters run side by side. One torch thread per
# worker (OMP_NUM_THREADS=1): with a worker per core, more threads only fight over the
# cores, and small convolutions slow down several times when they do.
test: lint
	OMP_NUM_THREADS=1 MPLBACKEND=Agg GENTORCH_SMOKE=1 $(BIN)/python -m pytest tests chapters \
		--nbval-lax --nbval-cell-timeout=300 -p no:cacheprovider \
		-n auto --dist loadfile

# GENTORCH_SITE=1 tells each chapter's setup cell to pre-render its explorers' frames
# for the kernel-free website (a live kernel does not need them).
# _build/html is written afresh each time (the executed notebooks stay cached in
# _build/.jupyter_cache): Sphinx leaves files of earlier builds there, and viewcode does
# not rewrite its _modules pages after a configuration change.
book: setup
	rm -rf _build/html
	env -u GENTORCH_SMOKE GENTORCH_SITE=1 $(BIN)/jupyter-book build . --warningiserror --keep-going

benchmark: setup
	$(BIN)/python benchmarks/chapter_times.py

clean:
	rm -rf _build $(VENV) .pytest_cache .ruff_cache data
