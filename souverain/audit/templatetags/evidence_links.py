"""``{% evidence_link tenant=… region=… on=… %}``: the portal's download link to an evidence pack (GET /api/evidence/).

Shown only to the roles the API serves (``evidence.READERS``: operators, auditors, tenant admins),
and to tenant-scoped users only for their own tenant (the API would refuse another's). The pack's language is
the reader's; its date the page's (``on``) or today. The link's words are data in both languages, like the
report's (``evidence_pdf.WORDS``), so the tag needs no entry in the shared catalogue.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import template
from django.utils import timezone, translation
from django.utils.html import format_html

from souverain.tenancy.permissions import membership_of

register = template.Library()

WORDS = {
    "link": {"en": "Evidence pack", "fr": "Dossier de preuves"},
    "title": {"en": "Signed ZIP: JSON facts and PDF report on this date (souverain evidence verify checks it)",
              "fr": "ZIP signé : faits en JSON et rapport PDF à cette date (vérifiable par souverain evidence verify)"},
}


@register.simple_tag(takes_context=True)
def evidence_link(context: dict[str, Any], tenant: str = "", region: str = "", on: Any = None) -> str:
    from souverain.audit.evidence import READERS

    request = context.get("request")
    membership = membership_of(getattr(request, "user", None))
    if membership is None or membership.role not in READERS:
        return ""
    if membership.is_tenant_scoped:
        from souverain.tenancy.models import Tenant
        from souverain.tenancy.services import subtree_query

        if not tenant:
            tenant = membership.tenant.slug if membership.tenant else ""
        elif not Tenant.objects.filter(pk__in=subtree_query(membership.tenant_id), slug=tenant).exists():
            return ""  # not in their subtree: the API would refuse it
    if not tenant and not region:
        return ""
    day = on.date() if isinstance(on, dt.datetime) else on if isinstance(on, dt.date) else timezone.localdate()
    language = "fr" if (translation.get_language() or "").startswith("fr") else "en"
    params = {"tenant": tenant, "region": region, "on": day.isoformat(), "lang": language}
    query = urlencode({key: value for key, value in params.items() if value})
    return format_html('<a class="button secondary evidence-link" href="/api/evidence/?{}" title="{}" download>{}</a>',
                       query, WORDS["title"][language], WORDS["link"][language])
