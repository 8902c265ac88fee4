"""Writes a small study in the harness's tidy format (2 variants × 2 datasets × 2 protocols × 5 metrics × 3
seeds, RegDB with 2 trials per seed, SYSU with 10 gallery draws per run, the untrained floor and the identity-label
ceiling of every seed and trial, per-epoch diagnostics, stage times, one failure, the data check's record) and a
pytest-benchmark JSON file, with values from simple formulas so tests can state what the report must show. On real
data the cluster counts sit where real SYSU-MM01 puts them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from mmm.evaluation.feature_space import FeatureSample, distance_groups, gap_summary, sample_bytes

STUDY = "ablation_sca"
VARIANTS = ("full", "off")
SEEDS = (0, 1, 2)
REGDB_TRIALS = (1, 2)
PROTOCOLS = {"sysu": ("all", "indoor"), "regdb": ("v2i", "i2v")}
# A tuning search's protocols: scored on the validation split.
VALIDATION_PROTOCOLS = {"sysu": ("val-all",), "regdb": ("val-v2i", "val-i2v")}
METRICS = ("R1", "R10", "R20", "mAP", "mINP")
BASE = {"R1": 40.0, "R10": 70.0, "R20": 80.0, "mAP": 35.0, "mINP": 20.0}
# The one failed cell (variant, dataset, seed): it has a failures.csv row and no results.
FAILED_CELL = ("off", "regdb", 2)
STAGE_SECONDS = {"images": 3.0, "dcl": 30.0, "cmc": 45.0, "mmlm": 5.0, "sca": 20.0, "eval": 4.0}
# "full" beats "off" by this many points in every column: the Δ of "off" against "full" is its negative.
FULL_GAIN = 4.0
OFF_TRIAL_SPREAD = 0.75
# The untrained floor lies this far below BASE, spread FLOOR_SPREAD per seed (sd exactly FLOOR_SPREAD).
FLOOR_BELOW = 10.0
FLOOR_SPREAD = 0.5
# The identity-label ceiling lies this far above BASE, spread CEILING_SPREAD per seed.
CEILING_ABOVE = 20.0
CEILING_SPREAD = 0.25
SYSU_DRAWS = 10
# Draw d of a SYSU run lies DRAW_STEP * (d - 4.5) from the run's value, so the draws average to it exactly.
DRAW_STEP = 0.2
# Cluster counts at stage A's first epoch: SYSU-MM01-sized on real data, small on synthetic data.
FIRST_CLUSTERS = {"synthetic": (120, 110), "real": (880, 450)}
# What the data check records of a tree that is not the known dataset (the counts of PGM's issue 9).
MISMATCHES = [
    "SYSU-MM01: train, identities: expected 395, found 367",
    "SYSU-MM01: train, infrared images: expected 11,909, found 11,333",
]


def result_value(variant: str, metric: str, seed: int, trial: int | None) -> float:
    """Seeds spread by ±1 around the mean (sd exactly 1 over seeds 0, 1, 2); RegDB trials ±0.5 around it for
    "full" and ±OFF_TRIAL_SPREAD for "off", so a seed's mean over its trials is the same and the RegDB pairs
    differ (the SYSU pairs all differ by exactly FULL_GAIN: no variance to test)."""
    spread = OFF_TRIAL_SPREAD if variant == "off" else 0.5
    trial_offset = 0.0 if trial is None else 2 * spread * (trial - 1.5)
    return BASE[metric] + (FULL_GAIN if variant == "full" else 0.0) + (seed - 1) + trial_offset


def results_frame() -> pd.DataFrame:
    rows = []
    for variant in VARIANTS:
        for dataset, protocols in PROTOCOLS.items():
            trials = REGDB_TRIALS if dataset == "regdb" else (None,)
            for protocol in protocols:
                for seed in SEEDS:
                    if (variant, dataset, seed) == FAILED_CELL:
                        continue
                    for trial in trials:
                        for metric in METRICS:
                            rows.append(
                                {
                                    "study": STUDY,
                                    "variant": variant,
                                    "method": "MMM",
                                    "dataset": dataset,
                                    "protocol": protocol,
                                    "seed": seed,
                                    "regdb_trial": "" if trial is None else trial,
                                    "metric": metric,
                                    "value": result_value(variant, metric, seed, trial),
                                    "optuna_trial": "",
                                    "params_json": "{}",
                                }
                            )
    return pd.DataFrame(rows)


def floor_value(metric: str, seed: int) -> float:
    return BASE[metric] - FLOOR_BELOW + FLOOR_SPREAD * (seed - 1)


def ceiling_value(metric: str, seed: int) -> float:
    return BASE[metric] + CEILING_ABOVE + CEILING_SPREAD * (seed - 1)


def floor_frame(scored: dict[str, tuple[str, ...]] = PROTOCOLS) -> pd.DataFrame:
    """floor.csv as harness/reference_table.py writes it: every seed and RegDB trial, the failed cell's included."""
    return _reference_frame(floor_value, scored)


