"""Matplotlib figures on the Agg canvas, embedded as base64 PNG data URIs so a report is one file that
needs no network (an SVG would carry an http:// namespace URL)."""

from __future__ import annotations

import base64
import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 110
PNG_PREFIX = "data:image/png;base64,"


def new_figure(width: float, height: float) -> Figure:
    """A figure bound to the Agg canvas directly, bypassing pyplot's global figure registry, so figures are
    freed when dropped and no interactive backend is ever chosen."""
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def png_data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return PNG_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")
