"""Change logging: every model that inherits ChangeLoggedModel records before/after snapshots."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, router, transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _

# A request id as the change log stores it; longer ids from a client are replaced (see core.middleware).
REQUEST_ID_MAX_LENGTH = 64


class ChangeLoggedModel(models.Model):
    created = models.DateTimeField(auto_now_add=True)
    last_updated = models.DateTimeField(auto_now=True)

    # Fields never copied into the change log (secrets, bulky or derived data).
    changelog_exclude: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The row and its history row (written by the post_save receiver) commit together or not at all: Django's
        # own save is not atomic for a model without parents, and would leave a change without its history.
        with transaction.atomic(using=kwargs.get("using") or router.db_for_write(type(self), instance=self),
                                savepoint=False):
            super().save(*args, **kwargs)

    def changelog_tenant_id(self) -> int | None:
        """The tenant whose users may read this object's history (None: operators and auditors only)."""
        value = getattr(self, "tenant_id", None)
        return value if isinstance(value, int) else None

    def snapshot(self) -> dict[str, Any]:
        data = model_to_dict(self, exclude=["id", *self.changelog_exclude])
        # Many-to-many fields come back as model instances: keep their primary keys, sorted, for stable diffs.
        return {
            k: sorted(getattr(i, "pk", i) for i in v) if isinstance(v, (list, set, tuple)) else v
            for k, v in data.items()
        }


class ObjectChange(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        DELETE = "delete", _("Deleted")

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    username = models.CharField(max_length=150, blank=True)
    # Made by the server (core.context), never taken from the client: two changes with one id are one request.
    request_id = models.CharField(max_length=REQUEST_ID_MAX_LENGTH, blank=True, db_index=True)
    # The caller's own X-Request-Id as it sent it (bounded, plain characters only), to follow it across systems.
    client_request_id = models.CharField(max_length=REQUEST_ID_MAX_LENGTH, blank=True, db_index=True)
    source = models.CharField(max_length=16, blank=True)
    # Who may read the row besides operators and auditors: the tenant owning the object (no foreign key: core sits
    # below tenancy, and a deleted tenant's history stays).
    tenant_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=8, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.CharField(max_length=64, db_index=True)
    object_repr = models.CharField(max_length=200)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Ids also come from jobs and the CLI: never let one overflow its column (a 500 on PostgreSQL).
        self.request_id = (self.request_id or "")[:REQUEST_ID_MAX_LENGTH]
        self.client_request_id = (self.client_request_id or "")[:REQUEST_ID_MAX_LENGTH]
        self.object_repr = (self.object_repr or "")[:200]
        super().save(*args, **kwargs)

    @property
    def changed_fields(self) -> list[str]:
        before, after = self.before or {}, self.after or {}
        return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


class ApiToken(models.Model):
    """An API token: only the SHA-256 of its secret is stored (the secret is shown once, when issued).

    Several per user, each with a name, a scope (read: safe methods only; write: everything the role allows), an
    expiry and a revocation time; see ``core.tokens`` for issuing and checking them."""

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Read and write")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    # The secret's first characters, to recognise a token in a list; not enough to use it.
    prefix = models.CharField(max_length=16, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.WRITE)
    created = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)
    expires = models.DateTimeField(db_index=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.user})"

    @property
    def status(self) -> str:
        from django.utils import timezone

        if self.revoked is not None:
            return "revoked"
        return "expired" if self.expires <= timezone.now() else "active"


class PasswordChangeRequired(models.Model):
    """A user who must choose a new password before anything else (the initial admin's printed one-time password):
    the portal sends them to the password page, the API answers 403 saying so (``core.accounts``)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="password_change_required")
    since = models.DateTimeField(auto_now_add=True)


class LoginFailure(models.Model):
    """One failed login, counted by account and by address for throttling (``core.throttle``); old rows are
    pruned as new ones come. The audit trail records each failure too (``auth.login_failed``)."""

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    username = models.CharField(max_length=150, db_index=True)
    address = models.CharField(max_length=64, db_index=True)
