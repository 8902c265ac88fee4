"""Quality of pseudo-labels against the ground truth: ARI per modality and pooled, outlier fractions, and the
accuracy of the visible-to-infrared cluster matching. Called by the harness through a Diagnose hook only."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from mmm.data.records import TrainSplit
from mmm.diagnostics.identities import training_identities
from mmm.pipeline.hooks import Diagnose


def ari_with_outliers(pseudo: np.ndarray, truth: np.ndarray) -> float:
    """ARI where every outlier (-1) counts as a cluster of its own, so dropping samples is not rewarded."""
    labels = pseudo.astype(np.int64).copy()
    outliers = labels < 0
    labels[outliers] = labels.max(initial=-1) + 1 + np.arange(outliers.sum())
    return float(adjusted_rand_score(truth, labels))


def majority_identity(pseudo: np.ndarray, truth: np.ndarray) -> dict[int, int]:
    """For every pseudo-label, the most frequent true identity among its members."""
    result: dict[int, int] = {}
    for label in np.unique(pseudo[pseudo >= 0]):
        ids, counts = np.unique(truth[pseudo == label], return_counts=True)
        result[int(label)] = int(ids[np.argmax(counts)])
    return result


def matching_accuracy(
    labels_v: np.ndarray, matched_v: np.ndarray, labels_r: np.ndarray, truth_v: np.ndarray, truth_r: np.ndarray
) -> dict[str, float]:
    """cluster: fraction of visible clusters whose matched infrared cluster has the same majority identity;
    sample: fraction of kept visible samples whose transferred label's majority identity is their own."""
    major_v = majority_identity(labels_v, truth_v)
    major_r = majority_identity(labels_r, truth_r)
    hits = []
    for cluster, identity in major_v.items():
        members = labels_v == cluster
        target = matched_v[members]
        target = target[target >= 0]
        if target.size:
            hits.append(major_r.get(int(target[0]), -1) == identity)
    kept = matched_v >= 0
    sample_hits = np.array([major_r.get(int(t), -1) for t in matched_v[kept]]) == truth_v[kept]
    return {
        "matching_accuracy": float(np.mean(hits)) if hits else 0.0,
        "label_accuracy_visible": float(sample_hits.mean()) if sample_hits.size else 0.0,
    }


def make_diagnose(train: TrainSplit) -> Diagnose:
    """A Diagnose hook over the ground truth of `train` (pseudo-labels aligned as the pipeline documents:
    'visible'/'matched_visible' with the visible rows, 'infrared' with the infrared rows, 'pooled' with the
    visible rows followed by the infrared rows)."""
    identities = training_identities(train)
    truth_v, truth_r = identities.visible, identities.infrared
    truth_pooled = np.r_[truth_v, truth_r]
    truths = {"visible": truth_v, "infrared": truth_r, "pooled": truth_pooled}

    def diagnose(stage: str, epoch: int, pseudo: dict[str, np.ndarray]) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, truth in truths.items():
            if name in pseudo:
                out[f"ari_{name}"] = ari_with_outliers(pseudo[name], truth)
                out[f"outliers_{name}"] = float(np.mean(pseudo[name] < 0))
        if "pooled" in pseudo:
            pooled = pseudo["pooled"]
            in_v = set(pooled[: len(truth_v)][pooled[: len(truth_v)] >= 0].tolist())
            in_r = set(pooled[len(truth_v) :][pooled[len(truth_v) :] >= 0].tolist())
            out["cross_modality_clusters"] = float(len(in_v & in_r))
        if "matched_visible" in pseudo:
            out.update(
                matching_accuracy(pseudo["visible"], pseudo["matched_visible"], pseudo["infrared"], truth_v, truth_r)
            )
        return out

    return diagnose
