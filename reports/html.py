"""The Jinja2 environment of the report templates (package data under reports/templates) and rendering."""

from __future__ import annotations

from typing import Any, Mapping

from jinja2 import Environment, PackageLoader, StrictUndefined

REPORT_TEMPLATE = "report.html"


def make_environment() -> Environment:
    """StrictUndefined turns a name the template uses but the context lacks into an error instead of an
    empty string; autoescape keeps variant names and error messages from breaking the HTML."""
    return Environment(
        loader=PackageLoader("reports", "templates"),
        undefined=StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(context: Mapping[str, Any], template: str = REPORT_TEMPLATE) -> str:
    return make_environment().get_template(template).render(**context)
