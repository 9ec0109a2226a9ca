"""A Prism Central v4 simulator: the endpoints Souverain's Nutanix connector uses, built from the official SDKs'
models (``simulator``). Souverain's Nutanix support is tested against it, not against a real cluster."""

from .simulator import PrismSimulator

__all__ = ["PrismSimulator"]
