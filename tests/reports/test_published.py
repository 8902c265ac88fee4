"""Published numbers ship as package data and are compared as the data source allows."""

from __future__ import annotations

import pandas as pd
import pytest

from reports.published import ablation_comparison, published_ablation, published_results, variant_rows_for
from reports.summary import per_seed, seed_summary
from tests.reports.study_fixture import results_frame

ROWS = {"full": "full MMM", "off": "+MMLM"}


def our_summary() -> pd.DataFrame:
    frame = results_frame().assign(regdb_trial=lambda f: pd.to_numeric(f["regdb_trial"]))
    return seed_summary(per_seed(frame))


def test_packaged_tables_load_with_our_metric_names() -> None:
    assert {"method", "dataset", "protocol", "R1", "mAP", "mINP"} <= set(published_results().columns)
    ablation = published_ablation()
    assert set(ablation["variant"]) >= {"full MMM", "+MMLM", "CMC only"}
    full_all = ablation[(ablation["variant"] == "full MMM") & (ablation["protocol"] == "all")]
    assert full_all["R1"].item() == 61.56


def test_ablation_deltas_subtract_each_sides_reference() -> None:
    table = ablation_comparison(our_summary(), ROWS, "full", as_deltas=True)
    assert list(table["variant"]) == ["off", "off"]  # The reference pair (zero on both sides) is left out.
    all_search = table[table["protocol"] == "all"].iloc[0]
    assert all_search["paper R1"] == pytest.approx(55.15 - 61.56)
    assert all_search["paper mAP"] == pytest.approx(52.21 - 57.92)
    assert all_search["ours R1"] == pytest.approx(-4.0)


def test_ablation_on_real_data_is_absolute() -> None:
    table = ablation_comparison(our_summary(), ROWS, "full", as_deltas=False)
    full = table[(table["variant"] == "full") & (table["protocol"] == "indoor")].iloc[0]
    assert full["paper R1"] == pytest.approx(64.37)
    assert full["ours R1"] == pytest.approx(44.0)


def test_without_a_mapping_only_variants_named_like_published_rows_map() -> None:
    assert variant_rows_for(["full MMM", "mine"], None) == {"full MMM": "full MMM"}
    assert variant_rows_for(["full", "mine"], ROWS) == {"full": "full MMM"}
