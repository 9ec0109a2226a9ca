"""What-if changes: a small YAML patch of the estate and the knowledge base, applied in memory only.

A what-if is either a whole alternative estate file (read by ``estate/estatefile.py``) or a *change file*:

    version: 1
    title: "The sovereign cloud moves onto the international cloud's vendor stack"
    on: 2026-12-01            # optional: the date the question is asked for (default today)
    changes:
      - stack: {cloud: sovereign, like: international, vendor_access: remote_support}
      - entity: {id: harbour-fund-iv, name: "Harbour Fund IV", country: US, kind: fund}
      - shareholder: {entity: hexagone-telecom, holder: harbour-fund-iv, capital: 30, voting: 30}
      - backups: {region: sovereign/fr-paris-1, datacenters: [dc-atlas-am5]}
      - certificate_ends: {cloud: sovereign, scheme: secnumcloud, on: 2026-12-31}
      - staff: {cloud: sovereign, support: [FR, MA, IN]}
      - law: {id: xx-new-law, name: "…", country: US, channels: {access: {strength: compelled}}}

Each change is a mapping with exactly one key, its kind (``KINDS``). The file is read with the estate file's
bounded loader (size, nesting, aliases, encoding) and checked completely before anything is applied: every
problem names the file, line, column and field (``changes[2].backups.datacenters[0]: unknown datacenter …``),
so a typo never turns into a silently different question.

``apply`` works on copies of the pure ``EstateData`` and ``KnowledgeBase``: nothing here knows Django, and the
database is never touched — the answer compares the live estate with its changed copy (``whatif.py``).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from souverain.estate import estatefile
from souverain.estate.estatefile import Problem
from souverain.estate.ownership import Holding
from souverain.estate.snapshot import EntityData, EstateData
from souverain.sovereignty.kb import CHANNELS, KnowledgeBase, LawInfo, is_country_code

VENDOR_ACCESS = ("none", "software_supply", "remote_support", "operations")
ENTITY_KINDS = ("company", "fund", "state", "individual", "public_float", "other")
STRENGTHS = ("compelled", "informational")

#: kind -> (required keys, optional keys)
KINDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "stack": (frozenset(), frozenset({"cloud", "region", "like", "vendor", "vendor_access", "distribution"})),
    "entity": (frozenset({"id", "name", "country"}), frozenset({"kind"})),
    "shareholder": (frozenset({"entity", "holder", "capital"}), frozenset({"voting"})),
    "backups": (frozenset({"region", "datacenters"}), frozenset()),
    "certificate_ends": (frozenset({"scheme", "on"}), frozenset({"cloud", "region"})),
    "staff": (frozenset(), frozenset({"cloud", "region", "admin", "support"})),
    "law": (frozenset({"id", "name", "country", "channels"}), frozenset({"citation"})),
}
TOP_KEYS = frozenset({"version", "title", "on", "changes"})


class ChangeFileError(ValueError):
    """Every problem of a change file, each with its place; nothing was applied."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the change file:\n" + "\n".join(map(str, problems)))


@dataclass
class ChangeSet:
    """A validated change file: its changes in order (each ``(kind, arguments)``), a title and a date."""

    changes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    title: str = ""
    on: dt.date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "on": self.on.isoformat() if self.on else None,
                "changes": [{kind: args} for kind, args in self.changes]}


# --- reading and checking -------------------------------------------------------------------------------------


def parse(text: str, estate: EstateData, kb: KnowledgeBase, filename: str = "change.yaml") -> ChangeSet:
    """Read a change file's text (bounded loader) and check it against the estate; ChangeFileError if wrong."""
    try:
        doc, where = estatefile.parse(text, filename)
    except estatefile.EstateFileError as exc:
        raise ChangeFileError(exc.problems) from exc
    return check(doc, estate, kb, where)


def read(path: str | Path, estate: EstateData, kb: KnowledgeBase) -> ChangeSet:
    try:
        doc, where = estatefile.read_mapping(path)
    except estatefile.EstateFileError as exc:
        raise ChangeFileError(exc.problems) from exc
    return check(doc, estate, kb, where)


