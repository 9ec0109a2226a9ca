"""Nutanix provider: Prism Central's v4 API through Nutanix's official Python SDKs (``ntnx-*-py-client``).

Importing this package registers the provider as ``"nutanix"`` (see ``registry``). The SDKs are the optional
``nutanix`` extra (docs/nutanix.md says why and how to install them).
"""

try:
    import ntnx_vmm_py_client  # noqa: F401
except ModuleNotFoundError as exc:  # say how to get them, rather than which module is missing
    raise ModuleNotFoundError(
        "the Nutanix connector needs Nutanix's v4 SDKs: .venv/bin/pip install --no-deps -r "
        "souverain/connectors/nutanix/requirements.txt (docs/nutanix.md)", name=exc.name) from exc

from .connector import NutanixConnector  # noqa: E402

__all__ = ["NutanixConnector"]
