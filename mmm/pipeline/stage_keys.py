"""Cache keys of the stage outputs: a hash of everything upstream of a stage (task, starting weights, config fields,
and the method's source hash, mmm.code_identity).

Variants that differ only downstream of a stage share its key, so the SCA ablation trains stages A and B once.
"""

from __future__ import annotations

import hashlib
import json

from mmm.choices import Stage
from mmm.code_identity import current_source
from mmm.pipeline.config import PipelineConfig

STAGE_A_FIELDS = (
    "dataset",
    "backbone",
    "pretrained",
    "height",
    "width",
    "pad",
    "seed",
    "epochs_a",
    "iters_a",
    "batch_p",
    "batch_k",
    "camera_aware",
    "lr",
    "weight_decay",
    "step_size",
    "k1",
    "k2",
    "eps",
    "min_samples",
    "temperature",
    "momentum",
)
STAGE_B_FIELDS = STAGE_A_FIELDS + ("cmc", "epochs_b", "iters_b", "k1_cross", "k2_cross", "cmc_second_step")
MMLM_FIELDS = STAGE_B_FIELDS + (
    "memories",
    "solver",
    "cost_direction",
    "kmeans_iters",
    "kmeans_restarts",
    "mmlm_skip_last",
)

UPSTREAM_FIELDS = {
    Stage.DCL: STAGE_A_FIELDS,
    Stage.CMC: STAGE_B_FIELDS,
    Stage.CENTROID_HUNGARIAN: STAGE_B_FIELDS,
    Stage.MMLM: MMLM_FIELDS,
    Stage.MAJORITY_MATCH: STAGE_B_FIELDS,  # oracle_matching: MMLM's clusters, matched without its fields
}
# Stages that match the per-modality clusters after the contrastive stages.
MATCHING_STAGES = (Stage.MMLM, Stage.MAJORITY_MATCH)


def stage_key(
    stage: Stage,
    fingerprint: str,
    config: PipelineConfig,
    extra: dict | None = None,
    weights: str = "none",
    *,
    numerics: str,
) -> str:
    """The hex key of `stage` for this task fingerprint, config and starting weights (the sha256 of the weight
    file, "none" for a random start), plus `extra` for method-specific stages. `numerics` is where and how the
    network ran (mmm.models.numerics.ForwardNumerics.key: device kind and precision), so a stage trained on the CPU
    is never served to a GPU run, nor a float32 one to a bfloat16 run."""
    fields = UPSTREAM_FIELDS[stage]
    if stage in MATCHING_STAGES and not config.cmc:
        # CMC did not run, so its fields are not upstream of the matching
        fields = STAGE_A_FIELDS + tuple(name for name in fields if name not in STAGE_B_FIELDS)
    values = {name: getattr(config, name) for name in fields}
    # eps and the cross k's resolve per dataset; hash what is actually used
    values["eps"] = config.resolved_eps
    if "k1_cross" in values:
        values.update(k1_cross=config.resolved_k1_cross, k2_cross=config.resolved_k2_cross)
    payload = json.dumps(
        {
            "stage": stage,
            "task": fingerprint,
            # Entries made by other code are never reused: any change to the method's source is another key.
            "code": current_source(),
            "config": values,
            "extra": extra or {},
            "weights": weights,
            "numerics": numerics,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]
