"""Display tables: already-formatted cells with CSS classes, so templates only lay them out; and the number
formats every table of the report shares."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, SupportsFloat

import pandas as pd

NO_VALUE = "—"
_MINUS = "−"


@dataclass(frozen=True)
class Cell:
    """One table cell; css holds class names (num, best, pos, neg, ref, floor, resolved, unresolved, ours, small,
    wrap); bar, a fraction in [0, 1], draws a proportional bar under the text."""

    text: str
    css: str = ""
    bar: float | None = None


@dataclass(frozen=True)
class HeaderGroup:
    """A label spanning `span` columns in the header row above the column names."""

    label: str
    span: int


@dataclass(frozen=True)
class DisplayTable:
    """Column names, rows of cells and optional header groups; templates render it as it stands."""

    columns: list[str]
    rows: list[list[Cell]]
    groups: list[HeaderGroup] = field(default_factory=list)


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value: object) -> float:
    """A table cell as a float: pandas gives numbers (numpy's included), some columns text."""
    if isinstance(value, (str, SupportsFloat)):
        return float(value)
    raise TypeError(f"expected a number, got {value!r}")


def fmt_number(value: object, digits: int = 2) -> str:
    if is_missing(value):
        return NO_VALUE
    return f"{_number(value):.{digits}f}".replace("-", _MINUS)


def fmt_integer(value: object) -> str:
    """Counts (seeds, sizes, threads) that pandas turned into floats next to missing values."""
    if is_missing(value):
        return NO_VALUE
    try:
        number = _number(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(number)) if number.is_integer() else str(value)


def fmt_mean_sd(mean: float, sd: float, digits: int = 2) -> str:
    """ "61.23 ± 1.05"; a single seed has no sd and says so with a dash rather than a misleading 0."""
    return f"{fmt_number(mean, digits)} ± {fmt_number(sd, digits)}"


def fmt_delta(value: float, digits: int = 2) -> str:
    """Signed, so a reader sees the direction without comparing against the reference row."""
    if is_missing(value):
        return NO_VALUE
    return f"{value:+.{digits}f}".replace("-", _MINUS)


def delta_css(value: float) -> str:
    if is_missing(value) or round(value, 2) == 0:
        return "num"
    return "num pos" if value > 0 else "num neg"


def fmt_p(value: object) -> str:
    """A p-value to three decimals, or as "< 0.001" below that (a printed 0.000 would read as impossible)."""
    if is_missing(value):
        return NO_VALUE
    return "< 0.001" if _number(value) < 0.001 else f"{_number(value):.3f}"


def fmt_seconds(value: object) -> str:
    """Wall time in the largest sensible units: 0.42 s, 12.3 s, 4 min 05 s, 2 h 03 min."""
    if is_missing(value):
        return NO_VALUE
    seconds = _number(value)
    if seconds < 60:
        return f"{seconds:.2g} s" if seconds < 1 else f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def fmt_significant(value: object, digits: int = 4) -> str:
    """Timings span microseconds to minutes; significant digits keep both readable."""
    if is_missing(value):
        return NO_VALUE
    return f"{_number(value):.{digits}g}"


def fmt_params(params_json: object) -> str:
    """A trial's parameters as "name=value, ..." (numbers to four significant digits)."""
    if is_missing(params_json) or params_json == "":
        return NO_VALUE
    try:
        params = json.loads(str(params_json))
    except json.JSONDecodeError:
        return str(params_json)
    if not isinstance(params, dict) or not params:
        return NO_VALUE if params in ({}, []) else str(params)
    return ", ".join(
        f"{name}={fmt_significant(value) if isinstance(value, float) else value}" for name, value in params.items()
    )


def fmt_text(value: object) -> str:
    return NO_VALUE if is_missing(value) or value == "" else str(value)


def frame_display(
    frame: pd.DataFrame,
    formats: Mapping[str, Callable[[object], str]] | None = None,
    numeric: tuple[str, ...] = (),
) -> DisplayTable:
    """A plain table of a frame: each column through its format (text by default); numeric columns are
    right-aligned so digits line up."""
    formats = formats or {}
    rows = [
        [
            Cell(formats.get(column, fmt_text)(value), "num" if column in numeric else "")
            for column, value in record.items()
        ]
        for record in frame.to_dict("records")
    ]
    return DisplayTable(columns=[str(column) for column in frame.columns], rows=rows)
