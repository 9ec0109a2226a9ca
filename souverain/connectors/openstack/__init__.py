"""OpenStack provider: Nova, Cinder, Neutron, Glance, Keystone and Swift through openstacksdk's session.

Importing this package registers the provider as ``"openstack"`` (see ``registry``).
"""

from .connector import OpenStackConnector

__all__ = ["OpenStackConnector"]
