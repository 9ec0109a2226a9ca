"""Build an openstacksdk Connection from a clouds.yaml entry or from an explicit configuration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import openstack
from openstack import connection as sdk_connection
from openstack import exceptions as sdk_exc

from .. import errors


def connect(
    cloud: str | None,
    *,
    region: str | None,
    config: Mapping[str, Any] | None,
    api_timeout: float | None,
) -> sdk_connection.Connection:
    """A Connection for ``cloud`` (a clouds.yaml entry) or for ``config`` (a clouds.yaml entry's content).

    With ``cloud``, openstacksdk's usual search applies: ``OS_CLIENT_CONFIG_FILE``, ``./clouds.yaml``,
    ``~/.config/openstack``, ``/etc/openstack``, with ``secure.yaml`` merged in. ``config`` is for
    credentials the application keeps itself (encrypted at rest); the environment and the YAML files are
    then ignored, so an ``OS_PASSWORD`` lying around cannot leak into it. Neither is ever logged.
    """
    if (cloud is None) == (config is None):
        raise ValueError("give either a clouds.yaml entry name (cloud=) or a configuration (config=), not both")
    options: dict[str, Any] = {"region_name": region} if region else {}
    if api_timeout is not None:
        options["api_timeout"] = api_timeout
    try:
        if config is not None:
            return openstack.connect(load_yaml_config=False, load_envvars=False, **{**config, **options})
        return openstack.connect(cloud=cloud, **options)
    except sdk_exc.SDKException as exc:
        # An explicit configuration holds secrets and the SDK's message may quote it: name the problem only.
        detail = str(exc) if config is None else type(exc).__name__
        raise errors.ConnectorError(f"cannot configure the connection: {detail}", cloud=cloud, region=region) from None
