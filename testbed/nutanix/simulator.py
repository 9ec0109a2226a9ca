"""Prism Central v4 simulator: the HTTP endpoints the Nutanix connector calls, and nothing else.

Built from the official SDKs' model classes: every object is made as an SDK model (``Vm``, ``Cluster``,
``Subnet``...) and serialised with the SDK's own serialiser, so what the SDK later deserialises on the
connector's side is the contract check (an attribute the models do not have cannot be invented here).
Objects are kept in their wire form (camelCase JSON with ``$objectType``), so a listing of 5 000 VMs
costs a JSON dump, not 5 000 model constructions.

What it honours, after ../shared/recipes/nutanix-v4-sdk.md (the SDKs' verified HTTP contract):

- basic auth on every call (no cookie is set, so the SDK sends it each time); 401 otherwise;
- ``OPTIONS /api/{ns}/unversioned/info`` answers the SDK's own version (no path rewriting);
- paging with ``$page`` / ``$limit`` (1-100, default 50), ``metadata.totalAvailableResults`` and a
  ``next`` link; an empty page leaves ``data`` out, as real Prism Central is said to;
- a ``$filter`` subset: ``<field> eq '<text>'``, ``<field> gt|ge|lt|le <ISO time>``, joined by ``and``;
  ``$orderby`` on one field, ``asc``/``desc``; anything else is a 400 in Nutanix's error format;
- ETags on GET one (``ETag`` header, a new one at each change); ``If-Match`` is required on PUT (428
  without, 412 when stale) and checked when given on actions and DELETE;
- asynchronous operations: 202 with a ``TaskReference``; the task runs ``task_delay`` seconds later
  (QUEUED, then RUNNING, then SUCCEEDED or FAILED), its effect applied when it completes;
- errors as ``{"data": {"$objectType": "<ns>.v4.error.ErrorResponse", "error": [AppMessage]}}``.

Not a real Prism Central: no RBAC, no real $filter grammar, no volume groups (their SDK is not used).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import ntnx_clustermgmt_py_client as cm
import ntnx_networking_py_client as net
import ntnx_prism_py_client as prism
import ntnx_vmm_py_client as vmm
from ntnx_clustermgmt_py_client.models.clustermgmt.v4.config.Cluster import Cluster
from ntnx_clustermgmt_py_client.models.clustermgmt.v4.config.ClusterReference import (
    ClusterReference as HostClusterReference,
)
from ntnx_clustermgmt_py_client.models.clustermgmt.v4.config.Host import Host
from ntnx_clustermgmt_py_client.models.clustermgmt.v4.config.StorageContainer import StorageContainer
from ntnx_networking_py_client.models.networking.v4.config.Subnet import Subnet
from ntnx_prism_py_client.models.prism.v4.config.Category import Category
from ntnx_prism_py_client.models.prism.v4.config.EntityReference import EntityReference
from ntnx_prism_py_client.models.prism.v4.config.Task import Task
from ntnx_prism_py_client.models.prism.v4.config.TaskReference import TaskReference
from ntnx_vmm_py_client.models.vmm.v4.ahv.config.CategoryReference import CategoryReference
from ntnx_vmm_py_client.models.vmm.v4.ahv.config.ClusterReference import ClusterReference
from ntnx_vmm_py_client.models.vmm.v4.ahv.config.ProjectReference import ProjectReference
from ntnx_vmm_py_client.models.vmm.v4.ahv.config.Vm import Vm
from ntnx_vmm_py_client.models.vmm.v4.content.Image import Image

#: The Prism Central project the seeded VMs belong to (what Souverain maps to a tenant).
PROJECT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "prism-project-default"))
VERSIONS = {"vmm": "v4.3", "clustermgmt": "v4.3", "networking": "v4.4", "prism": "v4.4"}
#: One ApiClient per SDK serialises that SDK's models into their wire form.
_SERIALISERS = {"vmm": vmm.ApiClient(), "clustermgmt": cm.ApiClient(), "networking": net.ApiClient(),
                "prism": prism.ApiClient()}


def wire(namespace: str, model: Any) -> dict[str, Any]:
    """The model as the API sends it (camelCase, ``$objectType``, ``$reserved``), by the SDK's own serialiser."""
    data = _SERIALISERS[namespace]._ApiClient__sanitize_for_serialization(model)
    data.pop("$unknownFields", None)
    return data


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.strip().strip("'").replace("Z", "+00:00"))


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, namespace: str = "vmm") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.namespace = status, code, message, namespace

    def body(self) -> dict[str, Any]:
        ns = self.namespace
        return {"data": {"$objectType": f"{ns}.v4.error.ErrorResponse",
                         "error": [{"$objectType": f"{ns}.v4.error.AppMessage", "code": self.code,
                                    "message": self.message, "severity": "ERROR"}]},
                "metadata": {"flags": [{"name": "hasError", "value": True}]}}