def ceiling_frame(scored: dict[str, tuple[str, ...]] = PROTOCOLS) -> pd.DataFrame:
    """ceiling.csv, likewise."""
    return _reference_frame(ceiling_value, scored)


def _reference_frame(value: Callable[[str, int], float], scored: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    rows = []
    for dataset, protocols in scored.items():
        for seed in SEEDS:
            for trial in REGDB_TRIALS if dataset == "regdb" else (None,):
                for protocol in protocols:
                    for metric in METRICS:
                        rows.append(
                            {
                                "study": STUDY,
                                "profile": "quick",
                                "data": "synthetic@0123456789ab",
                                "dataset": dataset,
                                "protocol": protocol,
                                "seed": seed,
                                "regdb_trial": "" if trial is None else trial,
                                "metric": metric,
                                "value": value(metric, seed),
                                "backbone": "mobilenet_v2",
                                "pretrained": "imagenet",
                                "weights_sha256": "2f518e77",
                                "key": f"key{seed}",
                                "error": "",
                            }
                        )
    return pd.DataFrame(rows)


# The kept features: how far apart each row's modalities sit (the larger, the wider the modality gap), and the one
# run whose feature file is gone.
FEATURE_OFFSETS = {"untrained floor": 1.2, "off": 0.8, "full": 0.4, "identity-label ceiling": 0.1}
REFERENCE_KINDS = {"untrained floor": ("floor", "untrained"), "identity-label ceiling": ("ceiling", "oracle_labels")}
MISSING_FEATURES = ("off", "sysu", 1)
FEATURE_IDENTITIES = 6
FEATURE_IMAGES = 4  # per identity and modality


def fixture_sample(offset: float, seed: int, trial: int | None) -> FeatureSample:
    """Six identities, four images each per modality, in 16 dimensions: identity centres, the two modalities
    pushed `offset` apart along one shared direction, a little noise; the same identities in every sample."""
    centres = np.random.default_rng(7).normal(size=(FEATURE_IDENTITIES, 16))
    direction = np.random.default_rng(8).normal(size=16)
    direction /= np.linalg.norm(direction)
    noise = np.random.default_rng([seed, trial or 0, int(offset * 100)])
    rows, pids, modalities = [], [], []
    for modality, sign in ((0, 1.0), (1, -1.0)):
        for pid, centre in enumerate(centres):
            for _ in range(FEATURE_IMAGES):
                rows.append(centre + sign * offset * 2.0 * direction + noise.normal(scale=0.4, size=16))
                pids.append(100 + pid)
                modalities.append(modality)
    features = np.array(rows)
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    cameras = np.where(np.array(modalities) == 0, 1, 3)
    return FeatureSample(
        features.astype(np.float16), np.array(pids), np.array(modalities, dtype=np.int8), cameras.astype(np.int16)
    )


def write_feature_space(study_dir: Path) -> pd.DataFrame:
    """The feature files of every run of results_frame and of every reference unit, and feature_space.csv as the
    harness writes it; MISSING_FEATURES's file is not there."""
    results = results_frame()
    runs = results[["variant", "dataset", "seed", "regdb_trial"]].drop_duplicates().to_dict("records")
    units = results[["dataset", "seed", "regdb_trial"]].drop_duplicates().to_dict("records")
    everything = runs + [{**unit, "variant": label} for label in REFERENCE_KINDS for unit in units]
    rows = []
    for run in everything:
        variant, dataset, seed, trial = run["variant"], run["dataset"], run["seed"], run["regdb_trial"]
        folder = REFERENCE_KINDS.get(variant, (variant, ""))[0]
        name = f"features/{folder}/{dataset}/seed{seed}" + (f"/trial{trial}" if trial != "" else "") + ".npz"
        sample = fixture_sample(FEATURE_OFFSETS[variant], seed, trial if trial != "" else None)
        data = sample_bytes(sample)
        keys: dict[str, Any] = {"study": STUDY, "variant": variant, "dataset": dataset, "seed": seed}
        keys.update(regdb_trial=trial, method=REFERENCE_KINDS.get(variant, ("", "mmm"))[1])
        keys["reference"] = REFERENCE_KINDS.get(variant, ("",))[0] if variant in REFERENCE_KINDS else ""
        if (variant, dataset, seed) == MISSING_FEATURES:
            rows.append({**keys, "error": f"{name} is missing"})
            continue
        (study_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (study_dir / name).write_bytes(data)
        summary = gap_summary(distance_groups(sample))
        located = {**keys, "file": name, "sha256": hashlib.sha256(data).hexdigest(), "error": ""}
        rows += [{**located, "metric": quantity, "value": value} for quantity, value in summary.items()]
    frame = pd.DataFrame(rows)
    frame.to_csv(study_dir / "feature_space.csv", index=False)
    return frame


def eval_trials_frame() -> pd.DataFrame:
    """The values behind each result: SYSU's gallery draws around the run's value, RegDB's one trial."""
    results = results_frame()
    rows = []
    for record in results.to_dict("records"):
        keys = {
            k: record[k] for k in ("study", "variant", "method", "dataset", "protocol", "seed", "regdb_trial", "metric")
        }
        if record["dataset"] == "regdb":
            rows.append({**keys, "eval_trial": record["regdb_trial"], "value": record["value"]})
            continue
        for draw in range(SYSU_DRAWS):
            rows.append({**keys, "eval_trial": draw, "value": record["value"] + DRAW_STEP * (draw - 4.5)})
    return pd.DataFrame(rows)


def epoch_values(variant: str, stage: str, epoch: int, seed: int, data_source: str = "synthetic") -> dict[str, float]:
    """What the pipeline records per epoch: cluster counts and losses in A and B, ground-truth ARI when
    diagnosing, one MMLM record with the matching accuracy, losses only in C."""
    visible, infrared = FIRST_CLUSTERS[data_source]
    if stage in ("dcl", "cmc"):
        values = {
            "loss": 5.0 / (epoch + 1),
            "clusters_visible": visible - 8 * epoch + seed,
            "clusters_infrared": infrared - 7 * epoch + seed,
            "ari_visible": 0.3 + 0.05 * epoch,
            "ari_infrared": 0.25 + 0.05 * epoch,
        }
        if stage == "cmc":
            values["ari_pooled"] = 0.2 + 0.06 * epoch
        return values
    if stage == "mmlm":
        return {
            "clusters_visible": visible - 40.0 + seed,
            "clusters_infrared": infrared - 35.0 + seed,
            "ari_visible": 0.55,
            "matching_accuracy": 0.6 + (0.1 if variant == "full" else 0.0) + 0.01 * seed,
        }
    return {"loss": 3.0 / (epoch + 1), "loss_ce": 2.0 / (epoch + 1)}


def epochs_frame(data_source: str = "synthetic") -> pd.DataFrame:
    rows = []
    for variant in VARIANTS:
        for dataset in PROTOCOLS:
            for seed in SEEDS:
                for stage, epochs in (("dcl", 6), ("cmc", 6), ("mmlm", 1), ("sca", 6)):
                    for epoch in range(epochs):
                        for name, value in epoch_values(variant, stage, epoch, seed, data_source).items():
                            rows.append(
                                {
                                    "study": STUDY,
                                    "variant": variant,
                                    "dataset": dataset,
                                    "seed": seed,
                                    "regdb_trial": "",
                                    "stage": stage,
                                    "epoch": epoch,
                                    "name": name,
                                    "value": value,
                                }
                            )
    return pd.DataFrame(rows)


def stages_frame() -> pd.DataFrame:
    rows = []
    for variant in VARIANTS:
        for dataset in PROTOCOLS:
            for seed in SEEDS:
                for stage, seconds in STAGE_SECONDS.items():
                    # The SCA ablation shares everything up to MMLM: the second variant loads it from the cache.
                    cached = variant == "off" and stage in ("dcl", "cmc", "mmlm")
                    rows.append(
                        {
                            "study": STUDY,
                            "variant": variant,
                            "dataset": dataset,
                            "seed": seed,
                            "regdb_trial": "",
                            "stage": stage,
                            "seconds": 0.2 if cached else seconds + seed,
                            "cached": cached,
                        }
                    )
    return pd.DataFrame(rows)


def importances_frame() -> pd.DataFrame:
    """As a tuning study writes it: per dataset, and a note instead of numbers where none could be computed."""
    return pd.DataFrame(
        [
            {"study": STUDY, "dataset": "sysu", "param": "lambda_intra", "importance": 0.6, "note": ""},
            {"study": STUDY, "dataset": "sysu", "param": "lambda_inter", "importance": 0.3, "note": ""},
            {"study": STUDY, "dataset": "sysu", "param": "eps", "importance": 0.1, "note": ""},
            {
                "study": STUDY,
                "dataset": "regdb",
                "param": "",
                "importance": "",
                "note": "1 complete trial(s); importances need 2",
            },
        ]
    )


def failures_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "cell_id": "off-regdb-2",
                "variant": FAILED_CELL[0],
                "dataset": FAILED_CELL[1],
                "seed": FAILED_CELL[2],
                "state": "FAIL",
                "error": "RuntimeError: CUDA out of memory <while allocating 2 GiB>",
            }
        ]
    )


