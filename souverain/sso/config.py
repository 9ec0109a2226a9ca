"""Provider settings and the claims → tenant/role rules, validated when Django starts.

Settings (environment, read in settings.py): ``SOUVERAIN_OIDC_ISSUER`` (discovery at
``<issuer>/.well-known/openid-configuration``), ``SOUVERAIN_OIDC_CLIENT_ID``, ``SOUVERAIN_OIDC_CLIENT_SECRET``,
``SOUVERAIN_OIDC_PROVIDER_NAME`` (the button's label), ``SOUVERAIN_OIDC_SCOPES``, ``SOUVERAIN_OIDC_API_AUDIENCE``
(the ``aud`` the API requires of provider access tokens) and ``SOUVERAIN_OIDC_MAPPING`` (a YAML file) or the
setting ``SOUVERAIN_OIDC_RULES`` (the same list, for tests). SSO is off while the issuer is empty.

Rules, first match wins (order is priority: the claims give the user one membership)::

    rules:
      - claim: groups                 # a claim: a string or a list of strings
        value: "ministere:tenant-admin"
        tenant: ministere             # a tenant slug; required for tenant roles, forbidden otherwise
        role: tenant-admin
      - email_domain: hopital.example # the e-mail's domain, only when the provider says email_verified
        tenant: hopital
        role: tenant-member

A user matching no rule is refused and nothing is created. The tenant is looked up at login (a rule may name a
tenant created later): an unknown tenant is a refusal too, audited with the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from souverain.core.roles import TENANT_ROLES, Role


@dataclass(frozen=True)
class Rule:
    role: str
    tenant: str | None = None
    claim: str | None = None
    value: str | None = None
    email_domain: str | None = None

    def matches(self, claims: dict[str, Any]) -> bool:
        if self.claim is not None:
            got = claims.get(self.claim)
            values = got if isinstance(got, list) else [got]
            return self.value in [str(v) for v in values if v is not None]
        email = str(claims.get("email") or "")
        return (claims.get("email_verified") is True and "@" in email
                and email.rsplit("@", 1)[1].lower() == (self.email_domain or "").lower())

    def describe(self) -> str:
        what = f"{self.claim}={self.value}" if self.claim else f"email_domain={self.email_domain}"
        return f"{what} → {self.role}" + (f"@{self.tenant}" if self.tenant else "")


def enabled() -> bool:
    return bool(getattr(settings, "SOUVERAIN_OIDC_ISSUER", ""))


def issuer() -> str:
    return str(settings.SOUVERAIN_OIDC_ISSUER).rstrip("/")


def parse_rules(raw: Any, source: str = "SOUVERAIN_OIDC_RULES") -> list[Rule]:
    if isinstance(raw, dict):
        raw = raw.get("rules")
    if not isinstance(raw, list):
        raise ImproperlyConfigured(f"{source}: expected a list of rules under 'rules'")
    rules = []
    for index, entry in enumerate(raw, 1):
        where = f"{source}: rule {index}"
        if not isinstance(entry, dict):
            raise ImproperlyConfigured(f"{where}: expected a mapping")
        unknown = set(entry) - {"claim", "value", "email_domain", "tenant", "role"}
        if unknown:
            raise ImproperlyConfigured(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        role = entry.get("role")
        if role not in Role.values:
            raise ImproperlyConfigured(f"{where}: role must be one of {', '.join(Role.values)}")
        tenant = entry.get("tenant")
        if (role in TENANT_ROLES) != bool(tenant):
            raise ImproperlyConfigured(f"{where}: tenant is required for tenant roles and only for them")
        if ("claim" in entry) == ("email_domain" in entry):
            raise ImproperlyConfigured(f"{where}: give either claim (with value) or email_domain")
        if "claim" in entry and not (entry.get("claim") and entry.get("value") not in (None, "")):
            raise ImproperlyConfigured(f"{where}: claim and value must both be non-empty")
        if "email_domain" in entry and not entry.get("email_domain"):
            raise ImproperlyConfigured(f"{where}: email_domain must be non-empty")
        rules.append(Rule(role=role, tenant=str(tenant) if tenant else None,
                          claim=entry.get("claim"), value=None if entry.get("value") is None else str(entry["value"]),
                          email_domain=entry.get("email_domain")))
    return rules


def rules() -> list[Rule]:
    path = getattr(settings, "SOUVERAIN_OIDC_MAPPING", "")
    if path:
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise ImproperlyConfigured(f"SOUVERAIN_OIDC_MAPPING: cannot read {path}: {error}") from error
        return parse_rules(raw, f"SOUVERAIN_OIDC_MAPPING ({path})")
    return parse_rules(getattr(settings, "SOUVERAIN_OIDC_RULES", []) or [])


def check() -> None:
    """At start: with SSO on, the client and the rules must be valid (a typo must not refuse everyone later)."""
    if not enabled():
        return
    if not getattr(settings, "SOUVERAIN_OIDC_CLIENT_ID", ""):
        raise ImproperlyConfigured("SOUVERAIN_OIDC_CLIENT_ID is required when SOUVERAIN_OIDC_ISSUER is set")
    rules()


def match(claims: dict[str, Any]) -> Rule | None:
    return next((rule for rule in rules() if rule.matches(claims)), None)
