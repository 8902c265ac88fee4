"""Two-stream AGW backbone: shapes, stem separation, modality routing, pretrained loading, presets and layers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mmm.data.records import Modality
from mmm.models.agw import TwoStreamAGW
from mmm.models.factory import create_backbone, list_backbones
from mmm.models.layers import GeM, NonLocalBlock
from mmm.models.resnet import build_resnet


def _stem_grads_are_zero(stem: torch.nn.Module) -> bool:
    return all(p.grad is None or not p.grad.any() for p in stem.parameters())


def test_agw_resnet50_trains_on_cpu_at_paper_size() -> None:
    torch.manual_seed(0)
    model = create_backbone("agw_resnet50").train()
    x_visible, x_infrared = torch.randn(2, 3, 288, 144), torch.randn(2, 3, 288, 144)
    pooled, normed = model.forward_visible_infrared(x_visible, x_infrared)
    assert pooled.shape == normed.shape == (4, 2048)
    (pooled.square().mean() + normed.square().mean()).backward()
    assert model.layer4[0].conv2.stride == (1, 1)
    assert model.visible_stem.conv1.weight.grad.abs().sum() > 0
    assert model.infrared_stem.conv1.weight.grad.abs().sum() > 0
    assert all(block.theta.weight.grad is not None for stage in model.non_local.values() for block in stage.values())


def test_small_backbone_trains_at_synthetic_size() -> None:
    torch.manual_seed(0)
    model = create_backbone("resnet18_small").train()
    x_visible, x_infrared = torch.randn(16, 3, 64, 32), torch.randn(16, 3, 64, 32)
    pooled, normed = model.forward_visible_infrared(x_visible, x_infrared)
    (pooled.square().mean() + normed.square().mean()).backward()
    assert pooled.shape == normed.shape == (32, model.feature_dim) == (32, 128)
    assert all(p.grad is not None for p in model.layer1.parameters())


def test_infrared_input_sends_no_gradient_to_the_visible_stem() -> None:
    model = create_backbone("agw_resnet18_small").train()
    pooled, normed = model(torch.randn(4, 3, 64, 32), Modality.INFRARED)
    (pooled.sum() + normed.sum()).backward()
    assert _stem_grads_are_zero(model.visible_stem)
    assert not _stem_grads_are_zero(model.infrared_stem)
    assert model.visible_stem.conv1.weight.data_ptr() != model.infrared_stem.conv1.weight.data_ptr()


def test_per_sample_modality_routes_each_row_through_its_stem() -> None:
    torch.manual_seed(0)
    model = create_backbone("agw_resnet18_small").eval()
    with torch.no_grad():
        model.infrared_stem.conv1.weight.mul_(-1.0)
        x = torch.randn(5, 3, 64, 32)
        modality = torch.tensor([1, 0, 0, 1, 0])
        mixed = model(x, modality)
        visible = model(x, Modality.VISIBLE)
        infrared = model(x, Modality.INFRARED)
    expected = torch.where(modality[:, None].bool(), infrared, visible)
    assert torch.allclose(mixed, expected, atol=1e-5)
    assert not torch.allclose(visible, infrared, atol=1e-3)


def test_visible_infrared_pass_equals_separate_passes_in_eval_mode() -> None:
    model = create_backbone("agw_resnet18_small").eval()
    x_visible, x_infrared = torch.randn(3, 3, 64, 32), torch.randn(2, 3, 64, 32)
    with torch.no_grad():
        joint = model.forward_visible_infrared(x_visible, x_infrared)
        separate = torch.cat([model(x_visible, Modality.VISIBLE), model(x_infrared, Modality.INFRARED)])
    assert joint.shape == (5, model.feature_dim)
    assert torch.allclose(joint, separate, atol=1e-5)


def test_per_sample_modality_rejects_unknown_values_and_wrong_length() -> None:
    model = create_backbone("resnet18_small").eval()
    x = torch.randn(2, 3, 64, 32)
    with pytest.raises(ValueError, match="only"):
        model(x, torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="shape"):
        model(x, torch.tensor([0, 1, 0]))


def test_pretrained_weights_fill_both_stems_and_the_shared_layers(tmp_path: Path) -> None:
    source = build_resnet(18, width=0.25, last_stride=1)
    path = tmp_path / "imagenet.pth"
    torch.save(source.state_dict(), path)
    model = TwoStreamAGW(depth=18, width=0.25, pretrained=path)
    for stem in (model.visible_stem, model.infrared_stem):
        assert torch.equal(stem.conv1.weight, source.conv1.weight)
        assert torch.equal(stem.bn1.running_var, source.bn1.running_var)
    shared = {k: v for k, v in model.state_dict().items() if k.startswith("layer")}
    expected = {k: v for k, v in source.state_dict().items() if k.startswith("layer")}
    assert shared.keys() == expected.keys()
    assert all(torch.equal(shared[key], expected[key]) for key in expected)


def test_non_local_blocks_follow_the_last_blocks_of_layer2_and_layer3() -> None:
    placement = {name: sorted(stage) for name, stage in create_backbone("agw_resnet50").non_local.items()}
    assert placement == {"layer2": ["2", "3"], "layer3": ["3", "4", "5"]}
    small = {name: sorted(stage) for name, stage in create_backbone("agw_resnet18_small").non_local.items()}
    assert small == {"layer2": ["0", "1"], "layer3": ["0", "1"]}
    assert all(len(stage) == 0 for stage in create_backbone("resnet18_small").non_local.values())


def test_eval_mode_returns_bn_neck_feature_and_train_mode_both() -> None:
    model = create_backbone("resnet18_small")
    x = torch.randn(4, 3, 64, 32)
    model.train()
    pooled, normed = model(x, Modality.VISIBLE)
    assert torch.allclose(normed.mean(dim=0), torch.zeros(model.feature_dim), atol=1e-4)
    model.eval()
    with torch.no_grad():
        feature = model(x, Modality.VISIBLE)
    assert isinstance(feature, torch.Tensor) and feature.shape == (4, model.feature_dim)


def test_bn_neck_shift_is_frozen() -> None:
    model = create_backbone("resnet18_small")
    assert not model.neck.bias.requires_grad
    assert model.neck.weight.requires_grad


def test_fresh_non_local_block_is_the_identity() -> None:
    block = NonLocalBlock(16).train()
    x = torch.randn(2, 16, 8, 4)
    assert torch.equal(block(x), x)


def test_gem_with_p_one_equals_average_pooling() -> None:
    x = torch.rand(3, 8, 6, 4) + 0.1
    assert torch.allclose(GeM(p=1.0)(x), F.adaptive_avg_pool2d(x, 1).flatten(1), atol=1e-6)


def test_gem_default_p_is_three_and_fixed() -> None:
    gem = GeM()
    assert float(gem.p) == 3.0
    assert list(gem.parameters()) == []
    assert len(list(GeM(learnable=True).parameters())) == 1


def test_create_backbone_lists_valid_names_for_an_unknown_one() -> None:
    with pytest.raises(ValueError, match="agw_resnet50.*resnet18_small"):
        create_backbone("resnet152")
    assert {"agw_resnet50", "resnet18_small"} <= set(list_backbones())


def test_create_backbone_applies_overrides() -> None:
    model = create_backbone("resnet18_small", width=0.5)
    assert model.feature_dim == 256
