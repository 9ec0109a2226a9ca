"""The Nutanix connector: Prism Central v4 through the official SDKs, one ApiClient per API namespace.

Listings page with ``$page``/``$limit`` (100, the API's maximum) and stop on a short page or at
``totalAvailableResults``, so a listing costs one request per page. ``changes_since`` becomes
``$filter=updateTime gt <time>`` for VMs (the only listing here with a modification time); deletions are not
reported by Prism's listings, so the inventory's periodic full listing catches them (``inventory.kinds``).

Every listing answers the inventory's current form (``normalise``); the Prism document is kept whole under
``"nutanix"``. Asynchronous operations return a task, polled with the prism SDK until it ends
(``wait_for_task``). Updates carry the ETag read with the object (``If-Match``), which Prism requires.

Configuration: ``config={"endpoint": "https://pc:9440", "username": ..., "password": ...}`` (the estate's
endpoint and credentials, see ``inventory.services.connector_for``); ``verify_ssl`` defaults to true.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import ntnx_clustermgmt_py_client as cm
import ntnx_networking_py_client as net
import ntnx_prism_py_client as prism
import ntnx_vmm_py_client as vmm
import urllib3

from ..base import Connector, Page, Resource
from ..errors import Conflict, ConnectorError, Forbidden, NotFound, NotSupported, Timeout, Unauthorized, Unavailable
from ..registry import register
from . import normalise

PAGE_LIMIT = 100
_SDKS = {"vmm": vmm, "clustermgmt": cm, "networking": net, "prism": prism}

#: listing → (namespace, API class, list method, shaping function, incremental): the registry's server, image,
#: subnet, cluster, host and storage_container kinds, and categories (read to name a VM's tags).
KINDS: dict[str, tuple[str, str, str, str, bool]] = {
    "servers": ("vmm", "VmApi", "list_vms", "vm", True),
    "images": ("vmm", "ImagesApi", "list_images", "image", False),
    "subnets": ("networking", "SubnetsApi", "list_subnets", "subnet", False),
    "clusters": ("clustermgmt", "ClustersApi", "list_clusters", "cluster", False),
    "hosts": ("clustermgmt", "ClustersApi", "list_hosts", "host", False),
    "storage_containers": ("clustermgmt", "StorageContainersApi", "list_storage_containers", "storage_container",
                           False),
    "categories": ("prism", "CategoriesApi", "list_categories", "plain", False),
}
TASK_DONE = {"SUCCEEDED"}
TASK_FAILED = {"FAILED", "CANCELED"}


@register("nutanix")
class NutanixConnector(Connector):
    """One Prism Central (its "region" is the estate's region the clusters belong to)."""

    #: The registry kinds the inventory syncs from Prism; ``raw_pages`` also lists categories (``KINDS``), read to
    #: name a VM's tags.
    display_name = "Nutanix Prism Central"
    kinds = ("servers", "images", "subnets", "clusters", "hosts", "storage_containers")
    incremental_kinds = frozenset(name for name, spec in KINDS.items() if spec[4])
    stable_order = True  # Prism returns a VM's disks, NICs and categories in a stable order

    def __init__(self, cloud: str | None = None, *, region: str | None = None,
                 config: Mapping[str, Any] | None = None, name: str | None = None, verify_ssl: bool | None = None,
                 task_timeout: float = 600.0, max_retry_attempts: int = 2) -> None:
        config = dict(config or {})
        endpoint = config.get("endpoint") or ""
        if not endpoint:
            raise ConnectorError("no Prism Central endpoint: set the cloud's endpoint in the estate file",
                                 cloud=name or cloud or "nutanix", region=region)
        url = urllib.parse.urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        self._cloud, self._region = name or cloud or url.hostname or "nutanix", region
        self.task_timeout = task_timeout
        verify = config.get("verify_ssl", True) if verify_ssl is None else verify_ssl
        if not verify:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self._clients: dict[str, Any] = {}
        self._listing_clients: dict[str, Any] = {}
        for ns, sdk in _SDKS.items():
            cfg = sdk.Configuration()
            cfg.host, cfg.port, cfg.scheme = url.hostname, url.port or 9440, url.scheme or "https"
            cfg.username, cfg.password = config.get("username", ""), config.get("password", "")
            cfg.verify_ssl = bool(verify)
            cfg.max_retry_attempts, cfg.backoff_factor = max_retry_attempts, 0.5
            # No version negotiation: the SDKs' own versions are what the connector was written against.
            self._clients[ns] = sdk.ApiClient(configuration=cfg, allow_version_negotiation=False)
            self._listing_clients[ns] = _listing_client(sdk)(configuration=cfg, allow_version_negotiation=False)
        self._apis: dict[tuple[str, str, bool], Any] = {}
        self._categories: normalise.Categories | None = None

    # -- identity -----------------------------------------------------------------------------------------

    @property
    def cloud(self) -> str:
        return self._cloud

    @property
    def region(self) -> str | None:
        return self._region

    @classmethod
    def normalise(cls, kind: str, item: Resource) -> dict[str, Any]:
        return normalise.normalised(kind, item)

    def _api(self, ns: str, cls: str, listing: bool = False) -> Any:
        key = (ns, cls, listing)
        if key not in self._apis:
            client = (self._listing_clients if listing else self._clients)[ns]
            self._apis[key] = getattr(_SDKS[ns], cls)(api_client=client)
        return self._apis[key]

    def wire(self, ns: str, model: Any) -> Resource:
        """An SDK model back in the API's JSON form (camelCase), by the SDK's own serialiser."""
        return self._clients[ns]._ApiClient__sanitize_for_serialization(model)  # type: ignore[no-any-return]

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except urllib3.exceptions.HTTPError as exc:  # TLS failure, refused connection: not an ApiException
            raise Unavailable(f"Prism Central unreachable: {exc}", cloud=self.cloud, region=self.region) from exc
        except Exception as exc:
            status = getattr(exc, "status", None)
            if status is None or not hasattr(exc, "body"):
                raise
            raise _translate(exc, self.cloud, self.region) from exc

    # -- listing ------------------------------------------------------------------------------------------

    def raw_pages(self, kind: str, *, changes_since: datetime | None = None,
                  page_size: int | None = None) -> Iterator[list[Resource]]:
        """Pages of ``kind`` in Prism's own JSON (what ``iter_pages`` normalises)."""
        if kind not in KINDS:
            raise NotSupported(f"Nutanix connectors do not list {kind}", cloud=self.cloud, region=self.region)
        ns, cls, method, _, incremental = KINDS[kind]
        listing = getattr(self._api(ns, cls, listing=True), method)
        limit = max(1, min(page_size or PAGE_LIMIT, PAGE_LIMIT))
        query: dict[str, Any] = {}
        if changes_since is not None and incremental:
            since = changes_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            query["_filter"] = f"updateTime gt {since}"
        page = 0
        while True:
            answer = self._call(listing, _page=page, _limit=limit, **query)
            items = answer.data or []
            if items:
                yield items
            total = answer.total
            if len(items) < limit or (total is not None and (page + 1) * limit >= total):
                return
            page += 1

    def iter_pages(self, kind: str, *, changes_since: datetime | None = None,
                   page_size: int | None = None) -> Iterator[Page]:
        shape = getattr(normalise, KINDS[kind][3]) if kind in KINDS else None
        for items in self.raw_pages(kind, changes_since=changes_since, page_size=page_size):
            if kind == "servers":
                categories = self.categories_by_id()
                yield [normalise.vm(item, categories) for item in items]
            else:
                yield [shape(item) for item in items]  # type: ignore[misc]

    def categories_by_id(self, refresh: bool = False) -> normalise.Categories:
        if self._categories is None or refresh:
            raw = [item for page in self.raw_pages("categories") for item in page]
            self._categories = normalise.categories_by_id(raw)
        return self._categories

    # -- VMs ----------------------------------------------------------------------------------------------

    def get_server(self, id: str) -> Resource:
        answer = self._call(self._api("vmm", "VmApi").get_vm_by_id, id)
        return normalise.vm(self.wire("vmm", answer.data), self.categories_by_id()) | {
            "etag": self._clients["vmm"].get_etag(answer.data)}

    def create_server(self, name: str, *, flavor_id: str = "", image_id: str | None = None,
                      networks: str | list[dict[str, Any]] = "none", min_count: int = 1,
                      max_count: int | None = None, vcpus: int = 1, ram: int = 1024, wait: bool = True,
                      **attrs: Any) -> Resource:
        """Create an AHV VM (``ram`` in MiB; ``networks`` a list of ``{"uuid": subnet}``); waits for its task
        and answers the new VM unless ``wait`` is false (then the task reference)."""
        from ntnx_vmm_py_client.models.vmm.v4.ahv.config.CategoryReference import CategoryReference
        from ntnx_vmm_py_client.models.vmm.v4.ahv.config.Vm import Vm

        body = Vm(name=name, num_sockets=vcpus, num_cores_per_socket=1, num_threads_per_core=1,
                  memory_size_bytes=ram * 2**20,
                  categories=[CategoryReference(ext_id=c) for c in attrs.pop("category_ids", [])] or None)
        for key, value in attrs.items():
            setattr(body, key, value)
        task = self._call(self._api("vmm", "VmApi").create_vm, body)
        if not wait:
            return {"task_id": task.data.ext_id}
        done = self.wait_for_task(task.data.ext_id)
        return self.get_server(done["entities"][0])

    def update_server(self, id: str, **attrs: Any) -> Resource:
        """Change a VM's fields (SDK attribute names): GET it, change it, PUT it with the ETag just read."""
        api = self._api("vmm", "VmApi")
        current = self._call(api.get_vm_by_id, id).data
        for key, value in attrs.items():
            setattr(current, key, value)
        task = self._call(api.update_vm_by_id, id, current)  # the SDK copies the ETag into If-Match
        self.wait_for_task(task.data.ext_id)
        return self.get_server(id)

    def _vm_action(self, id: str, call: str) -> Resource:
        api = self._api("vmm", "VmApi")
        etag = self._clients["vmm"].get_etag(self._call(api.get_vm_by_id, id).data)
        task = self._call(getattr(api, call), id, if_match=etag)
        self.wait_for_task(task.data.ext_id)
        return self.get_server(id)

    def power_on_server(self, id: str) -> Resource:
        return self._vm_action(id, "power_on_vm")

    def power_off_server(self, id: str) -> Resource:
        return self._vm_action(id, "power_off_vm")

    def delete_server(self, id: str, ignore_missing: bool = True) -> None:
        api = self._api("vmm", "VmApi")
        try:
            etag = self._clients["vmm"].get_etag(self._call(api.get_vm_by_id, id).data)
        except NotFound:
            if ignore_missing:
                return
            raise
        task = self._call(api.delete_vm_by_id, id, if_match=etag)
        self.wait_for_task(task.data.ext_id)

    # -- tasks --------------------------------------------------------------------------------------------

    def wait_for_task(self, task_id: str, *, timeout: float | None = None, interval: float = 0.2) -> Resource:
        """Poll a Prism task until it ends: ``{"id", "status", "entities": [extId...]}``; ConnectorError when it
        fails, Timeout when it outlives ``timeout``."""
        api = self._api("prism", "TasksApi")
        deadline = time.monotonic() + (timeout or self.task_timeout)
        delay = interval
        while True:
            task = self._call(api.get_task_by_id, task_id).data
            status = str(task.status)
            if status in TASK_DONE:
                return {"id": task_id, "status": status,
                        "entities": [e.ext_id for e in task.entities_affected or [] if e.ext_id]}
            if status in TASK_FAILED:
                messages = [getattr(m, "message", "") for m in task.error_messages or []]
                raise ConnectorError(f"Prism task {task_id} {status}: {'; '.join(messages) or 'no message'}",
                                     cloud=self.cloud, region=self.region)
            if time.monotonic() + delay > deadline:
                raise Timeout(f"Prism task {task_id} still {status}", cloud=self.cloud, region=self.region)
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)


