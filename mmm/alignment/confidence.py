"""SCA's per-sample confidence: a two-component 1-D Gaussian mixture over the normalised per-sample losses.

Fitted with scikit-learn's GaussianMixture using DivideMix's settings (max_iter=10, tol=1e-2, reg_covar=5e-4);
the authors' MMM release uses the same settings with max_iter=100, which max_iter reproduces.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

GMM_MAX_ITER = 10
GMM_TOL = 1e-2
GMM_REG_COVAR = 5e-4


def gmm_confidence(
    losses: np.ndarray | torch.Tensor, seed: int = 0, max_iter: int = GMM_MAX_ITER
) -> np.ndarray:
    """Posterior of the low-mean component for every sample, float64 [N].

    The losses are min-max normalised to [0, 1] first. Inputs that cannot be split (fewer than two samples, or
    all losses equal) give every sample confidence 1.
    """
    if isinstance(losses, torch.Tensor):
        losses = losses.detach().cpu().numpy()
    values = np.asarray(losses, dtype=np.float64).reshape(-1)
    if values.size < 2:
        return np.ones_like(values)
    low, high = values.min(), values.max()
    if not high > low:
        return np.ones_like(values)
    normalised = ((values - low) / (high - low)).reshape(-1, 1)
    mixture = GaussianMixture(
        n_components=2, max_iter=max_iter, tol=GMM_TOL, reg_covar=GMM_REG_COVAR, random_state=seed
    )
    with warnings.catch_warnings():
        # A short EM budget is the recipe, not a failure: stopping before tol is expected.
        warnings.simplefilter("ignore", ConvergenceWarning)
        mixture.fit(normalised)
    posterior = mixture.predict_proba(normalised)
    return posterior[:, int(np.argmin(mixture.means_.reshape(-1)))]