def data_check(data_source: str, mismatches: list[str]) -> dict[str, object]:
    """The data check's record, as harness/command.py writes it."""
    expected = {"synthetic": "synthetic stand-in spec 0123456789abcdef (seed 0)", "real": None}
    return {
        name: {
            "root": f"/data/{folder}",
            "fingerprint": f"sha256:{digest}",
            "files": files,
            "bytes": 10 * files,
            "expected_from": expected[data_source] or f"published {folder} facts",
            "mismatches": mismatches if name == "sysu" else [],
        }
        for name, folder, digest, files in (
            ("sysu", "SYSU-MM01", "a1b2c3d4e5f60718", 45_863),
            ("regdb", "RegDB", "0f1e2d3c4b5a6978", 8_282),
        )
    }


def provenance(data_source: str, mismatches: list[str] | None = None) -> dict[str, object]:
    """Keys as harness/provenance.py writes them."""
    roots = {"sysu": None if data_source == "synthetic" else "/data/SYSU-MM01", "regdb": None}
    return {
        "data_check": data_check(data_source, mismatches or []),
        "command": f"python -m harness.study {STUDY}",
        "git_commit": "0123456789abcdef",
        "versions": {"python": "3.11.2", "torch": "2.13.0", "faiss": "1.8.0", "optuna": "4.1.0"},
        "device": "cpu (2 cores)",
        "data_source": data_source,
        "data_roots": roots,
        "profile": "quick",
        "wall_seconds": 3725.0,
        "cache": {"hits": 12, "misses": 24, "hits_by_stage": {"dcl": 6, "cmc": 6}, "misses_by_stage": {"dcl": 12}},
        "reference_variant": "full",
        "study_description": "Soft cluster-level alignment ablation: both SCA terms on versus both off.",
        "variant_rows": {"full": "full MMM", "off": "+MMLM"},
        "feature_variants": ["off"],
        "storage": "journal file runs/ablation_sca/optuna.journal",
        "cells": {"planned": 12, "done": 11, "failed": 1},
        "platform": "Linux-6.1-x86_64",
    }


