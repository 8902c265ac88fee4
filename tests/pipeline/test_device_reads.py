"""The training steps never read a value back from the device: on a GPU each such read (a loss turned into a float,
a boolean mask, an `any()` guard, a `max()` sizing a loop) makes the host wait for every queued kernel.

The steps run here on PyTorch's `meta` device, whose tensors have shapes and no values: any read of a value, and
any operation whose output size depends on values (boolean masks, nonzero, unique), fails there. The host keeps
what it owns (sampled rows, pseudo-labels, the optimiser's step counts)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines.centroid_hungarian import CentroidMatchLink
from mmm.alignment.sca import SCAWeights
from mmm.alignment.views import View
from mmm.choices import RECIPES
from mmm.data.records import Modality
from mmm.memory.cluster_memory import ClusterMemory
from mmm.memory.hybrid_memory import HybridMemory
from mmm.models.factory import create_backbone
from mmm.models.numerics import ForwardNumerics
from mmm.pipeline import alignment_stage, contrast
from mmm.pipeline.alignment_stage import EpochPlan, sca_form
from mmm.pipeline.cmc_link import CmcLink
from mmm.pipeline.contrast import EpochClusters, ModalityFeatures
from mmm.pipeline.network_inputs import PixelInputs, StemmedInputs, StemOutputs
from mmm.pipeline.profiles import profile_config
from mmm.pipeline.training_images import TrainingImages

META = torch.device("meta")
ROWS = 24  # training rows per modality
CLUSTERS = 4


def _stemmed_inputs(model: torch.nn.Module) -> StemmedInputs:
    """Stored stem outputs of random images, as the quick profile keeps them (float16, on the host)."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        views = {
            modality: {
                view: model.stem_of(modality)(torch.randn(ROWS, 3, 64, 32, generator=generator)).half()
                for view in ("plain", "flip", "exchange")
            }
            for modality in Modality
        }
    return StemmedInputs(
        StemOutputs(views[Modality.VISIBLE], views[Modality.INFRARED]), generator, ForwardNumerics(META)
    )


def _memory(labels: np.ndarray, dim: int) -> ClusterMemory:
    memory = ClusterMemory(dim, CLUSTERS)
    memory.initialise(torch.randn(CLUSTERS, dim))
    return memory.to(META)


def test_a_stage_a_b_step_with_the_cmc_link_reads_nothing_back_from_the_device() -> None:
    model = create_backbone("mobilenet_v2").train()
    inputs = _stemmed_inputs(model)
    model = model.to(META)
    labels_v = np.arange(ROWS) % CLUSTERS
    labels_r = np.r_[np.arange(ROWS - 2) % CLUSTERS, -1, -1]
    dim = model.feature_dim
    features = ModalityFeatures(torch.empty(ROWS, dim), torch.empty(ROWS, dim))
    clusters = EpochClusters(features, labels_v, labels_r, _memory(labels_v, dim), _memory(labels_r, dim))
    # Pooled clusters 0 and 1 hold both modalities, 2 only visible rows; the rest are outliers.
    pooled = np.full(2 * ROWS, -1)
    pooled[:ROWS] = np.arange(ROWS) % 3
    pooled[ROWS : ROWS + 6] = np.arange(6) % 2
    hybrid = HybridMemory(dim, 3)
    modality = np.r_[np.zeros(ROWS, np.int64), np.ones(ROWS, np.int64)]
    hybrid.initialise_from_members(torch.randn(2 * ROWS, dim), pooled, modality)
    link = CmcLink(pooled, hybrid.to(META), hybrid_batch=False, num_visible=ROWS)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    index_v = np.array([0, 4, 8, 1, 5, 9])
    index_r = np.array([2, 6, 10, 3, 7, 22])
    before = clusters.memory_v.features
    batch = inputs.prepare(index_v, index_r)
    loss = contrast._contrast_step(model, inputs, optimizer, clusters, link, batch)
    assert loss.device == META and loss.shape == ()
    assert clusters.memory_v.features is before  # updated in place, on the device


def test_the_link_of_the_centroid_hungarian_baseline_reads_nothing_back_from_the_device() -> None:
    model = create_backbone("mobilenet_v2").train()
    inputs = _stemmed_inputs(model)
    model = model.to(META)
    labels = np.arange(ROWS) % CLUSTERS
    dim = model.feature_dim
    features = ModalityFeatures(torch.empty(ROWS, dim), torch.empty(ROWS, dim))
    clusters = EpochClusters(features, labels, labels, _memory(labels, dim), _memory(labels, dim))
    cross = np.where(labels < 3, labels, -1)  # cluster 3 has no partner
    link = CentroidMatchLink(cross, cross, clusters.memory_v, clusters.memory_r)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    batch = inputs.prepare(np.array([0, 3, 7]), np.array([1, 2, 3]))
    loss = contrast._contrast_step(model, inputs, optimizer, clusters, link, batch)
    assert loss.device == META


@pytest.mark.parametrize("recipe", RECIPES)
def test_a_stage_c_step_with_every_term_reads_nothing_back_from_the_device(recipe: str) -> None:
    config = profile_config("smoke", "sysu", recipe=recipe)
    model = create_backbone("mobilenet_v2").train()
    inputs = _stemmed_inputs(model)
    model = model.to(META)
    classifier = torch.nn.Linear(model.feature_dim, CLUSTERS, bias=False).to(META)
    optimizer = torch.optim.SGD([*model.parameters(), *classifier.parameters()], lr=0.01, momentum=0.9)
    labels = torch.from_numpy(np.arange(ROWS) % CLUSTERS)
    targets = {Modality.VISIBLE: labels, Modality.INFRARED: labels}
    confidence = {view: torch.rand(ROWS) for view in View}
    plan = EpochPlan(SCAWeights(ce=1.0, triplet=1.0, intra=0.5, inter=0.05), confidence=True, prototypes=True)
    prototypes = torch.empty(len(View), CLUSTERS, model.feature_dim, device=META)
    index = np.array([0, 4, 1, 5, 2, 6])  # identities 0, 1, 2 in both modalities
    host = alignment_stage._host_rows(index, index, targets, confidence)
    batch = inputs.prepare(index, index)
    terms = alignment_stage._step(
        model, classifier, optimizer, inputs, batch, host, plan, prototypes, sca_form(config), config
    )
    assert sorted(terms) == ["ce", "inter", "intra", "triplet"]
    assert all(value.device == META for value in terms.values())


def test_an_a_b_step_from_pixels_augments_on_the_device_and_reads_nothing_back() -> None:
    model = create_backbone("resnet18_small").train()
    rng = np.random.default_rng(0)
    images = TrainingImages(
        rng.integers(0, 256, (ROWS, 64, 32, 3), dtype=np.uint8),
        rng.integers(0, 256, (ROWS, 64, 32, 3), dtype=np.uint8),
        np.zeros(ROWS, np.int64),
        np.ones(ROWS, np.int64),
    )
    inputs = PixelInputs(images, 4, torch.Generator().manual_seed(0), ForwardNumerics(META))
    model = model.to(META)
    labels = np.arange(ROWS) % CLUSTERS
    dim = model.feature_dim
    features = ModalityFeatures(torch.empty(ROWS, dim), torch.empty(ROWS, dim))
    clusters = EpochClusters(features, labels, labels, _memory(labels, dim), _memory(labels, dim))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = list(inputs.stream([(np.array([0, 4, 1, 5]), np.array([2, 6, 3, 7]))] * 2))
    for batch in batches:
        assert contrast._contrast_step(model, inputs, optimizer, clusters, None, batch).device == META
