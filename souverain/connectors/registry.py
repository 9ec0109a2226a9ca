"""Which connector class serves which provider.

Adding a provider is one subpackage of ``souverain.connectors`` named after the provider, whose
``__init__`` decorates its connector class with ``@register("<name>")``, plus its tests. Nothing here
changes: ``get_connector`` imports the subpackage the first time the provider is asked for, which also
keeps a heavy SDK from being imported by processes that never use that provider.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any, TypeVar

from .base import Connector

C = TypeVar("C", bound=type[Connector])

_providers: dict[str, type[Connector]] = {}


def register(provider: str) -> Callable[[C], C]:
    """Class decorator: make ``cls`` the connector for ``provider``."""

    def decorate(cls: C) -> C:
        known = _providers.get(provider)
        if known is not None and known is not cls:
            raise ValueError(f"provider {provider!r} is already served by {known.__qualname__}")
        cls.provider = provider
        _providers[provider] = cls
        return cls

    return decorate


def get_connector(kind: str, **config: Any) -> Connector:
    """A connector for provider ``kind`` (``"openstack"``), built from ``config``.

    ``config`` is passed to the provider's class unchanged; see its docstring for the keys.
    """
    return provider_class(kind)(**config)


def provider_class(kind: str) -> type[Connector]:
    if kind not in _providers and kind in available_providers():
        importlib.import_module(f"{__package__}.{kind}")
    try:
        return _providers[kind]
    except KeyError:
        raise ValueError(f"unknown cloud provider {kind!r}; available: {', '.join(available_providers())}") from None


def available_providers() -> list[str]:
    """Providers that can be asked for: registered ones and the provider subpackages not yet imported."""
    here = importlib.import_module(__package__ or "souverain.connectors")
    packaged = {m.name for m in pkgutil.iter_modules(here.__path__) if m.ispkg and m.name != "tests"}
    return sorted(packaged | set(_providers))


def provider_display_names() -> dict[str, tuple[str, str]]:
    """Every available provider's display names (English, French): its connector's ``display_name``, or the
    provider's name when its package cannot be imported here (a missing optional SDK)."""
    names = {}
    for name in available_providers():
        try:
            label = provider_class(name).display_name or name
        except ImportError:
            label = name
        names[name] = (label, label)
    return names
