"""Biased multi-kernel MMD^2 between two feature sets, with the DAN-style data-driven Gaussian bandwidths, for one
pair of sets or for many at once (L_inter's one pair per pseudo-identity, without a loop or a host round trip)."""

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


def _group_sides(
    groups: torch.Tensor, source: torch.Tensor, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """[n, n] 1 where two rows share a group, else 0; per row: the sizes of its group's source and target sides,
    and whether it is its group's first row (the row a group's value is read from)."""
    member = (groups.unsqueeze(1) == groups.unsqueeze(0)) & (groups >= 0).unsqueeze(1)
    same = member.to(dtype)
    first = (torch.tril(same, diagonal=-1).sum(dim=1) == 0) & (groups >= 0)
    return same, same @ source.to(dtype), same @ (~source).to(dtype), first


def groups_holding_both(groups: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """How many groups have rows on both sides (a 0-d float tensor; see grouped_mmd)."""
    _, n_source, n_target, first = _group_sides(groups, source, torch.float32)
    return (first & (n_source > 0) & (n_target > 0)).float().sum()


def grouped_mmd(
    points: torch.Tensor,
    groups: torch.Tensor,
    source: torch.Tensor,
    kernel_num: int = KERNEL_NUM,
    kernel_mul: float = KERNEL_MUL,
    detach_bandwidth: bool = True,
) -> torch.Tensor:
    """MMD^2 between the source and the target rows of every group, summed over the groups that hold both.

    points [n, D]; groups [n] int, each row's group (negative: in no group); source [n] bool, the row is on the
    source side of its group (else the target side). Per group, as `mmd` computes it for one pair of sets; a 0-d
    tensor on the points' device, computed without reading anything back to the host.
    """
    if kernel_num < 1:
        raise ValueError(f"mmd needs kernel_num >= 1, got {kernel_num}")
    squared = pairwise_squared_distances(points)
    same, n_source, n_target, first = _group_sides(groups, source, points.dtype)
    count = n_source + n_target
    distances = squared.detach() if detach_bandwidth else squared
    # Per row, the sum of d^2 over its group's pairs: every row of a group reads the group's b.
    total = same @ (distances * same).sum(dim=1)
    # A group of coincident points has b = 0; the floor makes every kernel 1 there, so its MMD^2 is 0.
    bandwidth = (total / (count * count - count).clamp_min(1)).clamp_min(torch.finfo(points.dtype).tiny)
    base = (bandwidth / kernel_mul ** (kernel_num // 2)).unsqueeze(1)
    kernels = torch.exp(-squared / base)
    for k in range(1, kernel_num):
        kernels = kernels + torch.exp(-squared / (base * kernel_mul**k))
    # The four block sums of every row's group (source x source, target x target and the two cross blocks), each
    # averaged on its own, so sets of different sizes weigh equally.
    is_source, is_target = source.to(points.dtype), (~source).to(points.dtype)
    in_group = same * kernels
    to_source, to_target = in_group @ is_source, in_group @ is_target
    n_s, n_t = n_source.clamp_min(1), n_target.clamp_min(1)
    per_group = (
        same @ (is_source * to_source) / (n_s * n_s)
        + same @ (is_target * to_target) / (n_t * n_t)
        - same @ (is_source * to_target) / (n_s * n_t)
        - same @ (is_target * to_source) / (n_t * n_s)
    )
    counted = first & (n_source > 0) & (n_target > 0)
    return torch.where(counted, per_group, 0.0).sum()


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
    groups = torch.zeros(len(pooled), dtype=torch.long, device=pooled.device)
    is_source = torch.arange(len(pooled), device=pooled.device) < len(source)
    return grouped_mmd(pooled, groups, is_source, kernel_num, kernel_mul, detach_bandwidth)
