"""Which provider identity is which Souverain user.

A provider account is recognised by (issuer, ``sub``), never by its e-mail or name: a provider user called
"admin" must not become the local break-glass "admin". The username is the e-mail when free (what people read),
else the e-mail with a piece of the subject.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ProviderIdentity(models.Model):
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_identities")
    created = models.DateTimeField(auto_now_add=True)
    last_login = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique")]

    def __str__(self) -> str:
        return f"{self.subject} @ {self.issuer}"
