"""What the audit trail listens to: the core's event hook, Django's login signals, and the saves of the rows
that stand for security events in other apps (policy versions and activations, knowledge-base releases).

Signals on those models rather than calls in their services: the record is written in the same transaction as
the row (``post_save`` runs inside it), and the apps below need not know the audit trail exists.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save

from souverain.core import events

from . import services, syslog_export


def _login(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    services.append("auth.login", object_type="auth.user", object_id=str(user.pk), object_repr=user.get_username(),
                    username=user.get_username(), data={"path": getattr(request, "path", "")})


def _login_failed(sender: Any, credentials: dict[str, Any] | None = None, request: Any = None, **kwargs: Any) -> None:
    # Django has already masked the password in ``credentials``; keep the username only.
    username = str((credentials or {}).get("username") or "")[:150]
    address = request.META.get("REMOTE_ADDR", "") if request is not None and hasattr(request, "META") else ""
    services.append("auth.login_failed", object_type="auth.user", object_repr=username, username=username,
                    data={"path": getattr(request, "path", ""), "address": address})


def _policy_version(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        services.append("policy.upload", object_type="policy.policyversion", object_id=str(instance.pk),
                        object_repr=f"{instance.policy.name} v{instance.number}",
                        data={"policy": instance.policy.name, "number": instance.number, "sha256": instance.sha256,
                              "status": instance.status, "errors": len(instance.errors or [])})


def _policy_activation(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        previous = instance.previous
        services.append("policy.activate", object_type="policy.policyactivation", object_id=str(instance.pk),
                        object_repr=f"{instance.policy.name} v{instance.version.number}",
                        data={"policy": instance.policy.name, "version": instance.version.number,
                              "sha256": instance.version.sha256,
                              "previous": previous.number if previous is not None else None})


def _operator_policy(sender: Any, instance: Any, created: bool, raw: bool = False,
                     update_fields: Any = None, **kwargs: Any) -> None:
    if not raw and not created and update_fields and "active_version" in update_fields \
            and instance.active_version_id is None:
        services.append("policy.deactivate", object_type="policy.operatorpolicy", object_id=str(instance.pk),
                        object_repr=instance.name, data={"policy": instance.name})


def _kb_release(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        services.append("kb.release", object_type="sovereignty.knowledgebaserelease", object_id=str(instance.pk),
                        object_repr=f"{instance.file} {instance.version}",
                        data={"file": instance.file, "version": instance.version, "sha256": instance.sha256,
                              "changes": instance.changes})


def connect() -> None:
    events.add_recorder(services.record_event)
    syslog_export.configure()  # SOUVERAIN_AUDIT_SYSLOG: off when empty
    user_logged_in.connect(_login, dispatch_uid="audit:login")
    user_login_failed.connect(_login_failed, dispatch_uid="audit:login_failed")
    for label, receiver in (("policy.PolicyVersion", _policy_version),
                            ("policy.PolicyActivation", _policy_activation),
                            ("policy.OperatorPolicy", _operator_policy),
                            ("sovereignty.KnowledgeBaseRelease", _kb_release)):
        post_save.connect(receiver, sender=apps.get_model(label), dispatch_uid=f"audit:{label}")
