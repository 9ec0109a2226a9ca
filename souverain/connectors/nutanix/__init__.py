"""Nutanix provider: Prism Central's v4 API through Nutanix's official Python SDKs (``ntnx-*-py-client``).

Importing this package registers the provider as ``"nutanix"`` (see ``registry``). The SDKs are the optional
``nutanix`` extra (docs/nutanix.md says why and how to install them).
"""

from .connector import NutanixConnector

__all__ = ["NutanixConnector"]
