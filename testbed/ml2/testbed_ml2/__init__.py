"""Agentless ML2 mechanism driver: binds every port on every host, as ACTIVE.

ML2 needs an agent (or SDN controller) per host to bind a port, otherwise Nova sees PortBindingFailed; the test-bed
runs no agent and nothing carries traffic, so this driver binds unconditionally. Neutron's in-tree `test` driver
asserts on real use and cannot serve here.
"""

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class AgentlessMechanismDriver(api.MechanismDriver):
    def initialize(self) -> None:
        pass

    @property
    def connectivity(self) -> str:
        return portbindings.CONNECTIVITY_L2

    def bind_port(self, context: api.PortContext) -> None:
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID],
                portbindings.VIF_TYPE_OVS,
                {portbindings.CAP_PORT_FILTER: False, portbindings.OVS_HYBRID_PLUG: False},
                status=constants.PORT_STATUS_ACTIVE,
            )
            return
