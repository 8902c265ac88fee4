"""The two-stream MobileNetV2: forward and backward at the quick profile's size, frozen stems that neither train
nor drift, stem outputs that reproduce the full forward, and trainable stems for the fully fine-tuned preset."""

from __future__ import annotations

import pytest
import torch

from mmm.data.records import Modality
from mmm.models.factory import build_backbone, create_backbone
from mmm.models.two_stream_mobilenet import TwoStreamMobileNet

HEIGHT, WIDTH = 128, 64


def _grads(module: torch.nn.Module) -> list[torch.Tensor | None]:
    return [p.grad for p in module.parameters()]


def test_imagenet_mobilenet_trains_at_the_quick_size_with_frozen_stems() -> None:
    torch.manual_seed(0)
    model, weights = build_backbone("mobilenet_v2", "imagenet")
    assert weights is not None and model.frozen_stems
    model.train()
    pooled, normed = model.forward_visible_infrared(torch.randn(4, 3, HEIGHT, WIDTH), torch.randn(2, 3, HEIGHT, WIDTH))
    assert pooled.shape == normed.shape == (6, 1280)
    (pooled.square().mean() + normed.square().mean()).backward()
    assert all(g is None for g in _grads(model.visible_stem) + _grads(model.infrared_stem))
    assert all(g is not None and g.abs().sum() > 0 for g in _grads(model.shared))
    assert model.neck.weight.grad is not None


def test_frozen_stems_keep_their_statistics_in_train_mode() -> None:
    model = create_backbone("mobilenet_v2").train()
    before = {k: v.clone() for k, v in model.visible_stem.state_dict().items()}
    with torch.no_grad():
        model(torch.randn(8, 3, HEIGHT, WIDTH) * 3 + 1, Modality.VISIBLE)
    assert not model.visible_stem.training
    assert all(torch.equal(before[k], v) for k, v in model.visible_stem.state_dict().items())
    assert model.shared.training


def test_shared_blocks_and_head_on_stem_outputs_equal_the_whole_forward() -> None:
    torch.manual_seed(0)
    model = create_backbone("mobilenet_v2").eval()
    x = torch.randn(3, 3, HEIGHT, WIDTH)
    with torch.no_grad():
        whole = model(x, Modality.INFRARED)
        stemmed = model.forward_stemmed(model.stem(x, Modality.INFRARED))
    assert torch.allclose(whole, stemmed, atol=1e-5)
    assert model.stem(x, Modality.INFRARED).shape == (3, 96, HEIGHT // 16, WIDTH // 16)  # blocks 0-13: stride 16


def test_both_stems_start_as_the_same_imagenet_blocks() -> None:
    model, _ = build_backbone("mobilenet_v2", "imagenet")
    visible, infrared = model.visible_stem.state_dict(), model.infrared_stem.state_dict()
    assert all(torch.equal(visible[k], infrared[k]) for k in visible)
    assert model.visible_stem[0][0].weight.data_ptr() != model.infrared_stem[0][0].weight.data_ptr()


def test_fully_fine_tuned_preset_trains_its_stems() -> None:
    model = create_backbone("mobilenet_v2_full").train()
    assert not model.frozen_stems and model.stem_blocks == 2
    pooled, normed = model(torch.randn(4, 3, HEIGHT, WIDTH), Modality.VISIBLE)
    (pooled.sum() + normed.sum()).backward()
    assert all(g is not None for g in _grads(model.visible_stem))
    assert all(g is None for g in _grads(model.infrared_stem))


def test_stem_blocks_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="stem_blocks must be between 1 and 18"):
        TwoStreamMobileNet(stem_blocks=19)
