"""Re-ID evaluation: CMC/mAP/mINP for SYSU-MM01 and RegDB, and the protocol runners.

Exports are imported on first use (mmm.lazy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmm.lazy import lazy_exports

if TYPE_CHECKING:
    from mmm.evaluation.metrics import RankResult, evaluate_regdb, evaluate_sysu
    from mmm.evaluation.protocols import (
        Featurize,
        ProtocolResult,
        RegdbDirection,
        SysuMode,
        run_regdb_protocol,
        run_sysu_protocol,
        sysu_gallery,
    )

__all__ = [
    "Featurize",
    "ProtocolResult",
    "RankResult",
    "RegdbDirection",
    "SysuMode",
    "evaluate_regdb",
    "evaluate_sysu",
    "run_regdb_protocol",
    "run_sysu_protocol",
    "sysu_gallery",
]

__getattr__, __dir__ = lazy_exports(__name__, __all__, ("mmm.evaluation.metrics", "mmm.evaluation.protocols"))
