"""Every command the README gives is exercised in CI, at least in a cheap form: the study commands on the smoke
profile or as dry runs, the GPU-only make targets as `make -n` (the target exists and expands), the benchmarks on
one small case. Commands that CI runs as they stand (`make test`, `make paper-path`, `.ci/run`) or that other tests
run (the PostgreSQL workers) name where. A README command with neither fails here, so a new one gets a cheap form.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from harness.registry import list_studies
from harness.study import main
from mmm.code_identity import project_root
from mmm.data.synthetic import ensure_synthetic_pair, smoke_spec
from tests.availability import require
from tests.harness.conftest import PrivateServer

README = project_root() / "README.md"
_COMMAND_STARTS = ("python -m harness.study", "make ", "pytest ", "MMM_TEST_DEVICE=", ".ci/run", "createuser")


def readme_commands() -> list[str]:
    """The commands of the README's bash blocks (continuations joined, comments dropped, except a command that a
    comment tells the reader to run) and of its inline code, whitespace normalised, in order."""
    text = README.read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            code, _, comment = line.partition("#")
            found += [" ".join(part.split()).rstrip(").,") for part in (code, comment.partition(":")[2])]
    found += [" ".join(span.split()) for span in re.findall(r"`([^`\n]+)`", text)]
    return list(dict.fromkeys(command for command in found if command.startswith(_COMMAND_STARTS)))


CI = ".ci/run"
# Run as they stand by CI (.ci/run runs `make test`, whose first step is `make setup`), or by the tests named.
ELSEWHERE = {
    "make test": [CI],
    "make setup": [CI],
    CI: [CI],
    "make paper-path": [
        CI,
        "tests/pipeline/test_paper_path.py::test_the_paper_path_study_is_valid_and_a_dry_run_lists_its_cells_"
        "without_training",
    ],
    "python -m harness.study noise": [
        "tests/harness/test_noise_study.py::test_the_noise_study_runs_every_level_and_setting_on_smoke"
    ],
    "python -m harness.study ablation_sca --profile paper --data-root /data --device cuda "
    "--storage postgresql://mmm:PASSWORD@db-host:5432/mmm --out runs": [
        "tests/harness/test_workers.py::test_two_workers_run_each_cell_exactly_once"
    ],
}


def _study(*argv: str) -> Callable[[Path, Path], None]:
    """The study command run in this process; DATA in argv is the smoke pair, OUT a fresh output folder."""

    def run(pair: Path, out: Path) -> None:
        resolved = [str(pair) if arg == "DATA" else str(out) if arg == "OUT" else arg for arg in argv]
        assert main(resolved) == 0, resolved

    return run


def _shell(*command: str) -> Callable[[Path, Path], None]:
    """A command line run from the project root."""

    def run(pair: Path, out: Path) -> None:
        require(shutil.which(command[0]) is not None, f"{command[0]} is not installed")
        done = subprocess.run(command, cwd=project_root(), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr

    return run


def _each_study_dry_run(pair: Path, out: Path) -> None:
    for name in list_studies():
        assert main([name, "--profile", "smoke", "--out", str(out), "--dry-run"]) == 0, name


BENCH = (
    sys.executable,
    "-m",
    "pytest",
    "tests/bench",
    "--benchmark-only",
    "--bench-rounds",
    "1",
    "--bench-no-memory",
    "--benchmark-min-rounds=1",
    "--benchmark-max-time=0.01",
    "--benchmark-warmup=off",
    "-k",
    "knn_floor and cpu and visible",
    "-q",
    "-p",
    "no:cacheprovider",
)


def _expands_to(target: str, command: str) -> Callable[[Path, Path], None]:
    """A make target that is another README command: `make -n` shows it runs that command (exercised itself)."""

    def run(pair: Path, out: Path) -> None:
        expanded = subprocess.run(["make", "-n", target], cwd=project_root(), capture_output=True, text=True)
        assert expanded.returncode == 0 and command in expanded.stdout, expanded.stdout + expanded.stderr

    return run


# README command -> its cheap form. No CUDA here: GPU commands are checked with `make -n`, and the paper-profile
# study runs as a dry run (it would train for hours).
CHEAP: dict[str, Callable[[Path, Path], None]] = {
    "make demo": _expands_to("demo", "-m harness.study ablation_sca"),
    "python -m harness.study ablation_sca": _study("ablation_sca", "--profile", "smoke", "--out", "OUT"),
    "python -m harness.study --list": _study("--list"),
    "python -m harness.study NAME --dry-run": _each_study_dry_run,
    "python -m harness.study NAME --profile paper --data-root /data --device cuda": _study(
        "ablation_sca", "--profile", "paper", "--data-root", "DATA", "--out", "OUT", "--dry-run"
    ),
    "python -m harness.study --check-data --data-root /data --profile paper": _study(
        "--check-data", "--data-root", "DATA", "--profile", "paper"
    ),
    "python -m harness.study --check-data --data-root DIR --profile paper": _study(
        "--check-data", "--data-root", "DATA", "--profile", "paper"
    ),
    "python -m harness.study recipes": _study("recipes", "--profile", "smoke", "--out", "OUT", "--dry-run"),
    "python -m harness.study tune": _study("tune", "--profile", "smoke", "--out", "OUT", "--dry-run"),
    "python -m harness.study NAME --eval-every K": _study(
        "smoke", "--profile", "smoke", "--eval-every", "1", "--out", "OUT", "--dry-run"
    ),
    "python -m harness.study recipes --seeds 3": _study(
        "recipes", "--profile", "smoke", "--seeds", "3", "--out", "OUT", "--dry-run"
    ),
    "python -m harness.study baselines": _study("baselines", "--profile", "smoke", "--out", "OUT", "--dry-run"),
    "pytest tests/bench --benchmark-only": _shell(*BENCH),
    "make bench": _expands_to("bench", "-m pytest tests/bench --benchmark-only"),
    "make setup-gpu": _shell("make", "-n", "setup-gpu"),
    "make setup-gpu CUDA=12.8": _shell("make", "-n", "setup-gpu", "CUDA=12.8"),
    "MMM_TEST_DEVICE=cuda make bench": _shell("make", "-n", "bench"),
    "MMM_TEST_DEVICE=cuda make test": _shell("make", "-n", "test"),
}
# PostgreSQL's own tools, run against a throwaway cluster.
SERVER_SIDE = "createuser -P mmm && createdb -O mmm mmm"


def test_every_readme_command_is_exercised() -> None:
    commands = readme_commands()
    assert "python -m harness.study --list" in commands and "make demo" in commands
    unexercised = [c for c in commands if c not in CHEAP and c not in ELSEWHERE and c != SERVER_SIDE]
    assert not unexercised, f"README commands no test exercises (give each a cheap form here): {unexercised}"


def test_the_commands_run_elsewhere_are_run_there() -> None:
    ci = (project_root() / CI).read_text()
    makefile = (project_root() / "Makefile").read_text()
    assert "\ntest: $(STAMP)" in makefile and "\nsetup: $(STAMP)" in makefile  # make test sets up first
    for command, places in ELSEWHERE.items():
        for where in places:
            if where == CI:
                ran = command in (CI, "make setup") or re.search(rf"^{re.escape(command)}\b", ci, flags=re.M)
                assert ran, f"{CI} does not run {command!r}"
            else:
                path, _, name = where.partition("::")
                assert f"def {name}(" in (project_root() / path).read_text(), where


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(CHEAP))
def test_the_cheap_form_of_a_readme_command_runs(
    command: str, tmp_path: Path, session_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if command not in readme_commands():
        pytest.skip(f"the README no longer gives {command!r}")
    monkeypatch.setenv("MMM_CACHE_DIR", str(session_cache))
    pair = ensure_synthetic_pair(session_cache, smoke_spec())[0].parent
    CHEAP[command](pair, tmp_path / "runs")


def test_the_postgres_tools_the_readme_names_set_up_a_database(private_postgres: PrivateServer) -> None:
    binaries = private_postgres.binaries
    connection = ["-h", "127.0.0.1", "-p", str(private_postgres.port), "-U", "mmm"]
    env = {**os.environ, "PGPASSWORD": private_postgres.password}
    # createuser -P prompts for the password; the same user with the password set by SQL stands in for it.
    subprocess.run([str(binaries / "createuser"), *connection, "bench"], check=True, env=env, capture_output=True)
    subprocess.run([str(binaries / "createdb"), *connection, "-O", "bench", "bench"], check=True, env=env)
    listed = subprocess.run(
        [str(binaries / "psql"), *connection, "-d", "bench", "-Atc", "select current_database()"],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    assert listed.stdout.strip() == "bench"
