"""Fixtures for the harness's tests: a fresh database on the PostgreSQL server CI starts, small tmpfs mounts (a full
disk, a read-only folder), and the smoke study run once per session for the tests that only read it or work on a
copy. What they need and lack skips here and fails under CI (tests.availability)."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

import pytest

from harness.study import main
from tests.availability import require

# The smoke study as a user runs it (ImageNet start, the CPU), shared by the session.
SMOKE_STUDY = ("smoke", "--profile", "smoke", "--device", "cpu")

# The URL of a PostgreSQL server whose user may create databases; .ci/run starts one and exports it.
POSTGRES_ENV = "MMM_TEST_POSTGRES_URL"


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


@pytest.fixture()
def postgres_server() -> str:
    """The admin URL of the test PostgreSQL server."""
    url = os.environ.get(POSTGRES_ENV)
    require(bool(url), f"{POSTGRES_ENV} names no PostgreSQL server (.ci/run starts a throwaway one)")
    require(
        importlib.util.find_spec("psycopg") is not None,
        "the psycopg driver is not installed (pip install -e '.[postgres]')",
    )
    return str(url)


@pytest.fixture()
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A URL of a fresh, empty database on the test server, dropped afterwards."""
    import psycopg

    name = f"mmm_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield with_database(postgres_server, name)
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture()
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A shared storage of the kind the test is parametrized with: journal, sqlite or postgresql."""
    kind = request.param
    if kind == "journal":
        return str(tmp_path / "shared.journal")
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture()
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """mount(name, size_kib, read_only=False): a fresh tmpfs of that size at tmp_path/name (root only)."""
    mounted: list[Path] = []

    def mount(name: str, size_kib: int, read_only: bool = False) -> Path:
        require(os.geteuid() == 0, "a small tmpfs (a full disk, a read-only folder) can only be mounted as root")
        target = tmp_path / name
        target.mkdir()
        options = f"size={size_kib}k" + (",ro" if read_only else "")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True, text=True
        )
        require(done.returncode == 0, f"mount -t tmpfs failed: {done.stderr.strip()}")
        mounted.append(target)
        return target

    yield mount
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], check=False)


@pytest.fixture()
def read_only_folder(tmp_path: Path, tmpfs: Callable[..., Path]) -> Iterator[Path]:
    """A folder no one can write to: a read-only tmpfs as root (root ignores permissions), else mode 0555."""
    if os.geteuid() == 0:
        yield tmpfs("read-only", 64, read_only=True)
        return
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


PASSWORD = "test-password"


@dataclass
class PrivateServer:
    """A PostgreSQL cluster of this test's own, which it may stop and start (the shared CI server stays up)."""

    url: str
    stop: Callable[[], None]
    start: Callable[[], None]
    binaries: Path  # Debian's postgresql bin folder (createuser, createdb, psql, ...)
    port: int
    password: str


def _postgres_bin() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name))
    return candidates[-1] if candidates and (candidates[-1] / "initdb").is_file() else None


@pytest.fixture()
def private_postgres(tmp_path: Path) -> Iterator[PrivateServer]:
    """A throwaway PostgreSQL cluster started the way .ci/run starts CI's (Debian's binaries, 127.0.0.1, a free
    port, a password), stopped and deleted afterwards."""
    require(importlib.util.find_spec("psycopg") is not None, "the psycopg driver is not installed")
    binaries = _postgres_bin()
    require(binaries is not None, "Debian's postgresql is not installed (apt-get install postgresql; .ci/run does)")
    assert binaries is not None
    folder = Path(tempfile.mkdtemp(prefix="mmm-test-postgres-"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(folder, "postgres")
    (folder / "password").write_text(f"{PASSWORD}\n")
    subprocess.run(
        [
            *as_postgres,
            str(binaries / "initdb"),
            "-D",
            str(folder / "data"),
            "-U",
            "mmm",
            "--auth=scram-sha-256",
            f"--pwfile={folder / 'password'}",
        ],
        check=True,
        capture_output=True,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pg_ctl = [*as_postgres, str(binaries / "pg_ctl"), "-D", str(folder / "data")]
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}"

    def start() -> None:
        subprocess.run(
            [*pg_ctl, "-l", str(folder / "log"), "-w", "-o", options, "start"], check=True, capture_output=True
        )

    def stop() -> None:
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], check=False, capture_output=True)

    start()
    try:
        url = f"postgresql://mmm:{PASSWORD}@127.0.0.1:{port}/postgres"
        yield PrivateServer(url, stop, start, binaries, port, PASSWORD)
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def run_study(argv: Sequence[str], cache: Path) -> None:
    """main(argv) with MMM_CACHE_DIR at `cache`, for fixtures wider than one test: the process's logging set-up
    and environment are put back afterwards (restore_logging serves single tests)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    harness_level = logging.getLogger("harness").level
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MMM_CACHE_DIR", str(cache))
            assert main(list(argv)) == 0, argv
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("harness").setLevel(harness_level)


@pytest.fixture(scope="session")
def smoke_study_run(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Path:
    """The out folder of one finished smoke study (SMOKE_STUDY). Tests read it, dry-run against it, or copy it
    (shutil.copytree: nothing in its journal or caches names the folder) before they change anything."""
    out = tmp_path_factory.mktemp("smoke-study") / "runs"
    run_study([*SMOKE_STUDY, "--out", str(out)], session_cache)
    return out
