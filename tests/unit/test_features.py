"""Feature extraction: flip averaging, unit norm, mode restoration, batching and input checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from mmm.data.records import Modality
from mmm.data.transforms import eval_transform
from mmm.features.extract import extract_features
from mmm.models.agw import TwoStreamAGW
from mmm.models.factory import create_backbone


@pytest.fixture(scope="module")
def model() -> TwoStreamAGW:
    torch.manual_seed(0)
    backbone = create_backbone("agw_resnet18_small")
    # Distinct stems, so a wrong modality would show up in the features.
    with torch.no_grad():
        backbone.infrared_stem.conv1.weight.mul_(-1.0)
    return backbone


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(7, 64, 32, 3), dtype=np.uint8)


def test_features_are_unit_norm_float32_on_cpu(model: TwoStreamAGW, images: np.ndarray, device: torch.device) -> None:
    features = extract_features(model.to(device), images, Modality.VISIBLE, device=device)
    model.cpu()
    assert features.shape == (7, model.feature_dim)
    assert features.dtype == torch.float32 and features.device.type == "cpu"
    assert torch.allclose(features.norm(dim=1), torch.ones(7), atol=1e-5)


def test_feature_of_an_image_equals_feature_of_its_mirror(model: TwoStreamAGW, images: np.ndarray) -> None:
    features = extract_features(model, images, Modality.INFRARED)
    mirrored = extract_features(model, images[:, :, ::-1], Modality.INFRARED)
    assert torch.allclose(features, mirrored, atol=1e-5)


def test_one_view_is_the_plain_image_alone(model: TwoStreamAGW, images: np.ndarray) -> None:
    single = extract_features(model, images, Modality.VISIBLE, flip=False)
    model.eval()
    with torch.no_grad():
        plain = model(eval_transform(torch.from_numpy(images).permute(0, 3, 1, 2)), Modality.VISIBLE)
    model.train()
    assert torch.allclose(single, torch.nn.functional.normalize(plain, dim=1), atol=1e-5)
    mirrored = extract_features(model, images[:, :, ::-1], Modality.VISIBLE, flip=False)
    assert not torch.allclose(single, mirrored, atol=1e-4)  # one view: a mirror is another image
    assert not torch.allclose(single, extract_features(model, images, Modality.VISIBLE), atol=1e-4)


def test_batch_size_does_not_change_features(model: TwoStreamAGW, images: np.ndarray) -> None:
    whole = extract_features(model, images, Modality.VISIBLE, batch_size=128)
    pieces = extract_features(model, images, Modality.VISIBLE, batch_size=3)
    assert torch.allclose(whole, pieces, atol=1e-5)


def test_numpy_and_tensor_inputs_give_the_same_features(model: TwoStreamAGW, images: np.ndarray) -> None:
    from_numpy = extract_features(model, images, Modality.VISIBLE)
    from_tensor = extract_features(model, torch.from_numpy(images), Modality.VISIBLE)
    assert torch.equal(from_numpy, from_tensor)


def test_read_only_arrays_are_read_without_warnings(model: TwoStreamAGW, images: np.ndarray) -> None:
    read_only = images.copy()
    read_only.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        features = extract_features(model, read_only, Modality.VISIBLE, batch_size=4)
    assert torch.equal(features, extract_features(model, images, Modality.VISIBLE, batch_size=4))


def test_modality_selects_the_stem(model: TwoStreamAGW, images: np.ndarray) -> None:
    visible = extract_features(model, images, Modality.VISIBLE)
    infrared = extract_features(model, images, Modality.INFRARED)
    assert not torch.allclose(visible, infrared, atol=1e-3)


def test_extraction_restores_train_mode_and_leaves_bn_statistics_alone(model: TwoStreamAGW, images: np.ndarray) -> None:
    model.train()
    running_mean = model.neck.running_mean.clone()
    extract_features(model, images, Modality.VISIBLE)
    assert model.training and model.layer1.training
    assert torch.equal(model.neck.running_mean, running_mean)
    model.eval()
    extract_features(model, images, Modality.VISIBLE)
    assert not model.training


def test_features_can_take_part_in_autograd_later(model: TwoStreamAGW, images: np.ndarray) -> None:
    features = extract_features(model, images, Modality.VISIBLE)
    assert not features.requires_grad
    memory = torch.nn.Parameter(features.clone())
    (memory @ features.T).sum().backward()
    assert memory.grad is not None


def test_empty_input_gives_an_empty_feature_matrix(model: TwoStreamAGW) -> None:
    features = extract_features(model, np.zeros((0, 64, 32, 3), dtype=np.uint8), Modality.VISIBLE)
    assert features.shape == (0, model.feature_dim)


def test_non_uint8_or_wrongly_shaped_images_are_rejected(model: TwoStreamAGW, images: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8"):
        extract_features(model, images.astype(np.float32), Modality.VISIBLE)
    with pytest.raises(ValueError, match=r"\[N, H, W, 3\]"):
        extract_features(model, images.transpose(0, 3, 1, 2), Modality.VISIBLE)
