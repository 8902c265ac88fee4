"""Batched k-means over many small point sets at once (one set per cluster, padded to a common size, masked).

A centre is a weighted sum of its set's members, so it is kept as a weight row over the members and Lloyd's
algorithm needs only inner products <x_i, c_k> = (X X' w_k)_i and |x_i|^2. For small sets these come from each
set's Gram matrix, formed once: an iteration then costs O(M^2 n) per set instead of passes over M x D floats,
which is what makes 2048-d features cheap. For large sets the M^2 D Gram costs more than the iterations it
saves, so the products are taken from the features directly; both routes run the same algorithm.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gram_pays_off(size: int, n: int, iters: int) -> bool:
    """Whether forming M x M Gram matrices (M^2 D) is cheaper than direct products (about 2 M n D per
    Lloyd iteration and per k-means++ pick). The factor 3 instead of 2 is where the two routes measured even
    on 2048-d features on CPU: the Gram's one large product runs faster per flop than the skinny direct ones."""
    return size <= 3 * n * (iters + n)


def member_products(points: torch.Tensor, gram: torch.Tensor | None, weights: torch.Tensor) -> torch.Tensor:
    """<x_i, sum_j w_kj x_j> for every member i and weight row k: [B, M, k]."""
    if gram is not None:
        return gram @ weights.transpose(1, 2)
    return points @ (weights @ points).transpose(1, 2)


def kmeans_plus_plus(
    points: torch.Tensor, gram: torch.Tensor | None, mask: torch.Tensor, n: int, generator: torch.Generator
) -> torch.Tensor:
    """Seeded k-means++ choice of n distinct members per set: [B, n] positions into the padded member axis.

    A set of s < n members takes its members cyclically (0, 1, .., s-1, 0, ..), so its centres are those
    members repeated. Members must fill positions 0..s-1 of their set, padding after them.
    """
    batch, width, _ = points.shape
    sizes = mask.sum(dim=1)
    # The Gram diagonal holds the squared norms already; without it, vector_norm avoids a [B, M, D] temporary.
    norms = gram.diagonal(dim1=1, dim2=2) if gram is not None else torch.linalg.vector_norm(points, dim=2).square()
    rows = torch.arange(batch, device=points.device)
    # Uniforms are drawn on the CPU from the seeded generator, so the choice does not depend on the device.
    uniforms = torch.rand(n, batch, generator=generator, dtype=torch.float64).to(points.device)

    def squared_distances_to(pick: torch.Tensor) -> torch.Tensor:
        one_hot = F.one_hot(pick, width).to(points.dtype).unsqueeze(1)
        cross = member_products(points, gram, one_hot).squeeze(2)
        return (norms + norms[rows, pick].unsqueeze(1) - 2.0 * cross).clamp_min(0.0)

    chosen = torch.zeros(batch, n, dtype=torch.long, device=points.device)
    taken = torch.zeros(batch, width, dtype=torch.bool, device=points.device)
    pick = (uniforms[0] * sizes).long().clamp_max(sizes - 1).clamp_min(0)
    chosen[:, 0] = pick
    taken[rows, pick] = True
    nearest = squared_distances_to(pick)
    for k in range(1, n):
        available = mask & ~taken
        weights = torch.where(available, nearest, torch.zeros_like(nearest)).double()
        # Coincident members leave no mass to sample from; fall back to a uniform pick among the untaken.
        weights = torch.where(weights.sum(1, keepdim=True) > 0, weights, available.double())
        cumulative = weights.cumsum(dim=1)
        target = uniforms[k] * cumulative[:, -1]
        pick = torch.searchsorted(cumulative, target.unsqueeze(1), right=True).squeeze(1).clamp_max(width - 1)
        chosen[:, k] = pick
        taken[rows, pick] = True
        nearest = torch.minimum(nearest, squared_distances_to(pick))

    small = sizes < n
    if bool(small.any()):
        chosen[small] = torch.arange(n, device=points.device).unsqueeze(0) % sizes[small].clamp_min(1).unsqueeze(1)
    return chosen


def lloyd_weights(
    points: torch.Tensor, gram: torch.Tensor | None, mask: torch.Tensor, init: torch.Tensor, iters: int
) -> torch.Tensor:
    """Lloyd's iterations from the given initial members; returns centre weights [B, n, M] (centre = w @ X).

    Each iteration assigns every member to its nearest centre (ties to the lower centre index), then moves each
    centre to the mean of its members; a centre left without members keeps its previous value. Stops early once
    no assignment changes, which is a fixed point, so the result equals running all iterations.
    """
    width = points.shape[1]
    n = init.shape[1]
    weights = F.one_hot(init, width).to(points.dtype)
    member_mask = mask.unsqueeze(1).to(points.dtype)
    previous: torch.Tensor | None = None
    for _ in range(iters):
        cross = member_products(points, gram, weights)
        centre_norms = (weights * cross.transpose(1, 2)).sum(dim=2)
        # |x_i|^2 is the same for every centre, so it is left out of the comparison.
        assignment = (centre_norms.unsqueeze(1) - 2.0 * cross).argmin(dim=2)
        if previous is not None and bool(((assignment == previous) | ~mask).all()):
            break
        previous = assignment
        members = F.one_hot(assignment, n).transpose(1, 2).to(points.dtype) * member_mask
        counts = members.sum(dim=2, keepdim=True)
        weights = torch.where(counts > 0, members / counts.clamp_min(1.0), weights)
    return weights


def inertia(points: torch.Tensor, gram: torch.Tensor | None, mask: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Per set, the sum over its members of the squared distance to the nearest centre: [B]."""
    norms = gram.diagonal(dim1=1, dim2=2) if gram is not None else torch.linalg.vector_norm(points, dim=2).square()
    cross = member_products(points, gram, weights)
    centre_norms = (weights * cross.transpose(1, 2)).sum(dim=2)
    nearest = (norms.unsqueeze(2) + centre_norms.unsqueeze(1) - 2.0 * cross).min(dim=2).values.clamp_min(0.0)
    return (nearest * mask).sum(dim=1)


def batched_kmeans(
    points: torch.Tensor,
    mask: torch.Tensor,
    n: int,
    iters: int,
    generator: torch.Generator,
    use_gram: bool | None = None,
    restarts: int = 1,
) -> torch.Tensor:
    """k-means++ then Lloyd on every set of points [B, M, D], `restarts` times, keeping per set the run of least
    inertia (the first among equals, so one restart is one run); mask [B, M] marks the real members, which must fill
    the leading positions of each set. Returns the centres [B, n, D]. use_gram None picks the cheaper route."""
    if restarts < 1:
        raise ValueError(f"restarts must be at least 1, got {restarts}")
    if use_gram is None:
        use_gram = gram_pays_off(points.shape[1], n, iters * restarts)
    gram = points @ points.transpose(1, 2) if use_gram else None
    best = lloyd_weights(points, gram, mask, kmeans_plus_plus(points, gram, mask, n, generator), iters)
    if restarts > 1:
        best_inertia = inertia(points, gram, mask, best)
        for _ in range(restarts - 1):
            weights = lloyd_weights(points, gram, mask, kmeans_plus_plus(points, gram, mask, n, generator), iters)
            current = inertia(points, gram, mask, weights)
            better = current < best_inertia
            best = torch.where(better.view(-1, 1, 1), weights, best)
            best_inertia = torch.minimum(current, best_inertia)
    return best @ points
