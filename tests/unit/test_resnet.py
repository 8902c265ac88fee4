"""ResNet builder: torchvision key layout, widths and strides; the weight file reader and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mmm.models.resnet import build_resnet, stage_planes
from mmm.models.weights import WeightFileError, load_weights, read_state_dict

RECORDED_KEYS = Path(__file__).resolve().parents[2] / "mmm" / "models" / "resnet50_keys.txt"


def test_resnet50_state_dict_keys_equal_recorded_torchvision_list() -> None:
    recorded = RECORDED_KEYS.read_text().split()
    assert list(build_resnet(50).state_dict()) == recorded


def test_resnet_parameter_counts_equal_torchvision() -> None:
    # torchvision's published counts: resnet18 11,689,512; resnet34 21,797,672; resnet50 25,557,032.
    counts = {depth: sum(p.numel() for p in build_resnet(depth).parameters()) for depth in (18, 34, 50)}
    assert counts == {18: 11_689_512, 34: 21_797_672, 50: 25_557_032}


def test_basic_block_resnets_have_no_third_convolution_and_no_downsample_in_layer1() -> None:
    keys = list(build_resnet(18).state_dict())
    assert len(keys) == 122
    assert not any(".conv3." in key for key in keys)
    assert not any(key.startswith("layer1.0.downsample") for key in keys)
    assert all(f"layer{i}.0.downsample.0.weight" in keys for i in (2, 3, 4))


def test_width_multiplier_scales_channels_and_keeps_at_least_eight() -> None:
    assert stage_planes(1.0) == (64, 128, 256, 512)
    assert stage_planes(0.25) == (16, 32, 64, 128)
    assert stage_planes(0.05) == (8, 8, 13, 26)
    assert build_resnet(50, width=0.5).out_channels == 1024
    assert build_resnet(18, width=0.25).conv1.out_channels == 16


def test_last_stride_one_keeps_layer4_at_layer3_resolution() -> None:
    x = torch.randn(1, 3, 64, 32)
    strided = build_resnet(18, width=0.125, last_stride=2).eval()
    unstrided = build_resnet(18, width=0.125, last_stride=1).eval()
    with torch.no_grad():
        assert strided.forward_features(x).shape[-2:] == (2, 1)
        assert unstrided.forward_features(x).shape[-2:] == (4, 2)


def test_builder_rejects_unknown_depth_and_stride() -> None:
    with pytest.raises(ValueError, match="depth"):
        build_resnet(101)
    with pytest.raises(ValueError, match="last_stride"):
        build_resnet(18, last_stride=3)


def test_state_dict_file_round_trips_through_load_weights(tmp_path: Path) -> None:
    source = build_resnet(18, width=0.25)
    path = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), path)
    target = build_resnet(18, width=0.25)
    load_weights(target, path)
    loaded, expected = target.state_dict(), source.state_dict()
    assert list(loaded) == list(expected)
    assert all(torch.equal(loaded[key], expected[key]) for key in expected)


def test_weight_file_with_wrong_keys_names_file_and_keys(tmp_path: Path) -> None:
    state = build_resnet(18, width=0.25).state_dict()
    del state["layer2.0.conv1.weight"]
    state["head.weight"] = torch.zeros(1)
    path = tmp_path / "renamed.pth"
    torch.save(state, path)
    with pytest.raises(WeightFileError) as caught:
        load_weights(build_resnet(18, width=0.25), path)
    message = str(caught.value)
    assert "renamed.pth" in message
    assert "missing keys: layer2.0.conv1.weight" in message
    assert "unexpected keys: head.weight" in message


def test_weight_file_with_wrong_shapes_names_keys_and_shapes(tmp_path: Path) -> None:
    path = tmp_path / "wide.pth"
    torch.save(build_resnet(18, width=0.5).state_dict(), path)
    with pytest.raises(WeightFileError, match=r"wide\.pth.*shape mismatches: conv1\.weight \(file \(32, 3, 7, 7\)"):
        load_weights(build_resnet(18, width=0.25), path)


def test_missing_or_non_state_dict_weight_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(WeightFileError, match="no such weight file"):
        read_state_dict(tmp_path / "absent.pth")
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightFileError, match="garbage.pth: not a readable"):
        read_state_dict(garbage)
    listing = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], listing)
    with pytest.raises(WeightFileError, match="expected a dict of tensors"):
        read_state_dict(listing)
