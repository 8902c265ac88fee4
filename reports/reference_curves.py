"""Published per-epoch cluster counts set beside ours: PGM's training log gives the DCL stage's visible and
infrared cluster counts on SYSU-MM01 (package data, with its source). A run on real data whose stage-A counts
stray far from them (hundreds fewer identities in the data, another eps) shows it at a glance.

Only real data gets the reference; the synthetic stand-ins have a few dozen identities, so published counts say
nothing about them.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any, Mapping

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from mmm.choices import Stage

REFERENCE_FILE = "pgm_sysu_dcl_clusters.csv"
# Our stage whose counts the published DCL stage corresponds to (intra-modality cluster contrast).
OUR_STAGE = Stage.DCL
# Our epochs.csv quantity per modality of the reference.
OUR_NAMES = {"visible": "clusters_visible", "infrared": "clusters_infrared"}
_STYLE: dict[str, Any] = {"linestyle": ":", "linewidth": 1.6, "alpha": 0.9}
_MIN_POINTS_FOR_LINE = 3


def reference_counts(dataset: str, data_source: object) -> pd.DataFrame | None:
    """The published counts for `dataset` when the data is real, else None."""
    if data_source != "real":
        return None
    with files("reports").joinpath("data").joinpath(REFERENCE_FILE).open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle)
    rows = table[table["dataset"] == dataset]
    return rows if not rows.empty else None


def describe(reference: pd.DataFrame) -> str:
    """One sentence naming what the dotted lines are and where they come from."""
    methods = ", ".join(sorted(set(reference["method"])))
    stages = ", ".join(sorted(set(reference["stage"])))
    sources = "; ".join(sorted(set(reference["source"])))
    return (
        f"Dotted lines: {methods}'s published cluster counts per epoch of its {stages} stage, drawn over our "
        f"stage {OUR_STAGE} (source: {sources})."
    )


def draw_reference(
    ax: Axes, reference: pd.DataFrame, stage_start: float, last_epoch: float, colours: Mapping[str, Any]
) -> list[Line2D]:
    """Draw the published counts of each sample set in `colours` over our stage-A epochs (starting at
    stage_start on the running axis, up to our last stage-A epoch); returns legend handles."""
    handles = []
    for modality, rows in reference.groupby("modality", sort=False):
        name = OUR_NAMES[str(modality)].removeprefix("clusters_")
        if name not in colours:
            continue
        rows = rows[rows["epoch"] <= last_epoch].sort_values("epoch")
        # A dotted line through one or two points is all but invisible (a one-epoch stage A): mark the points.
        marker = "x" if len(rows) < _MIN_POINTS_FOR_LINE else None
        ax.plot(stage_start + rows["epoch"], rows["clusters"], color=colours[name], marker=marker, **_STYLE)
        method = rows["method"].iloc[0] if not rows.empty else "published"
        handles.append(Line2D([], [], color=colours[name], label=f"{method} log ({name})", **_STYLE))
    return handles
