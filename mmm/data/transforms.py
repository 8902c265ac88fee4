"""Training and evaluation augmentations (docs/design.md §1.8) on batched image tensors [B, 3, H, W].

torchvision is not available here, so the augmentations of the USL-VI-ReID code (ADCA, PGM, MMM — the CAJ
channel augmentations on top of the usual re-ID pipeline) are rewritten on batches. Every random choice is made
per sample and drawn from an explicit torch.Generator, so a seeded generator reproduces a batch exactly.

Each training view is split in two: `draw_view` makes all of a view's random draws on the generator's device (the
host, usually) in a fixed order, into one small integer plan; `apply_views` carries a plan out on a batch on any
device. A batch's plans go to its device in one transfer, the pixels never come back, and the same seed gives the
same crops, flips, rectangles and channels on every device. The one-step functions (pad_random_crop, ...) draw and
apply at once, as the training views do.

Order, as in the code: pad + random crop and flip in pixel space (zero padding is black), then to float in [0, 1]
and ImageNet normalisation, then random erasing, then the channel augmentation (channel exchange for the second
visible view, adaptive gray for infrared). The channel augmentations therefore act on normalised values: the
channels they make equal are equal after normalisation. Every function returns a new tensor, its input untouched.
"""

from __future__ import annotations

from typing import Literal

import torch

from mmm.host_to_device import to_device

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
ERASE_PROBABILITY = 0.5
ERASE_AREA = (0.02, 0.4)
ERASE_ASPECT = (0.3, 1 / 0.3)
FLIP_PROBABILITY = 0.5
GRAY_PROBABILITY = 0.5

# A view's plan: one int64 row per draw, one column per sample.
CROP_TOP, CROP_LEFT, FLIP, ERASE_TOP, ERASE_BOTTOM, ERASE_LEFT, ERASE_RIGHT, CHANNEL = range(8)
PLAN_ROWS = 8
# CHANNEL row: 0, 1, 2 copy that channel to all three; GRAY makes the sample grayscale; KEEP leaves it.
GRAY, KEEP = 3, 4
ChannelAugmentation = Literal["none", "exchange", "adaptive_gray"]


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
    _check_pad(pad)
    if pad == 0:
        return batch.clone()
    top = _randint(gen, 2 * pad + 1, batch.shape[0])
    left = _randint(gen, 2 * pad + 1, batch.shape[0])
    return _crop(batch, to_device(torch.stack([top, left]), batch.device), pad)


def random_flip(batch: torch.Tensor, gen: torch.Generator, p: float = FLIP_PROBABILITY) -> torch.Tensor:
    """Mirror each sample left-right with probability p."""
    _check_batch(batch)
    return _flip(batch, to_device(_uniform(gen, batch.shape[0]) < p, batch.device))


