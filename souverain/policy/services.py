"""Policy domain logic used by the API, the CLI and the portal: placement and operators' policy versions."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max

from souverain.capacity.services import fits
from souverain.core.models import ObjectChange
from souverain.estate import db_snapshot
from souverain.estate.snapshot import EstateData
from souverain.sovereignty.kb import KnowledgeBase
from souverain.sovereignty.services import current_knowledge_base

from . import placement
from .engine import (
    Engine,
    Limits,
    PolicyError,
    PolicyModule,
    builtin_modules,
    builtin_policy_set,
    sandbox,
    source_problems,
)
from .models import NAME_PATTERN, NAME_RULE, OperatorPolicy, PolicyActivation, PolicyVersion
from .shared import DatabaseDecisions, remember_class
from .signals import policy_activated
from .workloads import WorkloadError, merge, validate  # noqa: F401  (merge is re-exported)

CUSTOM_PACKAGE = "souverain.custom"
_NAME = re.compile(NAME_PATTERN)


def policy_limits() -> Limits:
    """The limits on operators' modules, from the settings (SOUVERAIN_POLICY_*, docs/policies.md)."""
    from django.conf import settings

    return Limits(**getattr(settings, "SOUVERAIN_POLICY_LIMITS", {}))


# --- the engine for the active policy set -------------------------------------------------------------------

_engine_lock = threading.Lock()
_engine: tuple[tuple[Any, ...], Engine] | None = None


def active_custom_modules() -> list[PolicyModule]:
    versions = PolicyVersion.objects.filter(status=PolicyVersion.Status.ACTIVE).select_related("policy")
    return [PolicyModule(f"custom/{v.policy.name}.rego", v.source) for v in versions.order_by("policy__name")]


def current_engine() -> Engine:
    """One compiled engine per process, rebuilt only when the active operator modules or the limits change.

    The key is each active version's id *and* the hash of its text, plus the limits: an id alone can come back
    with other text (a database restored from a backup, or rolled-back test transactions reusing ids), and
    the limits are fixed when the engine starts its child process."""
    global _engine
    active = PolicyVersion.objects.filter(status=PolicyVersion.Status.ACTIVE).order_by("pk")
    limits = policy_limits()
    token = (*((pk, hashlib.sha256(source.encode()).hexdigest()) for pk, source in active.values_list("pk", "source")),
             repr(limits))
    with _engine_lock:
        if _engine is None or _engine[0] != token:
            if _engine is not None:
                _engine[1].close()  # its child process: a thread still deciding with it gets a new one
            _engine = (token, Engine(builtin_policy_set(extra=active_custom_modules()), limits=limits))
        return _engine[1]


def estate_token() -> str:
    """Changes whenever the estate (anything change-logged) or the knowledge base changes: the context cache key."""
    from souverain.sovereignty.models import KnowledgeBaseRelease

    latest = ObjectChange.objects.aggregate(latest=Max("pk"))["latest"]
    kb = KnowledgeBaseRelease.objects.aggregate(latest=Max("pk"))["latest"]
    return f"db:{latest or 0}:{kb or 0}"


# --- placement ---------------------------------------------------------------------------------------------


def current_context(on: dt.date) -> placement.Context:
    """The region profiles and knowledge-base input of a date for the estate in the database: the one context
    builder of placement and compliance, cached until the estate or the knowledge base changes."""
    token = estate_token()
    return placement.cached_context(token, on) or placement.build_context(
        db_snapshot.from_database(), current_knowledge_base(), on, token)


def tenant_layer(tenant: Any) -> dict[str, Any]:
    """The descriptor layer a tenant gives each of its workloads (placement requests and inventoried
    resources alike): its effective defaults — its ancestors' in the organisation tree, then its own, merged
    stricter-only (tenancy.services.defaults_layers) — under the workload's own attributes (see workloads.merge).
    Labels the merge does not know go back in as labels, so the requirements pack still reports them."""
    from souverain.tenancy.services import defaults_layers

    effective = merge(defaults_layers(tenant))
    unknown = effective["unknown_labels"]
    return {
        "tenant": tenant.slug, "tenant_category": tenant.category,
        "data_classes": [*effective["data_classes"], *(u["value"] for u in unknown if u["field"] == "data_classes")],
        "requirements": {**{u["value"]: True for u in unknown if u["field"] == "requirements"},
                         **effective["requirements"]},
        "safeguards": effective["safeguards"],
    }


