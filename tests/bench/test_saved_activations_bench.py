"""Group `saved_activations`: the bytes a paper-scale stage A/B step (AGW ResNet-50 at 288x144) saves for its
backward pass, per recipe batch and precision, counted on fake tensors (tests/bench/saved_activations.py). The
time is that of the count, not of a step; `saved_gb` is the number."""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from tests.bench.saved_activations import GB, PAPER_BATCHES, step_saved_bytes


@pytest.mark.benchmark(group="saved_activations")
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize(
    ("batch", "identities", "instances"), PAPER_BATCHES, ids=[b[0].split()[0] for b in PAPER_BATCHES]
)
def test_saved_activations_of_a_paper_ab_step(
    benchmark: BenchmarkFixture, batch: str, identities: int, instances: int, precision: str
) -> None:
    saved = benchmark.pedantic(
        step_saved_bytes, args=("agw_resnet50", 288, 144, identities * instances, precision), rounds=1, iterations=1
    )
    assert saved.images == 3 * identities * instances
    benchmark.extra_info.update(
        batch=batch,
        precision=precision,
        images_per_step=saved.images,
        saved_gb=saved.total / GB,
        saved_mb_per_image=saved.per_image / 1e6,
        by_dtype_gb={dtype: size / GB for dtype, size in saved.by_dtype.items()},
    )
