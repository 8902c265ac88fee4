"""The command line: listing, dry runs, report-only, and usage errors that name the valid values (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.registry import list_studies
from harness.run_key import RunKey
from harness.study import main
from tests.harness.fakes import fake_ledger, recording_method, run_fake

pytestmark = pytest.mark.usefixtures("restore_logging")

REPO = Path(__file__).resolve().parents[2]
# Seconds of imports between them, and nothing that lists studies or explains the options needs them.
HEAVY = ("torch", "optuna", "sqlalchemy")
# Runs the command the way `python -m harness.study` does (runpy, as __main__), then writes on the last line of
# stderr which of the heavy packages the process imported.
IMPORTS_OF_COMMAND = f"""
import runpy, sys
code = 0
try:
    runpy.run_module("harness.study", run_name="__main__", alter_sys=True)
except SystemExit as end:
    code = end.code
sys.stderr.write("\\nimported: " + " ".join(sorted(set({HEAVY!r}) & {{m.split(".")[0] for m in sys.modules}})))
sys.exit(code)
"""


def test_list_names_every_study_with_its_description(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list_studies()
    assert any(line.startswith("ablation_sca") and "SCA" in line for line in lines)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["no_such_study"], "unknown study 'no_such_study'; valid: ablation_components, ablation_sca"),
        (
            ["smoke", "--profile", "huge"],
            "invalid choice: 'huge' (choose from 'smoke', 'quick', 'paper', 'release')",
        ),
        (["smoke", "--recipe", "authors"], "invalid choice: 'authors' (choose from 'paper', 'release')"),
        (["smoke", "--device", "tpu"], "invalid choice: 'tpu' (choose from 'cpu', 'cuda')"),
        (["smoke", "--precision", "fp16"], "invalid choice: 'fp16' (choose from 'fp32', 'bf16')"),
        (["smoke", "--storage", "redis://localhost"], "sqlite:///PATH"),
        (["smoke", "--seeds", "0"], "expected a positive integer"),
        (["smoke", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
        ([], "name a study (valid: ablation_components"),
        (["smoke", "--dry-run", "--report-only"], "not allowed with argument"),
    ],
)
def test_usage_errors_exit_2_and_name_the_valid_values(
    argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert expected in capsys.readouterr().err


def test_a_data_root_without_datasets_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["smoke", "--data-root", str(tmp_path), "--dry-run"]) == 2
    assert "expected SYSU-MM01/ and/or RegDB/" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--report-only" in capsys.readouterr().out


@pytest.mark.parametrize(("flag", "shown"), [("--list", "ablation_sca"), ("--help", "--report-only")])
def test_list_and_help_import_neither_torch_nor_optuna_nor_sqlalchemy(flag: str, shown: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS_OF_COMMAND, flag], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert shown in done.stdout
    assert done.stderr.rsplit("imported:", 1)[1].split() == []


def test_dry_run_lists_pending_cells_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "runs"
    assert main(["ablation_sca", "--out", str(out), "--dry-run", "--seeds", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        "ablation_sca (quick, synthetic data, weights imagenet@2f518e773d44): 20 cells — 20 pending"
    )
    assert "pending  full/regdb/seed1/trial1" in lines
    assert not out.exists()


def test_dry_run_marks_finished_and_failed_cells(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = fake_ledger(None, tmp_path, "smoke")
    run_fake(ledger, recording_method(tmp_path / "log", fail={"sca_off/sysu/seed0"}), tmp_path)
    assert main(["smoke", "--profile", "smoke", "--out", str(tmp_path), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "3 done, 1 failed" in lines[0]
    assert "failed   sca_off/sysu/seed0" in lines and "done     full/sysu/seed0" in lines


def test_another_recipe_is_another_run_and_the_profiles_own_recipe_is_the_same_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_fake(fake_ledger(None, tmp_path, "smoke"), recording_method(tmp_path / "log"), tmp_path)
    assert main(["smoke", "--profile", "smoke", "--out", str(tmp_path), "--dry-run", "--recipe", "paper"]) == 0
    assert "4 cells — 4 done" in capsys.readouterr().out.splitlines()[0]
    assert main(["smoke", "--profile", "smoke", "--out", str(tmp_path), "--dry-run", "--recipe", "release"]) == 0
    assert "4 cells — 4 pending" in capsys.readouterr().out.splitlines()[0]


def test_bf16_is_another_run_and_fp32_the_same_run_as_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_fake(fake_ledger(None, tmp_path, "smoke"), recording_method(tmp_path / "log"), tmp_path)
    argv = ["smoke", "--profile", "smoke", "--out", str(tmp_path), "--dry-run", "--device", "cpu"]
    assert main([*argv, "--precision", "fp32"]) == 0
    assert "4 cells — 4 done" in capsys.readouterr().out.splitlines()[0]
    assert main([*argv, "--precision", "bf16"]) == 0
    assert "4 cells — 4 pending" in capsys.readouterr().out.splitlines()[0]
    bf16 = RunKey("quick", {"sysu": "synthetic@x"}, "none", "release", "bf16")
    assert bf16.study_name("recipes", "sysu") == "recipes:quick+release+bf16:none:synthetic@x:sysu"
    assert RunKey("quick", {"sysu": "synthetic@x"}, "none", None, "bf16").folder == "quick+bf16"


def test_a_recipe_other_than_the_profiles_names_its_studies_and_folder() -> None:
    own = RunKey("quick", {"sysu": "synthetic@x"}, "none")
    other = RunKey("quick", {"sysu": "synthetic@x"}, "none", "release")
    assert own.study_name("recipes", "sysu") == "recipes:quick:none:synthetic@x:sysu" and own.folder == "quick"
    assert other.study_name("recipes", "sysu") == "recipes:quick+release:none:synthetic@x:sysu"
    assert other.folder == "quick+release"


def test_dry_run_on_a_data_root_plans_only_the_datasets_present(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "RegDB").mkdir()
    argv = ["smoke", "--profile", "smoke", "--data-root", str(tmp_path), "--out", str(tmp_path / "runs"), "--dry-run"]
    assert main(argv) == 0
    cells = capsys.readouterr().out.splitlines()[1:]
    assert cells == ["pending  full/regdb/seed0/trial1", "pending  sca_off/regdb/seed0/trial1"]


def test_report_only_rewrites_tables_and_report_from_stored_trials(tmp_path: Path) -> None:
    run_fake(fake_ledger(None, tmp_path, "smoke"), recording_method(tmp_path / "log"), tmp_path)
    assert main(["smoke", "--profile", "smoke", "--out", str(tmp_path), "--report-only"]) == 0
    study_dir = tmp_path / "smoke" / "smoke"
    assert len((study_dir / "results.csv").read_text().splitlines()) == 1 + 4 * 2 * 5
    assert (study_dir / "provenance.json").is_file()
    assert (study_dir / "report.html").is_file()


def test_report_only_without_stored_runs_points_at_what_is_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_fake(fake_ledger(None, tmp_path, "smoke"), recording_method(tmp_path / "log"), tmp_path)
    assert main(["smoke", "--out", str(tmp_path), "--report-only"]) == 0  # default profile: quick
    assert "nothing stored for smoke under profile quick" in caplog.text
    assert fake_ledger(None, tmp_path, "smoke").name("sysu") in caplog.text
    assert not (tmp_path / "smoke" / "quick").exists()