def random_erasing(
    batch: torch.Tensor,
    gen: torch.Generator,
    p: float = ERASE_PROBABILITY,
    area: tuple[float, float] = ERASE_AREA,
    aspect: tuple[float, float] = ERASE_ASPECT,
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
    box = _draw_erasing(gen, b, h, w, p, area, aspect)
    return _erase(batch, to_device(box, batch.device), fill)


def channel_exchange(batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Per sample, one of R, G, B chosen uniformly and copied to all three channels (CAJ ChannelExchange(gray=2))."""
    _check_batch(batch)
    return _channel(batch, to_device(_draw_channel(gen, batch.shape[0], "exchange"), batch.device))


def adaptive_gray(batch: torch.Tensor, gen: torch.Generator, p_gray: float = GRAY_PROBABILITY) -> torch.Tensor:
    """The infrared channel augmentation of the code (CAJ ChannelAdapGray(probability=0.5)), per sample.

    One of four cases is drawn uniformly: copy R, G or B to all channels (3/4 of the samples), or the fourth case,
    where the sample becomes grayscale (luminance weights, replicated to 3 channels) with probability `p_gray` and
    is otherwise left unchanged. With the default 0.5 a sample is: a single channel 3/4, gray 1/8, untouched 1/8.
    It is not an always-on grayscale: infrared images are already near-gray, and what helps is making the three
    stem inputs vary so the infrared stem cannot lean on one channel.
    """
    _check_batch(batch)
    return _channel(batch, to_device(_draw_channel(gen, batch.shape[0], "adaptive_gray", p_gray), batch.device))


def draw_view(
    gen: torch.Generator, samples: int, height: int, width: int, pad: int, channel: ChannelAugmentation
) -> torch.Tensor:
    """Every random draw of one training view of `samples` images, in the augmentation's order (crop, flip,
    erasing, then the channel augmentation), as a [PLAN_ROWS, samples] int64 plan on the generator's device."""
    _check_pad(pad)
    plan = torch.zeros(PLAN_ROWS, samples, dtype=torch.int64, device=gen.device)
    if pad:
        plan[CROP_TOP] = _randint(gen, 2 * pad + 1, samples)
        plan[CROP_LEFT] = _randint(gen, 2 * pad + 1, samples)
    plan[FLIP] = _uniform(gen, samples) < FLIP_PROBABILITY
    box = _draw_erasing(gen, samples, height, width, ERASE_PROBABILITY, ERASE_AREA, ERASE_ASPECT)
    plan[ERASE_TOP : ERASE_RIGHT + 1] = box
    plan[CHANNEL] = _draw_channel(gen, samples, channel)
    return plan


def apply_views(batch_uint8: torch.Tensor, plan: torch.Tensor, pad: int) -> torch.Tensor:
    """The training views a plan describes, one per sample of a uint8 batch [B, 3, H, W] (plan [PLAN_ROWS, B] on
    the batch's device): crop, flip, to float and normalise, erase, channel augmentation."""
    _check_batch(batch_uint8)
    pixels = _crop(batch_uint8, plan[CROP_TOP : CROP_LEFT + 1], pad) if pad else batch_uint8.clone()
    pixels = _flip(pixels, plan[FLIP].bool())
    erased = _erase(normalize(to_float(pixels)), plan[ERASE_TOP : ERASE_RIGHT + 1], ERASE_FILL)
    return _channel(erased, plan[CHANNEL])


def train_views_visible(
    batch_uint8: torch.Tensor, gen: torch.Generator, pad: int = DEFAULT_PAD
) -> tuple[torch.Tensor, torch.Tensor]:
    """The two training views of visible images: the plain augmentation, and an independently augmented one
    with channel exchange (ADCA's two visible pipelines; crops, flips and erasing are drawn separately)."""
    _check_batch(batch_uint8)
    b, _, h, w = batch_uint8.shape
    plan = torch.cat([draw_view(gen, b, h, w, pad, "none"), draw_view(gen, b, h, w, pad, "exchange")], dim=1)
    views = apply_views(torch.cat([batch_uint8, batch_uint8]), to_device(plan, batch_uint8.device), pad)
    return views[:b], views[b:]


def train_view_infrared(batch_uint8: torch.Tensor, gen: torch.Generator, pad: int = DEFAULT_PAD) -> torch.Tensor:
    """The training view of infrared images: the plain augmentation, then adaptive gray."""
    _check_batch(batch_uint8)
    b, _, h, w = batch_uint8.shape
    plan = draw_view(gen, b, h, w, pad, "adaptive_gray")
    return apply_views(batch_uint8, to_device(plan, batch_uint8.device), pad)


def eval_transform(batch_uint8: torch.Tensor) -> torch.Tensor:
    """Evaluation and feature extraction: to float and normalise, nothing random."""
    return normalize(to_float(batch_uint8))


def _crop(batch: torch.Tensor, offsets: torch.Tensor, pad: int) -> torch.Tensor:
    """Each sample's H × W window of the zero-padded batch at offsets [2, B] (top, left)."""
    b, _, h, w = batch.shape
    padded = torch.nn.functional.pad(batch, (pad, pad, pad, pad))
    rows = offsets[0][:, None] + torch.arange(h, device=batch.device)
    cols = offsets[1][:, None] + torch.arange(w, device=batch.device)
    sample = torch.arange(b, device=batch.device)[:, None, None]
    # Advanced indexing gathers every sample's window at once: [B, H, W, C], channels moved back after.
    return padded.permute(0, 2, 3, 1)[sample, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2).contiguous()


def _flip(batch: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    return torch.where(flip.view(-1, 1, 1, 1), batch.flip(-1), batch)


def _draw_erasing(
    gen: torch.Generator,
    b: int,
    h: int,
    w: int,
    p: float,
    area: tuple[float, float],
    aspect: tuple[float, float],
) -> torch.Tensor:
    """Each sample's rectangle as [4, B] (top, bottom, left, right; empty when not erased), on the generator's
    device."""
    apply = _uniform(gen, b) < p
    fraction = area[0] + (area[1] - area[0]) * _uniform(gen, (b, _ERASE_ATTEMPTS))
    ratio = aspect[0] + (aspect[1] - aspect[0]) * _uniform(gen, (b, _ERASE_ATTEMPTS))
    target = fraction * (h * w)
    eh = torch.round(torch.sqrt(target * ratio)).long()
    ew = torch.round(torch.sqrt(target / ratio)).long()
    fits = (eh < h) & (ew < w) & (eh > 0) & (ew > 0)
    # argmax on the boolean picks the first attempt that fits (0 when none does; `apply` is cleared then).
    first = fits.int().argmax(dim=1)
    apply &= fits.any(dim=1)
    eh = eh.gather(1, first[:, None]).squeeze(1)
    ew = ew.gather(1, first[:, None]).squeeze(1)
    top = (_uniform(gen, b) * (h - eh + 1)).long().clamp_max(h - eh)
    left = (_uniform(gen, b) * (w - ew + 1)).long().clamp_max(w - ew)
    bottom = torch.where(apply, top + eh, top)
    return torch.stack([top, bottom, left, left + ew])


def _erase(batch: torch.Tensor, box: torch.Tensor, fill: tuple[float, float, float]) -> torch.Tensor:
    """`fill` inside each sample's rectangle, box [4, B] (top, bottom, left, right) on the batch's device."""
    _, _, h, w = batch.shape
    ys = torch.arange(h, device=batch.device).view(1, h, 1)
    xs = torch.arange(w, device=batch.device).view(1, 1, w)
    inside = (
        (ys >= box[0].view(-1, 1, 1))
        & (ys < box[1].view(-1, 1, 1))
        & (xs >= box[2].view(-1, 1, 1))
        & (xs < box[3].view(-1, 1, 1))
    )
    value = torch.tensor(fill, dtype=batch.dtype, device=batch.device).view(1, 3, 1, 1)
    return torch.where(inside[:, None], value, batch)


def _draw_channel(
    gen: torch.Generator, b: int, channel: ChannelAugmentation, p_gray: float = GRAY_PROBABILITY
) -> torch.Tensor:
    """Each sample's channel operation (0-2: copy that channel, GRAY, KEEP), on the generator's device."""
    if channel == "none":
        return torch.full((b,), KEEP, dtype=torch.int64, device=gen.device)
    if channel == "exchange":
        return _randint(gen, 3, b)
    case = _randint(gen, 4, b)
    to_gray = _uniform(gen, b) < p_gray
    return torch.where(case < 3, case, torch.where(to_gray, GRAY, KEEP))


def _channel(batch: torch.Tensor, operation: torch.Tensor) -> torch.Tensor:
    """Each sample's channel operation (see _draw_channel) carried out."""
    weights = torch.tensor(LUMINANCE_WEIGHTS, dtype=batch.dtype, device=batch.device).view(1, 3, 1, 1)
    gray = (batch * weights).sum(dim=1, keepdim=True).expand(-1, 3, -1, -1)
    chosen = batch[torch.arange(batch.shape[0], device=batch.device), operation.clamp_max(2)]
    single = chosen.unsqueeze(1).expand(-1, 3, -1, -1)
    out = torch.where((operation < 3).view(-1, 1, 1, 1), single, batch)
    return torch.where((operation == GRAY).view(-1, 1, 1, 1), gray, out)


def _uniform(gen: torch.Generator, size: int | tuple[int, ...]) -> torch.Tensor:
    shape = (size,) if isinstance(size, int) else size
    return torch.rand(shape, generator=gen, device=gen.device)


def _randint(gen: torch.Generator, high: int, size: int) -> torch.Tensor:
    return torch.randint(high, (size,), generator=gen, device=gen.device)


def _check_pad(pad: int) -> None:
    if pad < 0:
        raise ValueError(f"pad must be >= 0, got {pad}")


def _check_batch(batch: torch.Tensor) -> None:
    if batch.dim() != 4 or batch.shape[1] != 3:
        raise ValueError(f"expected a batch of shape [B, 3, H, W], got {tuple(batch.shape)}")
