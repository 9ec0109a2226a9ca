"""The signed-in user's own account: changing their password (Django's PasswordChangeView, in the portal's style),
their API tokens; and the change history (``/history/``), read with the same scope as the API's.

Every role may change its own password and nobody else's: the view only ever acts on ``request.user``. The
session stays signed in after the change (Django rotates the session's hash)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.generic import TemplateView, View

from souverain.core import tokens as api_tokens
from souverain.core.auth import must_change_password, password_changed
from souverain.core.models import ApiToken, ObjectChange
from souverain.core.roles import ALL_ROLES, Role
from souverain.tenancy.api.account import CHANGE_HISTORY, OWN_TOKENS, ObjectChangeFilterSet, tokens_visible_to
from souverain.tenancy.permissions import Access, PortalAccessMixin, role_of, scope_queryset, switch

from .base import RoleContextMixin

OWN_ACCOUNT = Access(read=ALL_ROLES, write=ALL_ROLES)


class PasswordChangeView(PortalAccessMixin, RoleContextMixin, auth_views.PasswordChangeView):
    access = OWN_ACCOUNT
    template_name = "portal/password_change.html"
    success_url = reverse_lazy("portal:password")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if must_change_password(self.request.user):
            context["forced"] = _("Choose a new password before going on: the one you were given was for the first "
                                  "login only.")
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        password_changed(self.request.user)  # the forced change (first login with a one-time password) is done
        messages.success(self.request, _("Your password has been changed."))
        return response


class ActAsView(PortalAccessMixin, View):
    """The header's "act as" switcher (POST only): act with another of one's memberships from now on (kept in the
    session; audited as ``tenancy.act_as``). Only one's own memberships: any other id is a 404."""

    access = OWN_ACCOUNT
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        raw = request.POST.get("membership", "")
        found = switch(request, int(raw)) if raw.isdigit() and len(raw) < 19 else None
        if found is None:
            raise Http404("no such membership")
        role = str(Role(found.role).label) if found.role in Role.values else found.role
        if found.tenant_id:
            messages.success(request, _("You now act as %(role)s at %(tenant)s.") % {"role": role,
                                                                                    "tenant": found.tenant})
        else:
            messages.success(request, _("You now act as %(role)s.") % {"role": role})
        return redirect("portal:overview")  # the page one was on may not exist for the new membership


class TokensView(PortalAccessMixin, RoleContextMixin, TemplateView):
    """The user's API tokens (operator admins: everyone's), without their secrets; a form issues a new one, whose
    secret is shown on the answer page only (never stored in a message or the session); each can be revoked."""

    access = OWN_TOKENS
    template_name = "portal/tokens.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", TokenForm())
        context["tokens"] = tokens_visible_to(self.request.user)[:200]
        context["show_user"] = role_of(self.request.user) == Role.OPERATOR_ADMIN
        context["default_days"] = api_tokens.default_days()
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "revoke" in request.POST:
            raw = request.POST["revoke"]
            token = tokens_visible_to(request.user).filter(pk=int(raw)).first() \
                if raw.isdigit() and len(raw) < 19 else None
            if token is None:
                raise Http404("no such token")
            api_tokens.revoke(token, actor=request.user.get_username())
            messages.success(request, _("Token %(prefix)s… revoked.") % {"prefix": token.prefix})
            return redirect("portal:tokens")
        form = TokenForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        try:
            token, secret = api_tokens.issue(request.user, name=form.cleaned_data["name"],
                                             scope=form.cleaned_data["scope"], days=form.cleaned_data["days"])
        except api_tokens.TokenError as exc:
            form.add_error("days" if exc.field == "expires_in_days" else exc.field, str(exc))
            return self.render_to_response(self.get_context_data(form=form), status=400)
        response = self.render_to_response(self.get_context_data(new_token=token, new_secret=secret))
        response["Cache-Control"] = "no-store"  # the secret must not stay in a cache
        return response


class TokenForm(forms.Form):
    name = forms.CharField(label=_lazy("Name"), max_length=100, required=False,
                           help_text=_lazy("What the token is for, e.g. “CI pipeline”."))
    scope = forms.ChoiceField(label=_lazy("Scope"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ)
    days = forms.IntegerField(label=_lazy("Valid for (days)"), min_value=1, initial=30)

    def clean_days(self) -> int:
        days = self.cleaned_data["days"]
        if days > api_tokens.max_days():
            raise forms.ValidationError(_("At most %(days)d days.") % {"days": api_tokens.max_days()})
        return days


class HistoryView(PortalAccessMixin, RoleContextMixin, TemplateView):
    """The change history with the API's filters (object type and id, actor, action, request id, time range) and
    its CSV export; a tenant's users see their tenant's objects only (the same scope as ``/api/changes/``)."""

    access = CHANGE_HISTORY
    template_name = "portal/history.html"
    queryset = ObjectChange.objects.all()
    per_page = 50

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        scoped = scope_queryset(ObjectChange.objects.select_related("content_type"), self.request.user, self.access)
        filterset = ObjectChangeFilterSet(self.request.GET or None, queryset=scoped)
        form = filterset.form
        for name, label in HISTORY_LABELS.items():
            form.fields[name].label = label
            form.fields[name].help_text = ""
        rows = filterset.qs.order_by("-time", "-id")
        page = Paginator(rows, self.per_page).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        export = query.copy()
        export["format"] = "csv"
        context.update({"filter": filterset, "page": page, "query": query.urlencode(),
                        "export_url": f"/api/changes/?{export.urlencode()}",
                        "filtered": any(self.request.GET.get(name) for name in filterset.filters)})
        return context


HISTORY_LABELS = {
    "object_type": _lazy("Object type"), "object_id": _lazy("Object id"), "actor": _lazy("Who"),
    "source": _lazy("Through"), "action": _lazy("Action"), "request_id": _lazy("Request id"),
    "since": _lazy("From"), "until": _lazy("Before"),
}
