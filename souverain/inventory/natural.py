"""Natural name order (web-2 before web-10) as a plain string, so a database index can serve it.

``natural_key`` rewrites every run of digits as its length (two digits) followed by the digits without their
leading zeros, and folds case: comparing two keys as strings then compares the numbers in the names as
numbers ("web-" "01" "2" < "web-" "02" "10"). A string key, unlike natsort's tuples, can be stored in a
column computed when the name is written (``Resource.name_sort``) and ordered by a b-tree index on both
SQLite and PostgreSQL, whatever the collation (the key is compared byte-wise in practice: digits and
lower-case letters). No Django here: the CLI sorts its rows with it too.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d+")
#: The stored key's length: past it, names sort by their first 255 key characters, then by id.
MAX_LENGTH = 255


def _number(match: re.Match[str]) -> str:
    digits = match.group().lstrip("0") or "0"
    if len(digits) > 99:  # beyond a two-digit length: keep the order among such giants roughly right
        digits = digits[:99]
    return f"{len(digits):02d}{digits}"


def natural_key(name: str | None) -> str:
    return _DIGITS.sub(_number, (name or "").casefold())[:MAX_LENGTH]
