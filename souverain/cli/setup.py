"""First-run set-up used by ``make run``: the example estate and the admin user."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .output import console


def example_estate_path() -> Path | None:
    candidate = Path(__file__).resolve().parents[2] / "examples" / "estate" / "souverain.yaml"
    return candidate if candidate.exists() else None


def load_example() -> None:
    from souverain.core.context import acting_as
    from souverain.estate.services import apply_file

    path = example_estate_path()
    if path is None:
        console.print("example estate not found (examples/estate/souverain.yaml); skipped")
        return
    with acting_as("setup", "cli"):
        report = apply_file(path)
    console.print(f"example estate {path.name}: created {sum(report.created.values())},"
                  f" updated {sum(report.updated.values())}")


def ensure_admin(username: str) -> None:
    from django.contrib.auth import get_user_model

    from souverain.core.roles import Role
    from souverain.tenancy.models import Membership

    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is not None:
        console.print(f"admin user '{username}' exists")
        return
    password = os.environ.get("SOUVERAIN_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    user = user_model.objects.create_superuser(username=username, email="", password=password)
    Membership.objects.create(user=user, role=Role.OPERATOR_ADMIN)
    if os.environ.get("SOUVERAIN_ADMIN_PASSWORD"):
        console.print(f"admin user '{username}' created with the password from SOUVERAIN_ADMIN_PASSWORD")
    else:
        # Printed once, to the operator's terminal only; it is not logged.
        console.print(f"admin user '{username}' created; one-time password: [bold]{password}[/]"
                      " (change it after logging in)")
