"""`make setup-gpu`, read through `make -n` (it would install GBs of CUDA libraries): a fresh venv, the CUDA build
of torch chosen by CUDA=..., a check that refuses a CPU build, one faiss build."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def _plan(*variables: str) -> subprocess.CompletedProcess[str]:
    # Under `make test` the parent make's MAKEFLAGS (-w) would make this one print "Entering directory" lines.
    env = {key: value for key, value in os.environ.items() if key not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    return subprocess.run(
        ["make", "--no-print-directory", "-n", "setup-gpu", "VENV=/tmp/mmm-gpu-venv", *variables],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_setup_gpu_builds_a_fresh_venv_with_the_cuda_torch_before_the_project() -> None:
    lines = _plan().stdout.splitlines()
    assert lines[0] == "rm -rf /tmp/mmm-gpu-venv" and "-m venv /tmp/mmm-gpu-venv" in lines[1]
    torch_line = next(i for i, line in enumerate(lines) if '"torch==2.13.0"' in line)
    check_line = next(i for i, line in enumerate(lines) if "torch.version.cuda" in line)
    project_line = next(i for i, line in enumerate(lines) if "-e " in line)
    assert torch_line < check_line < project_line
    assert "--index-url" not in lines[torch_line]  # CUDA 13.0: PyPI's own Linux wheel is that build
    assert '".[cpu,test,postgres]"' in lines[project_line]
    assert not any("faiss-gpu" in line or "[gpu" in line for line in lines)


@pytest.mark.parametrize(("cuda", "index"), [("12.8", "whl/cu128"), ("12.6", "whl/cu126")])
def test_a_cuda_12_build_comes_from_the_pytorch_index_of_that_cuda(cuda: str, index: str) -> None:
    lines = _plan(f"CUDA={cuda}").stdout.splitlines()
    torch_line = next(line for line in lines if '"torch==2.13.0"' in line)
    assert f"--index-url https://download.pytorch.org/{index}" in torch_line
    assert f"expected a CUDA {cuda} build" in next(line for line in lines if "torch.version.cuda" in line)


def test_an_unknown_cuda_version_is_refused_naming_the_known_ones() -> None:
    done = _plan("CUDA=11.8")
    assert done.returncode != 0
    assert "CUDA=11.8: expected one of 13.0 12.8 12.6" in done.stderr


def test_the_check_refuses_a_cpu_build_of_torch() -> None:
    check = next(line for line in _plan().stdout.splitlines() if "torch.version.cuda" in line)
    code = check.split(" -c ", 1)[1].strip().strip('"')
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    if torch.version.cuda:
        assert done.returncode == 0 and "CUDA" in done.stdout
    else:
        assert done.returncode != 0 and "is a CPU build" in done.stderr


def test_the_project_offers_one_faiss_build() -> None:
    # Every faiss requirement of pyproject.toml, wherever it is listed.
    builds = re.findall(r'"(faiss[^"]*)"', (REPO / "pyproject.toml").read_text())
    assert builds == ["faiss-cpu>=1.8"]
