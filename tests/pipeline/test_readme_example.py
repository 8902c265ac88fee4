"""The README's example runs as written: the first python block of README.md, near its top, executed unchanged with
its cache folder (default_cache_dir, from MMM_CACHE_DIR) pointed at the test session's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mmm.choices import METRICS
from mmm.pipeline.result import RunResult

README = Path(__file__).resolve().parents[2] / "README.md"
FIRST_SCREEN_LINES = 40
BLOCK = re.compile(r"^```python\n(?P<code>.*?)^```$", re.DOTALL | re.MULTILINE)


def readme_example() -> tuple[int, str]:
    """(line where the block opens, its code): the README's first python block."""
    text = README.read_text(encoding="utf-8")
    match = BLOCK.search(text)
    assert match is not None, "README.md has no ```python block"
    return text.count("\n", 0, match.start()) + 1, match.group("code")


def test_the_example_is_on_the_readmes_first_screen() -> None:
    line, code = readme_example()
    assert line <= FIRST_SCREEN_LINES
    assert "run_pipeline(" in code


def test_the_readme_example_runs_and_prints_the_metrics(
    session_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, code = readme_example()
    monkeypatch.setenv("MMM_CACHE_DIR", str(session_cache))
    # Anything the block writes relative to the working folder lands in the test's own folder.
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(code, str(README), "exec"), namespace)
    result = namespace["result"]
    assert isinstance(result, RunResult)
    assert set(result.metrics) == {"all", "indoor"}
    assert all(list(values) == list(METRICS) for values in result.metrics.values())
    printed = capsys.readouterr().out
    assert "'all'" in printed and "'mAP'" in printed