class _Nowhere:
    """Positions for a document that came as JSON (the API): the field path alone names the place."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def problem(self, path: list[Any], message: str) -> Problem:
        return Problem(self.filename, 0, 0, estatefile._field(path), message)


def check(doc: Any, estate: EstateData, kb: KnowledgeBase, where: Any = None) -> ChangeSet:
    """Check a change document (plain data) completely; return the ChangeSet or raise every problem at once.

    The changes are checked in order against the estate *as changed so far*, so an entity added by one change
    may hold shares in the next; the final estate is checked for ownership cycles and over-held capital."""
    where = where or _Nowhere("changes")
    problems: list[Problem] = []
    if not isinstance(doc, dict):
        raise ChangeFileError([where.problem([], "a change file is a mapping with a list of changes")])
    for key in doc:
        if key not in TOP_KEYS:
            problems.append(where.problem([key], f"unknown key '{key}' (expected one of {_names(TOP_KEYS)})"))
    if doc.get("version", 1) != 1:
        problems.append(where.problem(["version"], "only version 1 is known"))
    on = None
    if doc.get("on") is not None:
        on = _date(doc["on"])
        if on is None:
            problems.append(where.problem(["on"], f"'{doc['on']}' is not a date (YYYY-MM-DD)"))
    title = doc.get("title") or ""
    if not isinstance(title, str):
        problems.append(where.problem(["title"], "the title is text"))
        title = ""
    items = doc.get("changes")
    if not isinstance(items, list) or not items:
        problems.append(where.problem(["changes"], "a non-empty list of changes is required"))
        items = []
    result = ChangeSet(title=title, on=on)
    work_estate, work_kb = copy.deepcopy(estate), kb
    for index, item in enumerate(items):
        path: list[Any] = ["changes", index]
        if not isinstance(item, dict) or len(item) != 1:
            problems.append(where.problem(path, f"a change is a mapping with one key, its kind ({_names(KINDS)})"))
            continue
        [(kind, args)] = item.items()
        if kind not in KINDS:
            problems.append(where.problem([*path, kind], f"unknown change '{kind}' (expected one of {_names(KINDS)})"))
            continue
        path = [*path, kind]
        if not isinstance(args, dict):
            problems.append(where.problem(path, f"the '{kind}' change is a mapping"))
            continue
        required, optional = KINDS[kind]
        allowed = required | optional
        found = [where.problem([*path, key], f"unknown key '{key}' for a '{kind}' change (expected {_names(allowed)})")
                 for key in args if key not in allowed]
        found += [where.problem(path, f"'{key}' is required") for key in sorted(required) if key not in args]
        if not found:
            found = _CHECKS[kind](args, work_estate, work_kb, lambda keys, msg, p=path: where.problem([*p, *keys], msg))
        if found:
            problems.extend(found)
            continue
        normalised = _normalise(kind, args, work_estate)
        work_estate, work_kb = _apply_one(kind, normalised, work_estate, work_kb)
        result.changes.append((kind, normalised))
    if not problems:
        graph = work_estate.graph()
        cycle = graph.find_cycle()
        if cycle:
            problems.append(where.problem(["changes"], "the changes make an ownership cycle: " + " → ".join(cycle)))
        for owned in sorted({h.owned for h in work_estate.holdings}):
            total = sum(h.capital for h in work_estate.holdings if h.owned == owned)
            if total > 100.0001:
                problems.append(where.problem(["changes"], f"the shareholders of '{owned}' would hold {total:g} % "
                                              "of its capital (more than 100 %): lower another holding first"))
    if problems:
        raise ChangeFileError(problems)
    return result


def _names(keys: Any) -> str:
    return ", ".join(sorted(keys))


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _cloud_of(args: dict[str, Any], estate: EstateData, bad: Any, *, region_required: bool = False,
              ) -> tuple[list[Problem], str | None, str | None]:
    """The (cloud, region) a change names: ``cloud``, or ``region`` as cloud/region (or a unique region id)."""
    problems: list[Problem] = []
    cloud_id, region_id = args.get("cloud"), None
    if args.get("region") is not None:
        try:
            cloud, region = estate.find_region(str(args["region"]))
        except KeyError:
            return [bad(["region"], f"unknown region '{args['region']}' (write cloud/region, e.g. "
                        f"{_example_region(estate)})")], None, None
        if cloud_id is not None and cloud_id != cloud.id:
            problems.append(bad(["cloud"], f"region '{args['region']}' is in cloud '{cloud.id}', not '{cloud_id}'"))
        cloud_id, region_id = cloud.id, region.id
    elif region_required:
        return [bad(["region"], "'region' is required")], None, None
    if cloud_id is None:
        return [bad([], "name the 'cloud' (or the 'region') it changes")], None, None
    if cloud_id not in estate.clouds:
        return [bad(["cloud"], f"unknown cloud '{cloud_id}' (known: {_names(estate.clouds)})")], None, None
    return problems, cloud_id, region_id


def _example_region(estate: EstateData) -> str:
    regions = estate.regions()
    return f"{regions[0][0].id}/{regions[0][1].id}" if regions else "cloud/region"


def _check_stack(args: dict[str, Any], estate: EstateData, kb: KnowledgeBase, bad: Any) -> list[Problem]:
    problems, _cloud, _region = _cloud_of(args, estate, bad)
    if args.get("like") is not None and args["like"] not in estate.clouds:
        problems.append(bad(["like"], f"unknown cloud '{args['like']}' (known: {_names(estate.clouds)})"))
    if args.get("vendor") is not None and args["vendor"] not in estate.entities:
        problems.append(bad(["vendor"], f"unknown entity '{args['vendor']}' (add it first with an 'entity' change)"))
    if args.get("vendor_access") is not None and args["vendor_access"] not in VENDOR_ACCESS:
        problems.append(bad(["vendor_access"], f"'{args['vendor_access']}' is not one of {', '.join(VENDOR_ACCESS)}"))
    if args.get("distribution") is not None and not isinstance(args["distribution"], str):
        problems.append(bad(["distribution"], "the distribution is text"))
    if not any(args.get(k) is not None for k in ("like", "vendor", "vendor_access", "distribution")):
        problems.append(bad([], "say what changes: like, vendor, vendor_access or distribution"))
    return problems


def _check_entity(args: dict[str, Any], estate: EstateData, kb: KnowledgeBase, bad: Any) -> list[Problem]:
    problems = []
    if not isinstance(args["id"], str) or not args["id"]:
        problems.append(bad(["id"], "the id is a non-empty text"))
    elif args["id"] in estate.entities:
        problems.append(bad(["id"], f"entity '{args['id']}' already exists"))
    if not isinstance(args["name"], str) or not args["name"].strip():
        problems.append(bad(["name"], "the name is a non-empty text"))
    if not is_country_code(args["country"]):
        problems.append(bad(["country"], f"'{args['country']}' is not an ISO 3166-1 alpha-2 country code"))
    if args.get("kind", "company") not in ENTITY_KINDS:
        problems.append(bad(["kind"], f"'{args['kind']}' is not one of {', '.join(ENTITY_KINDS)}"))
    return problems


def _percent(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0 < value <= 100 else None


def _check_shareholder(args: dict[str, Any], estate: EstateData, kb: KnowledgeBase, bad: Any) -> list[Problem]:
    problems = []
    for key in ("entity", "holder"):
        if args[key] not in estate.entities:
            problems.append(bad([key], f"unknown entity '{args[key]}' (add it first with an 'entity' change)"))
    if args["entity"] == args["holder"]:
        problems.append(bad(["holder"], "an entity cannot hold its own shares"))
    for key in ("capital", "voting"):
        if key in args and _percent(args[key]) is None:
            problems.append(bad([key], f"'{args[key]}' is not a percentage above 0 and at most 100"))
    return problems


def _check_backups(args: dict[str, Any], estate: EstateData, kb: KnowledgeBase, bad: Any) -> list[Problem]:
    problems, _cloud, _region = _cloud_of(args, estate, bad, region_required=True)
    sites = args["datacenters"]
    if not isinstance(sites, list):
        return [*problems, bad(["datacenters"], "a list of datacenter ids (empty: no backup site)")]
    for index, site in enumerate(sites):
        if site not in estate.datacenters:
            problems.append(bad(["datacenters", index], f"unknown datacenter '{site}'"))
    return problems


def _check_certificate(args: dict[str, Any], estate: EstateData, kb: KnowledgeBase, bad: Any) -> list[Problem]:
    problems, cloud_id, region_id = _cloud_of(args, estate, bad)
    if _date(args["on"]) is None:
        problems.append(bad(["on"], f"'{args['on']}' is not a date (YYYY-MM-DD)"))
    if cloud_id is not None and not problems:
        cloud = estate.clouds[cloud_id]
        held = cloud.certifications + (cloud.regions[region_id].certifications if region_id else [])
        if not any(c.scheme == args["scheme"] for c in held):
            where = f"region '{cloud_id}/{region_id}'" if region_id else f"cloud '{cloud_id}'"
            schemes = _names({c.scheme for c in held}) or "none"
            problems.append(bad(["scheme"], f"{where} holds no '{args['scheme']}' certificate (it holds: {schemes})"))
    return problems


def _check_staff(args: dict[str, Any], estate: EstateData, kb: KnowledgeBase, bad: Any) -> list[Problem]:
    problems, _cloud, _region = _cloud_of(args, estate, bad)
    if "admin" not in args and "support" not in args:
        problems.append(bad([], "give 'admin' or 'support' (a list of country codes)"))
    for key in ("admin", "support"):
        if key not in args:
            continue
        if not isinstance(args[key], list):
            problems.append(bad([key], "a list of country codes"))
            continue
        problems += [bad([key, i], f"'{c}' is not an ISO 3166-1 alpha-2 country code")
                     for i, c in enumerate(args[key]) if not is_country_code(c)]
    return problems


def _check_law(args: dict[str, Any], estate: EstateData, kb: KnowledgeBase, bad: Any) -> list[Problem]:
    problems = []
    if not isinstance(args["id"], str) or not args["id"]:
        problems.append(bad(["id"], "the id is a non-empty text"))
    elif any(law.slug == args["id"] for law in kb.laws):
        problems.append(bad(["id"], f"law '{args['id']}' is already in the knowledge base"))
    if not isinstance(args["name"], str) or not args["name"].strip():
        problems.append(bad(["name"], "the name is a non-empty text"))
    if not is_country_code(args["country"]):
        problems.append(bad(["country"], f"'{args['country']}' is not an ISO 3166-1 alpha-2 country code"))
    channels = args["channels"]
    if not isinstance(channels, dict) or not channels:
        return [*problems, bad(["channels"], f"a mapping of channels ({', '.join(CHANNELS)}) to a strength")]
    for name, entry in channels.items():
        if name not in CHANNELS:
            problems.append(bad(["channels", name], f"unknown channel '{name}' (expected {', '.join(CHANNELS)})"))
        elif not isinstance(entry, dict) or entry.get("strength") not in STRENGTHS:
            problems.append(bad(["channels", name, "strength"], f"the strength is one of {', '.join(STRENGTHS)}"))
    return problems


_CHECKS = {"stack": _check_stack, "entity": _check_entity, "shareholder": _check_shareholder,
           "backups": _check_backups, "certificate_ends": _check_certificate, "staff": _check_staff,
           "law": _check_law}


def _normalise(kind: str, args: dict[str, Any], estate: EstateData) -> dict[str, Any]:
    """The change with its target spelt out (cloud and region ids) and dates as text, as answers show it."""
    out = dict(args)
    if kind in {"stack", "staff", "certificate_ends", "backups"}:
        if args.get("region") is not None:
            cloud, region = estate.find_region(str(args["region"]))
            out["cloud"], out["region"] = cloud.id, f"{cloud.id}/{region.id}"
    if kind == "certificate_ends":
        out["on"] = _date(args["on"]).isoformat()  # type: ignore[union-attr]
    if kind == "shareholder":
        out["capital"] = float(args["capital"])
        out["voting"] = float(args.get("voting", args["capital"]))
    return out


# --- applying -------------------------------------------------------------------------------------------------


def apply(changes: ChangeSet, estate: EstateData, kb: KnowledgeBase) -> tuple[EstateData, KnowledgeBase]:
    """The estate and knowledge base with the changes applied, as new objects; the arguments are left as they
    were (the live estate is compared with its copy)."""
    estate = copy.deepcopy(estate)
    for kind, args in changes.changes:
        estate, kb = _apply_one(kind, args, estate, kb)
    return estate, kb


def _apply_one(kind: str, args: dict[str, Any], estate: EstateData, kb: KnowledgeBase,
               ) -> tuple[EstateData, KnowledgeBase]:
    """Apply one checked change to ``estate`` in place (it is always a copy); the KB is frozen: a new one."""
    if kind == "stack":
        cloud = estate.clouds[_target_cloud(args, estate)]
        if args.get("like") is not None:
            model = estate.clouds[args["like"]]
            cloud.stack_vendor, cloud.vendor_access = model.stack_vendor, model.vendor_access
            cloud.stack_distribution = model.stack_distribution
            cloud.hardware_vendors = list(model.hardware_vendors)
        if args.get("vendor") is not None:
            cloud.stack_vendor = args["vendor"]
        if args.get("vendor_access") is not None:
            cloud.vendor_access = args["vendor_access"]
        if args.get("distribution") is not None:
            cloud.stack_distribution = args["distribution"]
    elif kind == "entity":
        estate.entities[args["id"]] = EntityData(id=args["id"], name=args["name"], country=args["country"],
                                                 kind=args.get("kind", "company"))
    elif kind == "shareholder":
        capital = float(args["capital"])
        voting = float(args.get("voting", capital))
        estate.holdings = [h for h in estate.holdings if not (h.owned == args["entity"] and h.holder == args["holder"])]
        estate.holdings.append(Holding(args["entity"], args["holder"], capital, voting))
    elif kind == "backups":
        cloud, region = estate.find_region(str(args["region"]))
        region.backup_datacenters = list(args["datacenters"])
    elif kind == "certificate_ends":
        cloud = estate.clouds[_target_cloud(args, estate)]
        end = _date(args["on"])
        holders = [cloud.regions[str(args["region"]).split("/")[-1]]] if args.get("region") else [cloud]
        for holder in holders:
            holder.certifications = [
                dataclasses.replace(c, valid_until=min(end, c.valid_until) if c.valid_until else end)  # type: ignore[type-var]
                if c.scheme == args["scheme"] else c for c in holder.certifications]
    elif kind == "staff":
        cloud = estate.clouds[_target_cloud(args, estate)]
        if "admin" in args:
            cloud.admin_staff_countries = list(args["admin"])
        if "support" in args:
            cloud.support_staff_countries = list(args["support"])
    elif kind == "law":
        law = LawInfo(slug=args["id"], name=args["name"], country=args["country"],
                      citation=args.get("citation") or "", channels={k: dict(v) for k, v in args["channels"].items()},
                      source={"what_if": True})
        kb = dataclasses.replace(kb, laws=(*kb.laws, law),
                                 versions={**kb.versions, "laws": f"{kb.versions.get('laws', '')}+what-if:{law.slug}"})
    return estate, kb


def _target_cloud(args: dict[str, Any], estate: EstateData) -> str:
    if args.get("region") is not None:
        return estate.find_region(str(args["region"]))[0].id
    return str(args["cloud"])
