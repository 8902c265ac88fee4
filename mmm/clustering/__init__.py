"""CMC clustering: exact kNN, sparse k-reciprocal Jaccard distance, DBSCAN on sparse distances.

Exports are imported on first use (mmm.lazy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmm.lazy import lazy_exports

if TYPE_CHECKING:
    from mmm.clustering.dbscan import dbscan_labels
    from mmm.clustering.jaccard import jaccard_distance
    from mmm.clustering.knn import exact_knn, unit_rows

__all__ = [
    "dbscan_labels",
    "exact_knn",
    "jaccard_distance",
    "unit_rows",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    __all__,
    (
        "mmm.clustering.knn",
        "mmm.clustering.dbscan",
        "mmm.clustering.jaccard",
    ),
)
