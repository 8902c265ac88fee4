"""A storage that goes away while a study runs — a PostgreSQL server stopped, a SQLite file removed, a journal's
disk unmounted — ends the command with one line naming the storage and what to do, exit code 2, no traceback;
the cells finished before stay, and the re-run resumes (from the same storage, or from the stage cache)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from mmm.code_identity import project_root
from mmm.data.synthetic import SYSU_DIRNAME, ensure_synthetic_pair, smoke_spec
from mmm.data.synthetic.cache import MARKER_FILE
from tests.harness.conftest import PrivateServer

# Two seeds of the smoke study on SYSU alone: four cells, so the storage goes away with cells still to run.
ARGV = ["smoke", "--profile", "smoke", "--seeds", "2", "--device", "cpu"]
SECONDS = 300


@pytest.fixture()
def sysu_only(session_cache: Path, tmp_path: Path) -> Path:
    """A data root holding the smoke pair's SYSU-MM01 alone."""
    pair = ensure_synthetic_pair(session_cache, smoke_spec())[0].parent
    root = tmp_path / "data"
    shutil.copytree(pair / SYSU_DIRNAME, root / SYSU_DIRNAME)
    shutil.copy(pair / MARKER_FILE, root / MARKER_FILE)
    return root


def _command(data: Path, out: Path, storage: str, cache: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "harness.study",
        *ARGV,
        "--data-root",
        str(data),
        "--out",
        str(out),
        "--storage",
        storage,
    ]


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "MMM_CACHE_DIR": str(cache), "OMP_NUM_THREADS": "1"}


def _run_and_break(command: list[str], cache: Path, log: Path, fault: Callable[[], None]) -> tuple[int, list[str]]:
    """Start the command, apply `fault` once its first cell is finished, and wait for it; (exit code, stderr)."""
    with log.open("w") as stderr:
        process = subprocess.Popen(command, cwd=project_root(), env=_env(cache), stderr=stderr, stdout=subprocess.PIPE)
        deadline = time.monotonic() + SECONDS
        while "complete in" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no cell finished"
            time.sleep(0.05)
        fault()
        code = process.wait(timeout=SECONDS)
    return code, log.read_text().splitlines()


def _rerun(command: list[str], cache: Path) -> str:
    done = subprocess.run(command, cwd=project_root(), env=_env(cache), capture_output=True, text=True, timeout=SECONDS)
    assert done.returncode == 0, done.stderr
    return done.stderr


def _one_line(lines: list[str], storage: str, words: str) -> str:
    assert not any("Traceback" in line for line in lines), "\n".join(lines)
    last = lines[-1]
    assert last.startswith(f"python -m harness.study: error: --storage {storage}") and words in last, last
    return last


def test_a_postgres_server_stopped_mid_study_is_one_line_and_the_rerun_resumes(
    private_postgres: PrivateServer, sysu_only: Path, session_cache: Path, tmp_path: Path
) -> None:
    command = _command(sysu_only, tmp_path / "out", private_postgres.url, session_cache)
    code, lines = _run_and_break(command, session_cache, tmp_path / "stderr", private_postgres.stop)
    assert code == 2
    masked = private_postgres.url.replace("test-password", "***")
    last = _one_line(lines, masked, "the database server stopped answering while cells ran")
    assert "start it again" in last and "test-password" not in "\n".join(lines)

    private_postgres.start()
    assert "1 done earlier" in _rerun(command, session_cache)


def test_a_sqlite_file_removed_mid_study_is_one_line_and_the_stage_cache_keeps_the_finished_stages(
    sysu_only: Path, session_cache: Path, tmp_path: Path
) -> None:
    database = tmp_path / "trials.db"
    command = _command(sysu_only, tmp_path / "out", f"sqlite:///{database}", session_cache)
    code, lines = _run_and_break(command, session_cache, tmp_path / "stderr", database.unlink)
    assert code == 2
    _one_line(lines, f"sqlite:///{database}", "the SQLite database file was removed or replaced while cells ran")
    assert not database.exists(), "the command must not recreate a removed database"
    assert list((tmp_path / "out" / "cache" / "dcl").glob("*.pt")), "the finished cell's stages were not kept"


def test_a_journal_whose_disk_is_unmounted_mid_study_is_one_line(
    sysu_only: Path, session_cache: Path, tmp_path: Path, tmpfs: Callable[..., Path]
) -> None:
    disk = tmpfs("disk", 4096)
    journal = disk / "trials.journal"
    command = _command(sysu_only, tmp_path / "out", str(journal), session_cache)

    def unmount() -> None:
        subprocess.run(["umount", "-l", str(disk)], check=True)

    code, lines = _run_and_break(command, session_cache, tmp_path / "stderr", unmount)
    assert code == 2
    _one_line(lines, str(journal), "the journal was removed or replaced while cells ran (or its disk went away)")
    assert not journal.exists(), "the command must not start a new journal where the old one was"
