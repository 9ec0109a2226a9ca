"""The sovereignty knowledge base as loaded from the versioned data files in ``souverain/kb``.

Rows are replaced by the loader only; each carries the source it came from so every explanation can cite it.
"""

from __future__ import annotations

from django.db import models


class Country(models.Model):
    code = models.CharField(max_length=2, primary_key=True)
    name = models.CharField(max_length=100)
    eu_member = models.BooleanField(default=False)
    eu_since = models.DateField(null=True, blank=True)
    eea = models.BooleanField(default=False)
    source = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "countries"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class AdequacyDecision(models.Model):
    key = models.CharField(max_length=40, unique=True)  # country code, or the organisation's name
    country = models.CharField(max_length=2, blank=True)
    organisation = models.CharField(max_length=100, blank=True)
    scope = models.CharField(max_length=40)
    decision = models.CharField(max_length=300)
    adopted = models.DateField(null=True, blank=True)
    source = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key}: {self.decision}"


class Law(models.Model):
    slug = models.SlugField(primary_key=True, max_length=60)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2)
    citation = models.CharField(max_length=200, blank=True)
    enacted = models.DateField(null=True, blank=True)
    summary = models.TextField(blank=True)
    # {channel: {"strength": "compelled"|"informational", "rationale": str, "inference": bool}}
    channels = models.JSONField(default=dict)
    source = models.JSONField(default=dict, blank=True)
    checked = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["country", "slug"]

    def __str__(self) -> str:
        return self.name


class CertificationScheme(models.Model):
    slug = models.SlugField(primary_key=True, max_length=40)
    name = models.CharField(max_length=200)
    issuer = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2, blank=True)
    versions = models.JSONField(default=list)
    levels = models.JSONField(default=list, blank=True)
    criteria = models.JSONField(default=list, blank=True)
    source = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class KnowledgeBaseRelease(models.Model):
    """One load of one KB file that changed something: what version, and what changed."""

    file = models.CharField(max_length=100)
    version = models.CharField(max_length=40)
    checked = models.DateField(null=True, blank=True)
    loaded_at = models.DateTimeField(auto_now_add=True)
    sha256 = models.CharField(max_length=64)
    changes = models.JSONField(default=list)

    class Meta:
        ordering = ["-loaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file} {self.version}"
