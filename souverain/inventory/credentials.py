"""Where each cloud's credentials come from, as the process asking sees it.

A cloud authenticates with credentials encrypted in the database (given through the API or an estate file's
``credentials:``), or with an entry of openstacksdk's ``clouds.yaml``. The second is read from *this
process's* environment: ``OS_CLIENT_CONFIG_FILE``, then ``./clouds.yaml`` relative to the working directory,
``~/.config/openstack/`` and ``/etc/openstack/``. A ``souverain sync`` run from a shell where the test-bed's
``OS_CLIENT_CONFIG_FILE`` is exported and a server started from elsewhere therefore read different files:
the first sync succeeds and the server's next one fails, and everything turned stale. Nothing said so.

So the location is made explicit: ``locate(cloud)`` says, for this process, "clouds.yaml entry X found at
/path", "encrypted in the database", or what is missing and where it was looked for, with a hint. The sync
page shows it for the server's process; scheduled syncs and "sync everything" skip a cloud that is not
configured (instead of logging the same failure every five minutes), and an explicit sync of such a cloud
fails at once with the same sentence. Each sync part records the source it used.

Only OpenStack clouds are checked against ``clouds.yaml`` (it is openstacksdk's file); another provider's
``clouds_yaml_entry`` is that provider's business and is trusted as configured.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from souverain.connectors import available_providers

if TYPE_CHECKING:
    from souverain.estate.models import Cloud


class Source(StrEnum):
    DATABASE = "database"  # encrypted in the database
    CLOUDS_YAML = "clouds_yaml"  # an entry of a clouds.yaml this process can read
    MISSING = "missing"  # named, but not where this process looks
    NONE = "none"  # neither credentials nor a clouds.yaml entry
    NO_CONNECTOR = "no_connector"  # no connector for the cloud's kind


@dataclass(frozen=True)
class Credentials:
    """Where one cloud's credentials come from (``source``), in a sentence (``detail``), and what to do when
    they are missing (``hint``)."""

    source: Source
    detail: str
    hint: str = ""
    path: str = ""

    @property
    def configured(self) -> bool:
        return self.source in (Source.DATABASE, Source.CLOUDS_YAML)


@dataclass(frozen=True)
class CloudsYaml:
    """What openstacksdk finds from this process: the file it reads (if any), its secure.yaml, its entries, and
    every place it looked."""

    path: str | None
    secure_path: str | None
    entries: frozenset[str]
    searched: tuple[str, ...]


def clouds_yaml() -> CloudsYaml:
    """Read openstacksdk's configuration the way ``openstack.connect(cloud=...)`` does, in this process."""
    from openstack.config import loader

    override = os.environ.get("OS_CLIENT_CONFIG_FILE")
    searched = tuple(dict.fromkeys([*([override] if override else []), *loader.CONFIG_FILES]))
    try:
        config = loader.OpenStackConfig(app_name="souverain")
    except Exception as exc:  # noqa: BLE001 - a broken file is reported as such, never as a crash of the page
        return CloudsYaml(path=f"{override or '?'} ({type(exc).__name__}: {exc})", secure_path=None,
                          entries=frozenset(), searched=searched)
    entries = frozenset(config.cloud_config.get("clouds") or {}) if config.config_filename else frozenset()
    return CloudsYaml(path=config.config_filename, secure_path=config.secure_config_filename, entries=entries,
                      searched=searched)


def locate(cloud: Cloud, found: CloudsYaml | None = None) -> Credentials:
    """Where ``cloud``'s credentials come from for this process. ``found`` saves re-reading clouds.yaml when
    locating several clouds."""
    if cloud.kind not in available_providers():
        return Credentials(Source.NO_CONNECTOR, _("no connector for the kind “%(kind)s”: not synced")
                           % {"kind": cloud.kind})
    if cloud.credentials_encrypted:
        return Credentials(Source.DATABASE, _("encrypted in the database"))
    entry = cloud.clouds_yaml_entry
    if not entry:
        return Credentials(Source.NONE, _("missing: neither credentials nor a clouds.yaml entry"),
                           _("Name its clouds.yaml entry (clouds_yaml:) or give credentials (credentials:) in the "
                             "estate file, then apply it."))
    if cloud.kind != "openstack":
        return Credentials(Source.CLOUDS_YAML, _("entry “%(entry)s” (read by the %(kind)s connector)")
                           % {"entry": entry, "kind": cloud.kind})
    found = found or clouds_yaml()
    if entry in found.entries:
        detail = _("clouds.yaml entry “%(entry)s” found at %(path)s") % {"entry": entry, "path": found.path}
        if found.secure_path:
            detail += _(" (secrets merged from %(path)s)") % {"path": found.secure_path}
        return Credentials(Source.CLOUDS_YAML, detail, path=found.path or "")
    hint = _("This process reads clouds.yaml from OS_CLIENT_CONFIG_FILE, else from ./clouds.yaml, "
             "~/.config/openstack/ or /etc/openstack/. Set OS_CLIENT_CONFIG_FILE in the environment of the server "
             "and of its workers (the same file as for souverain sync), or give the cloud credentials in the "
             "estate file.")
    if found.path:
        names = ", ".join(sorted(found.entries)) or "—"
        detail = _("missing: clouds.yaml entry “%(entry)s” is not in %(path)s (entries: %(names)s)") % {
            "entry": entry, "path": found.path, "names": names}
    else:
        detail = _("missing: clouds.yaml entry “%(entry)s”: no clouds.yaml found (looked in %(places)s)") % {
            "entry": entry, "places": ", ".join(found.searched)}
    return Credentials(Source.MISSING, detail, hint, path=found.path or "")


def locate_all(clouds: list[Cloud]) -> dict[int, Credentials]:
    """``locate`` for several clouds, reading clouds.yaml once."""
    found = clouds_yaml() if any(c.kind == "openstack" and not c.credentials_encrypted for c in clouds) else None
    return {cloud.pk: locate(cloud, found) for cloud in clouds}
