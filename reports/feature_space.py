"""The report's feature-space section: what the kept test features (mmm.evaluation.feature_space, one file per run,
listed in feature_space.csv) show of the modality gap, for the reference variant, the variants the study marks, the
untrained floor and the identity-label ceiling.

Per dataset: a seeded 2-D t-SNE of one run per shown variant (the same seed and RegDB trial wherever there is one,
the same test images in every panel), the densities of the three distance groups pooled over a variant's runs, and
a table over every variant and reference of the groups' means, the modality gap and the cross-modality separation,
mean ± sd over seeds, with each variant's gap and separation paired run by run against the reference variant's. A
run whose feature file cannot be served is one line naming it; the rest of the section stands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from mmm.choices import (
    CROSS_NEGATIVE,
    CROSS_POSITIVE,
    CROSS_SEPARATION,
    DISTANCE_GROUPS,
    INTRA_POSITIVE,
    MODALITY_GAP,
)
from mmm.data.records import Modality
from mmm.evaluation.feature_space import (
    IMAGES_PER_MODALITY,
    SUBSET_IDENTITIES,
    FeatureFileError,
    FeatureSample,
    distance_groups,
    read_sample_file,
)
from reports.display import NO_VALUE, Cell, DisplayTable, delta_css, fmt_delta, fmt_integer, fmt_mean_sd, fmt_number
from reports.feature_figures import DensityPanel, EmbeddingPanel, density_figure, embedding_figure
from reports.paired import RESOLVED, adjust_families, paired_test
from reports.references import CEILING_LABEL, FLOOR_LABEL, USES_IDENTITY_LABELS
from reports.schema import DATASET_LABELS

# t-SNE: fixed settings, one fit per panel. 500 iterations settle a few hundred points; perplexity 30 is
# scikit-learn's default, lowered for samples too small for it.
TSNE_PERPLEXITY = 30.0
TSNE_ITERATIONS = 500
TSNE_SEED = 0
# Distances drawn per group and variant at most (a seeded draw), so the densities stay cheap at paper scale.
DENSITY_DRAW = 20_000
DENSITY_SEED = 0
# Runs without features named one per line, at most this many (the rest counted).
MISSING_SHOWN = 12
_NO_TRIAL = -1
_UNIT = ["seed", "regdb_trial"]
_QUANTITY_COLUMNS = (
    (CROSS_POSITIVE, "same id, across modalities"),
    (INTRA_POSITIVE, "same id, same modality"),
    (CROSS_NEGATIVE, "different ids, across modalities"),
    (MODALITY_GAP, "modality gap"),
    (CROSS_SEPARATION, "cross-modality separation"),
)
# The quantities paired run by run against the reference variant, each its own Holm family.
_PAIRED = ((MODALITY_GAP, "gap"), (CROSS_SEPARATION, "separation"))


@dataclass(frozen=True)
class FeatureSpaceSection:
    """One dataset's pictures and table; notes name the runs whose features are missing."""

    label: str
    embedding: str | None
    embedding_caption: str
    densities: str | None
    table: DisplayTable | None
    subset: str = ""  # what the drawn samples hold: identities and images per modality
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FeatureSpace:
    shown: list[str]  # the variants drawn, in panel order
    sections: list[FeatureSpaceSection]
    note: str  # why there is nothing to show, when there is not
    identities: int = SUBSET_IDENTITIES  # the most identities a sample keeps
    images: int = IMAGES_PER_MODALITY  # the most images of each per modality


def shown_variants(variants: Sequence[str], reference: str, marked: Sequence[str]) -> list[str]:
    """The panels' variants: the floor, the reference variant, the marked ones (in study order), the ceiling."""
    chosen = [v for v in variants if v == reference or v in set(marked)]
    chosen.sort(key=lambda v: (v != reference, variants.index(v)))
    return [FLOOR_LABEL, *chosen, CEILING_LABEL]


def feature_space(
    rows: pd.DataFrame, folder: Path | None, results: pd.DataFrame, reference: str, marked: Sequence[str]
) -> FeatureSpace:
    """The section from feature_space.csv's `rows` (files under `folder`), over the runs `results` shows."""
    shown = shown_variants(list(dict.fromkeys(results["variant"])), reference, marked)
    if rows.empty or folder is None:
        note = (
            "No feature_space.csv rows: these runs kept no test features (a study run before features were kept, "
            "or a tuning search, which scores validation identities). Re-running the study keeps them for new runs."
        )
        return FeatureSpace(shown, [], note)
    rows = _shown_runs(_keyed(rows), _keyed(results))
    sections = []
    for dataset, label in DATASET_LABELS.items():
        measured = rows[rows["dataset"] == dataset]
        if measured.empty:
            continue
        sections.append(_section(label, measured, folder, shown, reference))
    note = "" if sections else "No run of these results kept features."
    return FeatureSpace(shown, sections, note)