class RawListing:
    """A listing's answer as the API sent it: ``data`` the items' JSON, ``total`` its totalAvailableResults."""

    __slots__ = ("data", "total")

    def __init__(self, document: dict[str, Any]) -> None:
        self.data = document.get("data") or []
        self.total = (document.get("metadata") or {}).get("totalAvailableResults")


def _listing_client(sdk: Any) -> type:
    """The SDK's ApiClient, except that a listing's answer is left in the API's JSON rather than built into
    models: the inventory stores that JSON, and building then unbuilding 5 000 models tripled a sync's time
    against the raw GETs (docs/nutanix.md). Requests, auth, retries and errors stay the SDK's; the typed
    path (``get_``, tasks) still deserialises, and the simulator's tests check listings deserialise too."""

    class ListingApiClient(sdk.ApiClient):  # type: ignore[misc, name-defined]
        def deserialize(self, data: Any, klass: Any) -> Any:
            if isinstance(klass, str) and ".List" in klass and klass.endswith("ApiResponse"):
                return RawListing(data)
            return super().deserialize(data, klass)

    return ListingApiClient


def _translate(exc: Any, cloud: str, region: str | None) -> ConnectorError:
    """An SDK ApiException as the connectors' error, with Prism's own message (its body is not parsed by the SDK)."""
    try:
        errors = json.loads(exc.body or "{}").get("data", {}).get("error") or []
        message = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors if isinstance(e, dict))
    except (ValueError, AttributeError):
        message = ""
    message = message or f"HTTP {exc.status} {exc.reason}"
    kind = {401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 412: Conflict, 428: Conflict,
            503: Unavailable, 504: Unavailable}.get(exc.status, ConnectorError)
    return kind(message, cloud=cloud, region=region)
