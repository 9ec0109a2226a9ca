from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from souverain.core.roles import OPERATOR_ROLES, Role
from souverain.tenancy.permissions import membership_of


def decision_date(request: HttpRequest) -> tuple[dt.date, str | None]:
    """The ``on`` query parameter (YYYY-MM-DD, default today) and an error message when it is not a date."""
    value = request.GET.get("on", "").strip()
    if not value:
        return dt.date.today(), None
    try:
        return dt.date.fromisoformat(value), None
    except ValueError:
        return dt.date.today(), _("“%(value)s” is not a date (YYYY-MM-DD); showing today.") % {"value": value}


def role_context(user: Any) -> dict[str, Any]:
    membership = membership_of(user)
    role = membership.role if membership else None
    return {
        "role": role,
        "tenant": membership.tenant if membership and membership.tenant_id else None,
        "can_upload": role == Role.OPERATOR_ADMIN,
        "can_sync": role in OPERATOR_ROLES,
    }


class RoleContextMixin:
    """Puts the user's role, tenant and what they may do into every page's context."""

    request: HttpRequest

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.update(role_context(self.request.user))
        return context
