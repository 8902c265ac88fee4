"""The report's seaborn figures, each returned as a PNG data URI (None when there is nothing to draw):
metric means with per-seed points between the references (untrained floor, identity-label ceiling), pseudo-label
quality over training, and per-stage wall time."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.lines import Line2D

from reports.embed import new_figure, png_data_uri
from reports.noise import SETTINGS
from reports.reference_curves import OUR_STAGE, draw_reference
from reports.references import CEILING_LABEL, FLOOR_LABEL
from reports.schema import DATASET_LABELS, PROTOCOL_LABELS, PROTOCOLS, stage_order

Palette = Mapping[str, tuple[float, float, float]]

FIGURE_METRICS = ("R1", "mAP")
# Pseudo-label quality panels: (title, epochs.csv name prefix, y label). The text after the prefix names
# the sample set (visible, infrared, pooled).
QUALITY_PANELS = (
    ("Cluster count", "clusters_", "clusters"),
    ("ARI against ground truth", "ari_", "ARI"),
    ("Matching accuracy", "matching_accuracy", "accuracy"),
)
SAMPLE_SETS = ("visible", "infrared", "pooled")
# Solid first: with one variant every line is solid.
_DASHES: tuple[tuple[float, ...], ...] = ((), (4, 1.5), (1, 1), (3, 1.25, 1.5, 1.25), (5, 1, 1, 1))
_MARKER_MAX_STEPS = 40
_UPRIGHT_MAX_VARIANTS = 3
_STYLE = "whitegrid"
_CONTEXT = "notebook"
_FONT_SCALE = 0.8
# The noise study's SCA settings in their curve order.
NOISE_SETTINGS = tuple(SETTINGS.values())
_REFERENCE_COLOUR = "0.2"
_REFERENCE_BAND_ALPHA = 0.12
# How each reference's line is drawn: the floor dashed, the ceiling dotted.
REFERENCE_LINES = {FLOOR_LABEL: "--", CEILING_LABEL: ":"}


def variant_palette(variants: list[str]) -> dict[str, tuple[float, float, float]]:
    """One colour per variant, shared by every figure so a variant reads the same throughout."""
    return dict(zip(variants, sns.color_palette("deep", n_colors=max(len(variants), 1))))


def metric_figure(
    seeds: pd.DataFrame, dataset: str, palette: Palette, references: Sequence[pd.DataFrame] = ()
) -> str | None:
    """Bars of the mean over seeds with each seed's value overlaid, one panel per metric × protocol, in a
    row so the figure stays short; each of `references` (reports.references summaries: floor, ceiling) is drawn
    across each panel it covers, in its line style (REFERENCE_LINES)."""
    data = seeds[(seeds["dataset"] == dataset) & seeds["metric"].isin(FIGURE_METRICS)]
    if data.empty:
        return None
    data = data.assign(variant=data["variant"].astype(str))
    protocols = [p for p in PROTOCOLS[dataset] if p in set(data["protocol"])]
    metrics = [m for m in FIGURE_METRICS if m in set(data["metric"])]
    order = [v for v in palette if v in set(data["variant"])]
    panels = [(metric, protocol) for metric in metrics for protocol in protocols]
    with sns.axes_style(_STYLE), sns.plotting_context(_CONTEXT, font_scale=_FONT_SCALE):
        figure = new_figure(min(2.9 * len(panels) + 0.4 * len(order), 12.5), 3.3)
        axes = figure.subplots(1, len(panels), squeeze=False)[0]
        for ax, (metric, protocol) in zip(axes, panels):
            panel = data[(data["metric"] == metric) & (data["protocol"] == protocol)]
            _bars_with_seeds(ax, panel, order, palette)
            for summary in references:
                level = summary[
                    (summary["dataset"] == dataset) & (summary["protocol"] == protocol) & (summary["metric"] == metric)
                ]
                if not level.empty:
                    label = str(level["variant"].iloc[0])
                    draw_reference_line(ax, float(level["mean"].iloc[0]), float(level["sd"].iloc[0]), label)
            ax.set_title(f"{PROTOCOL_LABELS[protocol]} — {metric}")
            ax.set_ylabel(f"{metric} (%)")
        figure.suptitle(DATASET_LABELS[dataset], fontweight="bold")
        return png_data_uri(figure)


def draw_reference_line(ax: Axes, mean: float, sd: float, label: str) -> None:
    """A reference as a line across the panel in its style (floor dashed, ceiling dotted), its sd over seeds as a
    band, labelled."""
    ax.axhline(mean, color=_REFERENCE_COLOUR, linestyle=REFERENCE_LINES[label], linewidth=1.3, zorder=4, label=label)
    if not math.isnan(sd) and sd > 0:  # one seed has no sd, so no band
        ax.axhspan(mean - sd, mean + sd, color=_REFERENCE_COLOUR, alpha=_REFERENCE_BAND_ALPHA, zorder=0, linewidth=0)
    ax.annotate(
        label,
        xy=(1.0, mean),
        xycoords=("axes fraction", "data"),
        xytext=(-3, 3),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize="x-small",
        color=_REFERENCE_COLOUR,
    )


def pseudo_label_figure(
    epochs: pd.DataFrame, dataset: str, palette: Palette, reference: pd.DataFrame | None = None
) -> str | None:
    """Cluster counts, ARI and matching accuracy over a running epoch axis (the stages that recorded them
    one after another: A, B, MMLM, ...), mean over seeds with an sd band, one panel per quantity. A quantity
    recorded once per run (MMLM's matching accuracy) is drawn as bars per variant with the seeds on top.
    `reference` (published per-epoch cluster counts) is drawn dotted over stage A's cluster counts."""
    data = epochs[epochs["dataset"] == dataset]
    panels = [panel for panel in QUALITY_PANELS if data["name"].str.startswith(panel[1]).any()]
    if not panels:
        return None
    # Only the stages holding these quantities get a place on the axis (stage C records losses only).
    data = _running_epoch(data[data["name"].str.startswith(tuple(prefix for _, prefix, _ in panels))])
    data = data.assign(variant=data["variant"].astype(str))
    with sns.axes_style(_STYLE), sns.plotting_context(_CONTEXT, font_scale=_FONT_SCALE):
        figure = new_figure(min(4.4 * len(panels), 13.0), 3.4)
        axes = figure.subplots(1, len(panels), squeeze=False)[0]
        for ax, (title, prefix, label) in zip(axes, panels):
            panel = data[data["name"].str.startswith(prefix)]
            ax.set_ylabel(label)
            if panel["step"].nunique() == 1:
                order = [v for v in palette if v in set(panel["variant"])]
                _bars_with_seeds(ax, panel, order, palette, value_format="%.2f")
                ax.set_title(f"{title} ({panel['stage'].iloc[0]})")
                continue
            _shade_stages(ax, data)
            panel = panel.assign(set=panel["name"].str.removeprefix(prefix))
            if prefix.endswith("_"):
                # Colour says which sample set, dashes which variant (variants sharing stage A+B overlap).
                present = set(panel["set"])
                sets = [name for name in SAMPLE_SETS if name in present] + sorted(present - set(SAMPLE_SETS))
                colours = dict(zip(sets, sns.color_palette("colorblind", len(sets))))
                variants = [v for v in palette if v in set(panel["variant"])]
                _lines_by_stage(ax, panel, "set", colours, dict(zip(variants, _DASHES * len(variants))))
                if prefix == "clusters_" and reference is not None and OUR_STAGE in set(panel["stage"]):
                    _add_reference(ax, panel[panel["stage"] == OUR_STAGE], reference, colours)
            else:
                colours = {v: palette[v] for v in palette if v in set(panel["variant"])}
                _lines_by_stage(ax, panel, "variant", colours, {})
            ax.set_title(title)
            ax.set_xlabel(f"epoch (stages {' → '.join(stage_order(data['stage']))})")
        figure.suptitle(DATASET_LABELS[dataset], fontweight="bold")
        return png_data_uri(figure)


def stage_time_figure(stages: pd.DataFrame, palette: Palette) -> str | None:
    """Mean wall seconds of each computed stage (cache loads left out: they time the disk, not the
    stage) per variant, one panel per dataset."""
    data = stages[~stages["cached"]]
    if data.empty:
        return None
    data = data.assign(variant=data["variant"].astype(str))
    datasets = [d for d in DATASET_LABELS if d in set(data["dataset"])]
    order = [v for v in palette if v in set(data["variant"])]
    stages_drawn = stage_order(data["stage"])
    with sns.axes_style(_STYLE), sns.plotting_context(_CONTEXT, font_scale=_FONT_SCALE):
        figure = new_figure(4.6 * len(datasets), 3.0)
        axes = figure.subplots(1, len(datasets), squeeze=False)[0]
        for ax, dataset in zip(axes, datasets):
            sns.barplot(
                data=data[data["dataset"] == dataset],
                x="stage",
                y="seconds",
                hue="variant",
                order=stages_drawn,
                hue_order=order,
                palette=dict(palette),
                errorbar="sd",
                ax=ax,
            )
            ax.set_title(f"{DATASET_LABELS[dataset]} — wall time per computed stage")
            ax.set_ylabel("seconds")
            ax.legend(fontsize="x-small", title_fontsize="x-small", loc="best")
        return png_data_uri(figure)


def _bars_with_seeds(
    ax: Axes, panel: pd.DataFrame, order: list[str], palette: Palette, value_format: str = "%.1f"
) -> None:
    """Bars of the mean per variant, the mean printed inside, and one dot per seed on top."""
    sns.barplot(
        data=panel,
        x="variant",
        y="value",
        hue="variant",
        order=order,
        hue_order=order,
        palette=dict(palette),
        errorbar=None,
        alpha=0.85,
        legend=False,
        ax=ax,
    )
    for container in ax.containers:
        if isinstance(container, BarContainer):
            ax.bar_label(container, fmt=value_format, label_type="center", fontsize="x-small", color="white")
    sns.stripplot(
        data=panel,
        x="variant",
        y="value",
        order=order,
        color="0.15",
        size=4,
        jitter=0.12,
        ax=ax,
    )
    ax.set_xlabel("")
    # Several long variant names side by side collide unless slanted.
    if len(order) > _UPRIGHT_MAX_VARIANTS:
        ax.tick_params(axis="x", labelrotation=35)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")


def _lines_by_stage(
    ax: Axes, panel: pd.DataFrame, hue: str, colours: Palette, dashes: Mapping[str, tuple[float, ...]]
) -> None:
    """One lineplot per stage, so no line joins the last epoch of a stage to the first of the next (the
    cluster count of stage B does not continue stage A's); the legend is drawn once, by hand, because each
    stage may hold a different subset of the series."""
    # Markers make a one-epoch series visible; on long runs they would only clutter the lines.
    marker = "o" if panel["step"].nunique() <= _MARKER_MAX_STEPS else None
    for _, rows in panel.groupby("stage", sort=False):
        # A one-epoch stage (MMLM) has no band to draw: its spread shows as an error bar on a larger dot.
        single = rows["step"].nunique() == 1
        sns.lineplot(
            data=rows,
            x="step",
            y="value",
            hue=hue,
            hue_order=list(colours),
            palette=dict(colours),
            style="variant" if len(dashes) > 1 else None,
            style_order=list(dashes) if len(dashes) > 1 else None,
            dashes=dict(dashes) if len(dashes) > 1 else True,
            errorbar="sd",
            err_style="bars" if single else "band",
            marker="o" if single else marker,
            markersize=6 if single else 3,
            legend=False,
            ax=ax,
        )
    handles = [
        Line2D([], [], color=colour, marker=marker, markersize=3, label=name) for name, colour in colours.items()
    ]
    if len(dashes) > 1:
        handles += [Line2D([], [], color="0.3", dashes=pattern, label=name) for name, pattern in dashes.items()]
    ax.legend(handles=handles, fontsize="x-small", loc="best")


def _add_reference(ax: Axes, ours: pd.DataFrame, reference: pd.DataFrame, colours: Palette) -> None:
    """The published counts over our stage-A epochs, and their entries added to the panel's legend."""
    handles = draw_reference(ax, reference, ours["step"].min() - ours["epoch"].min(), ours["epoch"].max(), colours)
    legend = ax.get_legend()
    existing = list(legend.legend_handles) if legend is not None else []
    ax.legend(handles=existing + handles, fontsize="x-small", loc="best")


def _running_epoch(data: pd.DataFrame) -> pd.DataFrame:
    """Epochs restart at each stage; offsetting each stage by the lengths of the ones before it lays the
    whole training out on one axis."""
    offsets, start = {}, 0.0
    for stage in stage_order(data["stage"]):
        epochs = data.loc[data["stage"] == stage, "epoch"]
        offsets[stage] = start - epochs.min()
        start += epochs.max() - epochs.min() + 1
    return data.assign(step=data["epoch"] + data["stage"].map(offsets))


def _shade_stages(ax: Axes, data: pd.DataFrame) -> None:
    """Alternate light bands with the stage name on top, so stage boundaries are visible."""
    for index, stage in enumerate(stage_order(data["stage"])):
        steps = data.loc[data["stage"] == stage, "step"]
        if index % 2 == 0:
            ax.axvspan(steps.min() - 0.5, steps.max() + 0.5, color="0.93", zorder=0)
        ax.text(
            (steps.min() + steps.max()) / 2,
            0.98,
            stage,
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="top",
            fontsize="small",
            fontweight="bold",
            color="0.35",
        )


def noise_figure(
    curves: pd.DataFrame, marks: pd.DataFrame, dataset: str, protocol: str, floor: pd.DataFrame | None = None
) -> str | None:
    """The noise study's curves: the primary protocol's R1 and mAP against r, one line per SCA setting (mean over
    seeds, sd as error bars), each matcher's mark (r = 1 − its measured matching accuracy) as a dash-dotted
    vertical line, and the floor dashed."""
    data = curves[(curves["dataset"] == dataset) & (curves["protocol"] == protocol)]
    data = data[data["metric"].isin(FIGURE_METRICS)]
    if data.empty:
        return None
    settings = [s for s in NOISE_SETTINGS if s in set(data["setting"])]
    colours = dict(zip(settings, sns.color_palette("colorblind", len(settings))))
    marked = marks[marks["dataset"] == dataset]
    mark_colours = dict(zip(marked["variant"], sns.color_palette("dark", max(len(marked), 1))))
    metrics = [m for m in FIGURE_METRICS if m in set(data["metric"])]
    with sns.axes_style(_STYLE), sns.plotting_context(_CONTEXT, font_scale=_FONT_SCALE):
        figure = new_figure(4.6 * len(metrics), 3.4)
        axes = figure.subplots(1, len(metrics), squeeze=False)[0]
        for ax, metric in zip(axes, metrics):
            panel = data[data["metric"] == metric].assign(value=lambda frame: frame["value"].astype(float))
            sns.lineplot(
                data=panel,
                x="r",
                y="value",
                hue="setting",
                hue_order=settings,
                palette=colours,
                errorbar="sd",
                err_style="bars",
                marker="o",
                ax=ax,
            )
            for record in marked.to_dict("records"):
                ax.axvline(record["r"], color=mark_colours[record["variant"]], linestyle="-.", linewidth=1.2)
                ax.annotate(
                    f"{record['variant']}: matching accuracy {record['accuracy']:.2f}",
                    xy=(record["r"], 0.02),
                    xycoords=("data", "axes fraction"),
                    rotation=90,
                    ha="right",
                    va="bottom",
                    fontsize="x-small",
                    color=mark_colours[record["variant"]],
                )
            if floor is not None:
                level = floor[
                    (floor["dataset"] == dataset) & (floor["protocol"] == protocol) & (floor["metric"] == metric)
                ]
                if not level.empty:
                    draw_reference_line(ax, float(level["mean"].iloc[0]), float(level["sd"].iloc[0]), FLOOR_LABEL)
            ax.set_xlim(-0.05, 1.05)
            ax.set_xlabel("r: share of identities with deranged correspondences")
            ax.set_ylabel(f"{metric} (%)")
            ax.set_title(f"{PROTOCOL_LABELS[protocol]} — {metric}")
            ax.legend(fontsize="x-small", title="SCA", title_fontsize="x-small", loc="best")
        figure.suptitle(DATASET_LABELS[dataset], fontweight="bold")
        return png_data_uri(figure)
