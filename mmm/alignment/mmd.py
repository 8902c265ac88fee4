"""Biased multi-kernel MMD^2 between two feature sets, with the DAN-style data-driven Gaussian bandwidths."""

from __future__ import annotations

import torch

KERNEL_NUM = 5
KERNEL_MUL = 2.0


def pairwise_squared_distances(points: torch.Tensor) -> torch.Tensor:
    """|x_i - x_j|^2 for all pairs: [n, n], zero on the diagonal, never negative."""
    norms = (points * points).sum(dim=1)
    squared = (norms.unsqueeze(1) + norms.unsqueeze(0) - 2.0 * points @ points.t()).clamp_min(0.0)
    # The expansion leaves rounding noise on the diagonal; a point is at distance 0 from itself.
    off_diagonal = 1.0 - torch.eye(len(points), dtype=points.dtype, device=points.device)
    return squared * off_diagonal


def mmd(
    source: torch.Tensor,
    target: torch.Tensor,
    kernel_num: int = KERNEL_NUM,
    kernel_mul: float = KERNEL_MUL,
    detach_bandwidth: bool = True,
) -> torch.Tensor:
    """MMD^2 = mean(K_xx) + mean(K_yy) - mean(K_xy) - mean(K_yx) with K = sum_k exp(-d^2 / b_k).

    b_k = b * kernel_mul^k for k = -(kernel_num // 2) .. kernel_num // 2 (2^-2 .. 2^2 by default), and
    b = sum of pairwise d^2 over the pooled set / (n^2 - n), n = n_x + n_y. Each block is averaged on its own,
    so sets of different sizes weigh equally; equal sizes give docs/design.md §1.6's mean(K_xx + K_yy - K_xy - K_yx).
    The bandwidth is detached by default, as the authors' code does (it reads the distances through `.data`):
    it is a kernel scale estimated from the batch, not something to optimise.
    """
    if len(source) == 0 or len(target) == 0:
        raise ValueError("mmd needs two non-empty sets")
    pooled = torch.cat([source, target.to(source.dtype)], dim=0)
    count = len(pooled)
    squared = pairwise_squared_distances(pooled)
    total = squared.detach().sum() if detach_bandwidth else squared.sum()
    # A pooled set of coincident points has b = 0; the floor makes every kernel 1 there, so MMD^2 is 0.
    bandwidth = (total / (count * count - count)).clamp_min(torch.finfo(pooled.dtype).tiny)
    base = bandwidth / kernel_mul ** (kernel_num // 2)
    kernels = sum(torch.exp(-squared / (base * kernel_mul**k)) for k in range(kernel_num))
    if not isinstance(kernels, torch.Tensor):  # the int 0 that sum() gives for no kernels at all
        raise ValueError(f"mmd needs kernel_num >= 1, got {kernel_num}")
    split = len(source)
    return (
        kernels[:split, :split].mean()
        + kernels[split:, split:].mean()
        - kernels[:split, split:].mean()
        - kernels[split:, :split].mean()
    )