def write_study(
    out_dir: Path,
    data_source: str = "synthetic",
    study: str = STUDY,
    mismatches: list[str] | None = None,
    features: bool = True,
) -> Path:
    """The study folder under out_dir, with every table the harness can write; returns the folder. Without
    `features`, no feature files and no feature_space.csv: for tests of other sections, whose reports would
    otherwise fit and draw a t-SNE per panel that they never look at."""
    study_dir = out_dir / study
    study_dir.mkdir(parents=True, exist_ok=True)
    results_frame().to_csv(study_dir / "results.csv", index=False)
    eval_trials_frame().to_csv(study_dir / "eval_trials.csv", index=False)
    epochs_frame(data_source).to_csv(study_dir / "epochs.csv", index=False)
    stages_frame().to_csv(study_dir / "stages.csv", index=False)
    failures_frame().to_csv(study_dir / "failures.csv", index=False)
    importances_frame().to_csv(study_dir / "importances.csv", index=False)
    floor_frame().to_csv(study_dir / "floor.csv", index=False)
    ceiling_frame().to_csv(study_dir / "ceiling.csv", index=False)
    if features:
        write_feature_space(study_dir)
    (study_dir / "provenance.json").write_text(json.dumps(provenance(data_source, mismatches)), encoding="utf-8")
    return study_dir


