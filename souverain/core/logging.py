"""A logging filter that masks anything looking like a secret, as a last line of defence.

Code must not log credentials in the first place; this catches mistakes in third-party messages
(e.g. an auth dict echoed by an SDK).
"""

from __future__ import annotations

import logging
import re

_SECRET_PATTERN = re.compile(
    r"""(?ix)
    (["']?(?:password|passwd|secret|token|api[_-]?key|application_credential_secret|credentials?)["']?
     \s*[:=]\s*)
    (["']?)([^"',\s}]+)\2
    """
)


def redact(text: str) -> str:
    return _SECRET_PATTERN.sub(lambda m: f"{m.group(1)}{m.group(2)}***{m.group(2)}", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