def known_law_ids(kb: KnowledgeBase | None = None) -> list[str]:
    """The knowledge base's law ids, against which a workload's excluded laws are validated."""
    if kb is None:
        from souverain.sovereignty.models import Law

        ids = list(Law.objects.values_list("slug", flat=True))
        if ids:
            return ids
        kb = current_knowledge_base()
    return [law.slug for law in kb.laws]


def workload_layers(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Tenant defaults first, then the request: see workloads.py for how layers merge."""
    from souverain.tenancy.models import Tenant

    layers: list[Mapping[str, Any]] = []
    tenant = Tenant.objects.filter(slug=raw.get("tenant")).first() if raw.get("tenant") else None
    if raw.get("tenant") and tenant is None:
        raise WorkloadError([f"tenant: unknown tenant '{raw['tenant']}'"])
    if tenant is not None:
        layers.append(tenant_layer(tenant))
    layers.append(raw)
    return layers


def place(raw: Mapping[str, Any], on: dt.date | None = None, *, estate: EstateData | None = None,
          kb: KnowledgeBase | None = None, engine: Engine | None = None, use_tenant_defaults: bool = True,
          ) -> dict[str, Any]:
    """Allowed regions ranked, denied regions with every reason: the stable placement JSON (docs/policies.md)."""
    engine = engine or current_engine()
    validate(raw, known_laws=known_law_ids(kb), known_packs=list(engine.packs_config.get("packs") or {}))
    on = on or dt.date.today()
    workload = merge(workload_layers(raw) if use_tenant_defaults else [raw])
    if estate is None and kb is None:
        context = current_context(on)
    else:
        context = placement.build_context(estate or db_snapshot.from_database(), kb or current_knowledge_base(), on)
    # Capacity as last measured, for the estate in the database (an estate file's regions were never measured).
    capacity = fits([case.key for case in context.cases], workload.get("size")) if estate is None else None
    if estate is not None or kb is not None:  # a hypothetical estate: nothing to share with other processes
        return placement.answer(workload, context, on, engine, capacity)
    remember_class(workload, on)
    return placement.answer(workload, context, on, engine, capacity, DatabaseDecisions())


# --- operators' policies ---------------------------------------------------------------------------------------


@dataclass
class UploadResult:
    version: PolicyVersion
    errors: list[dict[str, Any]] = field(default_factory=list)
    tests: dict[str, Any] = field(default_factory=dict)

    @property
    def activated(self) -> bool:
        return self.version.status == PolicyVersion.Status.ACTIVE


def _error_dict(error: PolicyError) -> dict[str, Any]:
    return {"module": error.module, "line": error.line, "column": error.column, "message": error.message}


class PolicyRefused(Exception):
    """An upload refused before anything is written: an invalid name, a module over a limit.

    errors: [{"field": "name" | "source" | "tests", "module", "line", "column", "message"}].
    """

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


def refusal_errors(name: str, source: str, test_source: str, limits: Limits | None = None) -> list[dict[str, Any]]:
    """What refuses an upload outright — checked before any row is written and before the engine sees the text."""
    limits = limits or policy_limits()
    if not _NAME.match(name or "") or len(name) > OperatorPolicy._meta.get_field("name").max_length:
        return [{"field": "name", "module": name, "line": None, "column": None, "message": str(NAME_RULE)}]
    errors = []
    for field_name, module in (("source", PolicyModule(f"custom/{name}.rego", source)),
                               ("tests", PolicyModule(f"custom/{name}_test.rego", test_source))):
        errors += [{"field": field_name, **_error_dict(e)} for e in source_problems(module, limits)]
    return errors


def check_policy(name: str, source: str, test_source: str, limits: Limits | None = None,
                 ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Compile the module with the built-in packs, then run its tests (test_ rules of the test module).

    The engine accepts ``with`` only in *_test.rego modules, so a policy and its tests are two modules.
    Operators' modules are evaluated each in its own interpreter (engine/sandbox.py), so they are checked
    without the other operators' modules. The engine runs in a child process, within the limits (a crash or
    an overrun is an error against the module). Returns (errors, tests)."""
    limits = limits or policy_limits()
    refused = refusal_errors(name, source, test_source, limits)
    if refused:
        return [{k: v for k, v in e.items() if k != "field"} for e in refused], {}
    module_name = f"custom/{name}.rego"
    package = re.search(r"^[ \t]*package[ \t]+([\w.]+)", source, re.MULTILINE)
    expected = f"{CUSTOM_PACKAGE}.{name}"
    if package is None or package.group(1) != expected:
        return [{"module": module_name, "line": 1, "column": 1,
                 "message": f"the module must declare `package {expected}`"}], {}
    candidate = PolicyModule(module_name, source)
    tests_module = PolicyModule(f"custom/{name}_test.rego", test_source)
    errors, tests = sandbox.check([*builtin_modules(), candidate, tests_module], blamed=module_name,
                                  settings=builtin_policy_set().settings, limits=limits)
    if errors:
        return [_error_dict(e) for e in errors], {}
    if not tests.get("passed") and not tests.get("failed"):
        return [{"module": module_name, "line": None, "column": None,
                 "message": "the module has no test_ rule: add tests before it can be activated"}], tests
    return [], tests


def upload_policy(name: str, source: str, test_source: str, user: Any = None, description: str = "") -> UploadResult:
    """Store a new version; activate it only if it compiles and its tests pass. A broken one changes nothing.

    An invalid name or a module over a limit raises PolicyRefused before anything is written; a module that
    does not compile or fails its tests is stored as a rejected version, with its errors.
    """
    limits = policy_limits()
    refused = refusal_errors(name, source, test_source, limits)
    if refused:
        raise PolicyRefused(refused)
    errors, tests = check_policy(name, source, test_source, limits)
    ok = not errors and not tests.get("failed")
    with transaction.atomic():
        policy, _ = OperatorPolicy.objects.select_for_update().get_or_create(
            name=name, defaults={"description": description})
        number = (policy.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = PolicyVersion.objects.create(
            policy=policy, number=number, source=source, test_source=test_source,
            sha256=hashlib.sha256(source.encode()).hexdigest(),
            status=PolicyVersion.Status.ACTIVE if ok else PolicyVersion.Status.REJECTED,
            errors=errors, tests=tests, uploaded_by=user if getattr(user, "pk", None) else None,
        )
        if ok:
            _activate(policy, version, user)
            transaction.on_commit(lambda: policy_activated.send_robust(sender=OperatorPolicy, policy=policy))
    placement.clear_caches()
    return UploadResult(version, errors, tests)


def _activate(policy: OperatorPolicy, version: PolicyVersion, user: Any) -> None:
    previous = policy.active_version
    if previous is not None:
        previous.status = PolicyVersion.Status.SUPERSEDED
        previous.save(update_fields=["status"])
    policy.active_version = version
    policy.save(update_fields=["active_version"])
    diff = "".join(difflib.unified_diff(
        (previous.source if previous else "").splitlines(keepends=True), version.source.splitlines(keepends=True),
        fromfile=f"{policy.name} v{previous.number}" if previous else "(none)",
        tofile=f"{policy.name} v{version.number}",
    ))
    PolicyActivation.objects.create(policy=policy, version=version, previous=previous, diff=diff,
                                    activated_by=user if getattr(user, "pk", None) else None)


def deactivate_policy(policy: OperatorPolicy, user: Any = None) -> None:
    with transaction.atomic():
        if policy.active_version is not None:
            version = policy.active_version
            version.status = PolicyVersion.Status.SUPERSEDED
            version.save(update_fields=["status"])
            policy.active_version = None
            policy.save(update_fields=["active_version"])
            transaction.on_commit(lambda: policy_activated.send_robust(sender=OperatorPolicy, policy=policy))
    placement.clear_caches()
