"""The estate file (``souverain.yaml``): parse with positions, validate everything, report every problem at once.

Validation has two layers: the JSON Schema shipped in ``souverain/estate/schema/estate.schema.json`` (shape,
types, enums) and semantic checks here (references, share sums, dates, country codes, ownership cycles,
certification schemes). Every problem names file, line, column and field.

Files come from users, so reading is bounded before anything is built (``read_yaml``): at most
``MAX_FILE_BYTES``; strict UTF-8 (a BOM is fine); no NUL or other control character; nesting at most
``MAX_DEPTH`` levels (the composer and every consumer of the tree recurse); aliases may not expand the document
beyond ``MAX_EXPANDED_NODES`` nodes (a 475-byte "billion laughs" file expands to 10⁹ strings, which
``_plain``, JSON Schema and ``json.dumps`` would all walk). These limits are checked on the parser's event
stream, which is linear in the file's size and needs no recursion; each refusal names the file and the line.
Every YAML document read from a user goes through ``read_yaml`` (estate files, the CLI's workload files).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, NodeEvent
from ruamel.yaml.reader import ReaderError

from souverain.sovereignty.kb import KnowledgeBase, is_country_code

from . import cloudkinds
from .ownership import Holding, OwnershipGraph


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.field or '(document)'}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "field": self.field,
                "message": self.message}


MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 50
MAX_EXPANDED_NODES = 200_000
# What YAML forbids in a stream besides NUL (tab, line feed and carriage return are fine).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class EstateFileError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the estate file:\n" + "\n".join(map(str, problems)))


def schema() -> dict[str, Any]:
    text = resources.files("souverain.estate").joinpath("schema/estate.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, dt.datetime):
        return node.date().isoformat()
    if isinstance(node, dt.date):
        return node.isoformat()
    return node


class _Located:
    """Find the (line, column) of a path inside the ruamel tree, falling back to the nearest parent."""

    def __init__(self, root: Any, filename: str) -> None:
        self.root = root
        self.filename = filename

    def position(self, path: Iterable[Any]) -> tuple[int, int]:
        node = self.root
        line, col = 1, 1
        for key in path:
            if isinstance(node, CommentedMap) and key in node:
                pos = node.lc.key(key) if hasattr(node.lc, "key") else None
                if pos:
                    line, col = pos[0] + 1, pos[1] + 1
                try:
                    vpos = node.lc.value(key)
                    if not isinstance(node[key], (CommentedMap, CommentedSeq)) and vpos:
                        line, col = vpos[0] + 1, vpos[1] + 1
                except (KeyError, TypeError):
                    pass
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
                pos = node.lc.item(key)
                if pos:
                    line, col = pos[0] + 1, pos[1] + 1
                node = node[key]
            else:
                break
        return line, col

    def problem(self, path: list[Any], message: str) -> Problem:
        line, col = self.position(path)
        return Problem(self.filename, line, col, _field(path), message)


def _field(path: Iterable[Any]) -> str:
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of a character index."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def decode(data: bytes, filename: str) -> str:
    """Strict UTF-8 (an initial BOM is dropped); the first undecodable byte is reported with its place."""
    if len(data) > MAX_FILE_BYTES:
        raise EstateFileError([Problem(filename, 1, 1, "", f"the file is larger than {MAX_FILE_BYTES} bytes")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        # The column counts characters before the byte on its line, whatever their encoded length.
        prefix = data[start:exc.start].decode("utf-8", errors="replace")
        line, col = _position(prefix, len(prefix))
        raise EstateFileError([Problem(filename, line, col, "", f"not UTF-8 text: byte 0x{data[exc.start]:02x} "
                                       "cannot be decoded (save the file as UTF-8)")]) from exc


def _check_bounds(text: str, filename: str) -> None:
    """Refuse control characters, deep nesting and alias expansion, from the event stream (linear, no recursion)."""
    if found := _CONTROL.search(text):
        line, col = _position(text, found.start())
        char = found.group()
        what = "a NUL byte" if char == "\0" else f"a control character (U+{ord(char):04X})"
        raise EstateFileError([Problem(filename, line, col, "", f"{what} is not allowed in a YAML file")])
    depth = 0
    # Expanded size of each anchored node, and of each collection being read (innermost last).
    anchored: dict[str, int] = {}
    open_sizes: list[list[Any]] = []  # [size, anchor]
    total = 0
    for event in YAML(typ="rt").parse(io.StringIO(text)):
        if not isinstance(event, (NodeEvent, CollectionEndEvent)):
            continue
        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise EstateFileError([Problem(filename, line, 1, "",
                                               f"the document is nested deeper than {MAX_DEPTH} levels")])
            open_sizes.append([1, event.anchor])
            continue
        if isinstance(event, CollectionEndEvent):
            depth -= 1
            size, anchor = open_sizes.pop()
        else:
            size = anchored.get(event.anchor, 1) if isinstance(event, AliasEvent) else 1
            anchor = None if isinstance(event, AliasEvent) else event.anchor
        if anchor:
            anchored[anchor] = size
        if open_sizes:
            open_sizes[-1][0] += size
        else:
            total += size
        if total + sum(s for s, _ in open_sizes) > MAX_EXPANDED_NODES:
            raise EstateFileError([Problem(filename, line, 1, "", "aliases expand the document beyond "
                                           f"{MAX_EXPANDED_NODES} nodes (an alias bomb?)")])


def read_yaml(text: str, filename: str) -> Any:
    """Parse YAML from a user within the bounds above; EstateFileError (file, line, column) on any problem."""
    try:
        _check_bounds(text, filename)
        return YAML(typ="rt").load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise EstateFileError([Problem(filename, line, col, "", f"YAML syntax error: {exc.problem or exc}")]) from exc
    except ReaderError as exc:
        line, col = _position(text, exc.position)
        raise EstateFileError([Problem(filename, line, col, "", f"character not allowed in YAML: {exc.reason}")]
                              ) from exc
    except YAMLError as exc:
        raise EstateFileError([Problem(filename, 1, 1, "", f"YAML error: {exc}")]) from exc


def read_mapping(path: str | Path) -> tuple[dict[str, Any], _Located]:
    """A YAML (or JSON) file from a user whose document is a mapping, as plain data with positions."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EstateFileError([Problem(str(path), 0, 0, "", f"cannot read the file: {exc.strerror}")]) from exc
    return parse(decode(data, str(path)), str(path))


