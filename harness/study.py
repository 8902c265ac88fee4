"""Command line: `python -m harness.study STUDY [options]` runs a study's missing cells, writes its tables and
renders its report. Start the same command on several machines or terminals with one --storage to share the
cells; re-run it to resume after an interruption.

Exit codes: 0 all went well, 1 a cell or the report failed, 2 a usage error or a storage or output-folder problem
(one line says what to do), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn, Sequence

from harness.errors import EXIT_OK, UsageError, report_usage_error
from harness.registry import list_studies, load_study
from harness.spec import PROFILES
from mmm.choices import PRECISIONS, RECIPES

DEVICES = ("cpu", "cuda")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m harness.study", description=__doc__.split("\n\n")[0])
    parser.add_argument("study", nargs="?", help="study name (see --list)")
    parser.add_argument("--profile", choices=PROFILES, default="quick", help="run sizes (default: quick)")
    parser.add_argument("--data-root", type=Path, help="folder holding SYSU-MM01/ and/or RegDB/ (default: synthetic)")
    parser.add_argument("--out", type=Path, default=Path("runs"), help="output folder (default: runs/)")
    parser.add_argument("--storage", help="Optuna storage shared by workers (default: <out>/<study>/optuna.journal)")
    # No default here: whether CUDA is there takes importing torch, which --list and --help should not wait for.
    parser.add_argument("--device", choices=DEVICES, help="where cells run (default: cuda when available, else cpu)")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="the network's forward: fp32, or bf16 autocast with float32 pooling, memories and losses "
        "(default: bf16 on cuda, fp32 on cpu); a bf16 run is another run (own studies and folder)",
    )
    parser.add_argument(
        "--deterministic",
        action="store_true",
        help="CUDA: deterministic algorithms and cuBLAS workspace, no cuDNN autotuning (slower; recorded in "
        "provenance.json); without it cuDNN autotunes. No effect on the CPU",
    )
    parser.add_argument(
        "--pretrained",
        metavar="imagenet|none|PATH",
        help="starting weights: the backbone's ImageNet file, none (random initialisation) or a state-dict file "
        "(default: the profile's, imagenet for quick and paper)",
    )
    parser.add_argument(
        "--recipe",
        choices=RECIPES,
        help="training recipe: paper (the paper's text) or release (the authors' code); see docs/recipes.md "
        "(default: the profile's, release for the release profile, paper otherwise)",
    )
    parser.add_argument(
        "--seeds",
        type=_positive,
        help="run seeds 0..N-1 instead of the profile's seeds (a tuning study searches with the first and runs its "
        "final phase with all)",
    )
    parser.add_argument(
        "--params",
        type=Path,
        metavar="FILE",
        help="start every cell from a tuning study's chosen parameters (its best_params.json), per dataset, under "
        "each variant's own fields",
    )
    parser.add_argument(
        "--eval-every",
        type=_positive,
        metavar="K",
        help="also record test metrics every K stage-C epochs and after the last, drawn as curves in the report; "
        "reported, never used: the result stays the last epoch's (cells done earlier keep their records)",
    )
    parser.add_argument(
        "--benchmark-json",
        type=Path,
        help="pytest-benchmark JSON (pytest tests/bench --benchmark-json=F) to add as a timing table to the report",
    )
    parser.add_argument(
        "--keep-stale",
        action="store_true",
        help="keep results of other code (stale cells: finished by a method source other than this one) instead "
        "of re-running them; the report marks them and never pairs them with runs of this code",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--list", action="store_true", help="list the studies and exit")
    mode.add_argument("--dry-run", action="store_true", help="show the cells and which are done; run nothing")
    mode.add_argument("--report-only", action="store_true", help="rewrite tables and report from stored trials")
    mode.add_argument(
        "--check-data",
        action="store_true",
        help="count, decode and fingerprint the datasets (--data-root, else the synthetic stand-ins) against their "
        "known counts and build the profile's image caches; exit 1 on a mismatch",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help
        return int(done.code or 0)
    except UsageError as error:
        return report_usage_error(parser.prog, error)
    if args.list:
        sys.stdout.write("".join(f"{n:<22} {load_study(n).description}\n" for n in list_studies()))
        return EXIT_OK
    # Imported here: the rest needs torch, Optuna and the pipeline, seconds of imports that --list and --help skip.
    from harness.command import run_command

    return run_command(parser.prog, args, argv)


if __name__ == "__main__":
    sys.exit(main())
