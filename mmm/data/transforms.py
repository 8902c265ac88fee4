"""Training and evaluation augmentations (docs/design.md §1.8) on batched image tensors [B, 3, H, W].

torchvision is not available here, so the augmentations of the USL-VI-ReID code (ADCA, PGM, MMM — the CAJ
channel augmentations on top of the usual re-ID pipeline) are rewritten on batches. Every random choice is made
per sample and drawn from an explicit torch.Generator, so a seeded generator reproduces a batch exactly; the
random numbers are drawn on the generator's device and moved to the batch's, so a CPU generator serves a GPU batch.

Order, as in the code: pad + random crop and flip in pixel space (zero padding is black), then to float in [0, 1]
and ImageNet normalisation, then random erasing, then the channel augmentation (channel exchange for the second
visible view, adaptive gray for infrared). The channel augmentations therefore act on normalised values: the
channels they make equal are equal after normalisation. Every function returns a new tensor, its input untouched.
"""

from __future__ import annotations

import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Luminance weights of the CAJ/ADCA grayscale (ITU-R BT.601, as PIL's "L" conversion).
LUMINANCE_WEIGHTS = (0.2989, 0.5870, 0.1140)
# Erasing fill of the CAJ/ADCA ChannelRandomErasing: constants written into the *normalised* tensor (they are
# CIFAR-10 pixel means, so in pixel space the patch is a light grey, the same for every image).
ERASE_FILL = (0.4914, 0.4822, 0.4465)
DEFAULT_PAD = 10
# Rejection-sampling attempts per sample for the erasing rectangle, as in Random Erasing (Zhong et al.).
_ERASE_ATTEMPTS = 100


def to_float(batch: torch.Tensor) -> torch.Tensor:
    """uint8 in [0, 255] → float32 in [0, 1]; a float batch is taken to be in [0, 1] already and kept."""
    if batch.dtype == torch.uint8:
        return batch.float().div_(255.0)
    if not batch.is_floating_point():
        raise TypeError(f"expected a uint8 or float batch, got {batch.dtype}")
    return batch.clone()


def normalize(batch: torch.Tensor) -> torch.Tensor:
    """ImageNet mean/std normalisation of a float batch in [0, 1]."""
    _check_batch(batch)
    mean = torch.tensor(IMAGENET_MEAN, dtype=batch.dtype, device=batch.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=batch.dtype, device=batch.device).view(1, 3, 1, 1)
    return (batch - mean) / std


def pad_random_crop(batch: torch.Tensor, gen: torch.Generator, pad: int = DEFAULT_PAD) -> torch.Tensor:
    """Zero-pad every side by `pad`, then crop back to H × W at an offset drawn per sample (0..2·pad each way)."""
    _check_batch(batch)
    if pad < 0:
        raise ValueError(f"pad must be >= 0, got {pad}")
    if pad == 0:
        return batch.clone()
    b, _, h, w = batch.shape
    padded = torch.nn.functional.pad(batch, (pad, pad, pad, pad))
    top = _randint(gen, 2 * pad + 1, b, batch.device)
    left = _randint(gen, 2 * pad + 1, b, batch.device)
    rows = top[:, None] + torch.arange(h, device=batch.device)
    cols = left[:, None] + torch.arange(w, device=batch.device)
    sample = torch.arange(b, device=batch.device)[:, None, None]
    # Advanced indexing gathers every sample's window at once: [B, H, W, C], channels moved back after.
    return padded.permute(0, 2, 3, 1)[sample, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2).contiguous()


def random_flip(batch: torch.Tensor, gen: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """Mirror each sample left-right with probability p."""
    _check_batch(batch)
    flip = _uniform(gen, batch.shape[0], batch.device) < p
    return torch.where(flip.view(-1, 1, 1, 1), batch.flip(-1), batch)


def random_erasing(
    batch: torch.Tensor,
    gen: torch.Generator,
    p: float = 0.5,
    area: tuple[float, float] = (0.02, 0.4),
    aspect: tuple[float, float] = (0.3, 1 / 0.3),
    fill: tuple[float, float, float] = ERASE_FILL,
) -> torch.Tensor:
    """With probability p per sample, overwrite one rectangle with the constant per-channel `fill`.

    As in CAJ/ADCA's ChannelRandomErasing: area fraction uniform in `area`, aspect ratio (h/w) uniform in `aspect`
    (linear, not log-uniform), the first of 100 draws whose rectangle fits strictly inside the image is used, and
    a sample whose 100 draws all miss is left unchanged. Meant for a normalised float batch; the default fill is
    the code's constants, written as normalised values.
    """
    _check_batch(batch)
    b, _, h, w = batch.shape
    device = batch.device
    apply = _uniform(gen, b, device) < p
    fraction = area[0] + (area[1] - area[0]) * _uniform(gen, (b, _ERASE_ATTEMPTS), device)
    ratio = aspect[0] + (aspect[1] - aspect[0]) * _uniform(gen, (b, _ERASE_ATTEMPTS), device)
    target = fraction * (h * w)
    eh = torch.round(torch.sqrt(target * ratio)).long()
    ew = torch.round(torch.sqrt(target / ratio)).long()
    fits = (eh < h) & (ew < w) & (eh > 0) & (ew > 0)
    # argmax on the boolean picks the first attempt that fits (0 when none does; `apply` is cleared then).
    first = fits.int().argmax(dim=1)
    apply &= fits.any(dim=1)
    eh = eh.gather(1, first[:, None]).squeeze(1)
    ew = ew.gather(1, first[:, None]).squeeze(1)
    top = (_uniform(gen, b, device) * (h - eh + 1)).long().clamp_max(h - eh)
    left = (_uniform(gen, b, device) * (w - ew + 1)).long().clamp_max(w - ew)
    ys = torch.arange(h, device=device).view(1, h, 1)
    xs = torch.arange(w, device=device).view(1, 1, w)
    inside = (
        (ys >= top.view(-1, 1, 1))
        & (ys < (top + eh).view(-1, 1, 1))
        & (xs >= left.view(-1, 1, 1))
        & (xs < (left + ew).view(-1, 1, 1))
        & apply.view(-1, 1, 1)
    )
    value = torch.tensor(fill, dtype=batch.dtype, device=device).view(1, 3, 1, 1)
    return torch.where(inside[:, None], value, batch)


def channel_exchange(batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Per sample, one of R, G, B chosen uniformly and copied to all three channels (CAJ ChannelExchange(gray=2))."""
    _check_batch(batch)
    return _copy_channel(batch, _randint(gen, 3, batch.shape[0], batch.device))


def adaptive_gray(batch: torch.Tensor, gen: torch.Generator, p_gray: float = 0.5) -> torch.Tensor:
    """The infrared channel augmentation of the code (CAJ ChannelAdapGray(probability=0.5)), per sample.

    One of four cases is drawn uniformly: copy R, G or B to all channels (3/4 of the samples), or the fourth case,
    where the sample becomes grayscale (luminance weights, replicated to 3 channels) with probability `p_gray` and
    is otherwise left unchanged. With the default 0.5 a sample is: a single channel 3/4, gray 1/8, untouched 1/8.
    It is not an always-on grayscale: infrared images are already near-gray, and what helps is making the three
    stem inputs vary so the infrared stem cannot lean on one channel.
    """
    _check_batch(batch)
    b = batch.shape[0]
    case = _randint(gen, 4, b, batch.device)
    to_gray = _uniform(gen, b, batch.device) < p_gray
    weights = torch.tensor(LUMINANCE_WEIGHTS, dtype=batch.dtype, device=batch.device).view(1, 3, 1, 1)
    gray = (batch * weights).sum(dim=1, keepdim=True).expand(-1, 3, -1, -1)
    single = _copy_channel(batch, case.clamp_max(2))
    out = torch.where((case < 3).view(-1, 1, 1, 1), single, batch)
    return torch.where(((case == 3) & to_gray).view(-1, 1, 1, 1), gray, out)


def train_views_visible(
    batch_uint8: torch.Tensor, gen: torch.Generator, pad: int = DEFAULT_PAD
) -> tuple[torch.Tensor, torch.Tensor]:
    """The two training views of visible images: the plain augmentation, and an independently augmented one
    with channel exchange (ADCA's two visible pipelines; crops, flips and erasing are drawn separately)."""
    view1 = _base_augment(batch_uint8, gen, pad)
    view2 = channel_exchange(_base_augment(batch_uint8, gen, pad), gen)
    return view1, view2


def train_view_infrared(batch_uint8: torch.Tensor, gen: torch.Generator, pad: int = DEFAULT_PAD) -> torch.Tensor:
    """The training view of infrared images: the plain augmentation, then adaptive gray."""
    return adaptive_gray(_base_augment(batch_uint8, gen, pad), gen)


def eval_transform(batch_uint8: torch.Tensor) -> torch.Tensor:
    """Evaluation and feature extraction: to float and normalise, nothing random."""
    return normalize(to_float(batch_uint8))


def _base_augment(batch_uint8: torch.Tensor, gen: torch.Generator, pad: int) -> torch.Tensor:
    """Pad-crop, flip, normalise, erase: what every training view shares."""
    pixels = random_flip(pad_random_crop(batch_uint8, gen, pad), gen)
    return random_erasing(normalize(to_float(pixels)), gen)


def _copy_channel(batch: torch.Tensor, channel: torch.Tensor) -> torch.Tensor:
    chosen = batch[torch.arange(batch.shape[0], device=batch.device), channel]
    return chosen.unsqueeze(1).expand(-1, 3, -1, -1).contiguous()


def _uniform(gen: torch.Generator, size: int | tuple[int, ...], device: torch.device) -> torch.Tensor:
    shape = (size,) if isinstance(size, int) else size
    return torch.rand(shape, generator=gen, device=gen.device).to(device)


def _randint(gen: torch.Generator, high: int, size: int, device: torch.device) -> torch.Tensor:
    return torch.randint(high, (size,), generator=gen, device=gen.device).to(device)


def _check_batch(batch: torch.Tensor) -> None:
    if batch.dim() != 4 or batch.shape[1] != 3:
        raise ValueError(f"expected a batch of shape [B, 3, H, W], got {tuple(batch.shape)}")