def write_benchmark_json(path: Path) -> Path:
    """Three benchmarks (one a training step) and the floor of one of them, shaped like pytest-benchmark's
    --benchmark-json."""

    def bench(name: str, group: str, median: float, params: dict, extra: dict) -> dict:
        stats = {
            "min": median * 0.9,
            "max": median * 1.3,
            "mean": median * 1.05,
            "median": median,
            "iqr": median * 0.1,
            "q1": median * 0.95,
            "q3": median * 1.05,
            "rounds": 5,
        }
        return {
            "group": group,
            "name": name,
            "fullname": f"tests/bench/test_x.py::{name}",
            "params": params,
            "extra_info": extra,
            "stats": stats,
        }

    document = {
        "benchmarks": [
            bench(
                "test_jaccard[1000-256]",
                "jaccard",
                0.5,
                {"n": 1000, "d": 256},
                {"device": "cpu", "threads": 2, "peak_mb": 310.0},
            ),
            bench(
                "test_jaccard_floor[1000-256]", "jaccard", 0.2, {"n": 1000, "d": 256}, {"device": "cpu", "threads": 2}
            ),
            bench(
                "test_hungarian[500]",
                "matching",
                0.03,
                {"n": 500},
                {"device": "cpu", "floor_median": 0.01, "N": 500, "D": 2048},
            ),
            bench(
                "test_training_step[mobilenet_v2-128x64-cpu]",
                "training",
                0.4,
                {},
                {
                    "device": "cpu",
                    "N": 192,
                    "D": 1280,
                    "images_per_s": 480.0,
                    "achieved_gflops": 12.0,
                    "gemm_gflops": 60.0,
                },
            ),
        ],
        "machine_info": {},
        "commit_info": {},
        "datetime": "2025-01-01T00:00:00",
        "version": "5.3.1",
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def write_tuning_study(out_dir: Path) -> Path:
    """A tuning study's folder: write_study's tables with the search's results and the references on the validation
    split."""
    study_dir = write_study(out_dir, study="tune")
    tuning_results_frame().to_csv(study_dir / "results.csv", index=False)
    floor_frame(VALIDATION_PROTOCOLS).to_csv(study_dir / "floor.csv", index=False)
    ceiling_frame(VALIDATION_PROTOCOLS).to_csv(study_dir / "ceiling.csv", index=False)
    for optional in ("epochs.csv", "stages.csv", "failures.csv"):
        (study_dir / optional).unlink()
    return study_dir


def tuning_results_frame(trials: int = 4) -> pd.DataFrame:
    """A tuning search's results: one base variant, one seed, several Optuna trials (parameter settings) per
    cell; trial t scores 30 + 2t mAP on SYSU's validation split, so the last trial is the best."""
    rows = []
    for trial in range(trials):
        params = json.dumps({"lambda_intra": 0.1 * (trial + 1), "memories": trial + 1})
        for protocol in VALIDATION_PROTOCOLS["sysu"]:
            for metric in METRICS:
                rows.append(
                    {
                        "study": "tune",
                        "variant": "base",
                        "method": "MMM",
                        "dataset": "sysu",
                        "protocol": protocol,
                        "seed": 0,
                        "regdb_trial": "",
                        "metric": metric,
                        "value": BASE[metric] - 5.0 + 2.0 * trial,
                        "optuna_trial": trial,
                        "params_json": params,
                    }
                )
    return pd.DataFrame(rows)
