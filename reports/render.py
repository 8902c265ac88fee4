"""Entry point of the reports package: a study's tidy tables in, one self-contained report.html out, and beside it
paired_deltas.csv, the paired test over seeds behind the report's Δ verdicts (reports.paired)."""

from __future__ import annotations

import logging
from dataclasses import fields
from pathlib import Path

from reports.context import ReportContext, build_context
from reports.html import render_html
from reports.loading import load_study

logger = logging.getLogger(__name__)

REPORT_FILE = "report.html"
PAIRED_FILE = "paired_deltas.csv"


def render_report(out_dir: Path, study_name: str, benchmark_json: Path | None = None) -> Path:
    """Render `<out_dir>/<study_name>/report.html` from the tables the harness wrote there (and a
    pytest-benchmark JSON file when given) and return its path."""
    return render_study_dir(Path(out_dir) / study_name, benchmark_json)


def render_study_dir(study_dir: Path, benchmark_json: Path | None = None) -> Path:
    """Render `<study_dir>/report.html` from the tables in `study_dir` and return its path."""
    study_dir = Path(study_dir)
    context = build_context(load_study(study_dir), Path(benchmark_json) if benchmark_json else None)
    path = study_dir / REPORT_FILE
    path.write_text(render_html(context_mapping(context)), encoding="utf-8")
    context.paired_deltas.to_csv(study_dir / PAIRED_FILE, index=False)
    logger.info("wrote %s and %s", path, PAIRED_FILE)
    return path


def context_mapping(context: ReportContext) -> dict[str, object]:
    """Top-level template names; nested dataclasses stay objects (Jinja reads their attributes)."""
    return {field.name: getattr(context, field.name) for field in fields(context)}
