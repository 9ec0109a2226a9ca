"""Applying the rules at each login (portal) or provider-token call (API).

``resolve(claims)`` decides without writing: the matching rule and its tenant, or a refusal reason. Only then
``provision`` writes, in one transaction: the user (found by issuer + subject), its profile from the claims, and
its membership set to what the rule says (created or changed; a change is audited with before/after through
the membership's change log and an ``sso.membership`` event). A refused user leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from souverain.core import events
from souverain.tenancy.models import Membership, Tenant

from . import config
from .models import ProviderIdentity

LAST_LOGIN_RESOLUTION = dt.timedelta(minutes=1)


@dataclass
class Decision:
    rule: config.Rule | None
    tenant: Tenant | None = None
    refusal: str = ""  # "no_rule" | "unknown_tenant" | "no_subject"


def resolve(claims: dict[str, Any]) -> Decision:
    if not claims.get("sub"):
        return Decision(None, refusal="no_subject")
    rule = config.match(claims)
    if rule is None:
        return Decision(None, refusal="no_rule")
    tenant = None
    if rule.tenant:
        tenant = Tenant.objects.filter(slug=rule.tenant).first()
        if tenant is None:
            return Decision(rule, refusal="unknown_tenant")
    return Decision(rule, tenant)


def refuse(claims: dict[str, Any], decision: Decision, source: str) -> None:
    subject = str(claims.get("sub") or "")[:200]
    events.emit("auth.sso_refused", object_type="auth.user", object_repr=subject,
                username=str(claims.get("email") or subject)[:150], source=source,
                data={"issuer": config.issuer(), "sub": subject, "email": claims.get("email"),
                      "groups": claims.get("groups"), "reason": decision.refusal,
                      "rule": decision.rule.describe() if decision.rule else None})


def _username_for(claims: dict[str, Any]) -> str:
    user_model = get_user_model()
    base = str(claims.get("email") or claims.get("preferred_username") or claims["sub"])[:120]
    if not user_model.objects.filter(username=base).exists():
        return base
    return f"{base}~{str(claims['sub'])[:20]}"


@transaction.atomic
def provision(claims: dict[str, Any], decision: Decision, source: str) -> Any:
    """The user for these claims with the membership the rule gives (``decision`` from ``resolve``)."""
    assert decision.rule is not None and not decision.refusal
    user_model = get_user_model()
    identity = ProviderIdentity.objects.select_related("user").filter(
        issuer=config.issuer(), subject=str(claims["sub"])).first()
    if identity is None:
        user = user_model(username=_username_for(claims))
        user.set_unusable_password()  # provider users have no local password: break-glass stays local-only
        user.save()
        identity = ProviderIdentity.objects.create(issuer=config.issuer(), subject=str(claims["sub"]), user=user)
        events.emit("auth.sso_user_created", object_type="auth.user", object_id=str(user.pk),
                    object_repr=user.get_username(), username=user.get_username(), source=source,
                    data={"issuer": identity.issuer, "sub": identity.subject})
    user = identity.user
    first, _, last = str(claims.get("name") or "").partition(" ")
    profile = {"email": str(claims.get("email") or "")[:254], "first_name": first[:150], "last_name": last[:150]}
    if any(getattr(user, field) != value for field, value in profile.items()):
        for field, value in profile.items():
            setattr(user, field, value)
        user.save(update_fields=list(profile))
    # An API call per second must not be a write per second: the last use is kept to the minute.
    now = timezone.now()
    if identity.last_login is None or now - identity.last_login > LAST_LOGIN_RESOLUTION:
        identity.last_login = now
        identity.save(update_fields=["last_login"])

    # The claims map to one membership (a user may hold others, granted locally): the one already at the rule's
    # tenant, else the user's default (oldest) one, moved there, as when a user held a single membership.
    held = Membership.objects.select_related("tenant").filter(user=user).order_by("pk")
    membership = held.filter(tenant=decision.tenant).first() if decision.tenant is not None \
        else held.filter(tenant__isnull=True).first()
    membership = membership or held.first()
    before = {"role": membership.role, "tenant": membership.tenant.slug if membership.tenant_id else None} \
        if membership else None
    after = {"role": decision.rule.role, "tenant": decision.tenant.slug if decision.tenant else None}
    if before != after:
        if membership is None:
            membership = Membership(user=user)
        membership.role, membership.tenant = decision.rule.role, decision.tenant
        membership.save()
        events.emit("sso.membership", object_type="tenancy.membership", object_id=str(membership.pk),
                    object_repr=str(membership), username=user.get_username(), source=source,
                    data={"before": before, "after": after, "rule": decision.rule.describe()})
    user._souverain_membership = membership
    return user
