"""Everything the report template shows, computed from a loaded study: one builder per report section, each
returning display tables, figure data URIs and notes (None or empty where the study has no data for it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mmm.choices import PRIMARY_PROTOCOLS
from reports.benchmarks import benchmark_table
from reports.data_check import DataTree, data_trees
from reports.display import DisplayTable
from reports.eval_curves import curve_figure, epoch_choice_display, epoch_choices, stage_c_curves
from reports.feature_space import FeatureSpace, feature_space
from reports.figures import metric_figure, noise_figure, pseudo_label_figure, stage_time_figure, variant_palette
from reports.loading import StudyData
from reports.noise import matcher_marks, noise_curves, noise_points, noise_tests
from reports.paired import PAIRED_COLUMNS, TEST_NAME, paired_deltas, paired_notes, verdicts
from reports.protocol import ProtocolBlock, protocol_blocks
from reports.provenance import Badge, ProvenanceItem, data_badge, provenance_items, weights_badge
from reports.published import ablation_comparison, paper_reference_row, peer_comparison, variant_rows_for
from reports.reference_curves import describe as describe_reference
from reports.reference_curves import reference_counts
from reports.references import (
    CEILING_LABEL,
    CEILING_NOTE,
    FLOOR_LABEL,
    ReferenceTable,
    headroom_shares,
    reference_variants,
    share_lookup,
)
from reports.schema import DATASET_LABELS, DEFAULT_VARIANT, PROTOCOL_LABELS, PROTOCOLS, SELECTED_VARIANT
from reports.stale import mark_stale, stale_note, stale_variants
from reports.summary import (
    deltas,
    is_search,
    missing_cells,
    per_seed,
    search_trials,
    seed_summary,
    stage_time_summary,
    variant_order,
)
from reports.tables import (
    ablation_display,
    benchmark_display,
    delta_display,
    failure_display,
    importance_display,
    missing_display,
    noise_test_display,
    paired_display,
    peer_display,
    selection_display,
    stage_time_display,
    summary_display,
    trials_display,
)

# Trials listed per dataset in a tuning study's report; the rest only count in the note.
SEARCH_TRIALS_SHOWN = 15


NO_SELECTION = (
    "This study chooses nothing: every variant runs as declared and is reported by its last-epoch test metrics."
)
SEARCH_SELECTION = (
    "A tuning study: hyper-parameters are chosen on a validation split held out of the training identities; the "
    "search never computes a test metric, and the choice is re-trained on the whole training split and reported "
    "once on test."
)


@dataclass(frozen=True)
class DatasetResults:
    """One dataset's results: variants' mean ± sd above the references (untrained floor, identity-label ceiling),
    Δ with the paired test over seeds and the headroom shares, and figure; for a tuning study its trials instead.
    reference_notes say which references are missing, if any."""

    label: str
    note: str
    summary: DisplayTable | None
    delta: DisplayTable | None
    figure: str | None
    trials: DisplayTable | None
    reference_notes: list[str] = field(default_factory=list)
    paired: DisplayTable | None = None
    figure_caption: str = ""


@dataclass(frozen=True)
class FinalResults:
    """A tuning study's final phase: the choice and the defaults re-trained on the whole training split and scored
    on test over seeds, paired by seed; `choices` sets each choice's validation objective beside its test mAP."""

    reference: str
    choices: DisplayTable | None
    sections: list[DatasetResults]
    paired_notes: list[str]
    failures: DisplayTable | None
    note: str  # why there is nothing to show, when there is not


@dataclass(frozen=True)
class LabelledTable:
    label: str
    table: DisplayTable


@dataclass(frozen=True)
class Comparison:
    """Published numbers beside ours: absolute on real data, differences on synthetic data."""

    as_deltas: bool
    peers: list[LabelledTable]
    ablation: DisplayTable | None
    notes: list[str]


@dataclass(frozen=True)
class Timing:
    figure: str | None
    table: DisplayTable


@dataclass(frozen=True)
class CurveSection:
    """One dataset's stage-C test curves and the last-epoch / best-test-epoch table."""

    label: str
    figure: str | None
    table: DisplayTable


@dataclass(frozen=True)
class EmbeddedFigure:
    label: str
    uri: str
    caption: str = ""


