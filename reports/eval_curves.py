"""The test metrics recorded during stage C (`--eval-every K`, PipelineConfig.eval_every): curves over the epochs,
and beside each variant's last epoch, which is the result, the epoch the authors' release would have kept (the
best test R1), labelled as reported and never used. Nothing here feeds a result, a Δ or a verdict.
"""

from __future__ import annotations

import pandas as pd
import seaborn as sns

from mmm.choices import PRIMARY_PROTOCOLS, TEST_CURVE, Stage
from reports.display import Cell, DisplayTable, fmt_mean_sd, fmt_text
from reports.embed import new_figure, png_data_uri
from reports.schema import DATASET_LABELS, PROTOCOL_LABELS

LAST_ROW = "last epoch: the result"
BEST_ROW = "best test epoch: the release's selection, reported, never used"
CURVE_METRICS = ("R1", "mAP")
SELECTION_METRIC = "R1"  # the release keeps the network whenever test R1 improves
_RUN = ["variant", "seed", "regdb_trial"]


def stage_c_curves(epochs: pd.DataFrame) -> pd.DataFrame:
    """The stage-C test records of the primary protocol of each dataset: variant, dataset, seed, regdb_trial,
    epoch (1-based), metric, value; empty when no run recorded any."""
    columns = ["variant", "dataset", "seed", "regdb_trial", "epoch", "metric", "value"]
    if epochs.empty:
        return pd.DataFrame(columns=columns)
    rows = epochs[(epochs["stage"] == Stage.SCA) & epochs["name"].str.startswith(f"{TEST_CURVE}.")]
    parts = rows["name"].str.split(".", expand=True) if not rows.empty else pd.DataFrame(columns=[0, 1, 2])
    rows = rows.assign(protocol=parts[1], metric=parts[2], epoch=rows["epoch"] + 1)
    primary = rows["protocol"] == rows["dataset"].map(PRIMARY_PROTOCOLS)
    return rows[primary & rows["metric"].isin(CURVE_METRICS)][columns].reset_index(drop=True)


def epoch_choices(curves: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Per run (variant, seed, RegDB trial) of `dataset`: its last recorded epoch and its best-R1 epoch (the
    earliest among equals, as the release keeps the first), each with R1 and mAP: columns variant, row, epoch,
    R1, mAP, one row per run and selection."""
    data = curves[curves["dataset"] == dataset]
    wide = data.pivot_table(index=[*_RUN, "epoch"], columns="metric", values="value", dropna=False).reset_index()
    records = []
    for _, run in wide.groupby(_RUN, dropna=False, sort=False):
        run = run.sort_values("epoch")
        last = run.iloc[-1]
        best = run.loc[run[SELECTION_METRIC].idxmax()]
        for label, row in ((LAST_ROW, last), (BEST_ROW, best)):
            records.append({"variant": row["variant"], "row": label, **{k: row[k] for k in ("epoch", *CURVE_METRICS)}})
    return pd.DataFrame(records, columns=["variant", "row", "epoch", *CURVE_METRICS])


def epoch_choice_display(selected: pd.DataFrame) -> DisplayTable:
    """Per variant its last epoch and its best test epoch: the epoch(s) and R1 and mAP, mean ± sd over runs."""
    rows = []
    for (variant, label), group in selected.groupby(["variant", "row"], sort=False):
        epochs = ", ".join(str(int(e)) for e in sorted(set(group["epoch"])))
        metrics = [Cell(fmt_mean_sd(group[m].mean(), group[m].std(ddof=1)), "num") for m in CURVE_METRICS]
        css = "" if label == LAST_ROW else "unresolved"
        rows.append([Cell(str(variant)), Cell(label, css), Cell(fmt_text(epochs), "num"), *metrics])
    return DisplayTable(columns=["variant", "selection", "epoch", *CURVE_METRICS], rows=rows)


def curve_figure(curves: pd.DataFrame, dataset: str, palette: dict[str, tuple[float, float, float]]) -> str | None:
    """R1 and mAP of the primary protocol over stage-C epochs, mean over runs with an sd band, one line per
    variant."""
    data = curves[curves["dataset"] == dataset]
    if data.empty:
        return None
    data = data.assign(variant=data["variant"].astype(str))
    order = [v for v in palette if v in set(data["variant"])]
    protocol = PROTOCOL_LABELS[PRIMARY_PROTOCOLS[dataset]]
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.8):
        figure = new_figure(9.0, 3.2)
        axes = figure.subplots(1, len(CURVE_METRICS), squeeze=False)[0]
        for ax, metric in zip(axes, CURVE_METRICS):
            sns.lineplot(
                data=data[data["metric"] == metric],
                x="epoch",
                y="value",
                hue="variant",
                hue_order=order,
                palette={v: palette[v] for v in order},
                errorbar="sd",
                marker="o",
                ax=ax,
            )
            ax.set_title(f"{DATASET_LABELS[dataset]} {protocol} {metric} (test set, never used)")
            ax.set_xlabel("stage-C epoch")
            ax.set_ylabel(f"{metric} (%)")
        return png_data_uri(figure)
