"""The error the command line reports in one line with exit code 2: something outside the tool is set up
wrongly (an argument, the storage, the output folder, the data root) and the message says what to do."""
from __future__ import annotations


class SetupError(Exception):
    """A problem the person running the command fixes; the message names the file, URL or flag and the fix."""