@dataclass(frozen=True)
class NoiseDataset:
    """One dataset of the noise study: curves against r with the matchers' marks, and the paired tests."""

    label: str
    figure: str | None
    tests: DisplayTable | None
    marks: list[str]  # one sentence per matcher marked on the r axis


@dataclass(frozen=True)
class ReportContext:
    """The template's whole input; StrictUndefined makes any name the template uses beyond these an error."""

    study: str
    profile: str  # the profile the runs used, from provenance (empty when unknown)
    description: str
    search: bool
    selection_note: str  # which split chose what, in one line
    badge: Badge
    weights_badge: Badge | None  # FROM SCRATCH when the runs started from random weights
    provenance: list[ProvenanceItem]
    data_trees: list[DataTree]
    reference: str
    reference_note: str
    results: list[DatasetResults]
    final: FinalResults | None  # a tuning study's final phase; None for other studies
    noise: list[NoiseDataset]  # the noise study's curves and tests (empty for other studies)
    floor_label: str
    ceiling_label: str
    ceiling_note: str  # what the ceiling row says of itself
    labelled: list[str]  # variants whose method reads identity labels (oracle_matching), labelled as such
    paired_test: str  # the test behind "resolved" and "unresolved", named in the report
    paired_notes: list[str]  # what a single seed does and does not allow the test to say
    paired_deltas: pd.DataFrame  # reports.paired's table, also written beside the report as a CSV
    curves: list[CurveSection]  # test metrics during stage C (--eval-every), reported and never used
    feature_space: FeatureSpace  # the kept test features: embeddings, distance densities, the modality gap
    protocol: list[ProtocolBlock]
    comparison: Comparison
    quality: list[EmbeddedFigure]
    timing: Timing | None
    importances: DisplayTable | None
    failures: DisplayTable | None
    missing: DisplayTable | None
    benchmarks: DisplayTable | None


def build_context(data: StudyData, benchmark_json: Path | None = None) -> ReportContext:
    """All sections of the report (every result is a last-epoch result)."""
    results = data.results
    variants = variant_order(data.results)
    # Variants that only failed or only left diagnostics still need a colour in the figures.
    others = [frame[["variant"]] for frame in (data.epochs, data.stages) if not frame.empty]
    palette = variant_palette(variant_order(pd.concat([data.results[["variant"]], *others])))
    summary = seed_summary(per_seed(results))
    reference, reference_note = _reference(data.provenance, variants)
    search = is_search(results)
    references = [data.floor.summary(results), data.ceiling.summary(results)]
    tables = (data.floor, data.ceiling)
    final = _final_results(data) if search else None
    if search:
        # The search's trials are not paired; the final phase's choice and defaults are.
        paired = _final_paired(data.final)
    else:
        paired = paired_deltas(results, reference)
    return ReportContext(
        study=data.study,
        profile=str(data.provenance.get("profile") or ""),
        description=str(data.provenance.get("study_description") or ""),
        search=search,
        selection_note=SEARCH_SELECTION if search else NO_SELECTION,
        badge=data_badge(data.provenance),
        weights_badge=weights_badge(data.provenance),
        provenance=provenance_items(data.provenance),
        data_trees=data_trees(data.provenance),
        reference=reference,
        reference_note=reference_note,
        results=(
            _search_results(results, references, tables)
            if search
            else _dataset_results(results, summary, reference, palette, references, tables, paired)
        ),
        final=final,
        noise=[] if search else _noise(results, data.epochs, references[0]),
        floor_label=FLOOR_LABEL,
        ceiling_label=CEILING_LABEL,
        ceiling_note=CEILING_NOTE,
        labelled=sorted(reference_variants(results)),
        paired_test=TEST_NAME,
        paired_notes=paired_notes(paired),
        paired_deltas=paired,
        curves=_curves(data.epochs, palette),
        feature_space=_feature_space(data, reference, search),
        protocol=protocol_blocks(
            results, data.eval_trials, data.provenance.get("data_source"), search, data.provenance.get("validation")
        ),
        comparison=(
            _search_comparison()
            if search
            else _comparison(summary, references[1], data.provenance, variants, reference)
        ),
        quality=_quality(data.epochs, palette, data.provenance.get("data_source")),
        timing=_timing(data.stages, palette),
        importances=importance_display(data.importances) if not data.importances.empty else None,
        failures=failure_display(data.failures) if not data.failures.empty else None,
        missing=_missing(results, data.failures),
        benchmarks=benchmark_display(benchmark_table(benchmark_json)) if benchmark_json is not None else None,
    )