def parse(text: str, filename: str = "souverain.yaml") -> tuple[dict[str, Any], _Located]:
    root = read_yaml(text, filename)
    if not isinstance(root, CommentedMap):
        raise EstateFileError([Problem(filename, 1, 1, "", "the document must be a mapping")])
    return _plain(root), _Located(root, filename)


def read(path: str | Path) -> tuple[dict[str, Any], _Located]:
    return read_mapping(path)


def validate(doc: dict[str, Any], where: _Located, kb: KnowledgeBase | None = None,
             tenants: Iterable[str] | None = None) -> list[Problem]:
    """Every problem of the document. ``tenants``: the slugs of the tenants that exist, when known (applying
    the file to a database); a cloud may only be dedicated to one of them."""
    problems = [
        where.problem(list(error.absolute_path), error.message)
        for error in jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
        .iter_errors(doc)
    ]
    problems.extend(_semantic_problems(doc, where, kb))
    if tenants is not None:
        problems.extend(_dedication_problems(doc, where, set(tenants)))
    unique = {(p.line, p.column, p.field, p.message): p for p in problems}
    return sorted(unique.values(), key=lambda p: (p.line, p.column, p.field))


def load(path: str | Path, kb: KnowledgeBase | None = None, tenants: Iterable[str] | None = None) -> dict[str, Any]:
    """Read and validate; raise EstateFileError with every problem, or return the plain document."""
    doc, where = read(path)
    problems = validate(doc, where, kb, tenants)
    if problems:
        raise EstateFileError(problems)
    return doc