def _section(label: str, rows: pd.DataFrame, folder: Path, shown: list[str], reference: str) -> FeatureSpaceSection:
    notes = [_missing_line(r) for r in rows[rows["error"] != ""].to_dict("records")]
    samples: dict[str, dict[tuple[int, int], FeatureSample]] = {}
    for variant in shown:
        runs = rows[(rows["variant"] == variant) & (rows["metric"] == MODALITY_GAP)].sort_values(_UNIT)
        for record in runs.to_dict("records"):
            try:
                sample = read_sample_file(folder / record["file"], record["sha256"], record["file"])
            except FeatureFileError as error:
                notes.append(_missing_line({**record, "error": str(error)}))
                continue
            samples.setdefault(variant, {})[(int(record["seed"]), int(record["regdb_trial"]))] = sample
    drawn = [variant for variant in shown if variant in samples]
    notes += [f"{variant}: no feature file could be read, so no panel." for variant in shown if variant not in samples]
    if len(notes) > MISSING_SHOWN:
        notes = notes[:MISSING_SHOWN] + [f"… and {len(notes) - MISSING_SHOWN} more runs without features."]
    unit = _common_unit(samples, reference)
    embedded = [_embedded(variant, samples[variant], unit) for variant in drawn]
    caption = (
        "t-SNE of each variant's kept test features (scikit-learn, perplexity "
        f"{TSNE_PERPLEXITY:g} or less for small samples, {TSNE_ITERATIONS} iterations, seed {TSNE_SEED}, PCA start), "
        "one run per panel, fitted per panel and drawn on the same axes. Colour: test identity (the same identities "
        "and images in every panel); marker: modality. A panel's run is named in its title."
    )
    densities = [DensityPanel(_title(variant), _pooled_groups(samples[variant])) for variant in drawn]
    return FeatureSpaceSection(
        label=label,
        embedding=embedding_figure(embedded),
        embedding_caption=caption,
        densities=density_figure(densities),
        table=gap_display(rows, reference),
        subset=_subset_text(samples),
        notes=notes,
    )


def _subset_text(samples: dict[str, dict[tuple[int, int], FeatureSample]]) -> str:
    """What the drawn samples hold (the same images in every run, so any one of them says it)."""
    runs = [sample for by_run in samples.values() for sample in by_run.values()]
    if not runs:
        return ""
    sample = runs[0]
    visible = int((sample.modalities == Modality.VISIBLE).sum())
    return (
        f"The sample each run keeps: {sample.identities} test identities, {visible} visible and "
        f"{len(sample.modalities) - visible} infrared images."
    )


def _missing_line(record: dict[str, object]) -> str:
    return f"{record['variant']} {_run_name(record)}: {record['error']}"


def _run_name(record: dict[str, object]) -> str:
    trial = int(record["regdb_trial"])  # type: ignore[call-overload]
    name = f"seed {fmt_integer(record['seed'])}"
    return name + (f" trial {trial}" if trial != _NO_TRIAL else "")


def _title(variant: str) -> str:
    return f"{variant} ({USES_IDENTITY_LABELS})" if variant == CEILING_LABEL else variant


def _common_unit(samples: dict[str, dict[tuple[int, int], FeatureSample]], reference: str) -> tuple[int, int] | None:
    """The run every panel should show: the reference variant's first, else the first any variant has."""
    first = samples.get(reference) or next(iter(samples.values()), {})
    return min(first) if first else None


def _embedded(variant: str, runs: dict[tuple[int, int], FeatureSample], unit: tuple[int, int] | None) -> EmbeddingPanel:
    chosen = unit if unit in runs else min(runs)
    sample = runs[chosen]
    seed, trial = chosen
    title = f"{_title(variant)}\nseed {seed}" + (f", trial {trial}" if trial != _NO_TRIAL else "")
    return EmbeddingPanel(title, tsne(sample), sample.pids, sample.modalities)


def tsne(sample: FeatureSample) -> np.ndarray:
    """The seeded 2-D t-SNE of a sample's rows (cosine distance, the evaluation's metric)."""
    # Imported here: scikit-learn's manifold module takes a moment, and only this section needs it.
    from sklearn.manifold import TSNE

    rows = len(sample.pids)
    perplexity = min(TSNE_PERPLEXITY, max((rows - 1) / 3.0, 1.0))
    model = TSNE(
        n_components=2,
        perplexity=perplexity,
        max_iter=TSNE_ITERATIONS,
        init="pca",
        metric="cosine",
        random_state=TSNE_SEED,
    )
    return np.asarray(model.fit_transform(sample.features.astype(np.float32)), dtype=np.float64)


