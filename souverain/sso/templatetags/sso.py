from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from souverain.sso import config

register = template.Library()


@register.inclusion_tag("sso/button.html", takes_context=True)
def sso_login_button(context: Any) -> dict[str, Any]:
    """The "Sign in with <provider>" link on the login page, when a provider is configured."""
    return {"enabled": config.enabled(), "next": context.get("next") or "",
            "provider": getattr(settings, "SOUVERAIN_OIDC_PROVIDER_NAME", "") or "SSO"}
