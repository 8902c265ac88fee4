"""SCA's per-sample confidence: a two-component 1-D Gaussian mixture over the normalised per-sample losses.

Fitted with scikit-learn's GaussianMixture using DivideMix's settings (max_iter=10, tol=1e-2, reg_covar=5e-4);
the authors' MMM release uses the same settings with max_iter=100 (PipelineConfig.gmm_max_iter).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

GMM_MAX_ITER = 10
GMM_TOL = 1e-2
GMM_REG_COVAR = 5e-4


def gmm_confidence(losses: np.ndarray | torch.Tensor, seed: int = 0, max_iter: int = GMM_MAX_ITER) -> np.ndarray:
    """Posterior of the low-mean component for every sample, float64 [N]: gmm_confidence_views of one view."""
    return gmm_confidence_views([losses], seed=seed, max_iter=max_iter)[0]


def gmm_confidence_views(
    views: Sequence[np.ndarray | torch.Tensor], seed: int = 0, max_iter: int = GMM_MAX_ITER
) -> list[np.ndarray]:
    """One mixture over several views' losses of one modality (the release fits its two visible views together):
    each view is min-max normalised to [0, 1] on its own, the mixture is fitted on them all, and each sample gets
    the posterior of the low-mean component, returned per view (float64).

    Inputs that cannot be split (fewer than two samples, or all losses equal) give every sample confidence 1.
    """
    arrays = [
        np.asarray(v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v, dtype=np.float64).reshape(-1)
        for v in views
    ]
    sizes = [len(a) for a in arrays]
    normalised = np.concatenate([_min_max(a) for a in arrays]) if arrays else np.empty(0)
    if normalised.size < 2 or not normalised.max() > normalised.min():
        return [np.ones(n) for n in sizes]
    mixture = GaussianMixture(
        n_components=2, max_iter=max_iter, tol=GMM_TOL, reg_covar=GMM_REG_COVAR, random_state=seed
    )
    column = normalised.reshape(-1, 1)
    with warnings.catch_warnings():
        # A short EM budget is the recipe, not a failure: stopping before tol is expected.
        warnings.simplefilter("ignore", ConvergenceWarning)
        mixture.fit(column)
    posterior = mixture.predict_proba(column)[:, int(np.argmin(mixture.means_.reshape(-1)))]
    return np.split(posterior, np.cumsum(sizes)[:-1])


def _min_max(values: np.ndarray) -> np.ndarray:
    low, high = (values.min(), values.max()) if values.size else (0.0, 0.0)
    return (values - low) / (high - low) if high > low else np.zeros_like(values)
