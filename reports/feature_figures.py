"""The feature-space figures: a 2-D embedding of each shown variant's kept test features (colour: identity, marker:
modality; every panel on the same axes), and the overlaid densities of its three groups of cosine distances."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from mmm.choices import CROSS_NEGATIVE, CROSS_POSITIVE, DISTANCE_GROUPS, INTRA_POSITIVE
from reports.embed import new_figure, png_data_uri

GROUP_LABELS: Mapping[str, str] = {
    INTRA_POSITIVE: "same identity, same modality",
    CROSS_POSITIVE: "same identity, across modalities",
    CROSS_NEGATIVE: "different identities, across modalities",
}
_GROUP_COLOURS = {INTRA_POSITIVE: "#2b8a3e", CROSS_POSITIVE: "#1f5f99", CROSS_NEGATIVE: "#b42318"}
MODALITY_MARKERS = {0: ("o", "visible"), 1: ("^", "infrared")}
_PANELS_PER_ROW = 4
_PANEL_WIDTH = 3.0
_STYLE = "whitegrid"
_CONTEXT = "notebook"
_FONT_SCALE = 0.75


@dataclass(frozen=True)
class EmbeddingPanel:
    """One variant's embedded sample: 2-D points with each row's identity and modality."""

    title: str
    points: np.ndarray
    pids: np.ndarray
    modalities: np.ndarray


@dataclass(frozen=True)
class DensityPanel:
    """One variant's distances, by group (DISTANCE_GROUPS)."""

    title: str
    groups: Mapping[str, np.ndarray]


def identity_colours() -> list[tuple[float, float, float]]:
    """The identities' colours in order: tab20's dark shades first, then its light ones, so the first ten
    identities get ten distinct hues."""
    palette = sns.color_palette("tab20", n_colors=20)
    return list(palette[0::2]) + list(palette[1::2])


def _grid(count: int, height: float) -> tuple[Figure, list[Axes]]:
    columns = min(count, _PANELS_PER_ROW)
    rows = -(-count // columns)
    figure = new_figure(_PANEL_WIDTH * columns + 0.3, height * rows + 0.5)
    axes = list(figure.subplots(rows, columns, squeeze=False).ravel())
    for spare in axes[count:]:
        spare.set_visible(False)
    return figure, axes[:count]


def embedding_figure(panels: Sequence[EmbeddingPanel]) -> str | None:
    """One panel per variant, all with the same limits (the largest extent of any), so distances look alike across
    panels; identities share one colour each in every panel (the sample's subset is the same everywhere)."""
    if not panels:
        return None
    identities = sorted({int(pid) for panel in panels for pid in panel.pids})
    colours = identity_colours()
    colour_of = {pid: colours[i % len(colours)] for i, pid in enumerate(identities)}
    reach = max(float(np.abs(panel.points).max()) for panel in panels) * 1.05
    # t-SNE's axes carry no units: a plain frame, no grid or ticks.
    with sns.axes_style("white"), sns.plotting_context(_CONTEXT, font_scale=_FONT_SCALE):
        figure, axes = _grid(len(panels), _PANEL_WIDTH)
        for ax, panel in zip(axes, panels):
            for modality, (marker, _) in MODALITY_MARKERS.items():
                rows = panel.modalities == modality
                ax.scatter(
                    panel.points[rows, 0],
                    panel.points[rows, 1],
                    c=[colour_of[int(pid)] for pid in panel.pids[rows]],
                    marker=marker,
                    s=14,
                    linewidths=0.3,
                    edgecolors="0.25",
                )
            ax.set_xlim(-reach, reach)
            ax.set_ylim(-reach, reach)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(panel.title)
        handles = [
            Line2D([], [], marker=marker, linestyle="", color="0.45", label=label)
            for marker, label in MODALITY_MARKERS.values()
        ]
        figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
        return png_data_uri(figure)


def density_figure(panels: Sequence[DensityPanel]) -> str | None:
    """One panel per variant: the densities of its three groups of distances overlaid, on one distance axis."""
    panels = [panel for panel in panels if any(len(panel.groups[g]) > 1 for g in DISTANCE_GROUPS)]
    if not panels:
        return None
    low = min(float(values.min()) for panel in panels for values in panel.groups.values() if len(values))
    high = max(float(values.max()) for panel in panels for values in panel.groups.values() if len(values))
    with sns.axes_style(_STYLE), sns.plotting_context(_CONTEXT, font_scale=_FONT_SCALE):
        figure, axes = _grid(len(panels), 2.4)
        for ax, panel in zip(axes, panels):
            for group in DISTANCE_GROUPS:
                values = panel.groups[group]
                if len(values) > 1 and np.ptp(values) > 0:
                    sns.kdeplot(
                        data=pd.DataFrame({"distance": values}),
                        x="distance",
                        ax=ax,
                        fill=True,
                        alpha=0.25,
                        linewidth=1.2,
                        color=_GROUP_COLOURS[group],
                        cut=0,
                    )
            ax.set_xlim(low, high)
            ax.set_xlabel("cosine distance")
            ax.set_title(panel.title)
        handles = [Line2D([], [], color=_GROUP_COLOURS[g], linewidth=2, label=GROUP_LABELS[g]) for g in DISTANCE_GROUPS]
        figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
        return png_data_uri(figure)
