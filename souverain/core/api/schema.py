"""Making the OpenAPI schema tell the truth about what the server does (drf-spectacular post-processing).

- Writes refuse unknown fields (``RejectUnknownFieldsMixin``): request bodies say ``additionalProperties: false``.
  Read-only fields are left out of request bodies (``COMPONENT_SPLIT_REQUEST``); the server ignores them if sent.
- Every operation documents its error answers with one ``Error`` body: ``{"detail", "error"}`` for most, field
  names to messages for validation errors (400), ``referenced_by`` for a refused delete (409), ``cycle`` for an
  ownership cycle found in stored data (409). Which statuses: 401 and 403 everywhere (authentication and role),
  400 where the request carries a body or query parameters, 404 on a path with an object id, 409 on writes and
  on the estate's computed reads (exposure, placement), 405 never (unsupported methods are simply absent).
- Operations with ``?format=csv`` (the inventory's export) may answer ``text/csv``, errors included; an unknown
  format is a 404 (DRF's answer).
- Where a view documents its own error body for a status, the ``Error`` body is allowed beside it (a request
  whose body is not JSON gets DRF's error before the view runs).

``souverain/core/tests/test_fuzz_api.py`` holds the server to this schema with generated requests.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error: `detail` and `error` (the kind), or for a validation error (400) each faulty field "
                   "with its messages.",
    "properties": {
        "detail": {"type": "string"},
        "error": {"type": "string"},
        "referenced_by": {"type": "object", "additionalProperties": {
            "type": "object", "properties": {"count": {"type": "integer"},
                                             "objects": {"type": "array", "items": {"type": "string"}}}}},
        "cycle": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": True,
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid input: each faulty field (or `non_field_errors`) with its messages.",
    "401": "Not authenticated.",
    "403": "Authenticated, but the role or tenant does not allow this.",
    "404": "No such object (or not visible to this user).",
    "409": "Conflicts with the stored data: still referred to, or the stored estate is inconsistent.",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def tell_the_truth(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, component in schemas.items():
        if name.endswith("Request") and component.get("type") == "object":
            component.setdefault("additionalProperties", False)
    schemas["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            # ?format=csv (the inventory's export) answers CSV, errors included.
            formats = next((p.get("schema", {}).get("enum") or [] for p in operation.get("parameters", [])
                            if p.get("name") == "format" and p.get("in") == "query"), [])
            statuses = {"401", "403"}
            if operation.get("requestBody") or operation.get("parameters"):
                statuses.add("400")
            if "{" in path:
                statuses.add("404")
            if method in WRITE_METHODS or path.endswith("/exposure/"):
                statuses.add("409")
            if formats:  # DRF answers an unknown ?format= with 404
                statuses.add("404")
            for status in sorted(statuses):
                documented = operation["responses"].setdefault(status, {
                    "description": ERROR_DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                })
                # A view's own error body (e.g. a refused policy upload) or DRF's (a body that is not JSON).
                json_body = documented.setdefault("content", {}).setdefault("application/json", {})
                if json_body.get("schema", {}).get("$ref") != "#/components/schemas/Error":
                    json_body["schema"] = {"anyOf": [json_body.get("schema", {}),
                                                     {"$ref": "#/components/schemas/Error"}]}
            if "csv" in formats:
                for response in operation["responses"].values():
                    response.setdefault("content", {}).setdefault("text/csv", {"schema": {"type": "string"}})
    return result
