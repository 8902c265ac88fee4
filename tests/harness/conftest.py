"""Fixtures for the harness's fault tests: a fresh database on the PostgreSQL server CI starts, small tmpfs mounts
(a full disk, a read-only folder). What they need and lack skips here and fails under CI (tests.availability)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import uuid
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.availability import require

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
