"""The smoke tune study through the command with the real pipeline: the search is scored on the validation split
alone (with every test image undecodable it still finishes), its choice and the defaults are re-trained on the whole
training split and scored on test, the storage is a plain Optuna storage, and the choice feeds other studies."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from harness.study import main
from mmm.data.records import Modality
from mmm.data.regdb import idx_file, read_index
from mmm.data.synthetic import ensure_synthetic_pair, smoke_spec
from mmm.data.sysu import read_id_file

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("restore_logging")]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_smoke_tune_searches_on_validation_then_reports_its_choice_on_test(
    tmp_path: Path, session_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MMM_CACHE_DIR", str(session_cache))
    out = tmp_path / "runs"
    argv = ["tune", "--profile", "smoke", "--out", str(out), "--device", "cpu"]
    assert main(argv) == 0

    study_dir = out / "tune" / "smoke"
    search = _rows(study_dir / "results.csv")
    scored = {("sysu", "val-all"), ("regdb", "val-v2i"), ("regdb", "val-i2v")}
    assert {(r["dataset"], r["protocol"]) for r in search} == scored
    final = _rows(study_dir / "final" / "results.csv")
    assert {(r["variant"], r["dataset"], r["protocol"], r["seed"]) for r in final} == {
        (v, d, p, s)
        for v in ("selected", "default")
        for d, ps in (("sysu", ("all", "indoor")), ("regdb", ("v2i", "i2v")))
        for p in ps
        for s in ("0", "1")
    }
    assert _rows(study_dir / "failures.csv") == [] and _rows(study_dir / "final" / "failures.csv") == []

    # The choice is the search trial with the best validation mAP, and the selected cells trained with it.
    chosen = json.loads((study_dir / "best_params.json").read_text())
    for dataset, protocol in (("sysu", "val-all"), ("regdb", "val-v2i")):
        scores = [r for r in search if r["dataset"] == dataset and r["protocol"] == protocol and r["metric"] == "mAP"]
        best = max(scores, key=lambda r: (float(r["value"]), -int(r["optuna_trial"])))
        assert chosen["objective"][dataset]["trial"] == int(best["optuna_trial"])
        assert chosen["objective"][dataset]["value"] == pytest.approx(float(best["value"]))
        searched = {k: v for k, v in json.loads(best["params_json"]).items() if k != "intermediate_eval"}
        assert chosen["params"][dataset] == searched
        selected = {r["params_json"] for r in final if r["dataset"] == dataset and r["variant"] == "selected"}
        assert {json.dumps(json.loads(p), sort_keys=True) for p in selected} == {json.dumps(searched, sort_keys=True)}

    html = (study_dir / "report.html").read_text()
    assert "Search: scored on the validation split" in html
    assert "Final: selected on validation, reported on test" in html
    provenance = json.loads((study_dir / "provenance.json").read_text())
    assert provenance["validation"]["regdb"]["held_out"] and "seed (0, 1)" in provenance["validation"]["regdb"]["rule"]
    assert "val_id.txt" in provenance["validation"]["sysu"]["rule"]

    # A plain Optuna storage (what optuna-dashboard opens): the search's trial values are the validation mAPs.
    storage = JournalStorage(JournalFileBackend(str(out / "tune" / "optuna.journal")))
    names = optuna.get_all_study_names(storage)
    assert len(names) == 4 and sum(name.endswith(":final") for name in names) == 2
    (sysu_search,) = [n for n in names if ":sysu:" in n and not n.endswith(":final")]
    study = optuna.load_study(study_name=sysu_search, storage=storage)
    values = {t.number: t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE}
    val_maps = {
        int(r["optuna_trial"]): float(r["value"]) for r in search if r["protocol"] == "val-all" and r["metric"] == "mAP"
    }
    assert values == pytest.approx(val_maps)

    assert main(argv) == 0  # resumes: both phases are done, nothing runs
    assert _rows(study_dir / "final" / "results.csv") == final
    capsys.readouterr()
    assert main([*argv, "--dry-run"]) == 0
    assert "final phase (selected on validation, scored on test): 8 cells — 8 done" in capsys.readouterr().out

    # The choice feeds another study (its own run key: nothing of it is done yet); the tune study refuses it.
    params = str(study_dir / "best_params.json")
    assert main(["smoke", "--profile", "smoke", "--out", str(out), "--params", params, "--dry-run"]) == 0
    assert "4 cells — 4 pending" in capsys.readouterr().out
    assert main([*argv, "--params", params]) == 2
    assert "chooses its own parameters" in capsys.readouterr().err


def test_the_search_never_reads_a_test_image(
    tmp_path: Path, session_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sysu_root, regdb_root = ensure_synthetic_pair(session_cache, smoke_spec())
    root = tmp_path / "data"
    shutil.copytree(sysu_root.parent, root)
    # Every test image keeps a valid header (the readers check it) and cannot be decoded.
    test_ids = read_id_file(root / "SYSU-MM01" / "exp" / "test_id.txt")
    broken = [p for pid in test_ids for p in (root / "SYSU-MM01").glob(f"cam*/{pid:04d}/*.jpg")]
    for modality in Modality:
        broken += [e.path for e in read_index(root / "RegDB", idx_file(root / "RegDB", "test", modality, 1), set())]
    assert broken
    for path in broken:
        path.write_bytes(path.read_bytes()[:8] + b"\0" * 16)
    monkeypatch.setenv("MMM_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "runs"
    assert main(["tune", "--profile", "smoke", "--data-root", str(root), "--out", str(out), "--device", "cpu"]) == 1

    study_dir = out / "tune" / "smoke"
    assert _rows(study_dir / "failures.csv") == []  # every search cell finished
    assert len({r["optuna_trial"] for r in _rows(study_dir / "results.csv") if r["dataset"] == "sysu"}) == 3
    failures = _rows(study_dir / "final" / "failures.csv")  # the final phase scores on test: it cannot
    assert len(failures) == 8 and all(f["state"] == "failed" for f in failures)
    assert all(any(str(path) in f["error"] for path in broken) for f in failures)