def _pooled_groups(runs: dict[tuple[int, int], FeatureSample]) -> dict[str, np.ndarray]:
    """Each group's distances over all of a variant's runs, a seeded draw of at most DENSITY_DRAW."""
    per_run = [distance_groups(sample) for sample in runs.values()]
    rng = np.random.default_rng(DENSITY_SEED)
    pooled = {}
    for group in DISTANCE_GROUPS:
        values = np.concatenate([groups[group] for groups in per_run])
        pooled[group] = rng.choice(values, DENSITY_DRAW, replace=False) if len(values) > DENSITY_DRAW else values
    return pooled


def gap_display(rows: pd.DataFrame, reference: str) -> DisplayTable | None:
    """Per variant and reference: each quantity's mean ± sd over seeds (RegDB: a seed's value is the mean over its
    trials), the seeds, and the gap's and the separation's paired differences to the reference variant with their
    95% intervals and verdicts (Holm over this dataset's differences of that quantity)."""
    measured = rows[rows["error"] == ""]
    if measured.empty:
        return None
    seeds = measured.groupby(["variant", "metric", "seed"], sort=False)["value"].mean().reset_index()
    summary = seeds.groupby(["variant", "metric"], sort=False)["value"].agg(mean="mean", sd="std", n="count")
    differences = {quantity: _paired_differences(measured, reference, quantity) for quantity, _ in _PAIRED}
    variants = list(dict.fromkeys(measured["variant"]))
    variants.sort(key=lambda v: (v in (FLOOR_LABEL, CEILING_LABEL), v == CEILING_LABEL))
    table_rows = []
    for variant in variants:
        css = "floor" if variant == FLOOR_LABEL else "ceiling" if variant == CEILING_LABEL else ""
        cells = [Cell(_title(variant), css), Cell(fmt_integer(summary.loc[(variant, MODALITY_GAP), "n"]), "num")]
        for quantity, _ in _QUANTITY_COLUMNS:
            cells.append(Cell(_mean_text(summary, variant, quantity), f"num {css}".strip()))
        for quantity, _ in _PAIRED:
            cells.append(_difference_cell(differences[quantity].get(variant), variant == reference))
        table_rows.append(cells)
    columns = [
        "variant",
        "seeds",
        *(label for _, label in _QUANTITY_COLUMNS),
        *(f"Δ {name} vs {reference}" for _, name in _PAIRED),
    ]
    return DisplayTable(columns=columns, rows=table_rows)


def _mean_text(summary: pd.DataFrame, variant: str, quantity: str) -> str:
    """Mean ± sd over seeds; one seed has no spread, so its value stands alone."""
    if (variant, quantity) not in summary.index:
        return NO_VALUE
    stats = summary.loc[(variant, quantity)]
    return fmt_number(stats["mean"], 3) if stats["n"] == 1 else fmt_mean_sd(stats["mean"], stats["sd"], 3)


def _paired_differences(measured: pd.DataFrame, reference: str, quantity: str) -> dict[str, dict[str, object]]:
    """Per variant, its `quantity` minus the reference variant's, paired by run (seed, RegDB trial)."""
    values = measured[measured["metric"] == quantity]
    base = values[values["variant"] == reference][_UNIT + ["value"]].rename(columns={"value": "reference_value"})
    if base.empty:
        return {}
    records = []
    for variant, group in values[values["variant"] != reference].groupby("variant", sort=False):
        matched = group.merge(base, on=_UNIT)
        difference = (matched["value"] - matched["reference_value"]).to_numpy(dtype=float)
        records.append({"variant": variant, "dataset": "", "metric": quantity, **paired_test(difference)})
    if not records:
        return {}
    frame = adjust_families(pd.DataFrame(records))
    return {str(record["variant"]): record for record in frame.to_dict("records")}


def _difference_cell(record: dict[str, object] | None, is_reference: bool) -> Cell:
    if is_reference:
        return Cell("reference", "ref")
    if record is None:
        return Cell(NO_VALUE, "num")
    mean = float(record["mean_delta"])  # type: ignore[arg-type]
    low, high = float(record["ci_low"]), float(record["ci_high"])  # type: ignore[arg-type]
    interval = "" if math.isnan(low) else f" [{fmt_delta(low, 3)}, {fmt_delta(high, 3)}]"
    verdict = str(record["verdict"])
    css = delta_css(mean) if verdict == RESOLVED else f"{delta_css(mean)} unresolved"
    return Cell(f"{fmt_delta(mean, 3)}{interval} {verdict}", css)


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(regdb_trial=frame["regdb_trial"].fillna(_NO_TRIAL))


def _shown_runs(rows: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Rows of the runs the results show: a variant's own runs, and the references' for the results' units."""
    units = results[["dataset", *_UNIT]].drop_duplicates()
    runs = results[["variant", "dataset", *_UNIT]].drop_duplicates()
    references = rows["variant"].isin([FLOOR_LABEL, CEILING_LABEL])
    cells = rows[~references].merge(runs, on=["variant", "dataset", *_UNIT])
    kept = rows[references].merge(units, on=["dataset", *_UNIT])
    return pd.concat([cells, kept], ignore_index=True)
