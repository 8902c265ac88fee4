"""Every input the report reads besides the study's own tables is checked before anything trains: a missing or
invalid --benchmark-json stops the command at once, in one line naming the file, exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.study import main
from tests.reports.study_fixture import write_benchmark_json

pytestmark = pytest.mark.usefixtures("restore_logging")
SMOKE = ["smoke", "--profile", "smoke", "--device", "cpu"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot be read (No such file or directory)"),
        ("{not json", "not valid JSON"),
        (json.dumps({"machine_info": {}}), "missing key 'benchmarks'"),
        (json.dumps({"benchmarks": [{"name": "test_knn", "stats": {"median": "fast"}}]}), "not a number"),
        (json.dumps({"benchmarks": [3]}), "benchmark 1 is not an object with a 'name'"),
    ],
)
@pytest.mark.parametrize("mode", ["run", "--dry-run", "--report-only"])
def test_a_broken_benchmark_json_stops_the_command_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, problem: str, mode: str
) -> None:
    timings = tmp_path / "timings.json"
    if content is not None:
        timings.write_text(content)
    out = tmp_path / "runs"
    argv = [*SMOKE, "--out", str(out), "--benchmark-json", str(timings)] + ([mode] if mode != "run" else [])
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"python -m harness.study: error: --benchmark-json {timings}: ")
    assert problem in lines[0]
    assert not out.exists(), "nothing may run or be written before the inputs are checked"


def test_a_valid_benchmark_json_passes_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    timings = write_benchmark_json(tmp_path / "timings.json")
    assert main([*SMOKE, "--out", str(tmp_path / "runs"), "--benchmark-json", str(timings), "--dry-run"]) == 0
    assert "4 cells" in capsys.readouterr().out
