"""Frozen stems prepared once: per-modality BatchNorm statistics (AdaBN) and stored stem outputs per view, both
kept in the cache folder, and the training inputs built on them agreeing with the pixel path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmm.data.records import Modality
from mmm.data.transforms import eval_transform
from mmm.models.batchnorm import adapt_batchnorm
from mmm.models.factory import build_backbone, create_backbone
from mmm.models.numerics import ForwardNumerics
from mmm.models.two_stream import TwoStreamNetwork
from mmm.pipeline.network_inputs import PixelInputs, StemmedInputs, StemOutputs, draw_map_erasing, erase_maps
from mmm.pipeline.stem_encoding import adapt_stems, encode_images
from mmm.pipeline.training_images import TrainingImages

CPU = torch.device("cpu")
HEIGHT, WIDTH = 64, 32


def _images(seed: int, count: int, gray: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, HEIGHT, WIDTH, 3), dtype=np.uint8)
    if gray:
        images[..., 1] = images[..., 2] = images[..., 0]
    return images


@pytest.fixture
def model() -> TwoStreamNetwork:
    torch.manual_seed(0)
    return build_backbone("mobilenet_v2", "imagenet")[0]


def test_adapt_batchnorm_averages_the_batch_statistics_and_leaves_weights_alone() -> None:
    layer = torch.nn.BatchNorm2d(2)
    layer.weight.data.fill_(3.0)
    batches = [torch.randn(16, 2, 4, 4) * scale + shift for scale, shift in ((1.0, 0.0), (2.0, 5.0))]
    seen = adapt_batchnorm(layer, batches)
    means = torch.stack([b.mean(dim=(0, 2, 3)) for b in batches])
    assert seen == 32 and not layer.training
    assert torch.allclose(layer.running_mean, means.mean(0), atol=1e-5)
    assert torch.all(layer.weight == 3.0) and layer.momentum == 0.1
    with pytest.raises(ValueError, match="at least one sample"):
        adapt_batchnorm(layer, [])


def test_each_stem_gets_the_statistics_of_its_own_modality(model: TwoStreamNetwork, tmp_path: Path) -> None:
    visible, infrared = _images(0, 40), _images(1, 30, gray=True) // 2
    adapt_stems(model, visible, infrared, tmp_path, CPU)
    first_bn = "0.1.running_mean"
    visible_mean = model.visible_stem.state_dict()[first_bn]
    infrared_mean = model.infrared_stem.state_dict()[first_bn]
    assert not torch.allclose(visible_mean, infrared_mean)
    torch.manual_seed(0)
    again = build_backbone("mobilenet_v2", "imagenet")[0]
    adapt_stems(again, visible, infrared, tmp_path, CPU)  # served by the stored statistics
    assert torch.equal(again.visible_stem.state_dict()[first_bn], visible_mean)
    assert len(list(tmp_path.glob("stem-statistics-*.pt"))) == 2


def test_stored_views_are_the_stem_outputs_of_the_plain_and_mirrored_images(
    model: TwoStreamNetwork, tmp_path: Path
) -> None:
    images = _images(2, 5)
    views = encode_images(model, images, Modality.VISIBLE, ("plain", "flip", "exchange"), tmp_path, CPU)
    x = eval_transform(torch.from_numpy(images).permute(0, 3, 1, 2))
    with torch.no_grad():
        plain = model.stem(x, Modality.VISIBLE)
        mirrored = model.stem(x.flip(3), Modality.VISIBLE)
    assert views["plain"].dtype == torch.float16 and views["plain"].shape == plain.shape
    assert torch.allclose(views["plain"].float(), plain, atol=2e-2, rtol=1e-2)
    assert torch.allclose(views["flip"].float(), mirrored, atol=2e-2, rtol=1e-2)
    assert not torch.allclose(views["exchange"].float(), plain, atol=2e-2)


def test_stored_views_are_reused_and_a_damaged_file_is_recomputed(
    model: TwoStreamNetwork, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    images = _images(3, 4)
    first = encode_images(model, images, Modality.INFRARED, ("plain",), tmp_path, CPU)["plain"]
    (path,) = tmp_path.glob("stems-*-plain.npy")
    stamp = path.stat().st_mtime_ns
    assert torch.equal(encode_images(model, images, Modality.INFRARED, ("plain",), tmp_path, CPU)["plain"], first)
    assert path.stat().st_mtime_ns == stamp
    path.write_bytes(b"damaged")
    again = encode_images(model, images, Modality.INFRARED, ("plain",), tmp_path, CPU)["plain"]
    assert torch.equal(again, first) and "unreadable" in caplog.text


def test_other_images_or_stems_get_other_stored_outputs(model: TwoStreamNetwork, tmp_path: Path) -> None:
    adapt_stems(model, _images(0, 8), _images(1, 8, gray=True) // 2, tmp_path, CPU)  # the stems now differ
    encode_images(model, _images(4, 4), Modality.VISIBLE, ("plain",), tmp_path, CPU)
    encode_images(model, _images(5, 4), Modality.VISIBLE, ("plain",), tmp_path, CPU)
    encode_images(model, _images(4, 4), Modality.INFRARED, ("plain",), tmp_path, CPU)
    assert len(list(tmp_path.glob("stems-*.npy"))) == 3


def test_unknown_views_and_trainable_stems_are_refused(model: TwoStreamNetwork, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown stem views"):
        encode_images(model, _images(6, 2), Modality.VISIBLE, ("rotated",), tmp_path, CPU)
    with pytest.raises(ValueError, match="only for frozen stems"):
        encode_images(create_backbone("mobilenet_v2_full"), _images(6, 2), Modality.VISIBLE, ("plain",), tmp_path, CPU)


def test_stored_inputs_give_the_features_the_pixel_path_gives(model: TwoStreamNetwork, tmp_path: Path) -> None:
    images = TrainingImages(_images(7, 6), _images(8, 5, gray=True), np.zeros(6, np.int64), np.ones(5, np.int64))
    outputs = StemOutputs(
        encode_images(model, images.visible, Modality.VISIBLE, ("plain", "flip", "exchange"), tmp_path, CPU),
        encode_images(model, images.infrared, Modality.INFRARED, ("plain", "flip"), tmp_path, CPU),
    )
    stored = StemmedInputs(outputs, torch.Generator().manual_seed(0), ForwardNumerics(CPU))
    pixels = PixelInputs(images, 4, torch.Generator().manual_seed(0), ForwardNumerics(CPU))
    for modality in Modality:
        cosine = (stored.features(model, modality) * pixels.features(model, modality)).sum(1)
        assert torch.all(cosine > 0.999)
        pairs = zip(stored.plain_outputs(model, modality), pixels.plain_outputs(model, modality))
        for stored_part, pixel_part in pairs:
            cosine = (F.normalize(stored_part, dim=1) * F.normalize(pixel_part, dim=1)).sum(1)
            assert torch.all(cosine > 0.999)


def test_a_stored_batch_holds_two_visible_views_then_the_infrared_rows(model: TwoStreamNetwork, tmp_path: Path) -> None:
    images = TrainingImages(_images(9, 6), _images(10, 6, gray=True), np.zeros(6, np.int64), np.ones(6, np.int64))
    outputs = StemOutputs(
        encode_images(model, images.visible, Modality.VISIBLE, ("plain", "flip", "exchange"), tmp_path, CPU),
        encode_images(model, images.infrared, Modality.INFRARED, ("plain", "flip"), tmp_path, CPU),
    )
    inputs = StemmedInputs(outputs, torch.Generator().manual_seed(0), ForwardNumerics(CPU))
    pooled, normed = inputs.forward_batch(model.train(), np.array([0, 1, 2]), np.array([3, 4, 5]))
    assert pooled.shape == normed.shape == (9, model.feature_dim)
    normed.sum().backward()
    assert all(p.grad is not None for p in model.shared.parameters())


def test_erasing_zeroes_one_rectangle_per_erased_map_and_is_seeded() -> None:
    maps = torch.ones(64, 4, 4, 2)
    erased = erase_maps(maps, draw_map_erasing(torch.Generator().manual_seed(1), 64, 4, 2))
    assert torch.equal(erased, erase_maps(maps, draw_map_erasing(torch.Generator().manual_seed(1), 64, 4, 2)))
    zero = (erased == 0).all(dim=1)  # [B, h, w]: cells erased in every channel
    assert torch.equal((erased == 0).any(dim=1), zero), "erasing covers all channels of a cell"
    touched = zero.flatten(1).any(dim=1)
    assert 0 < int(touched.sum()) < 64
    for cells in zero[touched]:
        rows, cols = torch.nonzero(cells, as_tuple=True)
        box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        assert int(box) == len(rows), "the erased cells form one rectangle"
