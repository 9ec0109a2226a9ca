"""What kind a cloud may be: a provider installed in ``connectors`` (synced), or a kind the estate only describes.

The estate sits below the connectors in the layering, so it does not list providers: the inventory app, which
may import the connectors, tells it where to ask (``set_provider_source``, from its ``AppConfig.ready``). A new
provider package is thereby a valid cloud kind with no change here and no migration: the ``kind`` column has
no database choices, this validator instead. Described-only kinds (a hyperscaler region, a VMware estate) have
no connector: their sovereignty is analysed, their inventory is not synced. Django is imported only by the
validator and the labels: the estate file's reader uses ``known`` offline too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

#: Kinds the estate describes without a connector: kind -> (English, French) display names.
DESCRIBED_ONLY: dict[str, tuple[str, str]] = {"vmware": ("VMware", "VMware"),
                                              "hyperscaler": ("Hyperscaler", "Hyperscaleur")}

#: Installed providers: name -> (English, French) display names. Set by the inventory app.
_source: Callable[[], Mapping[str, tuple[str, str]]] | None = None


def set_provider_source(source: Callable[[], Mapping[str, tuple[str, str]]]) -> None:
    global _source
    _source = source


def providers() -> Mapping[str, tuple[str, str]]:
    return _source() if _source is not None else {}


def known() -> dict[str, tuple[str, str]]:
    return {**DESCRIBED_ONLY, **providers()}


def is_checked() -> bool:
    """Whether the installed providers are known in this process (the Django apps are loaded). The estate file's
    reader checks kinds only then: read offline (no settings), a kind is checked when the file is applied."""
    return _source is not None


def validate_cloud_kind(value: str) -> None:
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext_lazy as _

    kinds = known()
    if value not in kinds:
        raise ValidationError(
            _("Unknown cloud kind %(kind)s: the installed providers and described kinds are %(known)s."),
            code="invalid_cloud_kind", params={"kind": value, "known": ", ".join(sorted(kinds))})


def label(value: str, language: str | None = None) -> str:
    names = known().get(value)
    if names is None:
        return value or ""
    if language is None:
        from django.utils.translation import get_language

        language = get_language()
    return names[1] if (language or "").lower().startswith("fr") else names[0]