def _feature_space(data: StudyData, reference: str, search: bool) -> FeatureSpace:
    """The study's kept features, for the reference variant and those the study marks; a tuning study's search
    keeps none (it scores validation identities), so its final phase's are shown: the defaults and the choice."""
    marked = [str(name) for name in data.provenance.get("feature_variants") or []]
    if not search:
        return feature_space(data.feature_space, data.folder, data.results, reference, marked)
    final = data.final
    if final is None or final.results.empty:
        return feature_space(pd.DataFrame(), None, data.results, reference, [])
    return feature_space(final.feature_space, final.folder, final.results, DEFAULT_VARIANT, [SELECTED_VARIANT])


def _reference(provenance: dict[str, Any], variants: list[str]) -> tuple[str, str]:
    """The Δ reference is provenance's reference_variant; without one the first variant, said openly."""
    named = provenance.get("reference_variant")
    if named in variants:
        return named, ""
    fallback = variants[0]
    if named:
        return fallback, f"Reference variant {named!r} has no results; differences are to {fallback!r}."
    return fallback, f"provenance names no reference_variant; differences are to the first variant, {fallback!r}."


def _dataset_results(
    results: pd.DataFrame,
    summary: pd.DataFrame,
    reference: str,
    palette: dict[str, Any],
    references: list[pd.DataFrame],
    tables: tuple[ReferenceTable, ...],
    paired: pd.DataFrame,
) -> list[DatasetResults]:
    seeds = per_seed(results)
    difference = deltas(summary, reference) if reference in set(summary["variant"]) else None
    marks = verdicts(paired)
    floor, ceiling = references
    shares = share_lookup(headroom_shares(summary, floor, ceiling))
    labelled = reference_variants(results)
    sections = []
    for dataset in DATASET_LABELS:
        rows = results[results["dataset"] == dataset]
        if rows.empty:
            continue
        has_reference = difference is not None and reference in set(rows["variant"])
        stale = stale_variants(results, dataset)
        delta = delta_display(difference, dataset, reference, marks, shares, labelled) if has_reference else None
        sections.append(
            DatasetResults(
                label=DATASET_LABELS[dataset],
                note=". ".join(filter(None, [_seed_note(rows), stale_note(results, dataset)])),
                summary=mark_stale(summary_display(summary, dataset, references, labelled), stale),
                delta=mark_stale(delta, stale) if delta is not None else None,
                figure=metric_figure(seeds, dataset, palette, references),
                trials=None,
                reference_notes=_reference_notes(tables, results, dataset),
                paired=paired_display(paired, dataset) if (paired["dataset"] == dataset).any() else None,
                figure_caption=_figure_caption(references, dataset, labelled),
            )
        )
    return sections


def _figure_caption(references: list[pd.DataFrame], dataset: str, labelled: set[str]) -> str:
    floor, ceiling = references
    caption = "Bars: mean over seeds (value printed in the bar); dots: one per seed."
    if dataset in set(floor["dataset"]):
        caption += (
            f" Dashed line: the {FLOOR_LABEL} (the starting network evaluated untrained, mean over the same seeds; "
            "shaded: ± sd)."
        )
    if dataset in set(ceiling["dataset"]):
        caption += (
            f" Dotted line: the {CEILING_LABEL} (oracle_labels: stage C on the true identities under the profile's "
            f"own config, mean over the same seeds; {CEILING_NOTE})."
        )
    if labelled:
        caption += f" {', '.join(sorted(labelled))}: uses identity labels (a reference, not a method)."
    return caption


def _reference_notes(tables: tuple[ReferenceTable, ...], results: pd.DataFrame, dataset: str) -> list[str]:
    return [note for note in (table.missing_note(results, dataset) for table in tables) if note]


