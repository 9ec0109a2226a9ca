"""Which sets of trusted modules are known to load: the check is remembered, in the process and on disk.

``compile_modules`` checks the built-in packs by compiling and evaluating each pack's deny and warn: twelve full
compilations, 1-2 s on a loaded machine, paid by every ``Engine`` — by every process that decides, and by every
``souverain place --estate FILE`` (a what-if from the shell, which must answer in about a second). Its answer
depends only on the modules' names and text and on the engine's version, so a set found good is remembered
under the SHA-256 of those: in this process, and as an empty marker file in the cache directory
(``SOUVERAIN_CACHE_DIR``, else ``$XDG_CACHE_HOME/souverain``, else ``~/.cache/souverain``).

Only success is remembered (errors are found again, with their positions). A marker only skips a check of text
we ship or an operator already saw compile: a forged one cannot make a decision pass, because a module that does
not load fails when the engine builds its bundle. An unwritable cache directory costs the check, nothing else.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from .modules import PolicyModule

_known: set[str] = set()


def cache_dir() -> Path:
    configured = os.environ.get("SOUVERAIN_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "souverain"


def _engine_version() -> str:
    try:
        return metadata.version("regopy")
    except metadata.PackageNotFoundError:  # pragma: no cover - regopy is a dependency
        return "unknown"


def fingerprint(modules: Iterable[PolicyModule]) -> str:
    digest = hashlib.sha256(f"regopy {_engine_version()}\0".encode())
    for module in sorted(modules, key=lambda m: m.name):
        digest.update(f"{module.name}\0{module.source}\0".encode())
    return digest.hexdigest()


def _marker(print_: str) -> Path:
    return cache_dir() / "verified-modules" / print_


def known_good(print_: str) -> bool:
    if print_ in _known:
        return True
    try:
        found = _marker(print_).is_file()
    except OSError:
        return False
    if found:
        _known.add(print_)
    return found


def remember(print_: str) -> None:
    _known.add(print_)
    try:
        marker = _marker(print_)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass  # read-only home, full disk: the next process checks again


def forget_all() -> None:
    """For tests: forget this process's memory (the disk markers are the caller's directory's)."""
    _known.clear()