def _list(doc: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    value = doc.get(key)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _semantic_problems(doc: dict[str, Any], where: _Located, kb: KnowledgeBase | None) -> list[Problem]:
    out: list[Problem] = []
    entities: dict[str, int] = {}
    for i, entity in _list(doc, "entities"):
        eid = entity.get("id")
        if isinstance(eid, str):
            if eid in entities:
                out.append(where.problem(["entities", i, "id"], f"duplicate entity id '{eid}'"))
            entities[eid] = i
    datacenters: dict[str, int] = {}
    for i, dc in _list(doc, "datacenters"):
        did = dc.get("id")
        if isinstance(did, str):
            if did in datacenters:
                out.append(where.problem(["datacenters", i, "id"], f"duplicate datacenter id '{did}'"))
            datacenters[did] = i

    def ref(path: list[Any], value: Any, known: dict[str, int], what: str) -> None:
        if isinstance(value, str) and value not in known:
            out.append(where.problem(path, f"unknown {what} '{value}'"))

    def country(path: list[Any], value: Any) -> None:
        if isinstance(value, str) and not is_country_code(value):
            out.append(where.problem(path, f"unknown country code '{value}' (ISO 3166-1 alpha-2 expected)"))

    if cloudkinds.is_checked():  # the installed providers are known here: a cloud's kind must be one of them
        kinds = cloudkinds.known()
        for i, cloud in _list(doc, "clouds"):
            kind = cloud.get("kind")
            if isinstance(kind, str) and kind not in kinds:
                out.append(where.problem(["clouds", i, "kind"], f"unknown cloud kind '{kind}': the installed providers"
                                         f" and described kinds are {', '.join(sorted(kinds))}"))

    holdings: list[Holding] = []
    parents: dict[str, str] = {}
    for i, entity in _list(doc, "entities"):
        base = ["entities", i]
        country([*base, "country"], entity.get("country"))
        ref([*base, "parent"], entity.get("parent"), entities, "entity")
        if isinstance(entity.get("parent"), str) and entity.get("parent") in entities:
            parents[str(entity["id"])] = entity["parent"]
        totals = {"capital": 0.0, "voting": 0.0}
        shares = entity.get("shareholders") if isinstance(entity.get("shareholders"), list) else []
        for j, share in enumerate(shares):
            if not isinstance(share, dict):
                continue
            ref([*base, "shareholders", j, "holder"], share.get("holder"), entities, "entity")
            if share.get("holder") == entity.get("id"):
                out.append(where.problem([*base, "shareholders", j, "holder"], "an entity cannot hold itself"))
            for metric in totals:
                value = share.get(metric, share.get("capital")) if metric == "voting" else share.get(metric)
                if isinstance(value, (int, float)):
                    totals[metric] += float(value)
            if isinstance(share.get("holder"), str) and isinstance(share.get("capital"), (int, float)):
                holdings.append(Holding(str(entity.get("id")), share["holder"], float(share["capital"]),
                                        float(share.get("voting", share["capital"]) or 0)))
        for metric, total in totals.items():
            if total > 100.0 + 1e-9:
                out.append(where.problem([*base, "shareholders"],
                                         f"shares of {metric} add up to {total:g} %, above 100 %"))
        dpf = entity.get("dpf")
        if isinstance(dpf, dict):
            _check_dates(out, where, [*base, "dpf"], dpf.get("since"), dpf.get("until"), "since", "until")

    graph = OwnershipGraph(countries={}, names={}, holdings=[h for h in holdings if h.holder in entities],
                           parents=parents)
    cycle = graph.find_cycle()
    if cycle:
        start = cycle[0]
        out.append(where.problem(["entities", entities.get(start, 0), "shareholders"],
                                 "ownership cycle: " + " → ".join(cycle)))

    for i, dc in _list(doc, "datacenters"):
        ref(["datacenters", i, "operator"], dc.get("operator"), entities, "entity")
        country(["datacenters", i, "country"], dc.get("country"))

    schemes = kb.schemes if kb else {}
    clouds: dict[str, int] = {}
    for i, cloud in _list(doc, "clouds"):
        base = ["clouds", i]
        cid = cloud.get("id")
        if isinstance(cid, str):
            if cid in clouds:
                out.append(where.problem([*base, "id"], f"duplicate cloud id '{cid}'"))
            clouds[cid] = i
        ref([*base, "operator"], cloud.get("operator"), entities, "entity")
        stack = cloud.get("stack") if isinstance(cloud.get("stack"), dict) else {}
        ref([*base, "stack", "vendor"], stack.get("vendor"), entities, "entity")
        for j, vendor in enumerate(cloud.get("hardware_vendors") or []):
            ref([*base, "hardware_vendors", j], vendor, entities, "entity")
        for key in ("admin_staff_countries", "support_staff_countries"):
            for j, code in enumerate(cloud.get(key) or []):
                country([*base, key, j], code)
        custody = cloud.get("key_custody") if isinstance(cloud.get("key_custody"), dict) else {}
        country([*base, "key_custody", "country"], custody.get("country"))
        _check_certs(out, where, [*base, "certifications"], cloud.get("certifications"), schemes)
        regions: set[str] = set()
        for j, region in enumerate(cloud.get("regions") or []):
            if not isinstance(region, dict):
                continue
            rbase = [*base, "regions", j]
            rid = region.get("id")
            if isinstance(rid, str):
                if rid in regions:
                    out.append(where.problem([*rbase, "id"], f"duplicate region id '{rid}' in cloud '{cid}'"))
                regions.add(rid)
            for key in ("datacenters", "backup_datacenters"):
                for k, dc_id in enumerate(region.get(key) or []):
                    ref([*rbase, key, k], dc_id, datacenters, "datacenter")
            _check_certs(out, where, [*rbase, "certifications"], region.get("certifications"), schemes)
    return out


def _dedication_problems(doc: dict[str, Any], where: _Located, tenants: set[str]) -> list[Problem]:
    out = []
    for i, cloud in _list(doc, "clouds"):
        dedicated = cloud.get("dedicated_to")
        for j, slug in enumerate(dedicated if isinstance(dedicated, list) else []):
            if isinstance(slug, str) and slug not in tenants:
                out.append(where.problem(["clouds", i, "dedicated_to", j],
                                         f"unknown tenant '{slug}' (create the tenant before applying the file)"))
    return out


def _check_dates(out: list[Problem], where: _Located, path: list[Any], start: Any, end: Any,
                 start_name: str, end_name: str) -> None:
    try:
        begin = dt.date.fromisoformat(str(start)) if start else None
        finish = dt.date.fromisoformat(str(end)) if end else None
    except ValueError:
        return  # the schema reports malformed dates
    if begin and finish and finish < begin:
        out.append(where.problem([*path, end_name],
                                 f"{end_name} ({finish.isoformat()}) precedes {start_name} ({begin.isoformat()})"))


def _check_certs(out: list[Problem], where: _Located, path: list[Any], certs: Any,
                 schemes: dict[str, dict[str, Any]]) -> None:
    if not isinstance(certs, list):
        return
    for i, cert in enumerate(certs):
        if not isinstance(cert, dict):
            continue
        _check_dates(out, where, [*path, i], cert.get("valid_from"), cert.get("valid_until"),
                     "valid_from", "valid_until")
        scheme = cert.get("scheme")
        if schemes and isinstance(scheme, str):
            if scheme not in schemes:
                out.append(where.problem([*path, i, "scheme"], f"unknown certification scheme '{scheme}'"))
            else:
                levels = [str(level) for level in schemes[scheme].get("levels") or []]
                level = cert.get("level")
                if level not in (None, "") and levels and str(level) not in levels:
                    out.append(where.problem([*path, i, "level"],
                                             f"unknown level '{level}' for {scheme} (one of {', '.join(levels)})"))
