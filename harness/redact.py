"""Passwords out of everything the harness writes: URLs of the form scheme://user:password@host lose the password
in logs, provenance and the report (a storage URL is typed on the command line, so it reaches all three)."""

from __future__ import annotations

import logging
import re

MASK = "***"
# scheme://user:password@  — the password runs to the last "@" before the host, so it may itself hold "@" or ":".
_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):(?P<password>[^\s/]*)@")


def redact(text: str) -> str:
    """`text` with the password of every URL in it replaced by ***."""
    return _CREDENTIALS.sub(lambda m: f"{m.group('head')}:{MASK}@", text)


class RedactingFilter(logging.Filter):
    """A handler filter that masks passwords in the formatted message (arguments included) and its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
