"""Training batches prepared one ahead: the next batch is started before the current one is used, the random draws
keep the order batches are used in, and the eval batches cover every image once."""

from __future__ import annotations

import numpy as np
import torch

from mmm.features.extract import image_batches
from mmm.host_to_device import BatchLoader, one_ahead
from mmm.models.factory import create_backbone
from mmm.models.numerics import ForwardNumerics
from mmm.pipeline.network_inputs import PixelInputs
from mmm.pipeline.training_images import TrainingImages

CPU = torch.device("cpu")


def test_each_item_is_handed_out_only_after_the_next_one_started() -> None:
    events: list[str] = []

    def start(item: int) -> int:
        events.append(f"start {item}")
        return item

    for item in one_ahead(range(3), start):
        events.append(f"use {item}")
    assert events == ["start 0", "start 1", "use 0", "start 2", "use 1", "use 2"]
    assert list(one_ahead([], start)) == []


def test_eval_batches_cover_every_image_once_in_order() -> None:
    images = np.random.default_rng(0).integers(0, 256, (10, 4, 2, 3), dtype=np.uint8)
    batches = list(image_batches(images, 4, BatchLoader(CPU)))
    assert [len(batch) for batch in batches] == [4, 4, 2]
    assert np.array_equal(torch.cat(batches).numpy(), images)


def test_batches_streamed_one_ahead_are_the_batches_made_one_by_one() -> None:
    rng = np.random.default_rng(1)
    images = TrainingImages(
        rng.integers(0, 256, (8, 32, 16, 3), dtype=np.uint8),
        rng.integers(0, 256, (8, 32, 16, 3), dtype=np.uint8),
        np.zeros(8, np.int64),
        np.ones(8, np.int64),
    )
    model = create_backbone("resnet18_small").train()
    batches = [
        (np.array([0, 1]), np.array([2, 3])),
        (np.array([4, 5]), np.array([6, 7])),
        (np.array([1, 2]), np.array([0, 5])),
    ]

    def inputs() -> PixelInputs:
        return PixelInputs(images, 4, torch.Generator().manual_seed(3), ForwardNumerics(CPU))

    torch.manual_seed(0)
    streaming = inputs()
    streamed = [streaming.forward_prepared(model, batch)[1] for batch in streaming.stream(batches)]
    torch.manual_seed(0)
    one_by_one = inputs()
    made = [one_by_one.forward_batch(model, index_v, index_r)[1] for index_v, index_r in batches]
    for a, b in zip(streamed, made):
        assert torch.equal(a, b)