@dataclass
class Collection:
    namespace: str
    path: str
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    etags: dict[str, str] = field(default_factory=dict)

    def put(self, item: dict[str, Any]) -> None:
        self.items[item["extId"]] = item
        self.etags[item["extId"]] = uuid.uuid4().hex


@dataclass
class SimTask:
    ext_id: str
    due: float
    effect: Callable[[], str]
    created: datetime
    status: str = "QUEUED"
    entity: str = ""
    error: str = ""


_CONDITION = re.compile(r"^\s*(\w+)\s+(eq|gt|ge|lt|le)\s+(.+?)\s*$")
_COMPARE = {"eq": lambda a, b: a == b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
            "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}


class PrismSimulator:
    """An in-memory Prism Central seeded with ``vms`` VMs, served on ``host:port`` (0: a free port).

    ``task_delay`` is how long an asynchronous operation takes; ``fail_next_task`` makes the next task FAIL
    (to test the connector's error path).
    """

    def __init__(self, *, vms: int = 20, host: str = "127.0.0.1", port: int = 0, username: str = "admin",
                 password: str = "nutanix/4u", task_delay: float = 0.2, seed_name: str = "vm") -> None:
        self.username, self.password, self.task_delay = username, password, task_delay
        self._auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self._lock = threading.Lock()
        self.requests = 0
        self.fail_next_task = False
        self.collections = {
            "vms": Collection("vmm", "/api/vmm/v4.3/ahv/config/vms"),
            "images": Collection("vmm", "/api/vmm/v4.3/content/images"),
            "clusters": Collection("clustermgmt", "/api/clustermgmt/v4.3/config/clusters"),
            "hosts": Collection("clustermgmt", "/api/clustermgmt/v4.3/config/hosts"),
            "storage_containers": Collection("clustermgmt", "/api/clustermgmt/v4.3/config/storage-containers"),
            "subnets": Collection("networking", "/api/networking/v4.4/config/subnets"),
            "categories": Collection("prism", "/api/prism/v4.4/config/categories"),
        }
        self.tasks: dict[str, SimTask] = {}
        self._seed(vms, seed_name)
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> PrismSimulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name="prism-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> PrismSimulator:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- seeding ----------------------------------------------------------------------------------------------

    def _seed(self, count: int, seed_name: str) -> None:
        now = _now()
        cluster_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "cluster-1"))
        self.cluster_id = cluster_id
        self.collections["clusters"].put(wire("clustermgmt", Cluster(ext_id=cluster_id, name="clermont-ahv-1")))
        for n in range(2):
            self.collections["hosts"].put(wire("clustermgmt", Host(
                ext_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"host-{n}")), host_name=f"ahv-node-{n + 1}",
                cluster=HostClusterReference(uuid=cluster_id, name="clermont-ahv-1"))))
        self.collections["storage_containers"].put(wire("clustermgmt", StorageContainer(
            container_ext_id=str(uuid.uuid5(uuid.NAMESPACE_URL, "container-1")), name="default-container",
            cluster_ext_id=cluster_id)) | {"extId": str(uuid.uuid5(uuid.NAMESPACE_URL, "container-1"))})
        self.subnet_ids = []
        for n, name in enumerate(("prod-vlan-100", "backup-vlan-200")):
            ext_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"subnet-{n}"))
            self.subnet_ids.append(ext_id)
            self.collections["subnets"].put(wire("networking", Subnet(
                ext_id=ext_id, name=name, subnet_type="VLAN", network_id=100 * (n + 1),
                cluster_reference=cluster_id)))
        self.image_ids = []
        for n, name in enumerate(("rhel-9.4", "windows-2022")):
            ext_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"image-{n}"))
            self.image_ids.append(ext_id)
            self.collections["images"].put(wire("vmm", Image(ext_id=ext_id, name=name, type="DISK_IMAGE",
                                                             size_bytes=(20 + n) * 2**30)))
        self.category_ids = []
        for n, (key, value) in enumerate((("Environment", "Production"), ("souverain:data-class", "personal"),
                                          ("Department", "Risk"))):
            ext_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"category-{n}"))
            self.category_ids.append(ext_id)
            self.collections["categories"].put(wire("prism", Category(ext_id=ext_id, key=key, value=value,
                                                                      type="USER")))
        # Objects of one SDK class serialise alike: build one VM the SDK's way, then vary its copies (what
        # seeding 5 000 VMs would otherwise spend constructing models).
        template = wire("vmm", Vm(
            name="template", ext_id=str(uuid.uuid4()), power_state="ON", num_sockets=2, num_cores_per_socket=1,
            num_threads_per_core=1, memory_size_bytes=4 * 2**30,
            cluster=ClusterReference(ext_id=cluster_id), project=ProjectReference(ext_id=PROJECT_ID),
            categories=[CategoryReference(ext_id=self.category_ids[0])],
            create_time=now, update_time=now))
        for n in range(count):
            item = json.loads(json.dumps(template))
            item["extId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{seed_name}-{n}"))
            item["name"] = f"{seed_name}-{n:05d}"
            item["powerState"] = "ON" if n % 5 else "OFF"
            item["createTime"] = item["updateTime"] = _iso(now - timedelta(days=1))
            item["categories"] = [{"extId": self.category_ids[n % 3 and 1 or 0]}, {"extId": self.category_ids[2]}]
            self.collections["vms"].put(item)

    # -- the API ----------------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet: the tests read the results, not the log
                pass

            def _dispatch(self, method: str) -> None:
                sim.requests += 1
                try:
                    if self.headers.get("Authorization") != sim._auth:
                        raise ApiError(401, "PRISM-401", "Authentication required", "prism")
                    length = int(self.headers.get("Content-Length") or 0)
                    body = json.loads(self.rfile.read(length)) if length else None
                    status, payload, headers = sim.route(method, self.path, dict(self.headers), body)
                except ApiError as exc:
                    status, payload, headers = exc.status, exc.body(), {}
                except Exception as exc:  # a simulator bug still answers in Nutanix's format, never hangs up
                    status, payload, headers = 500, ApiError(500, "PRISM-50000", repr(exc), "prism").body(), {}
                data = json.dumps(payload, separators=(",", ":")).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._dispatch("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._dispatch("POST")

            def do_PUT(self) -> None:  # noqa: N802
                self._dispatch("PUT")

            def do_DELETE(self) -> None:  # noqa: N802
                self._dispatch("DELETE")

            def do_OPTIONS(self) -> None:  # noqa: N802
                self._dispatch("OPTIONS")

        return Handler

    def route(self, method: str, raw_path: str, headers: dict[str, str],
              body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        parts = urlsplit(raw_path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        info = re.fullmatch(r"/api/(\w+)/unversioned/info", path)
        if info and method == "OPTIONS":
            return 200, {"data": VERSIONS.get(info.group(1), "v4.0")}, {}
        task = re.fullmatch(r"/api/prism/v4\.4/config/tasks/([^/]+)", path)
        if task and method == "GET":
            return 200, {"data": self._task(unquote(task.group(1)))}, {}
        for name, coll in self.collections.items():
            if path == coll.path:
                if method == "GET":
                    return 200, self._list(coll, query), {}
                if method == "POST" and name == "vms":
                    return self._create_vm(body)
            elif path.startswith(coll.path + "/"):
                rest = unquote(path[len(coll.path) + 1:])
                ext_id, _, action = rest.partition("/$actions/")
                if "/" in ext_id:
                    break
                if method == "GET" and not action:
                    item = self._get(coll, ext_id)
                    return 200, {"data": item}, {"ETag": coll.etags[ext_id]}
                if name == "vms":
                    return self._change_vm(method, ext_id, action, headers, body)
        raise ApiError(404, "PRISM-404", f"No such endpoint: {method} {path}", "prism")

    def _list(self, coll: Collection, query: dict[str, str]) -> dict[str, Any]:
        ns = coll.namespace
        try:
            page = int(query.get("$page", "0"))
            limit = int(query.get("$limit", "50"))
        except ValueError:
            raise ApiError(400, f"{ns.upper()}-40001", "$page and $limit must be integers", ns) from None
        if not 1 <= limit <= 100 or page < 0:
            raise ApiError(400, f"{ns.upper()}-40001", "$limit must be between 1 and 100, $page 0 or more", ns)
        with self._lock:
            items = list(coll.items.values())
        if "$filter" in query:
            items = [i for i in items if self._matches(i, query["$filter"], ns)]
        if "$orderby" in query:
            key, _, direction = query["$orderby"].strip().partition(" ")
            items.sort(key=lambda i: str(i.get(key) or ""), reverse=direction.strip().lower() == "desc")
        chunk = items[page * limit:(page + 1) * limit]
        metadata: dict[str, Any] = {"totalAvailableResults": len(items),
                                    "flags": [{"name": "hasError", "value": False},
                                              {"name": "isPaginated", "value": True}],
                                    "links": [{"rel": "self", "href": f"{coll.path}?$page={page}&$limit={limit}"}]}
        if (page + 1) * limit < len(items):
            metadata["links"].append({"rel": "next", "href": f"{coll.path}?$page={page + 1}&$limit={limit}"})
        answer: dict[str, Any] = {"metadata": metadata}
        if chunk:
            answer["data"] = chunk
        return answer

    @staticmethod
    def _matches(item: dict[str, Any], expression: str, ns: str) -> bool:
        for condition in re.split(r"\s+and\s+", expression):
            match = _CONDITION.match(condition)
            if not match:
                raise ApiError(400, f"{ns.upper()}-40002", f"Unsupported $filter expression: {condition}", ns)
            key, op, literal = match.groups()
            value = item.get(key)
            if literal.startswith("'"):
                if op != "eq":
                    raise ApiError(400, f"{ns.upper()}-40002", f"Only eq compares text: {condition}", ns)
                if str(value) != literal.strip("'"):
                    return False
                continue
            try:
                wanted = _parse_time(literal)
            except ValueError:
                raise ApiError(400, f"{ns.upper()}-40002", f"Not a time: {literal}", ns) from None
            if value is None or not _COMPARE[op](_parse_time(str(value)), wanted):
                return False
        return True

    def _get(self, coll: Collection, ext_id: str) -> dict[str, Any]:
        with self._lock:
            item = coll.items.get(ext_id)
        if item is None:
            raise ApiError(404, "VMM-20005", f"Entity {ext_id} not found", coll.namespace)
        return item

    def _check_etag(self, coll: Collection, ext_id: str, headers: dict[str, str], required: bool) -> None:
        given = headers.get("If-Match")
        if given is None:
            if required:
                raise ApiError(428, "VMM-30100", "If-Match header is required for this operation")
            return
        if given.strip('"') != coll.etags[ext_id]:
            raise ApiError(412, "VMM-30101", "The entity was modified since it was read (stale ETag)")

    def _create_vm(self, body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        if not isinstance(body, dict) or not body.get("name"):
            raise ApiError(400, "VMM-10001", "name: this field is required")
        clean = {k: v for k, v in body.items() if not k.startswith("$")}
        try:  # the SDK's model is the schema: what it cannot build is refused, as Prism refuses it
            model = vmm.ApiClient().deserialize(clean, "AhvConfigVm")
        except (TypeError, ValueError) as exc:
            raise ApiError(400, "VMM-10002", f"Invalid VM: {exc}") from None
        ext_id = str(uuid.uuid4())
        now = _now()
        model.ext_id, model.create_time, model.update_time = ext_id, now, now
        model.power_state = model.power_state or "OFF"
        if model.cluster is None:
            model.cluster = ClusterReference(ext_id=self.cluster_id)
        item = wire("vmm", model)

        def effect() -> str:
            with self._lock:
                self.collections["vms"].put(item)
            return ext_id

        return self._start_task(effect)

    def _change_vm(self, method: str, ext_id: str, action: str, headers: dict[str, str],
                   body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        coll = self.collections["vms"]
        self._get(coll, ext_id)
        if method == "DELETE" and not action:
            self._check_etag(coll, ext_id, headers, required=False)

            def delete() -> str:
                with self._lock:
                    coll.items.pop(ext_id, None)
                    coll.etags.pop(ext_id, None)
                return ext_id

            return self._start_task(delete)
        if method == "PUT" and not action:
            self._check_etag(coll, ext_id, headers, required=True)
            if not isinstance(body, dict):
                raise ApiError(400, "VMM-10001", "A VM body is required")
            changes = {k: v for k, v in body.items() if not k.startswith("$") and k not in ("extId", "createTime")}
            return self._start_task(lambda: self._update(ext_id, changes))
        states = {"power-on": "ON", "power-off": "OFF", "shutdown": "OFF"}
        if method == "POST" and action in states:
            self._check_etag(coll, ext_id, headers, required=False)
            return self._start_task(lambda: self._update(ext_id, {"powerState": states[action]}))
        raise ApiError(404, "VMM-20004", f"No such operation: {method} {action or ext_id}")

    def _update(self, ext_id: str, changes: dict[str, Any]) -> str:
        coll = self.collections["vms"]
        with self._lock:
            item = dict(coll.items[ext_id]) | changes | {"updateTime": _iso(_now())}
            coll.put(item)
        return ext_id

    def _start_task(self, effect: Callable[[], str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        ext_id = base64.b64encode(b"simulator").decode() + ":" + str(uuid.uuid4())
        with self._lock:
            self.tasks[ext_id] = SimTask(ext_id, time.monotonic() + self.task_delay, effect, _now())
        ref = wire("prism", TaskReference(ext_id=ext_id))
        return 202, {"data": ref}, {}

    def _task(self, ext_id: str) -> dict[str, Any]:
        with self._lock:
            task = self.tasks.get(ext_id)
        if task is None:
            raise ApiError(404, "PRISM-50010", f"Task {ext_id} not found", "prism")
        if task.status in ("QUEUED", "RUNNING"):
            if time.monotonic() >= task.due:
                if self.fail_next_task:
                    self.fail_next_task = False
                    task.status, task.error = "FAILED", "Simulated failure"
                else:
                    task.entity = task.effect()
                    task.status = "SUCCEEDED"
            else:
                task.status = "RUNNING"
        model = Task(ext_id=ext_id, status=task.status, progress_percentage=100 if task.status == "SUCCEEDED" else 50,
                     created_time=task.created,
                     entities_affected=[EntityReference(ext_id=task.entity, rel="vmm:ahv:config:vm")]
                     if task.entity else None)
        data = wire("prism", model)
        if task.error:
            data["errorMessages"] = [{"message": task.error, "severity": "ERROR"}]
        return data


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Prism Central v4 simulator (from the Nutanix SDKs' models)")
    parser.add_argument("--port", type=int, default=9440)
    parser.add_argument("--vms", type=int, default=20)
    parser.add_argument("--password", default="nutanix/4u")
    args = parser.parse_args(argv)
    sim = PrismSimulator(vms=args.vms, port=args.port, password=args.password).start()
    print(f"Prism Central simulator on {sim.url} (user admin), {args.vms} VMs. Ctrl-C stops it.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sim.stop()


if __name__ == "__main__":
    main()
