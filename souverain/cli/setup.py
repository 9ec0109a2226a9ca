"""First-run set-up used by ``make run``: the example tenants and estate, and the admin user."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .output import console

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: What a tenant entry of examples/tenants.yaml may set; anything else is a mistake in the file.
TENANT_FIELDS = frozenset({"slug", "name", "category", "description", "default_data_classes",
                           "default_requirements", "safeguards", "parent"})


def example_estate_path() -> Path | None:
    candidate = EXAMPLES / "estate" / "souverain.yaml"
    return candidate if candidate.exists() else None


def load_example_tenants(path: Path = EXAMPLES / "tenants.yaml") -> None:
    """Create or update the example tenants by slug (never remove one): the tour's `--tenant ministere` and the
    tenants the example estate's private clouds are dedicated to. All of the file, or nothing."""
    import yaml
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from souverain.core.context import acting_as
    from souverain.tenancy.models import Tenant

    if not path.exists():
        console.print(f"example tenants not found ({path.name}); skipped")
        return
    entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("tenants") or []
    created = updated = 0
    with acting_as("setup", "cli"), transaction.atomic():
        for index, entry in enumerate(entries):
            unknown = set(entry) - TENANT_FIELDS
            if unknown or "slug" not in entry:
                raise SystemExit(f"{path}: tenants[{index}]: unknown field(s) {', '.join(sorted(unknown))}"
                                 if unknown else f"{path}: tenants[{index}]: slug is required")
            if entry.get("parent") is not None:  # a slug of the organisation tree, listed earlier or existing
                parent = Tenant.objects.filter(slug=entry["parent"]).first()
                if parent is None:
                    raise SystemExit(f"{path}: tenant {entry['slug']}: parent: unknown tenant '{entry['parent']}'")
                entry = {**entry, "parent": parent}
            tenant = Tenant.objects.filter(slug=entry["slug"]).first() or Tenant(slug=entry["slug"])
            changed = tenant.pk is None or any(getattr(tenant, k) != v for k, v in entry.items())
            for key, value in entry.items():
                setattr(tenant, key, value)
            try:
                tenant.full_clean()
            except ValidationError as exc:
                raise SystemExit(f"{path}: tenant {entry['slug']}: {exc.message_dict}") from None
            if changed:
                created, updated = (created + 1, updated) if tenant.pk is None else (created, updated + 1)
                tenant.save()
    console.print(f"example tenants {path.name}: created {created}, updated {updated}")


def load_example() -> None:
    from souverain.core.context import acting_as
    from souverain.estate.services import apply_file

    load_example_tenants()  # first: the example estate's private clouds may be dedicated to them
    path = example_estate_path()
    if path is None:
        console.print("example estate not found (examples/estate/souverain.yaml); skipped")
        return
    with acting_as("setup", "cli"):
        report = apply_file(path)
    console.print(f"example estate {path.name}: created {sum(report.created.values())},"
                  f" updated {sum(report.updated.values())}")


def ensure_keys() -> None:
    """The embedded default's secrets, made once and kept in the data directory (0600): the credentials key (what
    was encrypted under the old key derived from the development secret is moved to it) and the secret key."""
    from django.conf import settings

    from souverain.core import crypto
    from souverain.core.startup import ensure_secret_key_file

    if crypto.ensure_key_file():
        console.print(f"credentials key created: {crypto.key_file()} (keep a copy: without it, stored cloud "
                      "credentials cannot be read)", highlight=False)
    if ensure_secret_key_file():
        console.print(f"secret key created: {settings.SECRET_KEY_FILE} (used from the next start)", highlight=False)


def ensure_admin(username: str) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from souverain.core.auth import require_password_change
    from souverain.core.roles import Role
    from souverain.tenancy.models import Membership

    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is not None:
        console.print(f"admin user '{username}' exists")
        return
    chosen = os.environ.get("SOUVERAIN_ADMIN_PASSWORD")
    password = chosen or secrets.token_urlsafe(12)
    if chosen:
        try:
            validate_password(chosen, user_model(username=username))
        except ValidationError as exc:
            raise SystemExit("SOUVERAIN_ADMIN_PASSWORD refused: " + " ".join(exc.messages)) from None
    with transaction.atomic():
        user = user_model.objects.create_superuser(username=username, email="", password=password)
        Membership.objects.create(user=user, role=Role.OPERATOR_ADMIN)
        if not chosen:
            # A password printed on a terminal is for the first login only: the portal asks for a new one, the
            # API refuses with 403 until then. One the operator chose (and the validators accepted) is kept.
            require_password_change(user)
    if chosen:
        console.print(f"admin user '{username}' created with the password from SOUVERAIN_ADMIN_PASSWORD")
    else:
        # Printed once, to the operator's terminal only; it is not logged.
        console.print(f"admin user '{username}' created; one-time password: [bold]{password}[/]"
                      " (to be changed at the first login, in the portal)")