def _final_paired(final: StudyData | None) -> pd.DataFrame:
    if final is None or final.results.empty:
        return pd.DataFrame(columns=PAIRED_COLUMNS)
    return paired_deltas(final.results, DEFAULT_VARIANT)


def _final_results(data: StudyData) -> FinalResults:
    """The final phase of a tuning study, or a note saying why there is none yet."""
    final = data.final
    failures = failure_display(final.failures) if final is not None and not final.failures.empty else None
    if final is None or final.results.empty:
        note = (
            "No final cell has finished yet: the final phase starts once every search cell is done."
            if final is None
            else "No final cell finished; see the failed cells below."
        )
        return FinalResults(DEFAULT_VARIANT, None, [], [], failures, note)
    results = final.results
    summary = seed_summary(per_seed(results))
    paired = _final_paired(final)
    sections = _dataset_results(
        results,
        summary,
        DEFAULT_VARIANT,
        variant_palette(variant_order(results)),
        [final.floor.summary(results), final.ceiling.summary(results)],
        (final.floor, final.ceiling),
        paired,
    )
    choices = selection_display(data.selection, summary, SELECTED_VARIANT, DEFAULT_VARIANT) if data.selection else None
    return FinalResults(DEFAULT_VARIANT, choices, sections, paired_notes(paired), failures, "")


def _search_results(
    results: pd.DataFrame, references: list[pd.DataFrame], tables: tuple[ReferenceTable, ...]
) -> list[DatasetResults]:
    """Per dataset the best search trials; a mean over trials would average different configurations."""
    sections = []
    for dataset in DATASET_LABELS:
        rows = results[results["dataset"] == dataset]
        if rows.empty:
            continue
        trials = search_trials(rows, dataset)
        shown = min(len(trials), SEARCH_TRIALS_SHOWN)
        note = f"{len(trials)} search trials, best objective first"
        if shown < len(trials):
            note += f"; the best {shown} shown"
        sections.append(
            DatasetResults(
                label=DATASET_LABELS[dataset],
                note=note,
                summary=None,
                delta=None,
                figure=None,
                trials=trials_display(trials, dataset, SEARCH_TRIALS_SHOWN, references),
                reference_notes=_reference_notes(tables, results, dataset),
            )
        )
    return sections


def _noise(results: pd.DataFrame, epochs: pd.DataFrame, floor: pd.DataFrame) -> list[NoiseDataset]:
    """The noise study's section, per dataset; empty for any other study."""
    points = noise_points(results)
    if points.empty:
        return []
    curves = noise_curves(results, points)
    marks = matcher_marks(epochs, points)
    tests = noise_tests(results, points)
    sections = []
    for dataset in DATASET_LABELS:
        if not (curves["dataset"] == dataset).any():
            continue
        protocol = PRIMARY_PROTOCOLS[dataset]
        here = marks[marks["dataset"] == dataset]
        sentences = [
            f"{record['variant']}: cluster matching accuracy {record['accuracy']:.3f} (mean over {record['runs']} "
            f"runs), marked at r = {record['r']:.3f}"
            for record in here.to_dict("records")
        ]
        sections.append(
            NoiseDataset(
                label=DATASET_LABELS[dataset],
                figure=noise_figure(curves, here, dataset, protocol, floor),
                tests=noise_test_display(tests, dataset) if (tests["dataset"] == dataset).any() else None,
                marks=sentences,
            )
        )
    return sections


def _search_comparison() -> Comparison:
    note = (
        "A tuning search compares parameter settings of one configuration on a validation split, not the paper's "
        "ablation rows on the test set, so no published numbers are set beside it."
    )
    return Comparison(as_deltas=False, peers=[], ablation=None, notes=[note])


def _seed_note(rows: pd.DataFrame) -> str:
    seeds = rows["seed"].nunique()
    note = f"{seeds} seeds" if seeds != 1 else "1 seed, so no spread to report"
    trials = rows["regdb_trial"].nunique()
    if trials:
        note += f"; each seed's value is the mean over its {trials} RegDB trial{'s' if trials != 1 else ''}"
    return note


# What every published number here is: the released code's best test epoch, not a last epoch like ours.
BEST_EPOCH_NOTE = (
    "Published numbers are best-epoch: the authors' code saves the network whenever test R1 improves (on SYSU-MM01 "
    "on gallery draw 0 only), so the paper's rows, and the Δs between them, are each the best test epoch of their "
    "run. Ours are last-epoch, chosen on nothing; the gap between the two selections is part of any difference."
)


