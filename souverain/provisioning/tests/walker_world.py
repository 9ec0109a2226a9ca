"""Provisioning's objects in the route walker's world: a request of each tenant with its timeline and an approval
level, and a quota of each (the foreign ones carry the foreign markers, so that a leak to another tenant shows)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone


def populate(tenants: dict[str, Any]) -> None:
    from souverain.provisioning.models import Approval, ApprovalPolicy, Quota, RequestEvent, ServiceRequest

    now = timezone.now()
    for key, name in (("foreign", "foreign-vm of Other Corp"), ("home", "ministry-web")):
        tenant = tenants[key]
        request = ServiceRequest.objects.create(
            tenant=tenant, requester_name=f"{key}-user", kind="server", name=name,
            spec={"flavor": "m1.small", "image": "debian-12", "network": "private"}, status="awaiting_approval",
            approval_level=1, demand={"instances": 1, "vcpu": 1}, expires_at=now + dt.timedelta(days=1),
            idempotency_key=f"walker-{key}")
        RequestEvent.objects.create(request=request, step="submitted", actor=f"{key}-user", at=now,
                                    message=f"asked for {name}", message_fr=f"a demandé {name}")
        Approval.objects.create(request=request, level=1, rule="walker", approver={"role": "tenant-admin"},
                                approver_tenant=tenant, status="pending", comment=f"for {name}")
        Quota.objects.create(tenant=tenant, vcpu=8, instances=4)
    ApprovalPolicy.objects.create(number=1, source="rules: []\n", rules={"rules": []}, uploaded_by="walker")
