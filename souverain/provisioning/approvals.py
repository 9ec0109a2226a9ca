"""Approval rules as configuration: which requests need whose approval, in up to five levels in sequence.

The rules are a YAML document that operator-admins upload through the API; each upload is a new version
(``ApprovalPolicy``), validated first (within the bounded reader of user YAML, ``estate.estatefile``, then a
JSON Schema, each problem located by line and column) and refused whole when wrong. The newest active version
applies to requests submitted after it; a request keeps the levels it was given.

    home_country: FR                  # the tenants' home country (default FR) ...
    home_countries: {acme-be: BE}     # ... unless said otherwise per tenant (slug)
    expire_after_hours: 72            # a request still awaiting approval then expires
    rules:
      - name: restricted-data
        when: {data_classes: [diffusion_restreinte]}       # any of these classes
        approvers:
          - {role: tenant-admin}                           # at the requesting node
          - {role: tenant-admin, node: parent}             # the admin of the requesting node's parent
      - name: big-or-abroad
        when: {vcpu_over: 16}
        approvers: [{role: operator}]
      - name: abroad
        when: {outside_home_country: true, kinds: [server, volume]}
        approvers: [{role: tenant-admin, node: level, level: 1}, {role: operator}]

Conditions of one ``when`` must all hold (an empty ``when`` matches every request): ``data_classes`` (any of
them among the request's effective classes), ``vcpu_over`` (the request's vCPU above N), ``outside_home_country``
(one of the region's datacenters is outside the tenant's home country), ``kinds``. Approvers: a ``role``
(``tenant-admin`` or ``tenant-member`` of a node, or ``operator``) and for tenant roles the ``node``:
``requesting`` (default), ``parent`` (a root tenant has none: its operators decide), or ``level`` with ``level``
N (1 is the root; a node shallower than N: the requesting node). Every matching rule's approvers are the
request's levels, in the rules' order, the same approver named twice kept once; more than five in all is
refused at submission (say so in fewer rules). Nobody approves their own request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from souverain.core.roles import OPERATOR_ROLES, Role
from souverain.estate.estatefile import EstateFileError, Problem, parse

from .models import ApprovalPolicy, ServiceRequest
from .quotas import lineage

MAX_LEVELS = 5
MAX_RULES_BYTES = 64 * 1024
DEFAULT_EXPIRY_HOURS = 72
DEFAULT_HOME_COUNTRY = "FR"
OPERATOR = "operator"

_APPROVER = {
    "type": "object", "additionalProperties": False, "required": ["role"],
    "properties": {
        "role": {"enum": [OPERATOR, str(Role.TENANT_ADMIN), str(Role.TENANT_MEMBER)]},
        "node": {"enum": ["requesting", "parent", "level"]},
        "level": {"type": "integer", "minimum": 1, "maximum": MAX_LEVELS},
    },
}
SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "home_country": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "home_countries": {"type": "object", "additionalProperties": {"type": "string", "pattern": "^[A-Z]{2}$"},
                           "maxProperties": 10000},
        "expire_after_hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 24 * 365},
        "rules": {"type": "array", "maxItems": 200, "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "approvers"],
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,99}$"},
                "description": {"type": "string", "maxLength": 1000},
                "when": {"type": "object", "additionalProperties": False, "properties": {
                    "data_classes": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 50},
                    "vcpu_over": {"type": "integer", "minimum": 0},
                    "outside_home_country": {"type": "boolean"},
                    "kinds": {"type": "array", "minItems": 1,
                              "items": {"enum": [str(k) for k in ServiceRequest.Kind]}},
                }},
                "approvers": {"type": "array", "minItems": 1, "maxItems": MAX_LEVELS, "items": _APPROVER},
            },
        }},
    },
}


class RulesInvalid(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field or 'document'} (line {p.line}): {p.message}" for p in problems))


def validate_source(source: str, filename: str = "approvals.yaml") -> dict[str, Any]:
    """The rules document as plain data, or RulesInvalid listing every problem with its line."""
    if len(source.encode()) > MAX_RULES_BYTES:
        raise RulesInvalid([Problem(filename, 1, 1, "", f"the rules are larger than {MAX_RULES_BYTES} bytes")])
    try:
        doc, where = parse(source, filename)
    except EstateFileError as exc:
        raise RulesInvalid(exc.problems) from None
    problems = [where.problem(list(error.absolute_path), error.message)
                for error in jsonschema.Draft202012Validator(SCHEMA).iter_errors(doc)]
    names = [rule.get("name") for rule in doc.get("rules") or [] if isinstance(rule, Mapping)]
    for index, name in enumerate(names):
        if name in names[:index]:
            problems.append(where.problem(["rules", index, "name"], f"the rule name {name!r} is used twice"))
    for index, rule in enumerate(doc.get("rules") or []):
        for position, approver in enumerate(rule.get("approvers") or [] if isinstance(rule, Mapping) else []):
            if not isinstance(approver, Mapping):
                continue
            if approver.get("role") == OPERATOR and ("node" in approver or "level" in approver):
                problems.append(where.problem(["rules", index, "approvers", position],
                                              "an operator approver names no node or level"))
            if (approver.get("node") == "level") != ("level" in approver):
                problems.append(where.problem(["rules", index, "approvers", position],
                                              "`level` goes with `node: level`, and only with it"))
    if problems:
        raise RulesInvalid(problems)
    return doc


def upload(source: str, uploaded_by: str = "") -> ApprovalPolicy:
    """A new active version of the rules (the previous ones stay, inactive, as history)."""
    from django.db import transaction

    doc = validate_source(source)
    with transaction.atomic():
        # FOR UPDATE is not allowed with an aggregate on PostgreSQL: lock the latest version's row instead.
        latest = ApprovalPolicy.objects.select_for_update().order_by("-number").values_list("number", flat=True)
        number = (latest.first() or 0) + 1
        ApprovalPolicy.objects.filter(active=True).update(active=False)
        return ApprovalPolicy.objects.create(number=number, source=source, rules=doc, active=True,
                                             uploaded_by=uploaded_by[:150])


def current() -> dict[str, Any]:
    """The active rules document ({} when none was ever uploaded: no request needs approval)."""
    policy = ApprovalPolicy.objects.filter(active=True).order_by("-number").first()
    return dict(policy.rules) if policy is not None else {}


def expiry_delay(doc: Mapping[str, Any] | None = None) -> dt.timedelta:
    doc = current() if doc is None else doc
    return dt.timedelta(hours=float(doc.get("expire_after_hours") or DEFAULT_EXPIRY_HOURS))


# --- matching ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    rule: str
    approver: dict[str, Any]
    #: The node whose member decides; None for operators.
    tenant: Any


def home_country(doc: Mapping[str, Any], tenant: Any) -> str:
    for node in lineage(tenant):  # a node without its own entry is at home where its parent is
        country = (doc.get("home_countries") or {}).get(node.slug)
        if country:
            return country
    return doc.get("home_country") or DEFAULT_HOME_COUNTRY


def matches(when: Mapping[str, Any], request: ServiceRequest, region_countries: set[str], home: str) -> bool:
    if "data_classes" in when and not set(when["data_classes"]) & set(request.effective_classes or []):
        return False
    if "vcpu_over" in when and int(request.demand.get("vcpu") or 0) <= when["vcpu_over"]:
        return False
    if "outside_home_country" in when and bool(region_countries - {home}) != when["outside_home_country"]:
        return False
    return not ("kinds" in when and request.kind not in when["kinds"])


def resolve(approver: Mapping[str, Any], tenant: Any) -> Any:
    """The node whose member decides (None: operators)."""
    if approver["role"] == OPERATOR:
        return None
    chain = lineage(tenant)  # the tenant first, the root last
    node = approver.get("node", "requesting")
    if node == "parent":
        return chain[1] if len(chain) > 1 else None
    if node == "level":
        root_first = list(reversed(chain))
        return root_first[min(approver["level"], len(root_first)) - 1]
    return tenant


def levels_for(request: ServiceRequest, doc: Mapping[str, Any] | None = None) -> list[Level]:
    """The approval levels a request needs under the rules, in order, each approver once."""
    doc = current() if doc is None else doc
    countries = set(request.region.datacenters.values_list("country", flat=True)) if request.region_id else set()
    home = home_country(doc, request.tenant)
    levels: list[Level] = []
    seen: set[tuple[str, int | None]] = set()
    for rule in doc.get("rules") or []:
        if not matches(rule.get("when") or {}, request, countries, home):
            continue
        for approver in rule["approvers"]:
            tenant = resolve(approver, request.tenant)
            role = OPERATOR if tenant is None else approver["role"]
            key = (role, tenant.pk if tenant is not None else None)
            if key in seen:
                continue
            seen.add(key)
            levels.append(Level(rule["name"], {**approver, "role": role}, tenant))
    return levels


def may_decide(membership: Any, approval: Any, request: ServiceRequest) -> bool:
    """Whether this member may approve or reject this approval level (never their own request)."""
    if membership is None or (request.requester_id is not None and request.requester_id == membership.user_id):
        return False
    role = approval.approver.get("role")
    if role == OPERATOR:
        return membership.role in OPERATOR_ROLES
    return membership.role == role and membership.tenant_id is not None \
        and membership.tenant_id == approval.approver_tenant_id
