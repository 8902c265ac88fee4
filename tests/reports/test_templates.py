"""The template environment fails loudly on a missing name and escapes what it is given."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import UndefinedError

from reports.context import build_context
from reports.html import make_environment, render_html
from reports.loading import load_study
from reports.render import context_mapping
from tests.reports.study_fixture import write_study


def test_a_template_variable_missing_from_the_context_fails(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path)
    # Fewer tables, fewer figures to draw: the template is what is under test.
    for optional in ("epochs.csv", "stages.csv"):
        (study_dir / optional).unlink()
    context = context_mapping(build_context(load_study(study_dir)))
    del context["reference"]
    with pytest.raises(UndefinedError, match="reference"):
        render_html(context)


def test_environment_escapes_html_in_values() -> None:
    template = make_environment().from_string("<p>{{ value }}</p>")
    assert template.render(value="<b>&") == "<p>&lt;b&gt;&amp;</p>"
