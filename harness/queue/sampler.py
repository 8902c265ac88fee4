"""The tuning study's sampler: Optuna's TPE (constant liar, as before), seeded so that running a tuning study again
proposes the same parameters, while workers sharing one storage never draw the same ones.

Each trial draws from its own generator, seeded from the run seed, the Optuna study's name and the trial's number:

- not one seed per worker: a worker is known by host, pid and process start time (WorkerIdentity), which differ on
  every run, so a seed taken from them would not reproduce; a worker number given by hand would, but two workers
  started with the same one would draw the same random start-up points, and which trials a worker gets (so
  where the n-th draw of its stream lands) depends on how the race for cells went;
- a trial number is given by the storage to exactly one claim, so no two workers ever share a seed, and a study
  run by one worker numbers its trials the same way each time it runs the same cells, so it draws the same.

With several workers the proposals still depend on which trials each saw finished when it sampled (that is the
point of TPE); the seeds make sure chance adds no difference of its own.
"""

from __future__ import annotations

import zlib
from typing import Any, Sequence

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, TPESampler
from optuna.trial import FrozenTrial, TrialState


def trial_seed(run_seed: int, study_name: str, trial_number: int) -> int:
    """The seed of one trial's draws. SeedSequence mixes the three, so neighbouring trial numbers (or run seeds)
    give unrelated streams; crc32, unlike hash(), is the same in every process."""
    entropy = [run_seed, zlib.crc32(study_name.encode("utf-8")), trial_number]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


class TrialSeededTPESampler(BaseSampler):
    """TPE whose every trial samples with a TPESampler of its own, seeded by `trial_seed`.

    A trial's draws all come from that one sampler, so its parameters are independent of each other; the sampler is
    dropped once the trial is told. Nothing else differs from one TPESampler: TPE keeps no state between trials
    besides its generator and caches, and reads the history from the study each time.
    """

    def __init__(self, run_seed: int) -> None:
        self.run_seed = run_seed
        self._samplers: dict[int, TPESampler] = {}

    def _sampler(self, study: optuna.Study, trial: FrozenTrial) -> TPESampler:
        if trial.number not in self._samplers:
            seed = trial_seed(self.run_seed, study.study_name, trial.number)
            # Workers sample concurrently: constant_liar keeps them from proposing the same point.
            self._samplers[trial.number] = TPESampler(seed=seed, constant_liar=True)
        return self._samplers[trial.number]

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._sampler(study, trial).before_trial(study, trial)

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self._sampler(study, trial).infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return self._sampler(study, trial).sample_relative(study, trial, search_space)

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._sampler(study, trial).sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        self._sampler(study, trial).after_trial(study, trial, state, values)
        del self._samplers[trial.number]
