"""How the study command ends: its exit codes, and the mistakes it reports in one line with exit code 2 — a
command-line mistake, or something outside the tool set up wrongly (the storage, the output folder, the data root)
— with a message that says what to do."""

from __future__ import annotations

import sys

from harness.redact import redact

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class SetupError(Exception):
    """A problem the person running the command fixes; the message names the file, URL or flag and the fix."""


class UsageError(Exception):
    """A command-line mistake: reported with the valid values, exit code 2."""


def report_usage_error(prog: str, error: Exception) -> int:
    """Write the one line that names the mistake (passwords redacted) and return the exit code for it."""
    sys.stderr.write(f"{prog}: error: {redact(str(error))}\n")
    return EXIT_USAGE
