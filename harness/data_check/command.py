"""`python -m harness.study --check-data`: check every dataset of a data source, print what was found, build the
image caches, and return the exit code (0 when everything matches, 1 otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, TextIO

from harness.data_check.caches import warm_caches
from harness.data_check.compare import format_table
from harness.data_check.counts import read_for_check
from harness.data_check.decode import decode_all
from harness.data_check.expected import known_counts_or_problem
from harness.data_check.summary import TreeVerdict, judge_tree, walk_or_problem
from mmm.data.errors import DatasetError
from mmm.pipeline.profiles import profile_config

EXIT_MATCH, EXIT_MISMATCH = 0, 1


@dataclass
class TreeCheck:
    """A tree's verdict plus what decoding found and which caches were built."""

    verdict: TreeVerdict
    decoded: int
    unreadable: list[DatasetError]
    constant: list[DatasetError]  # images that decode to a single colour: blank, or read wrongly
    cached_tasks: list[str]
    cache_note: str

    def failures(self) -> list[str]:
        label = self.verdict.label
        lines = self.verdict.mismatches()
        lines += [f"{label}: unreadable image {error.path}: {error.problem}" for error in self.unreadable]
        lines += [f"{label}: constant image {error.path}: {error.problem}" for error in self.constant]
        return lines


def check_tree(
    name: str, root: Path, profile: str, cache_dir: Path, regdb_trials: Sequence[int], progress: bool
) -> TreeCheck:
    """Count, decode, fingerprint and (when the tree is sound) cache one dataset tree."""
    known, problems = known_counts_or_problem(name, root)
    listing, unwalkable = walk_or_problem(root)
    if listing is None:
        # The readers would stop at the same broken link: one line says which, and nothing else is read.
        verdict = judge_tree(name, root, known, None, problems + unwalkable, None)
        return TreeCheck(verdict, 0, [], [], [], "not built: the tree cannot be walked")
    outcome = read_for_check(name, root, known.regdb_trials or regdb_trials)
    verdict = judge_tree(name, root, known, outcome.dataset, problems + outcome.problems, listing)
    config = profile_config(profile, name)
    files = listing.images()
    decoded = decode_all(files, config.height, config.width, verdict.label, progress)
    cached: list[str] = []
    if outcome.dataset is None:
        note = "not built: the tree could not be read"
    elif decoded.unreadable:
        note = "not built: some images cannot be decoded"
    else:
        cached = warm_caches(name, outcome.dataset, profile, cache_dir, regdb_trials)
        note = f"ready under {cache_dir} for {', '.join(cached)}" if cached else "none needed"
    return TreeCheck(verdict, len(files), decoded.unreadable, decoded.constant, cached, note)


def run_check(
    roots: dict[str, Path],
    profile: str,
    cache_dir: Path,
    regdb_trials: Sequence[int],
    out: TextIO,
    err: TextIO,
    progress: bool,
) -> int:
    """Check each dataset in roots, write the tables to out and one line per mismatch to err."""
    failures: list[str] = []
    for name, root in roots.items():
        check = check_tree(name, root, profile, cache_dir, regdb_trials, progress)
        out.write(_describe(check, profile))
        failures += check.failures()
    if failures:
        out.write(f"\ndata check: {len(failures)} mismatch{'es' if len(failures) != 1 else ''} (listed on stderr)\n")
        err.write("".join(f"mismatch: {line}\n" for line in failures))
        return EXIT_MISMATCH
    out.write("\ndata check: every count matches\n")
    return EXIT_MATCH


def _describe(check: TreeCheck, profile: str) -> str:
    verdict = check.verdict
    config = profile_config(profile, verdict.name)
    fingerprint = verdict.fingerprint
    lines = [
        f"\n{verdict.label} at {verdict.root}",
        f"expected counts: {verdict.known.source}",
        "",
        format_table(verdict.rows).rstrip("\n"),
        "",
        f"images decoded at {config.height}x{config.width}: {check.decoded:,}, unreadable: {len(check.unreadable)}, "
        f"constant: {len(check.constant)}",
    ]
    lines += [f"  unreadable: {error.path} ({error.problem})" for error in check.unreadable]
    lines += [f"  constant: {error.path} ({error.problem})" for error in check.constant]
    lines += [f"  not read: {problem}" for problem in verdict.problems]
    lines += [
        f"decoded-image caches (profile {profile}): {check.cache_note}",
        (
            f"fingerprint: {fingerprint.short} over {fingerprint.files:,} files, {fingerprint.bytes:,} bytes"
            if fingerprint is not None
            else "fingerprint: none (the tree cannot be walked)"
        ),
    ]
    return "\n".join(lines) + "\n"
