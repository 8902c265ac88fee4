"""Where a study's images come from: the real datasets under --data-root, or the synthetic stand-ins (generated
on first use in the cache folder). Datasets are read once per process and handed out as pipeline tasks.

The readers, task builders and generator are imported when first needed, so listing studies or a dry run does
not import (or generate) anything heavy. `identity` names exactly which data a cell reads (see harness.run_key):
a hash of each dataset tree under --data-root (mmm.data.tree, the walk the readers and the data check use too),
or of the synthetic spec and generator version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from harness.cells import VALIDATION, Cell
from harness.errors import SetupError
from mmm.data.errors import DatasetError
from mmm.data.tree import KEY_DIGITS, walk_tree
from mmm.pipeline.config import PipelineConfig

FOLDERS = {"sysu": "SYSU-MM01", "regdb": "RegDB"}


class DataSourceError(SetupError, ValueError):
    """--data-root holds none of the datasets, or a tree that cannot be walked (a link loop, a dangling link);
    the message says what it should hold or which path is broken."""


class DataSource:
    def __init__(self, kind: str, cache_dir: Path, roots: dict[str, Path] | None, small: bool = False) -> None:
        self.kind = kind  # "synthetic" or "real"
        self.cache_dir = cache_dir
        self._roots = roots  # None until the synthetic pair is generated
        self.builtin = roots is None  # the built-in stand-ins, generated here from their spec
        self.small = small  # synthetic only: the tiny smoke pair instead of the default one
        self._datasets: dict[str, Any] = {}

    @classmethod
    def real(cls, data_root: Path, cache_dir: Path) -> "DataSource":
        """The datasets under data_root; a synthetic pair's folder passed as data_root stays labelled synthetic,
        so its numbers never pass for real ones."""
        from mmm.data.synthetic.cache import is_complete

        roots = {name: data_root / folder for name, folder in FOLDERS.items() if (data_root / folder).is_dir()}
        if not roots:
            expected = " and/or ".join(f"{folder}/" for folder in FOLDERS.values())
            raise DataSourceError(f"--data-root {data_root} holds no dataset; expected {expected} below it")
        return cls("synthetic" if is_complete(data_root) else "real", cache_dir, roots)

    @classmethod
    def synthetic(cls, cache_dir: Path, small: bool = False) -> "DataSource":
        """The built-in stand-ins; `small` picks the tiny pair the smoke profile runs on in seconds."""
        return cls("synthetic", cache_dir, None, small)

    @property
    def datasets(self) -> tuple[str, ...]:
        """Datasets this source provides (known without generating anything)."""
        return tuple(FOLDERS) if self._roots is None else tuple(self._roots)

    def known_roots(self) -> dict[str, str | None]:
        """Roots for provenance; None for synthetic data not generated in this process."""
        return {name: (str(self._roots[name]) if self._roots and name in self._roots else None) for name in FOLDERS}

    def roots(self) -> dict[str, Path]:
        if self._roots is None:
            from mmm.data.synthetic import ensure_synthetic_pair

            sysu_root, regdb_root = ensure_synthetic_pair(self.cache_dir, self._synthetic_spec())
            self._roots = {"sysu": Path(sysu_root), "regdb": Path(regdb_root)}
        return self._roots

    def _synthetic_spec(self) -> Any:
        from mmm.data.synthetic import DEFAULT_SPEC, smoke_spec

        return smoke_spec() if self.small else DEFAULT_SPEC

    def identity(self, datasets: Iterable[str]) -> dict[str, str]:
        """ "<kind>@<fingerprint>" of each of `datasets`: what a stored run must match to count as done."""
        if self.builtin:
            from mmm.data.synthetic import spec_fingerprint

            # Named by their spec, so the identity is known before the pair is generated.
            tag = f"synthetic@{spec_fingerprint(self._synthetic_spec())[:KEY_DIGITS]}"
            return {name: tag for name in datasets}
        try:
            return {name: f"{self.kind}@{walk_tree(self.roots()[name]).fingerprint().key}" for name in datasets}
        except DatasetError as error:
            # The readers and the data check meet the same broken link with this same line.
            raise DataSourceError(f"--data-root: {error}; fix or remove it (--check-data lists the tree)") from None

    def explain(self, error: BaseException) -> str | None:
        """A hint for a cell's failure: a damaged file in the generated synthetic data is fixed by regenerating it."""
        if not self.builtin or self._roots is None or not isinstance(error, DatasetError):
            return None
        pair = next(iter(self._roots.values())).parent
        if pair not in error.path.parents:
            return None
        return f"the file is part of the generated synthetic data: delete {pair} and re-run to regenerate it"

    def task(self, cell: Cell, config: PipelineConfig) -> Any:
        """The pipeline Task of a cell: its dataset, on SYSU-MM01 with the config's gallery draws, on RegDB
        its split; a search trial's (scored on validation) trains without the validation ids and scores them."""
        from mmm.pipeline.tasks import regdb_task, regdb_validation_task, sysu_task, sysu_validation_task

        dataset = self.dataset(cell.dataset)
        validation = cell.scored_on == VALIDATION
        if cell.dataset == "sysu":
            build = sysu_validation_task if validation else sysu_task
            return build(dataset, eval_trials=config.eval_trials)
        if cell.regdb_trial is None:
            raise ValueError(f"cell {cell.id} names no RegDB trial")
        return (regdb_validation_task if validation else regdb_task)(dataset, cell.regdb_trial)

    def dataset(self, name: str) -> Any:
        """The dataset `name` ("sysu" or "regdb"), read on first use; DatasetError when its tree is broken."""
        if name not in self._datasets:
            root = self.roots()[name]
            if name == "sysu":
                from mmm.data.sysu import read_sysu

                self._datasets[name] = read_sysu(root)
            else:
                from mmm.data.regdb import read_regdb

                self._datasets[name] = read_regdb(root)
        return self._datasets[name]
