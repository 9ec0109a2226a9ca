"""Provisioning: requests gated by placement, quotas and approvals, executed as jobs through the connectors."""
