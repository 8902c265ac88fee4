"""The noise study in a report: R1 and mAP against the share r of deranged correspondences, one curve per SCA
setting (stage C on the true identities, oracle_labels), the matchers' measured errors marked on the r axis, and a
paired test of each SCA term against sca_off at each r.

A curve's variants are read from results.csv: method oracle_labels with `correspondence_noise` among their
parameters; the SCA setting is named by their `intra` and `inter` parameters. The marks: for every other variant
that recorded a cluster matching accuracy (MMM's MMLM, the centroid-Hungarian baseline's per-epoch matching), the
last one each run recorded, averaged over runs; the mark stands at r = 1 − that accuracy. The accuracy is the share
of visible clusters whose matched infrared cluster has the same majority identity
(mmm.diagnostics.pseudo_labels.matching_accuracy); on the noise study's labels, where clusters are identities, it
is 1 − moved / K (every identity having visible images), so the two share one axis — though a matcher's clusters
also carry clustering errors that r does not.
"""

from __future__ import annotations

import json

import pandas as pd

from mmm.choices import PRIMARY_PROTOCOLS
from reports.paired import PAIRED_COLUMNS, adjust_families, paired_deltas
from reports.summary import per_seed

NOISY_METHOD = "oracle_labels"
NOISE_PARAM = "correspondence_noise"
MATCHING_ACCURACY = "matching_accuracy"
BASELINE_SETTING = "sca_off"
# (intra, inter) -> the SCA setting's name, as studies/noise.py and ablation_sca name them.
SETTINGS = {(False, False): "sca_off", (True, False): "intra", (False, True): "inter", (True, True): "full"}
NOISE_TEST_COLUMNS = ["r", *PAIRED_COLUMNS]


def noise_points(results: pd.DataFrame) -> pd.DataFrame:
    """variant, r and setting of every noise-curve variant (empty when the study has none)."""
    rows = results[results["method"] == NOISY_METHOD].drop_duplicates("variant")
    points = []
    for record in rows.to_dict("records"):
        params = json.loads(record.get("params_json") or "{}")
        if NOISE_PARAM not in params:
            continue
        setting = SETTINGS[(bool(params.get("intra", True)), bool(params.get("inter", True)))]
        points.append({"variant": record["variant"], "r": float(params[NOISE_PARAM]), "setting": setting})
    return pd.DataFrame(points, columns=["variant", "r", "setting"])


def noise_curves(results: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Per-seed values of the curve variants (per_seed's layout, RegDB trials averaged) with their r and setting."""
    seeds = per_seed(results[results["variant"].isin(points["variant"])])
    return seeds.assign(variant=seeds["variant"].astype(str)).merge(points, on="variant")


def matcher_marks(epochs: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Per variant outside the curves and dataset: the mean over runs of the last cluster matching accuracy each
    run recorded, the runs behind it and the mark r = 1 − accuracy."""
    columns = ["variant", "dataset", "accuracy", "runs", "r"]
    recorded = epochs[(epochs["name"] == MATCHING_ACCURACY) & ~epochs["variant"].isin(points["variant"])]
    if recorded.empty:
        return pd.DataFrame(columns=columns)
    run = ["variant", "dataset", "seed", "regdb_trial"]
    # Records come in training order (stages, then epochs), so a run's last row is its final matching.
    last = recorded.groupby(run, dropna=False, sort=False).tail(1)
    marks = last.groupby(["variant", "dataset"], sort=False)["value"].agg(accuracy="mean", runs="count").reset_index()
    return marks.assign(r=1.0 - marks["accuracy"])[columns]


def noise_tests(results: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Each SCA term against sca_off at the same r on the primary protocol, paired by run (reports.paired), one row
    per r × term × dataset × metric (NOISE_TEST_COLUMNS; `variant` names the term, `reference` is sca_off). The
    p-values are Holm-adjusted over the whole study on one dataset and metric (every r and term)."""
    primary = results["protocol"] == results["dataset"].map(PRIMARY_PROTOCOLS)
    frames = []
    for level, at_level in points.groupby("r", sort=True):
        names = dict(zip(at_level["variant"], at_level["setting"]))
        if BASELINE_SETTING not in names.values():
            continue
        rows = results[primary & results["variant"].isin(names)]
        tested = paired_deltas(rows.assign(variant=rows["variant"].map(names)), BASELINE_SETTING)
        frames.append(tested.assign(r=level))
    if not frames:
        return pd.DataFrame(columns=NOISE_TEST_COLUMNS)
    return adjust_families(pd.concat(frames, ignore_index=True))[NOISE_TEST_COLUMNS]
