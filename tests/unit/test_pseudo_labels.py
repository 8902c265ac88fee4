"""Pseudo-labels of features wherever they come from: the clustering reads them back to the host itself."""

from __future__ import annotations

import numpy as np
import torch

from mmm.pipeline.network_inputs import draw_map_erasing, erase_maps
from mmm.pipeline.pseudo_labels import cluster_features
from tests.availability import cuda_only


def _features(seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(5, 16, generator=generator)
    points = centres.repeat_interleave(8, dim=0) + 0.1 * torch.randn(40, 16, generator=generator)
    return torch.nn.functional.normalize(points, dim=1)


def test_features_still_attached_to_a_graph_are_clustered_as_their_values() -> None:
    features = _features().requires_grad_()
    labels = cluster_features(features, k1=10, k2=4, eps=0.5, min_samples=4)
    np.testing.assert_array_equal(labels, cluster_features(features.detach(), k1=10, k2=4, eps=0.5, min_samples=4))
    assert len(set(labels[labels >= 0])) == 5


@cuda_only
def test_features_on_cuda_give_the_labels_of_the_same_features_on_the_host() -> None:
    features = _features()
    on_host = cluster_features(features, k1=10, k2=4, eps=0.5, min_samples=4)
    np.testing.assert_array_equal(cluster_features(features.cuda(), k1=10, k2=4, eps=0.5, min_samples=4), on_host)


def test_map_erasing_runs_where_the_maps_are() -> None:
    # The meta device holds no values and mixes with no other device: a mask made on the host would fail here.
    maps = torch.empty(6, 8, 4, 2, device="meta")
    box = draw_map_erasing(torch.Generator().manual_seed(0), 6, 4, 2).to("meta")
    erased = erase_maps(maps, box)
    assert erased.device.type == "meta" and erased.shape == maps.shape
