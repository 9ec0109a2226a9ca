"""Notifications: e-mail and signed webhooks with retries and a delivery log, one machinery for every sender
(provisioning requests and approvals, sovereignty alerts)."""