def _comparison(
    summary: pd.DataFrame, ceiling: pd.DataFrame, provenance: dict[str, Any], variants: list[str], reference: str
) -> Comparison:
    """Real data: our numbers, and the identity-label ceiling where there is one, beside the published ones.
    Otherwise (synthetic, or a source provenance does not name) only differences can be compared, so peers are
    left out."""
    source = provenance.get("data_source")
    as_deltas = source != "real"
    rows_by_variant = variant_rows_for(variants, provenance.get("variant_rows"))
    notes: list[str] = [BEST_EPOCH_NOTE]
    peers: list[LabelledTable] = []
    if as_deltas:
        described = "synthetic data" if source == "synthetic" else "data of unknown source"
        notes.append(
            f"Absolute numbers on {described} say nothing about the real datasets, so published peers are not "
            "listed and the ablation compares differences: each published row minus the published reference "
            "row, beside each variant minus our reference variant."
        )
    else:
        ours = pd.concat([summary, ceiling], ignore_index=True) if not ceiling.empty else summary
        for dataset in DATASET_LABELS:
            for protocol in PROTOCOLS[dataset]:
                if ((summary["dataset"] == dataset) & (summary["protocol"] == protocol)).any():
                    label = f"{DATASET_LABELS[dataset]} {PROTOCOL_LABELS[protocol]}"
                    peers.append(LabelledTable(label, peer_display(peer_comparison(ours, dataset, protocol))))
        if not ceiling.empty:
            notes.append(
                f"The {CEILING_LABEL} ({CEILING_NOTE}) trains stage C on the true identities. AGW (Ye et al., "
                "TPAMI 2021), listed as supervised, trains on them from the start; its published numbers are a sanity "
                "reference for the ceiling of the paper profile, not a target: a ceiling far below them says the "
                "profile's stages leave room no labels can fill."
            )
    ablation = None
    if not rows_by_variant:
        notes.append("No variant maps to a published ablation row (provenance has no variant_rows).")
    else:
        comparison = ablation_comparison(summary, rows_by_variant, reference, as_deltas)
        if comparison.empty:
            notes.append("The paper reports no ablation for the datasets and protocols of this study.")
        else:
            ablation = ablation_display(comparison, as_deltas)
            if as_deltas:
                paper_reference = paper_reference_row(rows_by_variant, reference)
                notes.append(f"Reference pair: our {reference!r} against the paper's {paper_reference!r}.")
    return Comparison(as_deltas=as_deltas, peers=peers, ablation=ablation, notes=notes)


def _curves(epochs: pd.DataFrame, palette: dict[str, Any]) -> list[CurveSection]:
    curves = stage_c_curves(epochs)
    return [
        CurveSection(
            DATASET_LABELS[dataset],
            curve_figure(curves, dataset, palette),
            epoch_choice_display(epoch_choices(curves, dataset)),
        )
        for dataset in DATASET_LABELS
        if (curves["dataset"] == dataset).any()
    ]


def _quality(epochs: pd.DataFrame, palette: dict[str, Any], data_source: object) -> list[EmbeddedFigure]:
    """One figure per dataset; on real data with published per-epoch counts, those are drawn beside ours."""
    if epochs.empty:
        return []
    figures = []
    for dataset in DATASET_LABELS:
        reference = reference_counts(dataset, data_source)
        uri = pseudo_label_figure(epochs, dataset, palette, reference)
        if uri is not None:
            caption = describe_reference(reference) if reference is not None else ""
            figures.append(EmbeddedFigure(DATASET_LABELS[dataset], uri, caption))
    return figures


def _timing(stages: pd.DataFrame, palette: dict[str, Any]) -> Timing | None:
    if stages.empty:
        return None
    table = stage_time_display(stage_time_summary(stages))
    return Timing(figure=stage_time_figure(stages, palette), table=table)


def _missing(results: pd.DataFrame, failures: pd.DataFrame) -> DisplayTable | None:
    gaps = missing_cells(results, failures)
    return missing_display(gaps) if not gaps.empty else None
