"""`souverain server create`, `requests …`, `approvals`, `approve`, `reject`, `quotas …`: self-service requests
through the API (the server applies the gate, the quotas and the approval rules; docs/provisioning.md)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import click

from .output import FORMAT_OPTION, emit, fail, item, say

FINAL = {"refused", "done", "failed", "rejected", "cancelled", "expired"}
QUOTA_FIELDS = ("instances", "vcpu", "ram_mb", "volume_gb", "floating_ips")


def _client() -> Any:
    from .client import ApiError, Client

    try:
        return Client(profile=click.get_current_context().find_root().params.get("profile"))
    except ApiError as exc:
        fail(str(exc))


def _call(method: str, path: str, **kwargs: Any) -> Any:
    from .client import ApiError

    try:
        return _client().request(method, path, **kwargs)
    except ApiError as exc:
        fail(str(exc))


def _refusal_lines(request: dict[str, Any]) -> None:
    refusal = request.get("refusal") or {}
    say(f"request #{request['id']} refused ({refusal.get('stage', '?')}): {refusal.get('message', '')}")
    for reason in refusal.get("reasons") or []:
        item(f"{reason.get('rule')}: {reason.get('message')}", indent=2, bullet="- ")
    for short in refusal.get("shortfalls") or []:
        scope = f"cloud {short['cloud']}" if short.get("cloud") else "all clouds"
        item(f"{short['tenant']} ({scope}) {short['resource']}: asked {short['asked']}, used {short['used']}, "
             f"limit {short['limit']}", indent=2, bullet="- ")


def _show_events(events: list[dict[str, Any]], start: int = 0) -> int:
    for event in events[start:]:
        say(f"{event['at'][:19]}  {event['step']:<18} {event.get('actor') or '':<14} {event.get('message') or ''}")
    return len(events)


def _wait(request_id: int, timeout: float) -> dict[str, Any]:
    shown, deadline = 0, time.monotonic() + timeout
    while True:
        request = _call("GET", f"/api/requests/{request_id}/")
        shown = _show_events(request.get("timeline") or [], shown)
        if request["status"] in FINAL:
            return request
        if time.monotonic() > deadline:
            fail(f"request #{request_id} is still {request['status']} after {timeout:.0f} s")
        time.sleep(1.0)


def _submit(body: dict[str, Any], key: str | None, fmt: str, wait: bool, timeout: float) -> None:
    from .client import ApiError

    headers = {"Idempotency-Key": key or uuid.uuid4().hex}  # a retried command never makes a second request
    try:
        request = _client().request("POST", "/api/requests/", json=body, headers=headers)
    except ApiError as exc:
        if exc.status == 422 and isinstance(exc.body, dict) and exc.body.get("status") == "refused":
            if fmt == "json":
                emit(exc.body, fmt)
            else:
                _refusal_lines(exc.body)
            raise SystemExit(1) from None
        fail(str(exc))
        return
    if fmt == "json" and not wait:
        emit(request, fmt)
        return
    say(f"request #{request['id']}: {request['status']} in {request.get('region') or '?'}")
    if wait:
        request = _wait(request["id"], timeout)
        if fmt == "json":
            emit(request, fmt)
        if request["status"] != "done":
            fail(f"request #{request['id']} ended {request['status']}: {request.get('status_detail') or ''}")
        for obj in request.get("created_objects") or []:
            item(f"{obj.get('kind')} {obj.get('name') or ''} {obj.get('id')}", indent=2, bullet="+ ")


def _placement_options(func: Any) -> Any:
    for decorator in reversed([
        click.option("--region", default=None, metavar="CLOUD/REGION", help="Where to create it."),
        click.option("--auto", is_flag=True, help="Let Souverain choose the best allowed region."),
        click.option("--classes", default="", metavar="A,B", help="Data classes, comma-separated."),
        click.option("--tenant", default=None, help="Tenant slug (operators; a tenant user: a node of its subtree)."),
        click.option("--idempotency-key", default=None, help="Retry-safe key (default: a new one)."),
        click.option("--wait", is_flag=True, help="Follow the request until it ends."),
        click.option("--timeout", type=float, default=1800.0, show_default=True, help="Seconds --wait waits."),
        FORMAT_OPTION,
    ]):
        func = decorator(func)
    return func


def _common(kind: str, name: str, spec: dict[str, Any], region: str | None, auto: bool, classes: str,
            tenant: str | None) -> dict[str, Any]:
    if bool(region) == bool(auto):
        fail("give --region CLOUD/REGION or --auto (not both)")
    body: dict[str, Any] = {"kind": kind, "name": name, "spec": spec, "auto": auto,
                            "data_classes": [c.strip() for c in classes.split(",") if c.strip()]}
    if region:
        body["region"] = region
    if tenant:
        body["tenant"] = tenant
    return body


@click.group()
def server() -> None:
    """Servers through self-service requests."""


@server.command("create")
@click.option("--name", required=True)
@click.option("--flavor", required=True)
@click.option("--image", required=True)
@click.option("--network", required=True)
@click.option("--security-group", "security_groups", multiple=True, help="Repeat for several.")
@click.option("--key-name", default=None)
@click.option("--volume-gb", type=click.IntRange(min=1), default=None, help="An extra volume attached.")
@click.option("--boot-volume-gb", type=click.IntRange(min=1), default=None, help="Boot from a volume this big.")
@click.option("--floating-ip", is_flag=True, help="Associate a floating IP.")
@_placement_options
def server_create(name: str, flavor: str, image: str, network: str, security_groups: tuple[str, ...],
                  key_name: str | None, volume_gb: int | None, boot_volume_gb: int | None, floating_ip: bool,
                  region: str | None, auto: bool, classes: str, tenant: str | None, idempotency_key: str | None,
                  wait: bool, timeout: float, fmt: str) -> None:
    """Ask for a server: placement, quotas and approvals decide; --wait follows it to the end."""
    spec: dict[str, Any] = {"flavor": flavor, "image": image, "network": network}
    if security_groups:
        spec["security_groups"] = list(security_groups)
    if key_name:
        spec["key_name"] = key_name
    if volume_gb:
        spec["volume_gb"] = volume_gb
    if boot_volume_gb:
        spec["boot_volume_gb"] = boot_volume_gb
    if floating_ip:
        spec["floating_ip"] = True
    _submit(_common("server", name, spec, region, auto, classes, tenant), idempotency_key, fmt, wait, timeout)


@click.group("requests")
def requests_group() -> None:
    """Your requests (and those of the nodes below yours): list, show with the timeline, cancel."""


@requests_group.command("list")
@click.option("--status", "statuses", multiple=True, help="Repeat for several.")
@click.option("--tenant", default=None)
@FORMAT_OPTION
def requests_list(statuses: tuple[str, ...], tenant: str | None, fmt: str) -> None:
    from .client import ApiError

    try:
        rows = _client().list_all("/api/requests/", status=list(statuses), tenant=tenant)
    except ApiError as exc:
        fail(str(exc))
        return
    emit(rows, fmt, [("id", "ID"), ("tenant", "Tenant"), ("kind", "Kind"), ("name", "Name"), ("region", "Region"),
                     ("status", "Status"), ("requester_name", "By"), ("created", "Created")])


@requests_group.command("show")
@click.argument("request_id", type=int)
@FORMAT_OPTION
def requests_show(request_id: int, fmt: str) -> None:
    request = _call("GET", f"/api/requests/{request_id}/")
    if fmt == "json":
        emit(request, fmt)
        return
    say(f"#{request['id']} {request['kind']} {request['name']} — {request['tenant']} — {request['status']}"
        f" in {request.get('region') or '?'}")
    if request.get("status_detail"):
        say(request["status_detail"])
    if request["status"] == "refused":
        _refusal_lines(request)
    _show_events(request.get("timeline") or [])
    for approval in request.get("approvals") or []:
        who = approval["approver_tenant"] or "operators"
        item(f"level {approval['level']} ({approval['rule']}): {approval['approver'].get('role')} of {who} — "
             f"{approval['status']} {approval.get('decided_by_name') or ''} {approval.get('comment') or ''}".rstrip(),
             indent=2, bullet="- ")


@requests_group.command("cancel")
@click.argument("request_id", type=int)
@click.option("--reason", default="")
def requests_cancel(request_id: int, reason: str) -> None:
    request = _call("POST", f"/api/requests/{request_id}/cancel/", json={"reason": reason})
    say(f"request #{request['id']}: {request['status']}")


def _pending_approval(request_id: int) -> dict[str, Any]:
    from .client import ApiError

    try:
        rows = _client().list_all("/api/approvals/", request=request_id, status="pending")
    except ApiError as exc:
        fail(str(exc))
        return {}
    if not rows:
        fail(f"request #{request_id} awaits no approval you can see")
    return rows[0]


@click.command()
@click.argument("request_id", type=int)
@click.option("--comment", default="")
def approve(request_id: int, comment: str) -> None:
    """Approve the pending level of request REQUEST_ID."""
    approval = _pending_approval(request_id)
    _call("POST", f"/api/approvals/{approval['id']}/approve/", json={"comment": comment})
    request = _call("GET", f"/api/requests/{request_id}/")
    say(f"request #{request_id}: level {approval['level']} approved; the request is {request['status']}")


@click.command()
@click.argument("request_id", type=int)
@click.option("--comment", default="")
def reject(request_id: int, comment: str) -> None:
    """Reject request REQUEST_ID at its pending level: it ends, nothing is created."""
    approval = _pending_approval(request_id)
    _call("POST", f"/api/approvals/{approval['id']}/reject/", json={"comment": comment})
    say(f"request #{request_id}: rejected")


@click.command()
@FORMAT_OPTION
def approvals(fmt: str) -> None:
    """Your approvals inbox: what you may decide now."""
    from .client import ApiError

    try:
        rows = _client().list_all("/api/approvals/", mine="true")
    except ApiError as exc:
        fail(str(exc))
        return
    emit(rows, fmt, [("request", "Request"), ("request_tenant", "Tenant"), ("request_kind", "Kind"),
                     ("request_name", "Name"), ("level", "Level"), ("rule", "Rule")])


@click.group()
def quotas() -> None:
    """Souverain quotas per tenant node (carved out of the parent's) and their usage."""


def _quota_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    flat = []
    for row in rows:
        entry = {"tenant": row["tenant"], "cloud": row.get("cloud") or "(all)", "over": row.get("over")}
        for name in QUOTA_FIELDS:
            limit = row.get(name)
            entry[name] = f"{row['usage'][name]}/{'∞' if limit is None else limit}"
        flat.append(entry)
    return flat


QUOTA_COLUMNS = [("tenant", "Tenant"), ("cloud", "Cloud"), *((n, n) for n in QUOTA_FIELDS), ("over", "Over")]


@quotas.command("list")
@click.option("--tenant", default=None)
@FORMAT_OPTION
def quotas_list(tenant: str | None, fmt: str) -> None:
    """Each quota as used/limit."""
    from .client import ApiError

    try:
        rows = _client().list_all("/api/quotas/", tenant=tenant)
    except ApiError as exc:
        fail(str(exc))
        return
    emit(rows if fmt == "json" else _quota_rows(rows), fmt, QUOTA_COLUMNS)


@quotas.command("report")
@FORMAT_OPTION
def quotas_report(fmt: str) -> None:
    """The quotas exceeded (resources created outside Souverain included)."""
    rows = _call("GET", "/api/quotas/report/")["results"]
    emit(rows if fmt == "json" else _quota_rows(rows), fmt, QUOTA_COLUMNS)


@quotas.command("set")
@click.argument("tenant")
@click.option("--cloud", default=None, help="A cloud's slug; none: across all clouds.")
@click.option("--instances", type=click.IntRange(min=0), default=None)
@click.option("--vcpu", type=click.IntRange(min=0), default=None)
@click.option("--ram-mb", type=click.IntRange(min=0), default=None)
@click.option("--volume-gb", type=click.IntRange(min=0), default=None)
@click.option("--floating-ips", type=click.IntRange(min=0), default=None)
@FORMAT_OPTION
def quotas_set(tenant: str, cloud: str | None, fmt: str, **limits: int | None) -> None:
    """Set TENANT's limits (an option left out: unlimited)."""
    body = {"tenant": tenant, "cloud_slug": cloud, **limits}
    row = _call("POST", "/api/quotas/", json=body)
    emit(row if fmt == "json" else _quota_rows([row]), fmt, QUOTA_COLUMNS)
