"""Tests of the batched tensor augmentations."""

from __future__ import annotations

import torch

from mmm.data.transforms import (
    ERASE_FILL,
    IMAGENET_MEAN,
    IMAGENET_STD,
    adaptive_gray,
    channel_exchange,
    eval_transform,
    normalize,
    pad_random_crop,
    random_erasing,
    random_flip,
    to_float,
    train_view_infrared,
    train_views_visible,
)

B, H, W = 6, 16, 8


def _batch(seed: int = 0, device: torch.device | str = "cpu") -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(1, 256, (B, 3, H, W), dtype=torch.uint8, generator=generator).to(device)


def _gen(seed: int = 1) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_eval_transform_normalises_with_imagenet_statistics() -> None:
    batch = _batch()
    out = eval_transform(batch)
    assert out.dtype == torch.float32 and out.shape == batch.shape
    expected = (batch[:, 1].float() / 255 - IMAGENET_MEAN[1]) / IMAGENET_STD[1]
    torch.testing.assert_close(out[:, 1], expected)


def test_to_float_maps_uint8_to_unit_range() -> None:
    out = to_float(torch.tensor([0, 255], dtype=torch.uint8).view(1, 1, 1, 2).expand(1, 3, 1, 2))
    assert out.min() == 0.0 and out.max() == 1.0


def test_training_views_are_float_batches_of_the_input_shape_and_device(device: torch.device) -> None:
    # The generator stays on the CPU: a CPU generator must serve a batch on any device.
    batch = _batch(device=device)
    view1, view2 = train_views_visible(batch, _gen())
    infrared = train_view_infrared(batch, _gen())
    for view in (view1, view2, infrared):
        assert view.shape == (B, 3, H, W)
        assert view.dtype == torch.float32
        assert view.device.type == device.type


def test_crop_with_pad_keeps_size_and_shows_a_shifted_window() -> None:
    batch = _batch()
    out = pad_random_crop(batch, _gen(), pad=3)
    assert out.shape == batch.shape and out.dtype == torch.uint8
    padded = torch.nn.functional.pad(batch, (3, 3, 3, 3))
    for b in range(B):
        windows = [padded[b, :, y : y + H, x : x + W] for y in range(7) for x in range(7)]
        assert any(torch.equal(out[b], window) for window in windows)


def test_crop_offsets_differ_between_samples() -> None:
    batch = _batch()[:1].repeat(32, 1, 1, 1)
    out = pad_random_crop(batch, _gen(), pad=4)
    assert len({tuple(sample.flatten().tolist()) for sample in out}) > 1


def test_zero_pad_leaves_the_batch_unchanged() -> None:
    batch = _batch()
    assert torch.equal(pad_random_crop(batch, _gen(), pad=0), batch)


def test_flip_mirrors_exactly_the_flipped_samples() -> None:
    batch = _batch()
    out = random_flip(batch, _gen(), p=0.5)
    flipped = [torch.equal(out[b], batch[b].flip(-1)) for b in range(B)]
    kept = [torch.equal(out[b], batch[b]) for b in range(B)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert all(random_flip(batch, _gen(), p=1.0)[b].equal(batch[b].flip(-1)) for b in range(B))
    assert torch.equal(random_flip(batch, _gen(), p=0.0), batch)


def test_channel_exchange_makes_three_equal_channels_from_one_input_channel() -> None:
    batch = normalize(to_float(_batch()))
    out = channel_exchange(batch, _gen())
    assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 0], out[:, 2])
    for b in range(B):
        assert any(torch.equal(out[b, 0], batch[b, c]) for c in range(3))


def test_second_visible_view_has_three_equal_channels() -> None:
    _, view2 = train_views_visible(_batch(), _gen())
    assert torch.equal(view2[:, 0], view2[:, 1]) and torch.equal(view2[:, 0], view2[:, 2])


def test_erasing_changes_only_one_rectangle_filled_with_the_constants() -> None:
    batch = torch.full((64, 3, H, W), -5.0)
    out = random_erasing(batch, _gen(), p=1.0)
    for sample in out:
        changed = (sample != -5.0).any(dim=0)
        rows = changed.any(dim=1).nonzero().flatten()
        cols = changed.any(dim=0).nonzero().flatten()
        if len(rows) == 0:
            continue
        box = changed[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        assert box.all() and changed.sum() == box.numel()
        for c in range(3):
            assert torch.all(sample[c][changed] == torch.tensor(ERASE_FILL[c]))
    assert sum(bool((sample != -5.0).any()) for sample in out) > 48


def test_erasing_with_zero_probability_changes_nothing() -> None:
    batch = normalize(to_float(_batch()))
    assert torch.equal(random_erasing(batch, _gen(), p=0.0), batch)


def test_adaptive_gray_gives_single_channel_gray_or_untouched_samples() -> None:
    batch = normalize(to_float(_batch()[:1].repeat(200, 1, 1, 1)))
    out = adaptive_gray(batch, _gen())
    weights = torch.tensor([0.2989, 0.5870, 0.1140]).view(3, 1, 1)
    gray = (batch[0] * weights).sum(dim=0)
    kinds = []
    for sample in out:
        if torch.equal(sample, batch[0]):
            kinds.append("untouched")
        elif torch.allclose(sample[0], gray) and torch.equal(sample[0], sample[1]):
            kinds.append("gray")
        else:
            assert any(torch.equal(sample[k], batch[0, c]) for c in range(3) for k in range(3))
            assert torch.equal(sample[0], sample[1]) and torch.equal(sample[0], sample[2])
            kinds.append("channel")
    assert {"untouched", "gray", "channel"} <= set(kinds)
    assert kinds.count("channel") > kinds.count("gray") + kinds.count("untouched")


def test_seeded_generator_reproduces_the_augmentation(device: torch.device) -> None:
    batch = _batch(device=device)
    first = train_views_visible(batch, _gen(7)) + (train_view_infrared(batch, _gen(7)),)
    second = train_views_visible(batch, _gen(7)) + (train_view_infrared(batch, _gen(7)),)
    other = train_views_visible(batch, _gen(8))
    for a, b in zip(first, second):
        assert torch.equal(a, b)
    assert not torch.equal(first[0], other[0])


def test_augmentations_leave_the_input_untouched() -> None:
    batch = _batch()
    before = batch.clone()
    train_views_visible(batch, _gen())
    train_view_infrared(batch, _gen())
    assert torch.equal(batch, before)
