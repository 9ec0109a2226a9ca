"""The signed-in user's own account: changing their password (Django's PasswordChangeView, in the portal's style).

Every role may change its own password and nobody else's: the view only ever acts on ``request.user``. The
session stays signed in after the change (Django rotates the session's hash)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from souverain.core.auth import password_changed
from souverain.core.roles import ALL_ROLES
from souverain.tenancy.permissions import Access, PortalAccessMixin

from .base import RoleContextMixin

OWN_ACCOUNT = Access(read=ALL_ROLES, write=ALL_ROLES)


class PasswordChangeView(PortalAccessMixin, RoleContextMixin, auth_views.PasswordChangeView):
    access = OWN_ACCOUNT
    template_name = "portal/password_change.html"
    success_url = reverse_lazy("portal:password")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        password_changed(self.request.user)  # the forced change (first login with a one-time password) is done
        messages.success(self.request, _("Your password has been changed."))
        return response
