"""What a real-data report adds: PGM's published cluster counts beside ours, the evaluation protocol with the
values behind each mean, and the data check's fingerprints and warning."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from matplotlib.lines import Line2D

from reports.data_check import SHOWN_MISMATCHES, data_trees
from reports.embed import new_figure
from reports.figures import pseudo_label_figure
from reports.loading import load_study
from reports.protocol import protocol_blocks
from reports.reference_curves import OUR_NAMES, draw_reference, reference_counts
from tests.reports.study_fixture import DRAW_STEP, MISMATCHES, SYSU_DRAWS, epochs_frame, write_study


def test_published_reference_holds_fifty_epochs_per_modality_with_its_source() -> None:
    reference = reference_counts("sysu", "real")
    assert reference is not None
    for modality in OUR_NAMES:
        rows = reference[reference["modality"] == modality]
        assert sorted(rows["epoch"]) == list(range(50))
        assert (rows["clusters"] > 0).all()
    assert reference["source"].str.contains("training_logs_example/SYSU-MM01").all()
    first = reference[reference["epoch"] == 0].set_index("modality")["clusters"]
    assert (first["visible"], first["infrared"]) == (898, 444)  # "Statistics for RGB/IR epoch 0" in the log


def test_reference_is_left_out_on_synthetic_data_and_where_none_is_published() -> None:
    assert reference_counts("sysu", "synthetic") is None
    assert reference_counts("sysu", None) is None
    assert reference_counts("regdb", "real") is None


def test_reference_is_drawn_at_its_published_counts_over_our_stage_a_epochs() -> None:
    reference = reference_counts("sysu", "real")
    ax = new_figure(4, 3).subplots()
    handles = draw_reference(ax, reference, stage_start=3.0, last_epoch=5, colours={"visible": "b", "infrared": "r"})
    assert [h.get_label() for h in handles] == ["PGM log (visible)", "PGM log (infrared)"]
    visible = reference[(reference["modality"] == "visible") & (reference["epoch"] <= 5)].sort_values("epoch")
    drawn: Line2D = ax.lines[0]
    assert list(drawn.get_xdata()) == list(3.0 + visible["epoch"])
    assert list(drawn.get_ydata()) == list(visible["clusters"])


def test_pseudo_label_figure_changes_when_the_reference_is_drawn() -> None:
    epochs = epochs_frame("real")
    palette = {"full": (0.1, 0.2, 0.6), "off": (0.8, 0.4, 0.1)}
    plain = pseudo_label_figure(epochs, "sysu", palette)
    with_reference = pseudo_label_figure(epochs, "sysu", palette, reference_counts("sysu", "real"))
    assert plain is not None and with_reference is not None and plain != with_reference


def test_real_report_shows_the_reference_curve_caption_synthetic_does_not(real_html: str, synthetic_html: str) -> None:
    assert "PGM&#39;s published cluster counts per epoch of its DCL stage" in real_html
    assert "training_logs_example/SYSU-MM01/sysu_s1_s2.log" in real_html
    assert "published cluster counts" not in synthetic_html


def test_protocol_block_states_the_sysu_rules_and_lists_every_gallery_draw(real_html: str) -> None:
    section = real_html[real_html.index('<section id="protocol">') :]
    section = section[: section.index("</section>")]
    assert "A query from camera 3 ignores gallery images from camera 2" in section
    assert "single-shot, one visible image per identity and camera" in section
    assert f"the mean over {SYSU_DRAWS} gallery draws" in section
    assert "one all-search draw holds 301 gallery images, one indoor draw 112" in section
    assert all(f"<th>draw {d}</th>" in section for d in range(SYSU_DRAWS))
    # Fixture: draws spread DRAW_STEP apart around the run's value, so their sd is DRAW_STEP * sd(0..9).
    expected_sd = DRAW_STEP * pd.Series(range(SYSU_DRAWS)).std()
    assert f"{expected_sd:.2f}" in section
    # full, seed 0, all-search R1 is 44 - 1 = 43: draw 0 is 0.9 below it.
    assert "42.10" in section and "43.00" in section


def test_protocol_block_states_the_regdb_trials_and_directions(real_html: str, synthetic_html: str) -> None:
    assert "Trials: 2 of the 10 idx/ splits (1, 2); each holds 206 training and 206 test identities" in real_html
    assert "Visible→infrared: every visible test image queries all thermal test images" in real_html
    assert "<th>trial 1</th><th>trial 2</th>" in real_html
    assert "half the identities for training, half for testing" in synthetic_html
    assert "206 training" not in synthetic_html


def test_data_trees_show_their_fingerprints_and_no_warning_when_counts_match(real_html: str) -> None:
    assert "sha256:a1b2c3d4e5f60718" in real_html and "sha256:0f1e2d3c4b5a6978" in real_html
    assert "every count matches" in real_html
    assert 'id="data-warning"' not in real_html


def test_a_tree_that_differs_from_the_known_counts_gets_a_warning_at_the_top(mismatched_report: Path) -> None:
    html = mismatched_report.read_text(encoding="utf-8")
    warning = html.index('id="data-warning"')
    assert warning < html.index('<section id="provenance">')
    for line in MISMATCHES:
        assert f"<li>{line}</li>" in html
    assert "2 mismatches" in html


def test_a_long_list_of_mismatches_is_cut_at_the_top_and_counted() -> None:
    lines = [f"RegDB: trial {t}, train identities: expected 206, found 4" for t in range(1, 12)]
    record = {
        "regdb": {
            "root": "/data/RegDB",
            "fingerprint": "sha256:00",
            "files": 3,
            "expected_from": "facts",
            "mismatches": lines,
        }
    }
    (tree,) = data_trees({"data_check": record})
    assert tree.shown == lines[:SHOWN_MISMATCHES]
    assert tree.not_shown == len(lines) - SHOWN_MISMATCHES


def test_a_malformed_data_check_record_is_shown_as_such() -> None:
    (tree,) = data_trees({"data_check": {"sysu": "garbage"}})
    assert tree.label == "SYSU-MM01" and tree.mismatches == ["the data check's record of this tree is malformed"]


@pytest.mark.parametrize("search", [False, True])
def test_tuning_studies_state_the_protocol_without_per_run_tables(search: bool, tmp_path: Path) -> None:
    data = load_study(write_study(tmp_path, "real"))
    blocks = protocol_blocks(data.results, data.eval_trials, "real", search)
    assert [block.label for block in blocks] == ["SYSU-MM01", "RegDB"]
    assert all(bool(block.tables) != search for block in blocks)
    assert all(block.facts for block in blocks)
